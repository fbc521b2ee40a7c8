"""The records that flow through netplanet, each named for its place in the flow.

    SourceSpec/Source -> FetchRequest -> FetchResult -> ParsedFeed/ParsedEntry -> Entry
    -> UpdatePlan -> rows, and a SourceReport saying what the poll did

Every record is a frozen dataclass. All datetimes are timezone-aware UTC. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A source as an operator describes it (OPML outline, CLI, admin form), before it is stored."""

    feed_url: str
    """The URL of the RSS/Atom/JSON feed."""
    title: str = ""
    """Human name; empty means "use the feed's own title once fetched"."""
    site_url: str = ""
    """The publisher's home page."""
    category: str = ""
    """Default category for the source's posts (e.g. "Networking")."""


class SourceStatus(enum.StrEnum):
    """Health of a source as the health pages show it."""

    NEW = "new"  # never fetched
    OK = "ok"
    SLOW = "slow"  # healthy, but its average response time is over the threshold
    FAILING = "failing"  # last fetch failed, will be retried with back-off
    DEAD = "dead"  # failing for longer than dead_after_s; retried once a day
    DISABLED = "disabled"  # 410 Gone or disabled by the operator


@dataclass(frozen=True, slots=True)
class Source:
    """A stored source: its identity, its configuration, its HTTP cache state and its health."""

    id: int
    feed_url: str
    title: str
    site_url: str
    category: str
    slug: str
    """Stable URL-safe name, unique across sources (used by /source/<slug>/)."""
    enabled: bool = True
    disabled_reason: str = ""
    created_at: datetime | None = None
    # HTTP cache state, from the last successful fetch
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    # health, from the last fetch attempt
    last_fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    last_status: int | None = None
    """HTTP status of the last attempt (None when no response was received)."""
    last_error_class: str = ""
    """Short machine-readable error kind (e.g. "timeout", "http", "parse"); empty after success."""
    last_error: str = ""
    """One-line human explanation of the last error; empty after success."""
    last_bytes: int = 0
    last_duration_ms: int = 0
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    """Earliest time to poll again (from schedule.py); None means "due now"."""
    # health averages and schedule state (migration 0004)
    avg_response_ms: float | None = None
    """EWMA of the response time over polls that got a response."""
    avg_bytes: float | None = None
    """EWMA of the body size over polls that got a body."""
    posts_per_day: float | None = None
    """Posts published in the last 30 days / 30, as of the last successful poll."""
    poll_interval_s: float | None = None
    """The interval schedule.py chose at the last poll (before jitter)."""
    failing_since: datetime | None = None
    """Time of the first failure of the current run of failures; None while healthy."""
    dead_since: datetime | None = None
    """Set once the source has been failing for dead_after_s; cleared by a success."""
    rate_valid_until: datetime | None = None
    """`posts_per_day` holds until then unless entries change (the oldest post counted leaves
    the rate window); None: count at the next successful poll."""

    @property
    def status(self) -> SourceStatus:
        if not self.enabled:
            return SourceStatus.DISABLED
        if self.last_fetched_at is None:
            return SourceStatus.NEW
        if self.consecutive_failures:
            return SourceStatus.DEAD if self.dead_since else SourceStatus.FAILING
        return SourceStatus.OK

    def health(self, slow_response_ms: float) -> SourceStatus:
        """`status`, with healthy sources whose average response time is too long as SLOW."""
        status = self.status
        if status is SourceStatus.OK and (self.avg_response_ms or 0) > slow_response_ms:
            return SourceStatus.SLOW
        return status

    @property
    def display_title(self) -> str:
        return self.title or self.site_url or self.feed_url


