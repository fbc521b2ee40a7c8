"""The weekly digest as readers get it (pure): ISO weeks, the grouping and ordering of a
week's posts, and its HTML, Markdown and plain-text forms.

(`update/digest.py` is something else: the parse and enrich step of a poll.)

Rules, whatever the form:
- A week runs from Monday 00:00 UTC to the next Monday (`Week`); it is final once over.
- A story is one line: posts of one cluster (store/stories.py) are shown once, by the post an
  operator pinned, else the cluster's newest post of the week, with "covered by N sources"
  (N = distinct sources of the cluster's posts, copies of one post counted once) linking the
  others. A post dropped by an operator leaves its whole story out.
- Lines are grouped by their post's primary topic, groups in the taxonomy's order (the same
  place every week), posts without a topic last ("Other"); podcast and video episodes have
  their own section after the topics. In a group, pinned lines lead (in the order they were
  pinned), then the widest covered story first, then the newest.
- A group shows `cap` lines (the `digest_items_per_topic` setting) and links to the topic's
  archive from the end of the week for the rest; pinned lines are always shown.
- Each line: title, source, date, the first one or two sentences of the stored excerpt
  (`enrich.excerpt.first_sentences`), the link to the original post.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

from netplanet.enrich.excerpt import first_sentences, html_to_text
from netplanet.model import StoryMember, WeekData, WeekPost
from netplanet.publish.pages import Cursor
from netplanet.publish.posts import safe_url
from netplanet.publish.topics import TopicInfo
from netplanet.publish.weeks import Week as Week  # re-exported: the digest is built per Week
from netplanet.untrusted import strip_markup

DIGEST_ITEMS_PER_TOPIC = 5
"""Lines a topic shows by default (setting `digest_items_per_topic`): with ten topics a week's
roundup stays at most ~50 lines, a few minutes of reading, as the human-made roundups are."""
EXCERPT_WORDS = 45
"""A line's excerpt: one or two sentences, the second only while the two fit in this many
words."""
OTHERS_SHOWN = 5
"""A line links this many of the story's other sources; its post page lists them all."""
PODCASTS = TopicInfo("podcasts", "Podcasts and videos")
OTHER = TopicInfo("", "Other")

# --------------------------------------------------------------------------- view-models


@dataclass(frozen=True, slots=True)
class DigestLink:
    title: str
    url: str
    source_title: str


@dataclass(frozen=True, slots=True)
class DigestItem:
    id: int
    title: str
    url: str
    """The original post (its planet page when it has no usable link)."""
    source_title: str
    source_href: str
    published: datetime
    excerpt: str
    """Plain text: one or two sentences."""
    sources: int
    """Distinct sources that covered the story (1: this post alone)."""
    others: tuple[DigestLink, ...]
    """The story's other posts, one per source, newest first, at most OTHERS_SHOWN."""
    story_href: str
    """The post's planet page, which lists the whole story."""
    pinned: bool = False

    @property
    def date_text(self) -> str:
        return f"{self.published.day} {self.published:%b %Y}"

    @property
    def date_iso(self) -> str:
        return self.published.date().isoformat()


@dataclass(frozen=True, slots=True)
class DigestGroup:
    slug: str
    name: str
    items: tuple[DigestItem, ...]
    """The lines shown (at most the cap, pinned lines always)."""
    more: int
    """Lines left out by the cap."""
    more_href: str
    """The topic's archive from the end of the week ("" when there is none)."""

    @property
    def heading_id(self) -> str:
        return f"topic-{self.slug or 'other'}"


@dataclass(frozen=True, slots=True)
class Digest:
    week: Week
    final: bool
    """The week is over (the list is frozen); False: in progress."""
    groups: tuple[DigestGroup, ...]
    """Topic groups, then the podcasts section when there are episodes."""
    lines: int
    """Stories in the digest (shown or not)."""
    sources: int
    """Distinct sources of the lines."""

    @property
    def empty(self) -> bool:
        return not self.groups


