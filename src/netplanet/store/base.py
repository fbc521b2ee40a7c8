"""The Store interface: what every backend (SQLite, PostgreSQL) provides, as the Protocols its
callers name: `SourceStore` (one source's edits), `Store` (updating: sources, entries, stable
pages, search), `WorkerStore` (+ leases), `SiteStore` (+ the public pages' queries),
`AdminStore` (settings, sign-in, categories), `TopicStore` (topic counts, re-classification
and an operator's topics) and `PlanetStore` (all of it, + scheduling and monitoring).
SqlStore (store/sql.py) implements every one.

Shared rules, whatever the backend:
- All datetimes going in and coming out are timezone-aware UTC.
- `apply_update` applies one poll of one source in one transaction: either the whole plan is
  stored (source state + entries + search index) or nothing is. `apply_updates` stores many
  polls in one transaction (group commit) with the same all-or-nothing rule per plan.
- Entries are identified by (source_id, key); applying the same plan twice changes nothing.
- An edited entry keeps its id and its first-seen time.
- Unreachable or broken databases raise StoreError with a one-line message.
- Source titles and category names are stored within the lengths of `sources/bounds.py`,
  whichever path sets them (add, bulk add, edit).
- Row ids are positive integers up to ID_MAX (SQLite's and PostgreSQL's 64-bit range). A
  lookup by any other int finds nothing (None, or NotFoundError for an edit) instead of
  reaching the database, where it would overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from netplanet.errors import StoreError
from netplanet.model import (
    Enclosure,
    ExistingEntry,
    SearchHit,
    Source,
    SourceSpec,
    StoredEntry,
    UpdatePlan,
    WeekData,
)

ID_MAX = 2**63 - 1
"""The largest row id any backend stores (a signed 64-bit integer)."""


SLUG_MOVED_PREFIX = "source_slug_moved:"
"""app_settings key prefix: `<prefix><old slug>` holds the slug a source moved to (a source
named by its host gets its feed's title at the first successful poll); /source/<old>/ redirects."""


def valid_id(value: int) -> bool:
    """Whether `value` can be a row id (and so may be handed to the database)."""
    return 1 <= value <= ID_MAX


@dataclass(frozen=True, slots=True)
class ApplyResult:
    new: int
    changed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Labels:
    """Which labelled posts a list leaves out (a reader's `?podcasts=0`, `?sponsored=0`).
    Filtering never renumbers: a numbered page just shows fewer posts."""

    podcasts: bool = True
    """False: leave out podcast and video episodes (StoredEntry.podcast)."""
    sponsored: bool = True
    """False: leave out sponsored posts (StoredEntry.sponsored)."""

    @property
    def all(self) -> bool:
        return self.podcasts and self.sponsored


ALL_LABELS = Labels()


class SourceStore(Protocol):
    def add_source(self, spec: SourceSpec) -> Source:
        """Store a new source; raises DuplicateSourceError if its feed URL is already stored."""
        ...

    def add_sources(
        self, specs: Sequence[SourceSpec], *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Store the specs whose feed URL is not stored yet, many per transaction (an OPML
        import); returns how many were added. `progress` gets the number of specs handled so
        far after each transaction."""
        ...

    def get_source(self, source_id: int) -> Source | None: ...

    def get_source_by_url(self, feed_url: str) -> Source | None: ...

    def get_source_by_slug(self, slug: str) -> Source | None: ...

    def get_source_by_old_slug(self, slug: str) -> Source | None:
        """The source that had `slug` before its first poll renamed it (SLUG_MOVED_PREFIX)."""
        ...

    def list_sources(self) -> list[Source]:
        """All sources, ordered by title."""
        ...

    def edit_source(
        self,
        source_id: int,
        *,
        title: str | None = None,
        category: str | None = None,
        site_url: str | None = None,
        enabled: bool | None = None,
        feed_url: str | None = None,
    ) -> Source:
        """Change operator-editable fields; raises NotFoundError.

        A new `feed_url` (an http(s) URL, else UsageError; checked by the SSRF guard before,
        see operations/sources.py) keeps the source's id, slug and posts and resets its poll
        state so it is due at once; DuplicateSourceError when another source has that URL."""
        ...

    def remove_source(self, source_id: int) -> None:
        """Delete a source and its entries; raises NotFoundError."""
        ...


# Entries older than this get their stable page positions (Store.seal_pages); newer ones
# may still be joined by late arrivals (feeds often publish with dates a few hours in the past).
# One value for every process that seals (`netplanet run` and `netplanet worker`), since
# positions handed out under two different cut-offs would disagree.
SEAL_AFTER = timedelta(hours=48)


class Store(SourceStore, Protocol):
    """What updating a planet needs: sources, their entries, stable pages and search (the update
    pipeline, imports, the demo)."""

    url: str

    def close(self) -> None: ...

    def dump(self) -> Sequence[tuple[object, ...]]:
        """Every source and entry row in a stable order (for idempotence tests and db copy)."""
        ...

    # ------------------------------------------------------------------ entries (store/writes.py)

    def existing_entries(
        self,
        source_id: int,
        *,
        keys: Iterable[str] = (),
        urls: Iterable[str] = (),
        title_date_hashes: Iterable[str] = (),
        raw_hashes: Iterable[str] = (),
    ) -> list[ExistingEntry]:
        """Stored entries of a source matching any of the given identities or raw hashes."""
        ...

    def known_raw_hashes(self, source_id: int, *, limit: int) -> frozenset[str]:
        """The raw hashes (Entry.raw_hash) of a source's `limit` newest stored entries."""
        ...

    def apply_update(self, plan: UpdatePlan) -> ApplyResult:
        """Apply one poll's plan in one transaction."""
        ...

    def apply_updates(self, plans: Sequence[UpdatePlan]) -> list[ApplyResult | StoreError]:
        """Apply many plans, each all-or-nothing: together in one transaction, or, when that
        fails, one transaction each; a plan that cannot be stored gives its StoreError."""
        ...

    def get_entry(self, entry_id: int) -> StoredEntry | None: ...

    def list_entries(
        self,
        *,
        source_id: int | None = None,
        category: str | None = None,
        topic: str | None = None,
        copies: bool = True,
        collapsed: bool = True,
        labels: Labels = ALL_LABELS,
        limit: int = 50,
    ) -> list[StoredEntry]:
        """Newest entries first (by published, then id); `topic` keeps the posts filed under
        that topic slug (primary or not); `copies=False` leaves out rows that are another
        feed's copy of a stored post (`duplicate_of` set); `collapsed=False` leaves out every
        collapsed row (copies, and story members shown at their cluster's lead: what the
        river and its feeds leave out); `labels` filters podcasts and sponsored posts."""
        ...

    def count_entries(self, *, source_id: int | None = None) -> int: ...

    def recent_entry_stats(self, source_id: int, since: datetime) -> tuple[int, datetime | None]:
        """Entries of a source published at or after `since`: how many (its posting rate), and
        the oldest `published` among them."""
        ...

    def seal_pages(self, cutoff: datetime) -> int:
        """Give stable page positions to entries published before `cutoff` (see SqlStore)."""
        ...

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
        labels: Labels = ALL_LABELS,
    ) -> list[SearchHit]:
        """Ranked full-text matches over title, text and source title, with the meaning of
        `store/fts_query.py`. Any user input is accepted: syntax the engine would reject is
        treated as plain words, a query without words finds nothing, and a query of only
        exclusions lists the newest posts without them (newest first). `topic` (a slug) keeps
        the posts about that topic; `labels` leaves out podcasts or sponsored posts."""
        ...

    def count_matches(
        self,
        query: str,
        *,
        cap: int = 1000,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
        labels: Labels = ALL_LABELS,
    ) -> int:
        """How many posts `search` can find, counted up to `cap + 1` (that means "more than
        `cap`": an exact count of a common word reads every match)."""
        ...

    def pending_index(self) -> int:
        """Posts stored or edited but not yet (re-)indexed for search (store/indexing.py)."""
        ...

    def index_pending(self, limit: int = 1000) -> int:
        """Index up to `limit` queued posts in one transaction of its own (a crash redoes the
        batch); how many were indexed, 0 when search is caught up."""
        ...


class WorkerStore(Store, Protocol):
    """What a polling worker needs: a Store plus leases, how `netplanet worker` processes share
    the polling (see store/leases.py)."""

    def claim_due_sources(
        self,
        worker_id: str,
        now: datetime,
        limit: int,
        lease_s: float,
        *,
        per_host: int | None = None,
    ) -> list[Source]:
        """Lease due, enabled, unleased sources to `worker_id`; apply_update ends a lease."""
        ...

    def count_claimable(self, now: datetime) -> int:
        """Due, enabled, unleased sources (a claim may return fewer: see store/leases.py)."""
        ...

    def release_leases(self, worker_id: str, source_ids: list[int] | None = None) -> int: ...


# --------------------------------------------------------------------------- website reads
# Read-only queries for the public pages (implemented by store/pages.py). Every list is a
# keyset range over an index, never an OFFSET scan, so a deep archive page costs what page 1 does.


@dataclass(frozen=True, slots=True)
class EntryKey:
    """A position in a date-ordered list: the (published, id) keyset of one entry."""

    published: datetime
    id: int


@dataclass(frozen=True, slots=True)
class Scope:
    """Which entries a date-ordered (keyset) list covers. Empty means the whole river."""

    category: str | None = None
    """Category slug (entry_categories.category_slug)."""
    topic: str | None = None
    """Topic slug (entry_topics.topic_slug): a topic archive."""
    source_id: int | None = None
    since: datetime | None = None
    """Inclusive lower bound on `published`."""
    until: datetime | None = None
    """Exclusive upper bound on `published`."""
    unsealed: bool = False
    """Only entries without a stable position yet (river seq; category seq with `category`;
    topic seq with `topic`; source seq with `source_id`)."""
    labels: Labels = ALL_LABELS
    """Labelled posts the list leaves out."""


@dataclass(frozen=True, slots=True)
class SealedEntry:
    """An entry with its stable position (river seq, or per-category, per-topic or per-source
    seq)."""

    seq: int
    entry: StoredEntry


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    slug: str
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A post as the static export lists and keys it (store/catalog.py): no text, a `stamp`
    that changes whenever anything a page shows of the post changes, and its `places`
    (("c:<category>" | "t:<topic>", position or None), sorted)."""

    id: int
    source_id: int
    published: datetime
    date_known: bool
    seq: int | None
    source_seq: int | None
    collapsed: bool
    cluster_id: int | None
    places: tuple[tuple[str, int | None], ...]
    stamp: str


@dataclass(frozen=True, slots=True)
class CatalogSource:
    id: int
    slug: str
    enabled: bool
    stamp: str
    """Changes with anything a page shows of the source (title, URLs, category, slug)."""


@dataclass(frozen=True, slots=True)
class SearchRow:
    """A post as the static export's search index holds it (store/catalog.py)."""

    id: int
    source_id: int
    title: str
    url: str
    published: datetime
    date_known: bool
    topics: tuple[str, ...]
    """Slugs, primary first."""
    categories: tuple[str, ...]
    excerpt_html: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whole planet's shape, for the static export: every post and source, by id."""

    entries: tuple[CatalogEntry, ...]
    sources: tuple[CatalogSource, ...]


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """A source with the numbers the sources directory shows."""

    source: Source
    post_count: int
    last_published: datetime | None


@dataclass(frozen=True, slots=True)
class Coverage:
    """Another post of an entry's story cluster, as "also on" / "also covered by" lists it."""

    entry_id: int
    title: str
    url: str
    source_title: str
    source_slug: str
    published: datetime
    same_post: bool
    """True for another feed's copy of the very post ("also on"); False for another post
    about the same story ("also covered by")."""


@dataclass(frozen=True, slots=True)
class SiteVersion:
    """A cheap fingerprint of everything the public pages show; changes when any of it may have."""

    token: str
    changed_at: datetime | None
    """The latest known change (newest entry's first-seen time or latest successful poll)."""


class SiteStore(Store, Protocol):
    """What the public website needs: a Store plus the keyset page queries (store/pages.py)."""

    def list_categories(self) -> list[CategoryInfo]:
        """Categories in navigation order (position, then name)."""
        ...

    def coverage(self, entry_ids: Sequence[int]) -> dict[int, list[Coverage]]:
        """For each given entry in a story cluster, the cluster's other posts, newest first
        (entries on their own are left out of the result)."""
        ...

    def catalog(self) -> Catalog:
        """Every post's and source's id, positions and change stamp (no text): what the static
        export lists and keys its pages by (store/catalog.py)."""
        ...

    def search_rows(self, since: datetime, until: datetime) -> list[SearchRow]:
        """The listed posts published in [since, until), oldest first, as the static export's
        search index holds them (store/catalog.py)."""
        ...

    def list_source_summaries(self) -> list[SourceSummary]:
        """Every source with its post count and newest post date, ordered by title."""
        ...

    def source_summary(self, slug: str) -> SourceSummary | None: ...

    def recent_sources(self, limit: int, *, scan: int = 5000) -> list[Source]:
        """Up to `limit` sources that wrote the newest posts, by title; the cost is bounded by
        `scan` entries read, whatever the size of the planet (the search page's filter)."""
        ...

    def keyset_entries(
        self, scope: Scope, *, before: EntryKey | None = None, limit: int
    ) -> list[StoredEntry]:
        """Entries in `scope` strictly older than `before` (by published, id), newest first."""
        ...

    def keys_after(self, scope: Scope, *, after: EntryKey, limit: int) -> list[EntryKey]:
        """Keys of entries in `scope` strictly newer than `after`, oldest first (for the
        "newer" link of a keyset page)."""
        ...

    def sealed_entries(
        self,
        *,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
        low: int = 0,
        high: int | None = None,
        limit: int,
        labels: Labels = ALL_LABELS,
    ) -> list[SealedEntry]:
        """Sealed entries with low < seq <= high (no upper bound when None), highest seq first.
        With `category` (a slug) the per-category positions are used, with `topic` (a slug)
        the per-topic ones, with `source_id` the per-source ones. `labels` leaves posts out
        of the range (never renumbers it)."""
        ...

    def max_seq(
        self,
        *,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
    ) -> int:
        """The highest stable position given so far (0 when nothing is sealed)."""
        ...

    def position_below(self, scope: Scope, before: EntryKey) -> int | None:
        """The stable position (in `scope`'s numbering) of the newest entry of `scope` older
        than `before`; None when there is none or it is not sealed yet."""
        ...

    def month_neighbours(
        self, since: datetime, until: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """The newest `published` before `since` and the oldest at or after `until`."""
        ...

    def site_version(self) -> SiteVersion: ...


# --------------------------------------------------------------------------- operations
# Scheduling, monitoring and the admin area (store/health.py, store/admin.py).


@dataclass(frozen=True, slots=True)
class HealthCounts:
    """What /healthz reports about the database."""

    sources: int
    enabled: int
    failing: int
    last_poll_at: datetime | None
    """The latest poll attempt of any source: when the scheduler last did something."""
    polled: int = 0
    """Enabled sources polled at least once (failing counts among them)."""
    indexing: int = 0
    """Posts stored but not yet searchable (store/indexing.py); 0 when search is caught up."""

    @property
    def degraded(self) -> bool:
        """Every enabled source failed at its last poll: the site serves, but nothing updates."""
        return self.enabled > 0 and self.failing == self.enabled


class AdminStore(Protocol):
    """The admin area's settings, sign-in attempts and categories (store/admin.py)."""

    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def setting_or_create(self, key: str, value: str) -> str: ...

    def bump_generation(self) -> None: ...

    def claim_login_attempt(
        self, client: str, at: datetime, since: datetime, *, per_client: int, total: int
    ) -> int | None: ...

    def count_login_failures(self, client: str, since: datetime) -> int: ...

    def forget_login_failures(self, *, client: str | None = None, before: datetime) -> None: ...

    def add_category(self, name: str) -> str: ...

    def rename_category(self, slug: str, name: str) -> str: ...

    def move_category(self, slug: str, delta: int) -> None: ...

    def delete_category(self, slug: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ClassifyRow:
    """What re-classifying one stored post reads (`TopicStore.entries_to_classify`)."""

    id: int
    title: str
    text: str
    """The start of the post's text (the classifier reads no more)."""
    tags: tuple[str, ...]
    source_title: str
    category: str
    topics: tuple[tuple[str, float], ...]
    url: str = ""
    enclosure: Enclosure | None = None
    duration_s: int | None = None
    podcast: bool = False


class TopicStore(Protocol):
    """Topics of stored posts (store/topics.py): counts, re-classification, overrides."""

    def topic_counts(self) -> dict[str, int]:
        """How many posts are filed under each topic slug (primary or not)."""
        ...

    def entries_to_classify(
        self, *, after_id: int, limit: int, text_chars: int, manual: bool = False
    ) -> list[ClassifyRow]:
        """Up to `limit` posts with ids above `after_id`, in id order, whose topics were not
        set by an operator (`manual=True`: those too); texts cut to `text_chars` characters
        by the database."""
        ...

    def last_entry_id(self) -> int:
        """The highest post id (0 without posts)."""
        ...

    def rewrite_topics(self, changes: Sequence[tuple[int, Sequence[tuple[str, float]]]]) -> int:
        """Store newly classified topics of posts (entries.topics and entry_topics, in one
        transaction); posts an operator set meanwhile are left alone. Returns how many changed."""
        ...

    def set_podcast(self, changes: Sequence[tuple[int, bool]]) -> int:
        """Store re-computed podcast labels of posts; returns how many rows were written."""
        ...

    def set_topics(
        self, entry_id: int, topics: Sequence[tuple[str, float]], *, manual: bool
    ) -> None:
        """Set one post's topics: `manual` marks an operator's choice (kept by edits and
        re-classification); `manual=False` hands the post back to the classifier.
        NotFoundError when there is no such post."""
        ...


PICK_CHOICES = ("pin", "drop")


class WeeklyStore(Protocol):
    """The weekly digest's reads and writes (store/weekly.py)."""

    def week_data(self, week: str, since: datetime, until: datetime) -> WeekData:
        """The week's posts, their clusters and the operator's picks as they are now."""
        ...

    def frozen_week(self, week: str) -> WeekData | None:
        """The week's frozen list; None when it was never frozen."""
        ...

    def frozen_at(self, week: str) -> datetime | None:
        """When the week's list was frozen (None: never), without reading the list."""
        ...

    def freeze_week(self, week: str, since: datetime, until: datetime) -> WeekData:
        """Freeze the week's list (its posts, clusters and picks as they are now) unless it
        is frozen already; returns the frozen list (whoever froze it first)."""
        ...

    def digest_weeks(self, *, before: datetime | None = None, limit: int) -> list[datetime]:
        """The Monday 00:00 UTC of up to `limit` weeks before `before` that have dated posts,
        newest first: one index probe per week, whatever the size of the planet."""
        ...

    def oldest_dated_post(self) -> datetime | None:
        """The `published` of the oldest post with a known date."""
        ...

    def set_digest_pick(self, week: str, entry_id: int, choice: str | None) -> None:
        """Pin ("pin") or drop ("drop") a post for the week's digest; None undoes the choice.
        NotFoundError when there is no such post, UsageError for another choice."""
        ...


class PlanetStore(WorkerStore, SiteStore, AdminStore, TopicStore, WeeklyStore, Protocol):
    """Everything a whole planet needs: updating (alone or by workers), serving pages,
    scheduling and monitoring (store/health.py), administering."""

    def health_counts(self) -> HealthCounts:
        """Raises StoreError when the database is unreachable."""
        ...

    def failure_kinds(self, limit: int = 3) -> list[tuple[str, int]]:
        """The commonest error kinds (Source.last_error_class) among failing enabled sources,
        with how many sources have each, commonest first."""
        ...

    def due_sources(self, now: datetime) -> list[Source]: ...

    def next_due_at(self) -> datetime | None: ...

    def recent_entry_count(self, source_id: int, since: datetime) -> int:
        """Entries of a source published at or after `since` (an index range count)."""
        ...