# --------------------------------------------------------------------------- fetch


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What the fetcher needs to poll one feed conditionally."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    """Hash of the last body parsed; a 200 with the same hash is reported as UNCHANGED."""


class FetchOutcome(enum.StrEnum):
    OK = "ok"  # new body to parse
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # 200 whose body hash equals the previous one
    GONE = "gone"  # 410: disable the source
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one poll. `body` is set only when outcome is OK."""

    request: FetchRequest
    outcome: FetchOutcome
    final_url: str
    """The URL the body finally came from, after redirects."""
    permanent_url: str | None = None
    """New feed URL when every redirect hop was permanent (301/308); otherwise None."""
    status: int | None = None
    body: bytes | None = None
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers (lower-case names) useful downstream: cache-control, expires, ..."""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    bytes_received: int = 0
    duration_ms: int = 0
    retry_after_s: float | None = None
    """Seconds the server asked us to wait (Retry-After on 429/503)."""
    error_class: str = ""
    error: str = ""


# --------------------------------------------------------------------------- parse


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry as found in the feed: raw, unsanitized, links already absolute."""

    guid: str | None
    link: str | None
    title: str
    """Plain text (entities decoded, tags stripped)."""
    content_html: str = ""
    """The fullest body available (content:encoded / atom content / content_html)."""
    summary_html: str = ""
    """The short description/summary, when the feed gives one apart from the content."""
    author: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    duration_s: int | None = None
    """Podcast duration (itunes:duration), in seconds."""
    media_html: str = ""
    """media:description (Media RSS, as YouTube's feeds carry it), as HTML: the only text of
    many video entries, used when the entry has no content or summary."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document parsed into typed values, independent of the parsing library."""

    format: str
    """e.g. "rss20", "rss10", "rss09", "atom10", "atom03", "json11"."""
    title: str = ""
    link: str = ""
    """The site's home page."""
    description: str = ""
    language: str = ""
    entries: tuple[ParsedEntry, ...] = ()
    ttl_minutes: int | None = None
    update_period: str = ""
    """sy:updatePeriod (hourly, daily, ...)."""
    update_frequency: int | None = None
    warnings: tuple[str, ...] = ()
    """Recovered problems (bad dates, encoding fixes, malformed XML recovered)."""
    parser: str = ""
    """Which parser produced this ("lxml", "json", "feedparser")."""
    updated: datetime | None = None
    """The feed's own date (RSS lastBuildDate, else pubDate or dc:date; Atom <updated>): the
    evidence for dating entries that carry no date of their own (update/dating.py)."""


# --------------------------------------------------------------------------- enrich


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry ready to be stored: cleaned, excerpted, canonicalized and fingerprinted."""

    source_id: int
    key: str
    """Identity within the source: "g:<guid>", else "u:<canonical url>", else "h:<hash>"."""
    guid: str | None
    url: str
    """Canonical link to the original post."""
    title_date_hash: str
    """Hash of normalized title + published date: the last-resort identity."""
    title: str
    author: str
    published: datetime
    """Published date, or the first-seen time when the feed gives none."""
    updated: datetime | None
    content_html: str
    """Sanitized, boilerplate-free content."""
    excerpt_html: str
    text: str
    """Plain text of the content, for search."""
    categories: tuple[str, ...] = ()
    """Planet categories (the source's default category; later, the classifier's)."""
    tags: tuple[str, ...] = ()
    """The feed's own categories/tags for the entry, as published."""
    enclosure: Enclosure | None = None
    duration_s: int | None = None
    sponsored: bool = False
    fingerprint: str = ""
    """Versioned hash of the displayed fields; a change means the post was edited."""
    date_from_feed: bool = True
    """False when the entry itself gave no usable date: `published` is then placed by the
    decider from other evidence (update/dating.py) and kept by later edits."""
    date_known: bool = True
    """False when `published` is only a placement (a first fetch's undated post filed below
    the dated ones): pages say "date unknown" and output feeds claim no publication date."""
    raw_hash: str = ""
    """Hash of the parsed fields this entry was enriched from (update/digest.py); a later poll
    finding the same hash skips enriching it again. Empty when unknown."""
    topics: tuple[tuple[str, float], ...] = ()
    """What the post is about: (topic slug, score in (0, 1]), primary first, at most three
    (enrich/topics.py). Empty only when no classifier ran."""
    podcast: bool = False
    """A podcast or video episode (enclosure, itunes tags or the text say so)."""
    simhash: int | None = None
    """64-bit SimHash of the post's text, as a signed integer (it fits a BIGINT): near-identical
    copies of one post differ in a few bits (story clusters)."""
    story_keys: tuple[str, ...] = ()
    """Keys shared by posts of one story (canonical URL, CVE ids, rare terms...), for finding
    cluster candidates by index (store/stories.py)."""

    def __reduce__(self) -> tuple[type[Entry], tuple[Any, ...]]:
        # The pool sends every new post back to the update process. Pickled as its
        # constructor's arguments, it skips the slotted dataclass's state methods (a Python
        # loop over fields() on each side): ~5 µs less a post to pickle and to unpickle.
        return Entry, _ENTRY_FIELDS(self)


_ENTRY_FIELDS = attrgetter(*(f.name for f in fields(Entry)))
"""Every field of Entry, in the constructor's order."""

# --------------------------------------------------------------------------- store / update