def more_href(slug: str, week: Week) -> str:
    """The topic's archive from the end of `week` (its posts before next Monday, newest
    first): the list a reader continues with after a group's last line."""
    cursor = Cursor(published=week.end, id=0).encode()
    return f"/topic/{slug}/?before={cursor}"


def _absolute(href: str, base: str) -> str:
    return base + href if base and href.startswith("/") else href


def _item(post: WeekPost, members: Sequence[StoryMember], pinned: bool, base: str) -> DigestItem:
    story = [m for m in members if m.id != post.id]
    sources = {m.source_id for m in members} | {post.source_id}
    others: list[DigestLink] = []
    named = {post.source_id}
    for m in sorted(story, key=lambda m: (m.published, m.id), reverse=True):
        if m.source_id in named:
            continue
        named.add(m.source_id)
        others.append(
            DigestLink(
                title=strip_markup(m.title) or "(untitled)",
                url=safe_url(m.url) or _absolute(f"/post/{m.id}/", base),
                source_title=strip_markup(m.source_title) or m.source_slug,
            )
        )
    return DigestItem(
        id=post.id,
        title=strip_markup(post.title) or "(untitled)",
        url=safe_url(post.url) or _absolute(f"/post/{post.id}/", base),
        source_title=strip_markup(post.source_title) or post.source_slug,
        source_href=_absolute(f"/source/{post.source_slug}/", base),
        published=post.published,
        excerpt=post.excerpt_html,  # cut by `_with_excerpt` for the lines shown only
        sources=len(sources),
        others=tuple(others[:OTHERS_SHOWN]),
        story_href=_absolute(f"/post/{post.id}/", base),
        pinned=pinned,
    )


def _with_excerpt(item: DigestItem) -> DigestItem:
    """The line with its one-or-two-sentence excerpt (parsing HTML: done for shown lines)."""
    text = first_sentences(html_to_text(item.excerpt), words=EXCERPT_WORDS)
    return replace(item, excerpt=text)


def _lines(data: WeekData) -> list[tuple[WeekPost, list[StoryMember], bool]]:
    """One (shown post, story members, pinned) per story of the week, dropped ones left out."""
    picks = dict(data.picks)
    pin_order = {i: n for n, (i, c) in enumerate(data.picks) if c == "pin"}
    members: dict[int, list[StoryMember]] = {}
    for m in data.members:
        members.setdefault(m.cluster_id, []).append(m)
    stories: dict[int, list[WeekPost]] = {}
    for post in data.posts:
        stories.setdefault(post.cluster_id if post.cluster_id is not None else -post.id, []).append(
            post
        )
    out: list[tuple[WeekPost, list[StoryMember], bool]] = []
    for key, posts in stories.items():
        story = members.get(key, []) if key > 0 else []
        ids = {p.id for p in posts} | {m.id for m in story}
        if any(picks.get(i) == "drop" for i in ids):
            continue
        pinned = sorted((p for p in posts if p.id in pin_order), key=lambda p: pin_order[p.id])
        shown = pinned[0] if pinned else max(posts, key=lambda p: (p.published, p.id))
        out.append((shown, story, bool(pinned)))
    return out


