"""enrich/story.py: story signatures and the decision about two posts (pure).

Every text here is our own: a made-up CVE in a made-up VPN appliance, a made-up attack.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplanet.enrich.story import (
    BANDS,
    StoryPost,
    hamming,
    relate,
    simhash,
    story_signature,
    title_terms,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

INCIDENT = [
    (
        "Acme Gatekeeper VPN flaw CVE-2026-40411 is being exploited",
        "Acme Systems published an advisory for CVE-2026-40411, an authentication bypass in the "
        "Gatekeeper VPN appliance. Unauthenticated requests to the portal reach the admin API. "
        "We saw scanning within hours of the advisory.",
    ),
    (
        "Patch your Gatekeeper appliances today",
        "If you run Acme Gatekeeper at the edge, stop reading and upgrade: CVE-2026-40411 lets "
        "anyone on the internet skip the login page. The fixed release is 9.4.2.",
    ),
    (
        "Honeypot notes: the first Gatekeeper exploit attempts",
        "Our sensors logged requests shaped like the public proof of concept for CVE-2026-40411 "
        "on Friday night, mostly from a handful of hosting networks.",
    ),
    (
        "Weekend reading: one appliance bug to rule them all",
        "The Acme Gatekeeper story (CVE-2026-40411) is a reminder to keep management planes off "
        "the public internet. Here is what we changed in our own lab.",
    ),
]

GENERIC_POSTS = [
    (
        "BGP route reflectors in the data center",
        "Route reflectors keep the full mesh of iBGP sessions small. In the Data Center we run "
        "them on Linux servers next to the spine switches. Cisco and Juniper both support it.",
    ),
    (
        "Lessons from a routing outage",
        "An outage is rarely one mistake. Our BGP sessions flapped after a Cisco IOS XR upgrade, "
        "the network converged slowly and customers noticed. Routing is hard.",
    ),
    (
        "Network automation for BGP with Python",
        "We generate BGP configuration from a source of truth with Python and push it to Cisco "
        "and Arista switches. Automation makes the network boring, which is good.",
    ),
    (
        "Why networks fail: outages and routing",
        "Border Gateway Protocol outages make the news, but most network outages are power and "
        "fibre. Routing protocols are usually the messenger, not the cause. Cisco agrees.",
    ),
]


def post(source_id: int, title: str, text: str, *, url: str = "", hours: float = 0) -> StoryPost:
    value, keys = story_signature(title=title, text=text, url=url)
    return StoryPost(source_id, title, T0 + timedelta(hours=hours), value, frozenset(keys))


def test_signature_keys_name_the_story() -> None:
    value, keys = story_signature(
        title=INCIDENT[0][0], text=INCIDENT[0][1], url="https://one.example/gatekeeper/"
    )
    assert value is not None and -(2**63) <= value < 2**63
    assert "c:cve-2026-40411" in keys
    assert "p:acme gatekeeper" in keys or "p:acme gatekeeper vpn" in keys
    assert any(k.startswith("u:") for k in keys) and any(k.startswith("t:") for k in keys)
    assert sum(k[0] == "b" for k in keys) == BANDS
    assert len(keys) <= 20


def test_a_home_page_link_and_short_titles_are_no_identity() -> None:
    _, keys = story_signature(title="Weekly links", text="A few links.", url="https://x.example/")
    assert not any(k[:2] in ("u:", "t:") for k in keys)
    assert not any(k[0] == "b" for k in keys)  # too short to band


def test_figures_with_units_and_money_are_keys_but_port_speeds_are_not() -> None:
    _, keys = story_signature(
        title="Northwind Hosting absorbs a record 7.3 Tbps attack",
        text="The flood peaked at 7.3 Tbps, over 100 Gbps links; the company is worth $14 billion.",
    )
    assert {"n:7.3tbps", "n:$14billion"} <= set(keys)
    assert "n:100gbps" not in keys


def test_a_round_up_of_many_cves_keys_only_its_title_ones() -> None:
    text = " ".join(f"CVE-2026-{n} is fixed." for n in range(1000, 1010))
    _, keys = story_signature(title="Patch round-up for November", text=text)
    assert not any(k.startswith("c:") for k in keys)


def test_the_same_post_on_two_feeds_is_the_same_post() -> None:
    title, text = INCIDENT[0]
    url = "https://one.example/gatekeeper/"
    main = post(1, title, text, url=url)
    tagged = post(2, title, text, url=url, hours=0.1)
    assert relate(main, tagged) == relate(tagged, main) == "same_post"


def test_a_syndicated_copy_with_another_link_is_the_same_post() -> None:
    title, _ = INCIDENT[1]
    body = " ".join(text for _, text in INCIDENT)
    original = post(1, title, body, url="https://one.example/patch/")
    # The aggregator retitles it: the text alone says "same post".
    copy = post(3, "Repost: " + title, body, url="https://aggr.example/9/", hours=30)
    assert hamming(original.simhash or 0, copy.simhash or 0) == 0
    assert relate(copy, original) == "same_post"
    # Same title a day later from another site, text cut short: still the same post.
    short = post(4, title, body[:200], url="https://other.example/x/", hours=20)
    assert relate(short, original) == "same_post"


def test_two_posts_of_one_source_are_never_related() -> None:
    title, text = INCIDENT[0]
    url = "https://one.example/gatekeeper/"
    assert relate(post(1, title, text, url=url), post(1, title, text, url=url)) is None


def test_posts_about_one_incident_are_one_story() -> None:
    posts = [post(n, t, x, hours=6 * n) for n, (t, x) in enumerate(INCIDENT, start=1)]
    for a in posts:
        for b in posts:
            if a is not b:
                assert relate(a, b) == "same_story", (a.title, b.title)


def test_a_shared_figure_and_name_make_a_story_without_a_cve() -> None:
    one = post(
        1,
        "Northwind Hosting absorbs a record 7.3 Tbps attack",
        "Northwind Hosting says its scrubbing centres absorbed 7.3 Tbps for 45 seconds.",
    )
    two = post(
        2,
        "What a 7.3 Tbps flood looks like from the Northwind side",
        "The attack on Northwind Hosting came from a botnet of cameras; 7.3 Tbps at peak.",
        hours=20,
    )
    assert relate(one, two) == "same_story"


def test_the_same_incident_a_week_apart_is_not_one_story() -> None:
    one = post(1, *INCIDENT[0])
    two = post(2, *INCIDENT[1], hours=24 * 7)
    assert relate(one, two) is None


def test_posts_sharing_only_generic_words_are_not_related() -> None:
    posts = [post(n, t, x, hours=n) for n, (t, x) in enumerate(GENERIC_POSTS, start=1)]
    for a in posts:
        for b in posts:
            if a is not b:
                assert relate(a, b) is None, (a.title, b.title, a.keys & b.keys)


def test_generic_words_are_not_title_terms() -> None:
    assert title_terms("BGP outage at Cisco: the network routing story") == {"story"}


def test_simhash_of_nothing_and_near_copies() -> None:
    assert simhash([]) == (0, 0)
    words = [f"w{n}" for n in range(150)]
    one, _ = simhash(words)
    two, _ = simhash([*words[:-1], "changed"])
    assert hamming(one, two) <= 3
    assert simhash(words) == simhash(list(words))  # stable


def test_simhash_values_are_the_stored_ones() -> None:
    # Stored posts keep their SimHash (and band key): a new way of computing it must give the
    # same values, or stored posts need SIGNATURE_VERSION bumped and a recompute.
    words = "the quick brown fox jumps over the lazy dog while a router floods bgp updates to"
    words += " every peer"
    assert simhash(words.split()) == (-4767844236129972807, 17)
    assert simhash(words.split() * 20) == (-4767703498641613379, 255)  # 255 features: lanes full
    assert simhash(["a", "b"]) == (-2703553415813180325, 1)


def test_simhash_when_the_word_cache_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-process word cache is emptied when full: a text whose new words fill it midway
    hashes as it does with room to spare (it once failed with a KeyError)."""
    from netplanet.enrich import story

    words = [f"w{n}" for n in range(150)]
    expected = simhash(words)
    monkeypatch.setattr(story, "_WORD_CACHE_MAX", 40)
    for cached in range(0, 50, 7):  # the cache holds `cached` words when the text comes
        story._LANES.clear()
        simhash([f"x{n}" for n in range(cached)])
        assert simhash(words) == expected
        assert len(story._LANES) <= max(40, len(set(words)))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
