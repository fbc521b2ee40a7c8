"""SqlStore: the Store interface on SQLAlchemy Core, shared by the SQLite and PostgreSQL backends.

This module composes SqlStore from the query mixins (the update write path in `writes.py`,
bulk adds in `bulk.py`, website reads in `pages.py`, the static export's `catalog.py`,
leases, health and admin queries, the search indexer's batches in `indexing.py`) and adds what
is left: single-source edits, entry lookups, sealing, search dispatch and the dump. The mixins
import their shared row helpers from `_rows.py`, never this module. Backend differences
(connection setup, full-text search and indexing) live in `sqlite.py` / `postgres.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from netplanet.errors import DuplicateSourceError, NotFoundError, StoreError, UsageError
from netplanet.model import SearchHit, Source, SourceSpec, StoredEntry
from netplanet.sources.bounds import bound_category, bound_title
from netplanet.sources.slug import slugify, unique_slug
from netplanet.store._rows import (
    ENTRY_COLUMNS,
    WRITE_FIRST,
    db_reason,
    entry_from_row,
    source_from_row,
)
from netplanet.store._search import Narrow
from netplanet.store.admin import AdminQueries
from netplanet.store.base import ALL_LABELS, SLUG_MOVED_PREFIX, Labels, valid_id
from netplanet.store.bulk import BulkSources, bounded, slug_base
from netplanet.store.catalog import CatalogQueries
from netplanet.store.health import HealthQueries
from netplanet.store.indexing import IndexFn, IndexQueries
from netplanet.store.leases import LeaseQueries
from netplanet.store.pages import PageQueries, label_filter
from netplanet.store.schema import (
    app_settings,
    categories,
    entries,
    entry_categories,
    entry_topics,
    id_param,
    sources,
    story_keys,
)
from netplanet.store.sealing import seal
from netplanet.store.stories import clusters_of_source, reelect
from netplanet.store.topics import TopicQueries
from netplanet.store.weekly import WeeklyQueries
from netplanet.store.writes import UpdateWrites, ensure_category
from netplanet.untrusted import http_url

SearchFn = Callable[..., list[SearchHit]]
CountFn = Callable[..., int]
SEARCH_COUNT_CAP = 1000
"""Searches count their matches up to this many (see `SqlStore.count_matches`)."""

# pg_advisory_xact_lock key serializing seal_pages across processes ("np-seal").
SEAL_LOCK_KEY = 0x6E70_7365_616C


def _utcnow() -> datetime:
    return datetime.now(UTC)


_GET_ENTRY = (
    select(*ENTRY_COLUMNS)
    .join(sources, sources.c.id == entries.c.source_id)
    .where(entries.c.id == bindparam("entry_id", type_=BigInteger))
)
"""`get_entry`'s one read, built once: building the statement and its cache key on every call
cost more CPU than the read itself (a post page renders one; the static export one per post).
The id is bound as BIGINT, as `id_param` binds it."""


class SqlStore(
    UpdateWrites,
    BulkSources,
    PageQueries,
    CatalogQueries,
    LeaseQueries,
    HealthQueries,
    AdminQueries,
    TopicQueries,
    WeeklyQueries,
    IndexQueries,
):
    """Every Protocol of store/base.py (PlanetStore) over one SQLAlchemy engine (see there for
    the shared rules)."""

    def __init__(
        self,
        engine: Engine,
        *,
        search: SearchFn,
        count: CountFn,
        index: IndexFn,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._search = search
        self._count = count
        self._index = index
        self._clock = clock

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ sources

    def add_source(self, spec: SourceSpec) -> Source:
        spec = bounded(spec)
        try:
            with self.engine.begin() as conn:
                if conn.execute(
                    select(sources.c.id).where(sources.c.feed_url == spec.feed_url)
                ).first():
                    raise DuplicateSourceError(f"source {spec.feed_url} already exists")
                base = slug_base(spec)
                taken = set(
                    conn.execute(
                        select(sources.c.slug).where(sources.c.slug.like(f"{base}%"))
                    ).scalars()
                )
                row_id = conn.execute(
                    insert(sources)
                    .values(
                        feed_url=spec.feed_url,
                        title=spec.title,
                        site_url=http_url(spec.site_url),  # shown as a link: http(s) only
                        category=spec.category,
                        slug=unique_slug(base, taken),
                        enabled=True,
                        created_at=self._clock(),
                    )
                    .returning(sources.c.id)
                ).scalar_one()
                if spec.category:
                    ensure_category(conn, spec.category)
        except IntegrityError as exc:
            raise DuplicateSourceError(f"source {spec.feed_url} already exists") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"database error adding {spec.feed_url}: {db_reason(exc)}") from exc
        source = self.get_source(row_id)
        assert source is not None
        return source

    def _one_source(self, where: Any) -> Source | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(where)).first()
        return source_from_row(row) if row else None

    def get_source(self, source_id: int) -> Source | None:
        if not valid_id(source_id):
            return None
        return self._one_source(sources.c.id == id_param(source_id))

    def get_source_by_url(self, feed_url: str) -> Source | None:
        return self._one_source(sources.c.feed_url == feed_url)

    def get_source_by_slug(self, slug: str) -> Source | None:
        return self._one_source(sources.c.slug == slug)

    def get_source_by_old_slug(self, slug: str) -> Source | None:
        with self.engine.connect() as conn:
            moved_to = conn.execute(
                select(app_settings.c.value).where(app_settings.c.key == SLUG_MOVED_PREFIX + slug)
            ).scalar_one_or_none()
        return None if moved_to is None else self.get_source_by_slug(moved_to)

    def list_sources(self) -> list[Source]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(sources).order_by(func.lower(sources.c.title), sources.c.id)
            ).all()
        return [source_from_row(r) for r in rows]

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
        values: dict[str, Any] = {}
        if feed_url is not None:
            new_url = http_url(feed_url.strip())
            if not new_url or new_url != feed_url.strip():
                raise UsageError(f"{feed_url!r} is not an http(s) URL; give the feed's full URL")
            feed_url = new_url
        if title is not None:
            title = values["title"] = bound_title(title)
        if category is not None:
            category = values["category"] = bound_category(category)
        if site_url is not None:
            values["site_url"] = site_url
        if enabled is not None:
            values["enabled"] = enabled
            if enabled:
                values["disabled_reason"] = ""
                values["consecutive_failures"] = 0
                values["next_poll_at"] = None
                values["failing_since"] = values["dead_since"] = None
            else:
                values["disabled_reason"] = "disabled by the operator"
        if not valid_id(source_id):
            raise NotFoundError(f"no source with id {source_id}")
        try:
            with self.engine.begin() as conn:
                if feed_url is not None:
                    values.update(self._moved_values(conn, source_id, feed_url))
                if values:
                    result = conn.execute(
                        update(sources).where(sources.c.id == id_param(source_id)).values(**values)
                    )
                    if result.rowcount == 0:
                        raise NotFoundError(f"no source with id {source_id}")
                if category:
                    ensure_category(conn, category)
        except IntegrityError as exc:  # another writer stored the URL meanwhile
            raise DuplicateSourceError(
                f"another source already has the feed URL {feed_url}"
            ) from exc
        source = self.get_source(source_id)
        if source is None:
            raise NotFoundError(f"no source with id {source_id}")
        return source

    @staticmethod
    def _moved_values(conn: Any, source_id: int, feed_url: str) -> dict[str, Any]:
        """The columns a new feed URL changes: the URL, and the poll state of the old one
        (cache validators, failures, back-off), so the source is due at once and its next
        poll reads the new feed whole. Id, slug, title and posts stay. Nothing when the URL
        is the current one; DuplicateSourceError when another source has it."""
        rows = conn.execute(
            select(sources.c.id, sources.c.feed_url, sources.c.title).where(
                (sources.c.id == id_param(source_id)) | (sources.c.feed_url == feed_url)
            )
        ).all()
        current = next((r for r in rows if r.id == source_id), None)
        if current is None:
            raise NotFoundError(f"no source with id {source_id}")
        other = next((r for r in rows if r.id != source_id), None)
        if other is not None:
            name = f" ({other.title})" if other.title else ""
            raise DuplicateSourceError(
                f"source {other.id}{name} already has the feed URL {feed_url}; "
                "remove one of the two instead"
            )
        if current.feed_url == feed_url:
            return {}
        return {
            "feed_url": feed_url,
            "etag": None,
            "last_modified": None,
            "body_hash": None,
            "last_fetched_at": None,
            "last_status": None,
            "last_error_class": "",
            # Shown on the health page until the next poll says more (publish/health.py).
            "last_error": f"feed URL changed from {current.feed_url}; not polled since",
            "consecutive_failures": 0,
            "next_poll_at": None,
            "failing_since": None,
            "dead_since": None,
            "lease_owner": None,
            "lease_until": None,
        }

    def remove_source(self, source_id: int) -> None:
        if not valid_id(source_id):
            raise NotFoundError(f"no source with id {source_id}")
        with self.engine.begin() as conn:
            slug = conn.execute(
                select(sources.c.slug).where(sources.c.id == id_param(source_id))
            ).scalar_one_or_none()
            clusters = clusters_of_source(conn, source_id)
            result = conn.execute(delete(sources).where(sources.c.id == id_param(source_id)))
            if result.rowcount == 0:
                raise NotFoundError(f"no source with id {source_id}")
            # Its posts went with it (ON DELETE CASCADE): the clusters they led need new leads.
            reelect(conn, clusters)
            # Its old slugs must not redirect to a later source that gets the same slug.
            conn.execute(
                delete(app_settings).where(
                    app_settings.c.key.startswith(SLUG_MOVED_PREFIX, autoescape=True),
                    app_settings.c.value == slug,
                )
            )

    # ------------------------------------------------------------------ entries

    def _entry_query(self) -> Any:
        return select(*ENTRY_COLUMNS).join(sources, sources.c.id == entries.c.source_id)

    def get_entry(self, entry_id: int) -> StoredEntry | None:
        if not valid_id(entry_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_GET_ENTRY, {"entry_id": entry_id}).first()
        return entry_from_row(row) if row else None

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
        query = self._entry_query().where(*label_filter(labels))
        if topic is not None:
            query = query.where(
                entries.c.id.in_(
                    select(entry_topics.c.entry_id).where(entry_topics.c.topic_slug == topic)
                )
            )
        if not copies:
            query = query.where(entries.c.duplicate_of.is_(None))
        if not collapsed:  # the river and its feeds show a story once (store/stories.py)
            query = query.where(entries.c.collapsed.is_(False))
        if source_id is not None:
            query = query.where(entries.c.source_id == source_id)
        if category is not None:
            query = query.where(
                entries.c.id.in_(
                    select(entry_categories.c.entry_id).where(
                        entry_categories.c.category_slug == slugify(category)
                    )
                )
            )
        query = query.order_by(entries.c.published.desc(), entries.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [entry_from_row(r) for r in conn.execute(query)]

    def count_entries(self, *, source_id: int | None = None) -> int:
        query = select(func.count()).select_from(entries)
        if source_id is not None:
            query = query.where(entries.c.source_id == source_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # ------------------------------------------------------------------ stable pages

    def seal_pages(self, cutoff: datetime) -> int:
        """Give river, source, category and topic positions (`seq`, `source_seq`,
        `entry_categories.seq`, `entry_topics.seq`) to unsealed entries published before
        `cutoff`, in date order (store/sealing.py).

        Positions continue after the highest one so far and never change, so page N
        (positions (N-1)*P+1 .. N*P) always holds the same posts once it is full; only an
        entry older than the newest sealed one (a new source's backlog) is filed at its dated
        place, moving the positions above it. Entries newer than the cutoff stay unsealed:
        they are shown at the head of the river in date order, where a late-arriving post can
        still take its place. Returns the number of entries sealed.
        """
        with self.engine.connect() as conn, conn.execution_options(**{WRITE_FIRST: True}).begin():
            if conn.dialect.name == "postgresql":
                # Two sealers reading the same max(seq) would collide on the unique seq
                # indexes; the lock makes the second wait and then read the first's result.
                conn.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK_KEY)))
            return seal(conn, cutoff)

    # ------------------------------------------------------------------ search

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
        with self.engine.connect() as conn:
            return self._search(
                conn,
                query,
                limit=limit,
                offset=offset,
                category_slug=slugify(category) if category else None,
                source_id=source_id,
                narrow=Narrow(topic_slug=topic or None, labels=labels),
            )

    def count_matches(
        self,
        query: str,
        *,
        cap: int = SEARCH_COUNT_CAP,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
        labels: Labels = ALL_LABELS,
    ) -> int:
        with self.engine.connect() as conn:
            return self._count(
                conn,
                query,
                cap=cap,
                category_slug=slugify(category) if category else None,
                source_id=source_id,
                narrow=Narrow(topic_slug=topic or None, labels=labels),
            )

    # ------------------------------------------------------------------ whole-database views

    def dump(self) -> Sequence[tuple[object, ...]]:
        with self.engine.connect() as conn:
            out: list[tuple[object, ...]] = []
            for table, order in (
                (sources, (sources.c.id,)),
                (entries, (entries.c.id,)),
                (entry_categories, (entry_categories.c.entry_id, entry_categories.c.category_slug)),
                (entry_topics, (entry_topics.c.entry_id, entry_topics.c.topic_slug)),
                (story_keys, (story_keys.c.entry_id, story_keys.c.key)),
                (categories, (categories.c.slug,)),
            ):
                out.extend(tuple(r) for r in conn.execute(select(table).order_by(*order)))
        return out