def build_digest(
    data: WeekData,
    week: Week,
    topics: Sequence[TopicInfo],
    *,
    final: bool,
    cap: int = DIGEST_ITEMS_PER_TOPIC,
    base: str = "",
    only_topic: str | None = None,
) -> Digest:
    """The week's digest from what the store read (live or frozen). `base` makes every link
    absolute (feeds, the command line); `only_topic` keeps one topic's group, uncapped."""
    picks = data.picks
    pin_rank = {i: n for n, (i, c) in enumerate(picks) if c == "pin"}
    known = {t.slug: t for t in topics}
    by_group: dict[str, list[DigestItem]] = {}
    all_sources: set[int] = set()
    lines = _lines(data)
    for post, story, pinned in lines:
        item = _item(post, story, pinned, base)
        all_sources.add(post.source_id)
        topic = post.topic if post.topic in known else OTHER.slug
        group = PODCASTS.slug if post.podcast else topic
        by_group.setdefault(group, []).append(item)

    def order(item: DigestItem) -> tuple[int, int, float, int]:
        rank = pin_rank.get(item.id, len(picks)) if item.pinned else len(picks) + 1
        return (rank, -item.sources, -item.published.timestamp(), -item.id)

    groups: list[DigestGroup] = []
    for info in (*topics, OTHER, PODCASTS):
        items = sorted(by_group.get(info.slug, ()), key=order)
        if not items:
            continue
        if only_topic is not None and info.slug != only_topic:
            continue
        is_topic = info.slug in known
        limit = len(items) if (only_topic or info is PODCASTS) else cap
        shown = max(limit, sum(1 for i in items if i.pinned))
        groups.append(
            DigestGroup(
                slug=info.slug,
                name=info.name,
                items=tuple(_with_excerpt(i) for i in items[:shown]),
                more=max(len(items) - shown, 0),
                more_href=_absolute(more_href(info.slug, week), base) if is_topic else "",
            )
        )
    return Digest(
        week=week,
        final=final,
        groups=tuple(groups),
        lines=len(lines),
        sources=len(all_sources),
    )


def candidates(data: WeekData) -> list[tuple[WeekPost, bool]]:
    """The week's story lines for the admin's picks: (shown post, pinned), newest first,
    dropped stories left out (`dropped` gives those)."""
    lines = _lines(data)
    return sorted(
        ((post, pinned) for post, _, pinned in lines),
        key=lambda line: (line[0].published, line[0].id),
        reverse=True,
    )


def dropped(data: WeekData) -> list[WeekPost]:
    """The week's posts an operator dropped."""
    gone = {i for i, c in data.picks if c == "drop"}
    return [p for p in data.posts if p.id in gone]


# --------------------------------------------------------------------------- forms


def title_of(week: Week, site_title: str) -> str:
    return f"{site_title} weekly digest: {week.label}"


def _coverage_text(item: DigestItem) -> str:
    return f"covered by {item.sources} sources" if item.sources > 1 else ""


def render_html(digest: Digest, *, heading: str = "") -> str:
    """The digest as an HTML fragment (a feed item's content, `netplanet digest --format
    html`): a heading per topic, a list of lines. Every text is escaped here."""
    out: list[str] = []
    if heading:
        out.append(f"<h1>{escape(heading)}</h1>")
        out.append(f"<p>{escape(digest.week.span)}</p>")
    if digest.empty:
        out.append("<p>No posts were published this week.</p>")
    for group in digest.groups:
        out.append(f"<h2>{escape(group.name)}</h2>")
        out.append("<ul>")
        for item in group.items:
            line = (
                f'<li><a href="{escape(item.url)}">{escape(item.title)}</a>'
                f" — {escape(item.source_title)}, {escape(item.date_text)}"
            )
            if item.excerpt:
                line += f"<br>{escape(item.excerpt)}"
            if item.sources > 1:
                names = ", ".join(
                    f'<a href="{escape(o.url)}">{escape(o.source_title)}</a>' for o in item.others
                )
                line += (
                    f'<br><small><a href="{escape(item.story_href)}">'
                    f"Covered by {item.sources} sources</a>: {names}</small>"
                )
            out.append(line + "</li>")
        out.append("</ul>")
        if group.more and group.more_href:
            out.append(
                f'<p><a href="{escape(group.more_href)}">{group.more} more in '
                f"{escape(group.name)}</a></p>"
            )
        elif group.more:
            out.append(f"<p>And {group.more} more.</p>")
    return "\n".join(out) + "\n"