@dataclass(frozen=True, slots=True)
class ExistingEntry:
    """What the decider needs to know about an entry already stored for a source."""

    id: int
    key: str
    guid: str | None
    url: str
    title_date_hash: str
    fingerprint: str
    first_seen: datetime
    published: datetime
    raw_hash: str | None = None
    """Entry.raw_hash as stored (None for rows stored before migration 0005)."""
    date_known: bool = True
    """Entry.date_known as stored: an edit of an undated post keeps it with `published`."""


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """Changes to a source's row after one poll. None means "leave as is"."""

    last_fetched_at: datetime
    last_status: int | None
    last_error_class: str
    last_error: str
    last_bytes: int
    last_duration_ms: int
    consecutive_failures: int
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    feed_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None
    site_url: str | None = None
    enabled: bool | None = None
    disabled_reason: str | None = None
    clear_cache_state: bool = False
    """True after a parse failure, so the next poll refetches and reparses the body."""
    slug_base: str | None = None
    """A new slug from the feed's title, on the first successful poll of a source that was
    named by its host (added without a title); the store makes it unique and keeps the old
    slug as a redirect."""
    avg_response_ms: float | None = None
    avg_bytes: float | None = None
    posts_per_day: float | None = None
    poll_interval_s: float | None = None
    failing_since: datetime | None = None
    """Always written (None after a success): the start of the current run of failures."""
    dead_since: datetime | None = None
    """Always written (None unless the source is dead)."""
    rate_valid_until: datetime | None = None
    """Set when the posting rate was counted at this poll."""


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """Everything one poll of one source changes, applied by the store in one transaction."""

    source_id: int
    source: SourceUpdate
    new_entries: tuple[Entry, ...] = ()
    changed_entries: tuple[tuple[int, Entry], ...] = ()
    """(existing row id, new values); first-seen time is kept."""
    unchanged_entries: int = 0
    rehashed_entries: tuple[tuple[int, str], ...] = ()
    """(existing row id, raw hash) of unchanged entries whose stored raw hash is missing or
    stale: only that column is rewritten, so the next poll can skip enriching them."""


class PollOutcome(enum.StrEnum):
    """What one poll of one source did. A StrEnum: printed, logged and compared as its value."""

    UPDATED = "updated"  # a new body was read (it may still hold no new entry)
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # 200 with the body of the last poll
    FAILED = "failed"
    GONE = "gone"  # 410: the source is disabled


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one poll of one source did, for progress output and the closing table."""

    source_id: int
    title: str
    outcome: PollOutcome
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_class: str = ""
    error: str = ""
    moved_to: str | None = None
    stored: bool = True
    """False when not even the failure could be recorded (the database refused it): the
    source is still due, so a scheduler must hold it back itself."""

    @property
    def failed(self) -> bool:
        """The poll read no feed: it failed, or the feed is gone."""
        return self.outcome in (PollOutcome.FAILED, PollOutcome.GONE)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as read back from the store, with its source's display fields."""

    id: int
    source_id: int
    source_title: str
    source_slug: str
    key: str
    guid: str | None
    url: str
    title: str
    author: str
    published: datetime
    updated: datetime | None
    first_seen: datetime
    content_html: str
    excerpt_html: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    enclosure: Enclosure | None
    duration_s: int | None
    sponsored: bool
    fingerprint: str
    date_known: bool = True
    """False when `published` only places the post (see Entry.date_known)."""
    topics: tuple[tuple[str, float], ...] = ()
    """(topic slug, score), primary first (Entry.topics, or the operator's override)."""
    topics_manual: bool = False
    """True when an operator set the topics: re-classification leaves them alone."""
    podcast: bool = False
    cluster_id: int | None = None
    """Shared by every post of one story cluster (the id of its first post); None alone."""
    duplicate_of: int | None = None
    """Set when this row is another feed's copy of the post stored under that id."""
    collapsed: bool = False
    """Hidden from the river, search and output feeds: a copy of another post, or a post of a
    story cluster shown at its newest post."""

    @property
    def topic_slugs(self) -> tuple[str, ...]:
        return tuple(slug for slug, _ in self.topics)


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry: StoredEntry
    snippet_html: str
    """Escaped text with matches wrapped in <mark>."""
    rank: float


# --------------------------------------------------------------------------- weekly digest


@dataclass(frozen=True, slots=True)
class WeekPost:
    """A post of a week, as the weekly digest reads it (store/weekly.py): dated that week,
    not sponsored, not another feed's copy of a post."""

    id: int
    title: str
    url: str
    source_id: int
    source_title: str
    source_slug: str
    published: datetime
    excerpt_html: str
    topic: str
    """The primary topic's slug ("" without topics)."""
    podcast: bool
    cluster_id: int | None


@dataclass(frozen=True, slots=True)
class StoryMember:
    """A post of a story cluster one of the week's posts belongs to (of any week; copies left
    out): what "covered by N sources" counts and links."""

    id: int
    cluster_id: int
    title: str
    url: str
    source_id: int
    source_title: str
    source_slug: str
    published: datetime


@dataclass(frozen=True, slots=True)
class WeekData:
    """Everything one week's digest is built from (publish/weekly.py), as read now or as
    frozen when the week was over."""

    week: str
    """The ISO week, `2026-W48`."""
    posts: tuple[WeekPost, ...]
    members: tuple[StoryMember, ...]
    picks: tuple[tuple[int, str], ...]
    """(post id, "pin" or "drop"), in the order the operator chose them."""
    frozen_at: datetime | None = None
    """When the list was frozen; None: read live (the week is not over)."""
