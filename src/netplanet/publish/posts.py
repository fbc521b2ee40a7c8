"""Post view-models: what a page shows for one stored entry (pure; `now` is an argument).

Templates get plain strings and flags from here, never raw records, so all date, duration and
badge rules live in one tested place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from netplanet.model import Enclosure, StoredEntry
from netplanet.publish.stories import StoryCoverage
from netplanet.publish.topics import DEFAULT_TOPICS, TopicInfo, topic_href, topic_map
from netplanet.sources.slug import slugify
from netplanet.untrusted import http_url

__all__ = [
    "PostView",
    "category_href",
    "format_date",
    "format_duration",
    "is_media",
    "iso_date",
    "post_view",
    "relative_time",
    "safe_url",
    "stored_html",
    "topic_chips",
]

DATE_UNKNOWN = "date unknown"
"""Shown instead of an age for a post whose feed gave no date (StoredEntry.date_known)."""

_MEDIA_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".mp4", ".m4v", ".webm")


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    title: str
    url: str
    """The original post (every title and "continue reading" link goes there)."""
    permalink: str
    source_title: str
    source_href: str
    author: str
    published_iso: str
    """Empty when the post's date is unknown (then no <time> is shown)."""
    published_text: str
    relative: str
    """ "3 hours ago", or "date unknown"."""
    categories: tuple[tuple[str, str], ...]
    """(name, href) per category chip."""
    excerpt_html: str
    """Sanitized at ingest; rendered as-is."""
    snippet_html: str = ""
    """Search snippet (escaped text with <mark>), when the post is a search hit."""
    media: str = ""
    """"Podcast" or "Video" for episodes, else empty."""
    duration: str = ""
    sponsored: bool = False
    enclosure_url: str = ""
    archive_href: str = ""
    """The month archive the post belongs to, e.g. /archive/2026/11/; its source's page when
    its date is unknown."""
    archive_label: str = ""
    topics: tuple[tuple[str, str], ...] = ()
    """(name, href) per topic chip, the primary topic first."""
    coverage: StoryCoverage | None = None
    """"Also on" / "Also covered by" (publish/stories.py); None for a post on its own."""


def safe_url(url: str) -> str:
    """`url` when it is an absolute http(s) URL, else empty: feeds can carry javascript: or
    data: links, which autoescaping alone does not neutralise in an href. Enrich stores only
    http(s) links; this checks again for rows stored before it did (netplanet.untrusted)."""
    return http_url(url)


_CITE_ATTR_RE = re.compile(r"cite\s*=", re.IGNORECASE)


def stored_html(html: str) -> str:
    """Sanitized HTML from the store, ready to republish. Rows stored before `cite` was checked
    can carry any scheme there: those (only) go through the sanitizer once more."""
    if "cite" in html and _CITE_ATTR_RE.search(html):
        # Imported here: the pages need the enrich stage (nh3, lxml) only for such rows.
        from netplanet.enrich.sanitize import sanitize_html

        return sanitize_html(html, base_url="")
    return html


def category_href(name: str) -> str:
    return f"/category/{slugify(name, fallback='category')}/"


def relative_time(then: datetime, now: datetime) -> str:
    """Coarse English age ("3 hours ago"); coarse on purpose, as pages are cached for minutes."""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return "just now"  # also for clock skew: a post dated a little in the future
    for unit, size, limit in (
        ("minute", 60, 60),
        ("hour", 3600, 24),
        ("day", 86400, 30),
        ("month", 30 * 86400, 12),
    ):
        count = seconds // size
        if count < limit:
            if unit == "day" and count == 1:
                return "yesterday"
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    years = seconds // (365 * 86400) or 1
    return f"{years} year{'' if years == 1 else 's'} ago"


def iso_date(when: datetime) -> str:
    """RFC 3339 in UTC with a Z, for <time datetime>."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_date(when: datetime) -> str:
    """Absolute date in UTC, e.g. "1 Nov 2026, 10:05 UTC"."""
    utc = when.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def format_duration(seconds: int | None) -> str:
    """h:mm:ss, e.g. 3725 -> "1:02:05"; empty when unknown."""
    if seconds is None or seconds <= 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def is_media(enclosure: Enclosure | None) -> str:
    """ "Podcast" for audio, "Video" for video enclosures, else empty."""
    if enclosure is None:
        return ""
    kind = enclosure.type.lower()
    if kind.startswith("audio/"):
        return "Podcast"
    if kind.startswith("video/"):
        return "Video"
    if not kind and enclosure.url.lower().split("?", 1)[0].endswith(_MEDIA_EXTENSIONS):
        return "Podcast"  # many podcast feeds omit the type; the file name still tells
    return ""


def post_view(
    entry: StoredEntry,
    now: datetime,
    *,
    snippet_html: str = "",
    href_for_category: Callable[[str], str] = category_href,
    topics: Mapping[str, TopicInfo] | None = None,
) -> PostView:
    """The view of `entry`. `topics` names the site's topics by slug (default: the default
    taxonomy); a stored slug the site does not know (a retired topic) shows no chip."""
    # An episode flagged by enrich (itunes tags, the text) is one even without an enclosure.
    media = is_media(entry.enclosure) or ("Podcast" if entry.podcast else "")
    utc = entry.published.astimezone(UTC)
    source_title = entry.source_title or entry.source_slug
    source_href = f"/source/{entry.source_slug}/"
    if entry.date_known:
        iso, text = iso_date(entry.published), format_date(entry.published)
        relative = relative_time(entry.published, now)
        archive_href, archive_label = f"/archive/{utc:%Y/%m}/", f"{utc:%B %Y}"
    else:
        # Only a placement (update/dating.py): no age or date is shown that nobody wrote.
        iso, text, relative = "", "", DATE_UNKNOWN
        archive_href, archive_label = source_href, source_title
    return PostView(
        id=entry.id,
        title=entry.title or "(untitled)",
        url=safe_url(entry.url) or f"/post/{entry.id}/",
        permalink=f"/post/{entry.id}/",
        source_title=source_title,
        source_href=source_href,
        author=entry.author,
        published_iso=iso,
        published_text=text,
        relative=relative,
        categories=tuple((name, href_for_category(name)) for name in entry.categories if name),
        excerpt_html=stored_html(entry.excerpt_html),
        snippet_html=snippet_html,
        media=media,
        duration=format_duration(entry.duration_s) if media else "",
        sponsored=entry.sponsored,
        enclosure_url=safe_url(entry.enclosure.url) if media and entry.enclosure else "",
        archive_href=archive_href,
        archive_label=archive_label,
        topics=topic_chips(entry, _DEFAULT_MAP if topics is None else topics),
    )


_DEFAULT_MAP = topic_map(DEFAULT_TOPICS)


def topic_chips(entry: StoredEntry, topics: Mapping[str, TopicInfo]) -> tuple[tuple[str, str], ...]:
    """(name, href) of each of the entry's topics the site knows, primary first."""
    return tuple(
        (topics[slug].name, topic_href(slug)) for slug in entry.topic_slugs if slug in topics
    )


def post_views(entries: Iterable[StoredEntry], now: datetime) -> list[PostView]:
    return [post_view(e, now) for e in entries]