# Characters Markdown (CommonMark, GitHub's GFM) reads as syntax anywhere in a line: emphasis,
# code, links, raw HTML and autolinks, strikethrough, entities, heading closers.
_MD_INLINE = re.compile(r"([\\`*_\[\]<~&#])")
# What starts a block when it opens a line: a list item, quote, heading, setext underline.
_MD_BLOCK_START = re.compile(r"\A(\d{1,9}(?=[.)])|[-+=>])")
_SPACE = re.compile(r"\s+")


def escape_markdown(text: str) -> str:
    """`text` as literal Markdown on one line: whitespace collapsed to single spaces, and the
    characters Markdown could read as syntax backslash-escaped (any ASCII punctuation may be,
    and GitHub drops the backslash): inline markup everywhere, block markers at the start.
    Other punctuation stays as it is, so the Markdown also reads well as text."""
    escaped = _MD_INLINE.sub(r"\\\1", _SPACE.sub(" ", text).strip())
    found = _MD_BLOCK_START.match(escaped)
    if found is None:
        return escaped
    if found.group(1)[0].isdigit():  # "2026. A year" must not open an ordered list
        end = found.end()
        return escaped[:end] + "\\" + escaped[end:]
    return "\\" + escaped


def _md_url(url: str) -> str:
    """A link destination in <...>: spaces and angle brackets percent-encoded."""
    return "<" + url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E") + ">"


def render_markdown(digest: Digest, *, heading: str) -> str:
    """The digest in Markdown that renders cleanly on GitHub: `#` title, `##` per topic, one
    bullet per line with its link; titles and excerpts escaped."""
    out = [f"# {escape_markdown(heading)}", "", escape_markdown(digest.week.span), ""]
    if digest.empty:
        out += ["No posts were published this week.", ""]
    for group in digest.groups:
        out += [f"## {escape_markdown(group.name)}", ""]
        for item in group.items:
            line = (
                f"- [{escape_markdown(item.title)}]({_md_url(item.url)})"
                f" — {escape_markdown(item.source_title)}, {escape_markdown(item.date_text)}"
            )
            extra: list[str] = []
            if item.excerpt:
                extra.append(escape_markdown(item.excerpt))
            if item.sources > 1:
                names = ", ".join(
                    f"[{escape_markdown(o.source_title)}]({_md_url(o.url)})" for o in item.others
                )
                extra.append(
                    f"[Covered by {item.sources} sources]({_md_url(item.story_href)}): {names}"
                )
            if extra:
                # A backslash at a line's end is a hard line break, inside the bullet.
                line += "\\\n" + "\\\n".join(f"  {e}" for e in extra)
            out.append(line)
        out.append("")
        if group.more and group.more_href:
            out += [
                f"[{group.more} more in {escape_markdown(group.name)}]({_md_url(group.more_href)})",
                "",
            ]
        elif group.more:
            out += [f"And {group.more} more.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


TEXT_WIDTH = 72
"""Plain-text lines wrap here (what mail clients and list archives show unbroken)."""


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        TEXT_WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def render_text(digest: Digest, *, heading: str) -> str:
    """The digest as plain text for mailing lists: a heading per topic, each post's title,
    source and date, excerpt and link on lines of their own, wrapped at TEXT_WIDTH (links are
    never broken)."""
    out = [*_wrap(heading, "", ""), digest.week.span, ""]
    if digest.empty:
        out += ["No posts were published this week.", ""]
    for group in digest.groups:
        out += [group.name.upper(), "=" * len(group.name), ""]
        for item in group.items:
            meta = f"{item.source_title}, {item.date_text}"
            if item.sources > 1:
                meta += f" · {_coverage_text(item)}"
            out += _wrap(item.title, "* ", "  ") + _wrap(meta, "  ", "  ")
            if item.excerpt:
                out += _wrap(item.excerpt, "  ", "  ")
            out += [f"  {item.url}", ""]
        if group.more and group.more_href:
            out += [f"{group.more} more in {group.name}:", f"  {group.more_href}", ""]
        elif group.more:
            out += [f"And {group.more} more.", ""]
    return "\n".join(out).rstrip("\n") + "\n"
