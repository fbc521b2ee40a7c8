"""enrich_entry and its small helpers: identity, fingerprints, sponsored detection."""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplanet.enrich import enrich_entry, is_truncation
from netplanet.enrich.fingerprint import entry_fingerprint, title_date_hash
from netplanet.enrich.identity import entry_key
from netplanet.enrich.sponsored import is_sponsored
from netplanet.model import Enclosure, ParsedEntry

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BASE = "https://blog.example.net/"


def _parsed(**overrides: object) -> ParsedEntry:
    values: dict[str, object] = {
        "guid": "tag:blog.example.net,2024:42",
        "link": "https://Blog.Example.net/2024/05/evpn/?utm_source=rss#more",
        "title": "EVPN  multihoming\n explained",
        "content_html": "<p>EVPN multihoming lets a CE attach to two PEs.</p>",
        "published": datetime(2024, 5, 30, 8, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return ParsedEntry(**values)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- enrich_entry


def test_entry_fields_are_cleaned_and_canonicalized() -> None:
    entry = enrich_entry(
        _parsed(), source_id=7, source_category="Networking", base_url=BASE, now=NOW
    )
    assert entry.source_id == 7
    assert entry.title == "EVPN multihoming explained"
    assert entry.url == "https://blog.example.net/2024/05/evpn/"
    assert entry.content_html == "<p>EVPN multihoming lets a CE attach to two PEs.</p>"
    assert entry.excerpt_html == "<p>EVPN multihoming lets a CE attach to two PEs.</p>"
    assert entry.text == "EVPN multihoming lets a CE attach to two PEs."
    assert entry.categories == ("Networking",)
    assert entry.date_from_feed is True
    assert entry.fingerprint.startswith("v1:")


def test_published_falls_back_to_updated() -> None:
    updated = datetime(2024, 5, 31, tzinfo=UTC)
    entry = enrich_entry(
        _parsed(published=None, updated=updated),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.published == updated
    assert entry.date_from_feed is True


def test_published_falls_back_to_now_when_feed_has_no_date() -> None:
    entry = enrich_entry(
        _parsed(published=None), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.published == NOW
    assert entry.date_from_feed is False


def test_far_future_date_is_clamped_to_now() -> None:
    entry = enrich_entry(
        _parsed(published=NOW + timedelta(days=30)),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.published == NOW
    assert entry.date_from_feed is False


def test_slightly_future_date_is_kept() -> None:
    ahead = NOW + timedelta(hours=10)
    entry = enrich_entry(
        _parsed(published=ahead), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.published == ahead


def test_naive_dates_are_taken_as_utc() -> None:
    entry = enrich_entry(
        _parsed(published=datetime(2024, 5, 30, 8, 0)),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.published == datetime(2024, 5, 30, 8, 0, tzinfo=UTC)


def test_key_uses_guid_first() -> None:
    entry = enrich_entry(_parsed(), source_id=1, source_category="", base_url=BASE, now=NOW)
    assert entry.key == "g:tag:blog.example.net,2024:42"
    assert entry.guid == "tag:blog.example.net,2024:42"


def test_key_uses_canonical_url_without_guid() -> None:
    entry = enrich_entry(
        _parsed(guid="  "), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.guid is None
    assert entry.key == "u:https://blog.example.net/2024/05/evpn/"


def test_key_uses_title_date_hash_without_guid_or_link() -> None:
    entry = enrich_entry(
        _parsed(guid=None, link=None), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.url == BASE  # the site stands in as the link ...
    assert entry.key == f"h:{entry.title_date_hash}"  # ... but not as the identity


def test_undated_entry_identity_does_not_depend_on_now() -> None:
    parsed = _parsed(guid=None, link=None, published=None)
    first = enrich_entry(parsed, source_id=1, source_category="", base_url=BASE, now=NOW)
    later = enrich_entry(
        parsed, source_id=1, source_category="", base_url=BASE, now=NOW + timedelta(days=3)
    )
    assert first.key == later.key
    assert first.fingerprint == later.fingerprint


def test_empty_title_is_derived_from_the_text() -> None:
    entry = enrich_entry(
        _parsed(title=" ", content_html="<p>Short note on MTU.</p>"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.title == "Short note on MTU."


def test_empty_title_and_text_gives_untitled() -> None:
    entry = enrich_entry(
        _parsed(title="", content_html=""), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.title == "(untitled)"


def test_double_escaped_title_is_decoded_once() -> None:
    entry = enrich_entry(
        _parsed(title="AT&amp;T peering"), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.title == "AT&T peering"


def test_content_is_boilerplate_free_and_sanitized() -> None:
    html = (
        '<p onclick="x()">Body <img src="/fig.png"></p><script>x()</script>'
        '<p>The post <a href="/p">EVPN</a> appeared first on <a href="/">Blog</a>.</p>'
    )
    entry = enrich_entry(
        _parsed(content_html=html), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.content_html == '<p>Body <img src="https://blog.example.net/fig.png"></p>'


def test_content_falls_back_to_summary() -> None:
    entry = enrich_entry(
        _parsed(content_html="", summary_html="<p>Only a summary.</p>"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.content_html == "<p>Only a summary.</p>"


def test_meaningful_summary_is_used_for_the_excerpt() -> None:
    summary = "<p>A hand-written summary of the post, long enough to be worth showing.</p>"
    entry = enrich_entry(
        _parsed(summary_html=summary), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.excerpt_html == summary


def test_trivial_summary_is_not_used_for_the_excerpt() -> None:
    entry = enrich_entry(
        _parsed(summary_html="<p>Episode 12 […]</p>"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert "EVPN multihoming lets" in entry.excerpt_html


def test_tags_are_deduplicated_case_insensitively() -> None:
    entry = enrich_entry(
        _parsed(categories=("BGP", " bgp ", "EVPN", "", "Bgp", "evpn ")),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.tags == ("BGP", "EVPN")
    assert entry.categories == ()


def test_audio_enclosure_is_preferred() -> None:
    art = Enclosure("https://cdn.example/cover.jpg", "image/jpeg")
    audio = Enclosure("https://cdn.example/ep12.mp3", "audio/mpeg", 12_345_678)
    entry = enrich_entry(
        _parsed(enclosures=(art, audio), duration_s=3600),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.enclosure == audio
    assert entry.duration_s == 3600


def test_first_enclosure_is_kept_when_none_is_media() -> None:
    pdf = Enclosure("https://cdn.example/slides.pdf", "application/pdf")
    entry = enrich_entry(
        _parsed(enclosures=(pdf,)), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.enclosure == pdf


UNSAFE_LINKS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\tjava\nscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "file:///etc/passwd",
    "mailto:a@example.com",
]


@pytest.mark.parametrize("link", UNSAFE_LINKS)
def test_unsafe_link_counts_as_no_link_and_the_post_is_kept(link: str) -> None:
    entry = enrich_entry(
        _parsed(guid=None, link=link), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.url == BASE  # as for a post without a link
    assert entry.key == f"h:{entry.title_date_hash}"
    assert entry.content_html  # the post itself is kept


def test_relative_and_protocol_relative_links_are_resolved() -> None:
    feed = "https://blog.example.net/feed/"
    for link, url in [
        ("/2024/05/evpn/", "https://blog.example.net/2024/05/evpn/"),
        ("//mirror.example/evpn/", "https://mirror.example/evpn/"),
    ]:
        entry = enrich_entry(
            _parsed(link=link), source_id=1, source_category="", base_url=feed, now=NOW
        )
        assert entry.url == url


def test_no_link_and_an_unusable_base_leaves_no_link() -> None:
    entry = enrich_entry(
        _parsed(guid=None, link="javascript:x"),
        source_id=1, source_category="", base_url="ftp://files.example/", now=NOW,
    )  # fmt: skip
    assert entry.url == ""
    assert entry.key == f"h:{entry.title_date_hash}"


@pytest.mark.parametrize("url", [*UNSAFE_LINKS, "//", "/ep12.mp3?x"])
def test_unsafe_enclosures_are_dropped(url: str) -> None:
    bad = Enclosure(url, "audio/mpeg")
    pdf = Enclosure("https://cdn.example/slides.pdf", "application/pdf")
    base = "javascript:alert(1)//"  # so that a relative URL cannot be resolved either
    entry = enrich_entry(
        _parsed(enclosures=(bad,)), source_id=1, source_category="", base_url=base, now=NOW
    )
    assert entry.enclosure is None
    entry = enrich_entry(
        _parsed(enclosures=(bad, pdf)), source_id=1, source_category="", base_url=base, now=NOW
    )
    assert entry.enclosure == pdf


def test_enclosure_url_is_cleaned_and_resolved() -> None:
    entry = enrich_entry(
        _parsed(enclosures=(Enclosure(" //cdn.example/ep 12.mp3\n", "audio/mpeg", 5),)),
        source_id=1, source_category="", base_url="https://blog.example.net/feed/", now=NOW,
    )  # fmt: skip
    assert entry.enclosure == Enclosure("https://cdn.example/ep 12.mp3", "audio/mpeg", 5)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("&lt;script&gt;alert(1)&lt;/script&gt; BGP", "alert(1) BGP"),
        ("<b>Bold</b> title", "Bold title"),
        ("&lt;img src=x onerror=alert(1)", "img src=x onerror=alert(1)"),
    ],
)
def test_titles_authors_and_tags_carry_no_markup(title: str, expected: str) -> None:
    entry = enrich_entry(
        _parsed(title=title, author=title, categories=(title,)),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.title == entry.author == expected
    assert entry.tags == (expected,)


def test_derived_title_carries_no_markup() -> None:
    entry = enrich_entry(
        _parsed(title="", content_html="<p>&lt;script&gt;alert(1)&lt;/script&gt; x</p>"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.title == "alert(1) x"


def test_sponsored_title_marks_the_entry() -> None:
    entry = enrich_entry(
        _parsed(title="[Sponsored] Acme SD-WAN"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert entry.sponsored is True


def test_sponsored_category_marks_the_entry() -> None:
    entry = enrich_entry(
        _parsed(categories=("Sponsored",)), source_id=1, source_category="", base_url=BASE, now=NOW
    )
    assert entry.sponsored is True


def test_edit_changes_the_fingerprint_but_not_the_key() -> None:
    before = enrich_entry(_parsed(), source_id=1, source_category="", base_url=BASE, now=NOW)
    after = enrich_entry(
        _parsed(content_html="<p>Edited.</p>"),
        source_id=1, source_category="", base_url=BASE, now=NOW,
    )  # fmt: skip
    assert before.key == after.key
    assert before.fingerprint != after.fingerprint


# ----------------------------------------------------------------------------- identity, hashes


def test_entry_key_prefers_guid_then_url_then_hash() -> None:
    assert entry_key("abc", "https://x.example/", "h1") == "g:abc"
    assert entry_key(None, "https://x.example/", "h1") == "u:https://x.example/"
    assert entry_key("", "", "h1") == "h:h1"


def test_title_date_hash_ignores_case_whitespace_and_time_of_day() -> None:
    a = title_date_hash("EVPN  Multihoming", datetime(2024, 5, 30, 1, 0, tzinfo=UTC))
    b = title_date_hash("evpn multihoming", datetime(2024, 5, 30, 23, 0, tzinfo=UTC))
    assert a == b
    assert a != title_date_hash("evpn multihoming", datetime(2024, 5, 31, tzinfo=UTC))


def test_title_date_hash_is_stable_across_releases() -> None:
    assert title_date_hash("Hello", datetime(2024, 1, 1, tzinfo=UTC)) == (
        "d67ce3c6057af3fa0713074caa19064b"
    )


def test_fingerprint_is_versioned_and_stable_across_releases() -> None:
    assert entry_fingerprint(title="Hello", url="https://x.example/") == (
        "v1:3599e8a855eb3d366b76dd58f726ea400c08ea31de88e6eaa6af3bfc5634e390"
    )


def test_fingerprint_skips_empty_fields() -> None:
    base = entry_fingerprint(title="Hello", url="https://x.example/")
    assert entry_fingerprint(title="Hello", url="https://x.example/", tags=(), author="") == base
    assert entry_fingerprint(title="Hello", url="https://x.example/", author="Me") != base


# What JSON escapes, with and without the control characters that send a string the slow way.
_ESCAPED = ["a", '"', "\\", "\n", "\r", "\t", " ", "\x7f", "é", "日", "\u2028", "🙂", "<"]
_CONTROLS = ["\x00", "\x08", "\x0c", "\x1f"]
# Short and long values: the long ones (the HTML, sometimes a title) take another path.
_FIELD = st.one_of(
    st.text(st.sampled_from(_ESCAPED + _CONTROLS), max_size=8),
    st.text(st.sampled_from(_ESCAPED), min_size=65, max_size=300),
    st.sampled_from(_CONTROLS).flatmap(
        lambda control: st.text(st.sampled_from([*_ESCAPED, control]), min_size=65, max_size=300)
    ),
)


@settings(max_examples=300, deadline=None)
@given(_FIELD, _FIELD, _FIELD, _FIELD, st.lists(st.text(max_size=5), max_size=2))
def test_fingerprint_is_the_json_recipe(
    title: str, url: str, html: str, excerpt: str, tags: list[str]
) -> None:
    # The hash is written piece by piece with its own string escaping; it must stay the hash
    # of this payload, or every stored entry would look edited.
    enclosure = Enclosure("https://x.example/1.mp3", "audio/mpeg", 12)
    fields: list[tuple[str, object]] = [
        ("title", title),
        ("url", url),
        ("content", html),
        ("excerpt", excerpt),
        ("tags", tags),
        ("enclosure", [enclosure.url, enclosure.type, enclosure.length]),
    ]
    present = [[name, value] for name, value in fields if value not in ("", None, [])]
    payload = json.dumps(present, ensure_ascii=False, separators=(",", ":"))
    want = "v1:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()
    have = entry_fingerprint(
        title=title,
        url=url,
        content_html=html,
        excerpt_html=excerpt,
        tags=tags,
        enclosure=enclosure,
    )
    assert have == want


def test_fingerprint_covers_the_enclosure() -> None:
    base = entry_fingerprint(title="Ep 1", enclosure=Enclosure("https://x.example/1.mp3"))
    other = entry_fingerprint(title="Ep 1", enclosure=Enclosure("https://x.example/2.mp3"))
    assert base != other


# ----------------------------------------------------------------------------- sponsored


@pytest.mark.parametrize(
    "title",
    [
        "[Sponsored] Acme SD-WAN in 5 minutes",
        "Sponsored: Acme SD-WAN",
        "Sponsor: Acme",
        "Sponsored by Acme Networks – Why BGP still matters",
        "Why BGP still matters (Sponsored)",
        "Why BGP still matters | Sponsored",
        "Paid post: the future of Wi-Fi",
        "Partner content: the future of Wi-Fi",
        "[Ad] Buy our router",
    ],
)
def test_sponsored_titles(title: str) -> None:
    assert is_sponsored(title, ())


@pytest.mark.parametrize(
    "title",
    [
        "How we sponsored the NANOG hackathon",
        "Unsponsored thoughts on SR-MPLS",
        "AD: Active Directory and RADIUS",
        "Adding IPv6: a guide",
        "Show 12 - thanks to our sponsors",
    ],
)
def test_not_sponsored_titles(title: str) -> None:
    assert not is_sponsored(title, ())


@pytest.mark.parametrize("category", ["Sponsored", "sponsor", "Sponsored-Post", "paid_post"])
def test_sponsored_categories(category: str) -> None:
    assert is_sponsored("Plain title", ("Networking", category))


def test_sponsorship_news_category_is_not_sponsored() -> None:
    assert not is_sponsored("Plain title", ("sponsorship news",))


@pytest.mark.parametrize("bad", ["\x0b", "\x00", "\x1f", "\ufffe"])
def test_characters_xml_refuses_do_not_lose_the_entry(bad: str) -> None:
    # A JSON Feed may carry them; lxml refuses them when the tree is edited around them.
    html = f"<p>Hello world.</p><p></p>tail{bad} text <p>More.</p>"  # the empty <p> goes
    entry = enrich_entry(
        ParsedEntry(
            guid="g", title="T", link="https://example.net/p", content_html=html, summary_html=html
        ),
        source_id=1,
        source_category="",
        base_url="https://example.net/",
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert entry.text.split() == ["Hello", "world.", "tail", "text", "More."]
    assert bad not in entry.content_html and "<p></p>" not in entry.content_html


# ----------------------------------------------------------------------------- summary or content

_POST = " ".join(
    f"Sentence {i} about EVPN route type {i % 5 + 1} and how the PE sends it." for i in range(30)
)


def _wordpress_description(text: str, words: int = 55) -> str:
    """What WordPress puts in <description>: the first words, then " [&#8230;]"."""
    return " ".join(text.split()[:words]) + " [&#8230;]"


def test_a_truncated_summary_gives_way_to_the_content() -> None:
    # The case: WordPress's 55-word description ends mid-sentence in "[…]".
    parsed = _parsed(
        content_html=f"<p>{_POST}</p><ul><li>type 2</li><li>type 5</li></ul>",
        summary_html=_wordpress_description(_POST),
    )
    entry = enrich_entry(parsed, source_id=1, source_category="", base_url=BASE, now=NOW)
    words = entry.excerpt_html.split()
    assert len(words) > 100  # the content's excerpt, not the 55 words of the summary
    assert entry.excerpt_html.startswith("<p>Sentence 0 about EVPN")
    assert entry.excerpt_html.endswith(("it.</p>", "…</p>"))


def test_a_summary_copied_from_the_start_of_the_content_without_a_marker_gives_way() -> None:
    parsed = _parsed(content_html=f"<p>{_POST}</p>", summary_html=" ".join(_POST.split()[:40]))
    entry = enrich_entry(parsed, source_id=1, source_category="", base_url=BASE, now=NOW)
    assert len(entry.excerpt_html.split()) > 100


def test_a_hand_written_summary_is_kept() -> None:
    summary = "How a PE picks which route types to send, and why type 5 exists at all."
    parsed = _parsed(content_html=f"<p>{_POST}</p>", summary_html=summary)
    entry = enrich_entry(parsed, source_id=1, source_category="", base_url=BASE, now=NOW)
    assert entry.excerpt_html == f"<p>{summary}</p>"


def test_is_truncation_agrees_with_the_word_matcher_around_its_shortcuts() -> None:
    # The content starting with the summary's words, a summary whose words the content holds
    # in another order (the matcher finds few in order), one with a fifth of its words
    # changed (at the 0.8 threshold) and one with words the content never uses.
    words = _POST.split()
    summary = " ".join(words[:40])
    assert is_truncation(summary, _POST)
    assert is_truncation("Foreword. " + summary, _POST)
    assert not is_truncation(" ".join(reversed(words[:40])), _POST)
    edited = [w if i % 5 else "zebra" for i, w in enumerate(words[:40])]
    assert is_truncation(" ".join(edited), _POST)  # 32 of 40 words in order: 0.8
    edited = [w if i % 4 else "zebra" for i, w in enumerate(words[:40])]
    assert not is_truncation(" ".join(edited), _POST)  # 30 of 40
    assert not is_truncation("Quite another text, written as a summary of its own.", _POST)


def test_is_truncation_ignores_case_in_ascii_and_other_text() -> None:
    words = _POST.split()
    # ASCII text (lower-cased whole) and text with other letters (each word case-folded).
    assert is_truncation(" ".join(words[:40]).upper(), _POST)
    german = "Die Straße zum Router führt über das Netz " + _POST
    assert is_truncation(
        f"DIE STRASSE ZUM ROUTER FÜHRT ÜBER DAS NETZ {' '.join(words[:30])}", german
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["ab", "cd", "ef", "gh", "ij"]), min_size=1, max_size=12),
    st.lists(st.sampled_from(["ab", "cd", "ef", "gh", "ij", "kl"]), min_size=0, max_size=30),
)
def test_is_truncation_is_the_word_matchers_answer(summary: list[str], content: list[str]) -> None:
    # The shortcuts only skip the matcher where its answer is known: same answers as it.
    matcher = difflib.SequenceMatcher(None, summary, content, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    expected = len(content) > len(summary) and matched >= 0.8 * len(summary)
    assert is_truncation(" ".join(summary), " ".join(content)) == expected


def test_a_truncated_summary_alone_ends_with_a_visible_cut() -> None:
    # No content to fall back on: the "[…]" goes, "…" takes its place.
    parsed = _parsed(content_html="<p>It turns out it's [&#8230;]</p>")
    entry = enrich_entry(parsed, source_id=1, source_category="", base_url=BASE, now=NOW)
    assert entry.excerpt_html == "<p>It turns out it's…</p>"


def test_the_default_excerpt_length_is_the_settings_default() -> None:
    from netplanet.enrich.excerpt import EXCERPT_WORDS
    from netplanet.settings import Settings

    assert Settings().excerpt_words == EXCERPT_WORDS == 150