_POST = st.builds(
    lambda source, title, text, hours, url: post(source, title, text, url=url, hours=hours),
    st.integers(1, 3),
    _TEXT,
    _TEXT,
    st.floats(0, 24 * 10),
    st.sampled_from(["", "https://a.example/p/1", "https://b.example/p/2"]),
)


@settings(max_examples=150, deadline=None)
@given(_POST, _POST)
def test_relate_never_raises_and_is_symmetric(a: StoryPost, b: StoryPost) -> None:
    assert relate(a, b) == relate(b, a)
    assert relate(a, b) in (None, "same_post", "same_story")


_GENERIC_WORDS = [
    "BGP",
    "network",
    "Cisco",
    "routing",
    "outage",
    "Juniper",
    "the",
    "data",
    "center",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_GENERIC_WORDS), min_size=1, max_size=60),
    st.lists(st.sampled_from(_GENERIC_WORDS), min_size=1, max_size=60),
)
def test_posts_of_generic_words_never_form_a_story(one: list[str], two: list[str]) -> None:
    a = post(1, " ".join(one[:6]), " ".join(one))
    b = post(2, " ".join(two[:6]), " ".join(two), hours=3)
    assert relate(a, b) != "same_story"


def test_the_same_opening_under_unrelated_titles_is_not_the_same_post() -> None:
    """Two shows of one producer open with the same sponsor read."""
    opening = " ".join(text for _, text in GENERIC_POSTS)
    one = post(1, "Episode 41: anycast for DNS operators", opening)
    two = post(2, "Chasing microbursts on storage fabrics", opening, hours=2)
    assert hamming(one.simhash or 0, two.simhash or 0) == 0
    assert relate(one, two) is None


