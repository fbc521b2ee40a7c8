"""The weekly digest's pure part (publish/weekly.py): ISO weeks, grouping by primary topic in
the taxonomy's order, ordering by coverage then date, collapsed stories, the podcasts section,
the cap and its "more" link, pins and drops, the one-or-two-sentence excerpt, and the
Markdown form (escaping checked by rendering it back with markdown-it, as GitHub would)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from netplanet.enrich.excerpt import first_sentences
from netplanet.errors import UsageError
from netplanet.model import StoryMember, WeekData, WeekPost
from netplanet.publish.topics import DEFAULT_TOPICS
from netplanet.publish.weekly import (
    Week,
    build_digest,
    escape_markdown,
    render_html,
    render_markdown,
    render_text,
)
from netplanet.publish.weeks import last_finished

WEEK = Week(2026, 48)  # Monday 23 November 2026 .. Monday 30 November
T0 = WEEK.start


def post(
    pid: int,
    *,
    topic: str = "routing",
    hours: float = 0,
    source: int | None = None,
    cluster: int | None = None,
    podcast: bool = False,
    title: str = "",
    excerpt: str = "",
) -> WeekPost:
    src = source if source is not None else pid
    return WeekPost(
        id=pid,
        title=title or f"Post {pid}",
        url=f"https://blog{src}.example/{pid}/",
        source_id=src,
        source_title=f"Blog {src}",
        source_slug=f"blog-{src}",
        published=T0 + timedelta(hours=hours),
        excerpt_html=excerpt or f"<p>Post {pid} says one thing. And another. And a third.</p>",
        topic=topic,
        podcast=podcast,
        cluster_id=cluster,
    )


def member(p: WeekPost, cluster: int) -> StoryMember:
    return StoryMember(
        id=p.id,
        cluster_id=cluster,
        title=p.title,
        url=p.url,
        source_id=p.source_id,
        source_title=p.source_title,
        source_slug=p.source_slug,
        published=p.published,
    )


def data(
    posts: list[WeekPost],
    members: list[StoryMember] = (),  # type: ignore[assignment]
    picks: tuple[tuple[int, str], ...] = (),
) -> WeekData:
    return WeekData(WEEK.label, tuple(posts), tuple(members), picks)


def shown(digest_groups: object) -> list[tuple[str, list[int]]]:
    return [(g.slug, [i.id for i in g.items]) for g in digest_groups]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- weeks


def test_weeks_run_monday_to_monday_utc_and_parse_both_cases() -> None:
    assert Week.parse("2026-W48") == Week.parse("2026-w48") == WEEK
    assert WEEK.start == datetime(2026, 11, 23, tzinfo=UTC)
    assert WEEK.end == datetime(2026, 11, 30, tzinfo=UTC)
    assert WEEK.slug == "2026-w48" and WEEK.label == "2026-W48"
    assert WEEK.href == "/digest/2026-w48/"
    assert WEEK.span == "23–29 November 2026"
    assert Week(2026, 49).span == "30 November – 6 December 2026"
    assert Week(2026, 53).span == "28 December 2026 – 3 January 2027"
    # Sunday 23:59:59 is still the week; Monday 00:00 is the next one.
    assert Week.of(WEEK.end - timedelta(seconds=1)) == WEEK
    assert Week.of(WEEK.end) == Week(2026, 49)
    assert last_finished(WEEK.end) == WEEK
    assert last_finished(WEEK.end - timedelta(seconds=1)) == Week(2026, 47)
    assert not WEEK.finished(WEEK.end - timedelta(microseconds=1)) and WEEK.finished(WEEK.end)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-W54", "2026 has weeks 01 to 53"),
        ("2025-W53", "2025 has weeks 01 to 52"),
        ("2026-W00", "2026 has weeks 01 to 53"),
        ("2026-48", "give an ISO week like 2026-W48"),
        ("W48", "give an ISO week like 2026-W48"),
        ("", "give an ISO week like 2026-W48"),
        ("2026-W4８", "give an ISO week like 2026-W48"),  # a full-width digit
        ("x" * 500, "is not a week"),
    ],
)
def test_bad_weeks_are_one_line_errors(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        Week.parse(text)
    message = str(info.value)
    assert says in message and "\n" not in message and len(message) < 160


# --------------------------------------------------------------------------- grouping


def test_groups_follow_the_taxonomy_order_with_other_and_podcasts_last() -> None:
    posts = [
        post(1, topic="industry"),
        post(2, topic="routing"),
        post(3, topic=""),
        post(4, topic="security", podcast=True),
        post(5, topic="security"),
        post(6, topic="retired-topic"),
    ]
    digest = build_digest(data(posts), WEEK, DEFAULT_TOPICS, final=True)
    assert shown(digest.groups) == [
        ("routing", [2]),
        ("security", [5]),
        ("industry", [1]),
        ("", [6, 3]),
        ("podcasts", [4]),
    ]
    assert digest.groups[3].name == "Other" and digest.groups[3].more_href == ""
    assert digest.lines == 6 and digest.sources == 6


def test_a_group_orders_by_coverage_then_newest() -> None:
    lone_new = post(1, hours=100)
    lone_old = post(2, hours=10)
    # A story covered by three sources, one of them twice (two posts of one blog count once).
    story = [post(3, hours=20, cluster=3), post(4, hours=30, cluster=3, source=40)]
    elsewhere = [post(5, hours=-200, source=50), post(6, hours=-190, source=40)]
    pair = [post(7, hours=5, cluster=7), post(8, hours=6, cluster=7)]
    members = [member(p, 3) for p in (*story, *elsewhere)] + [member(p, 7) for p in pair]
    digest = build_digest(
        data([lone_new, lone_old, *story, *pair], members), WEEK, DEFAULT_TOPICS, final=True
    )
    [group] = digest.groups
    assert [i.id for i in group.items] == [4, 8, 1, 2]
    wide = group.items[0]
    assert wide.sources == 3  # sources 3, 40, 50: source 40's two posts count once
    assert [o.source_title for o in wide.others] == ["Blog 3", "Blog 50"]
    assert wide.story_href == "/post/4/"
    assert group.items[1].sources == 2 and group.items[2].sources == 1
    html = render_html(digest)
    assert html.count("<li>") == 4 and "Covered by 3 sources" in html


def test_the_cap_keeps_pinned_lines_and_links_the_topic_archive_at_the_weeks_end() -> None:
    posts = [post(n, hours=n) for n in range(1, 9)]
    digest = build_digest(data(posts, picks=((2, "pin"),)), WEEK, DEFAULT_TOPICS, final=True, cap=3)
    [group] = digest.groups
    assert [i.id for i in group.items] == [2, 8, 7]
    assert group.items[0].pinned and group.more == 5
    assert group.more_href == "/topic/routing/?before=2026-11-30T00:00:00Z_0"
    assert "5 more in Routing" in render_html(digest)
    many_pins = tuple((n, "pin") for n in (1, 5, 3, 4))
    digest = build_digest(data(posts, picks=many_pins), WEEK, DEFAULT_TOPICS, final=True, cap=3)
    assert [i.id for i in digest.groups[0].items] == [1, 5, 3, 4]  # in the order pinned
    absolute = build_digest(
        data(posts), WEEK, DEFAULT_TOPICS, final=True, cap=3, base="https://p.example"
    )
    assert absolute.groups[0].more_href.startswith("https://p.example/topic/routing/?before=")
    one = build_digest(data(posts), WEEK, DEFAULT_TOPICS, final=True, cap=3, only_topic="routing")
    assert len(one.groups[0].items) == 8 and one.groups[0].more == 0


def test_a_drop_leaves_the_whole_story_out_and_a_pin_chooses_the_line() -> None:
    story = [post(1, hours=1, cluster=1), post(2, hours=2, cluster=1), post(3, hours=3, cluster=1)]
    members = [member(p, 1) for p in story]
    plain = build_digest(data(story, members), WEEK, DEFAULT_TOPICS, final=True)
    assert shown(plain.groups) == [("routing", [3])]  # the newest of the week leads
    pinned = build_digest(data(story, members, ((1, "pin"),)), WEEK, DEFAULT_TOPICS, final=True)
    assert shown(pinned.groups) == [("routing", [1])] and pinned.groups[0].items[0].pinned
    dropped = build_digest(data(story, members, ((2, "drop"),)), WEEK, DEFAULT_TOPICS, final=True)
    assert dropped.empty and dropped.lines == 0


def test_the_excerpt_is_one_or_two_sentences_never_cut_inside_markup() -> None:
    html = (
        "<p>BGP <em>add-path</em> sends more than one path, e.g. for fast failover. "
        "It needs support on both sides.</p><p>Here is how to turn it on.</p>"
    )
    [line] = (
        build_digest(data([post(1, excerpt=html)]), WEEK, DEFAULT_TOPICS, final=True)
        .groups[0]
        .items
    )
    assert line.excerpt == (
        "BGP add-path sends more than one path, e.g. for fast failover. "
        "It needs support on both sides."
    )
    assert first_sentences("One. Two. Three.") == "One. Two."
    assert first_sentences("One. Two.", sentences=1) == "One."
    long_first = " ".join(["word"] * 80) + ". Short."
    cut = first_sentences(long_first, words=45)
    assert cut.endswith("…") and len(cut.split()) == 45
    assert first_sentences("no end at all here") == "no end at all here"
    assert first_sentences("") == ""


# --------------------------------------------------------------------------- forms


def test_markdown_has_a_heading_per_topic_and_one_bullet_per_story() -> None:
    posts = [post(1), post(2, topic="security", title="Patch *now* [CVE-2026-1] if x < y & z")]
    md = render_markdown(
        build_digest(data(posts), WEEK, DEFAULT_TOPICS, final=True), heading="Planet digest"
    )
    tokens = MarkdownIt("commonmark").enable("strikethrough").parse(md)
    headings = [t.tag for t in tokens if t.type == "heading_open"]
    assert headings == ["h1", "h2", "h2"]
    assert sum(t.type == "list_item_open" for t in tokens) == 2
    html = MarkdownIt("commonmark").render(md)
    assert "Patch *now* [CVE-2026-1] if x &lt; y &amp; z</a>" in html
    assert '<a href="https://blog2.example/2/">' in html


def test_text_form_puts_each_part_on_its_own_line() -> None:
    text = render_text(
        build_digest(data([post(1)]), WEEK, DEFAULT_TOPICS, final=True), heading="Planet digest"
    )
    assert text.splitlines()[:6] == [
        "Planet digest",
        "23–29 November 2026",
        "",
        "ROUTING",
        "=======",
        "",
    ]
    assert "  https://blog1.example/1/" in text
    long = post(2, title="A " + "very " * 30 + "long title", excerpt="<p>" + "word " * 40 + ".</p>")
    text = render_text(
        build_digest(data([long]), WEEK, DEFAULT_TOPICS, final=True), heading="Planet digest"
    )
    assert max(len(line) for line in text.splitlines()) <= 72
    assert "* A very" in text and "\n  very" in text


_MD = MarkdownIt("commonmark").enable("strikethrough")
_BLOCKS = {
    "paragraph_open",
    "paragraph_close",
    "bullet_list_open",
    "bullet_list_close",
    "list_item_open",
    "list_item_close",
}


def _inline_children(markdown: str) -> list[tuple[str, str]]:
    tokens = _MD.parse(markdown)
    out: list[tuple[str, str]] = []
    for token in tokens:
        if token.type == "inline":
            out.extend((c.type, c.content) for c in token.children or ())
        elif token.type not in _BLOCKS:
            out.append((token.type, ""))
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60))
def test_escaped_markdown_reads_back_as_the_same_text(raw: str) -> None:
    """Whatever a title holds, in a link and as a bullet's continuation line it renders as its
    own text: no emphasis, code, HTML, entity, list, quote or heading comes out of it."""
    expected = " ".join(raw.split())
    if not expected:
        return
    escaped = escape_markdown(raw)
    link = _inline_children(f"- [{escaped}](<https://x.example/>)")
    assert link[0] == ("link_open", "")
    assert link[-1] == ("link_close", "")
    assert all(kind == "text" for kind, _ in link[1:-1]), link
    assert "".join(text for _, text in link[1:-1]) == expected
    line = _inline_children(f"- [t](<https://x.example/>) — s\\\n  {escaped}")
    assert ("hardbreak", "") in line
    after = line[line.index(("hardbreak", "")) + 1 :]
    assert all(kind == "text" for kind, _ in after), line
    assert "".join(text for _, text in after) == expected