def test_a_text_in_another_script_is_banded_from_its_own_words() -> None:
    """The classifier's words are ASCII only: a text in another script has few of them, so
    its SimHash is made from its words as written (a retitled copy is still found)."""
    text = " ".join(f"слово{n} текст" for n in range(40))  # 80 Cyrillic words, no ASCII ones
    value, keys = story_signature(title="Заметки о маршрутизации", text=text)
    assert value is not None
    assert sum(k[0] == "b" for k in keys) == BANDS
    other, _ = story_signature(title="Другой текст", text=text.replace("слово", "буква"))
    assert hamming(value, other or 0) > 3


def test_the_signature_from_the_classifiers_words_is_the_same() -> None:
    """The update hands story_signature the words it cut for the classifier."""
    from netplanet.enrich.topics import opening_words

    title, _ = INCIDENT[1]
    body = " ".join(text for _, text in INCIDENT)
    assert story_signature(title=title, text=body, url="https://one.example/p/") == (
        story_signature(
            title=title, text=body, url="https://one.example/p/", words=opening_words(body)
        )
    )


def test_a_shows_long_intro_does_not_make_its_episodes_one_text() -> None:
    """Episodes of one show open with the same long intro (here 80 words) before their own
    notes: the SimHash must read past it, or every episode would be a copy of the others."""
    intro = " ".join(f"intro{n % 23} words{n % 7}" for n in range(40))  # 80 words
    one = post(
        1,
        "Wirecast 41: anycast for DNS operators",
        intro + " " + " ".join(f"anycast{n} resolver{n}" for n in range(40)),
    )
    two = post(
        2,
        "Wirecast 42: chasing microbursts",
        intro + " " + " ".join(f"buffer{n} queue{n}" for n in range(40)),
        hours=24,
    )
    assert hamming(one.simhash or 0, two.simhash or 0) > 3
    assert relate(one, two) is None
