"""SqlStore: the Store interface on SQLAlchemy Core, shared by the SQLite and PostgreSQL backends.

Backend differences (connection setup, full-text search) live in `sqlite.py` / `postgres.py`;
everything else is portable SQL here and in the mixins: the update write path (`writes.py`),
website reads (`pages.py`), leases, health and admin queries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from netplanet.errors import DuplicateSourceError, NotFoundError, StoreError
from netplanet.model import (
    Enclosure,
    SearchHit,
    Source,
    SourceSpec,
    StoredEntry,
)
from netplanet.sources.bounds import bound_category, bound_title
from netplanet.sources.slug import slugify, unique_slug
from netplanet.store.admin import AdminQueries
from netplanet.store.base import valid_id
from netplanet.store.bulk import BulkSources, bounded, slug_base
from netplanet.store.health import HealthQueries
from netplanet.store.leases import LeaseQueries
from netplanet.store.pages import PageQueries
from netplanet.store.schema import categories, entries, entry_categories, id_param, sources
from netplanet.store.writes import UpdateWrites, db_reason, ensure_category
from netplanet.untrusted import http_url

SearchFn = Callable[..., list[SearchHit]]

# Execution option for transactions that read and then write (sealing pages, claiming
# sources): sqlite.py begins them with BEGIN IMMEDIATE; PostgreSQL ignores it.
WRITE_FIRST = "netplanet_write_first"
# pg_advisory_xact_lock key serializing seal_pages across processes ("np-seal").
SEAL_LOCK_KEY = 0x6E70_7365_616C


def _utcnow() -> datetime:
    return datetime.now(UTC)


def source_from_row(row: Row[Any]) -> Source:
    m = row._mapping
    return Source(
        id=m["id"],
        feed_url=m["feed_url"],
        title=m["title"],
        site_url=m["site_url"],
        category=m["category"],
        slug=m["slug"],
        enabled=bool(m["enabled"]),
        disabled_reason=m["disabled_reason"],
        created_at=m["created_at"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        body_hash=m["body_hash"],
        last_fetched_at=m["last_fetched_at"],
        last_success_at=m["last_success_at"],
        last_status=m["last_status"],
        last_error_class=m["last_error_class"],
        last_error=m["last_error"],
        last_bytes=m["last_bytes"],
        last_duration_ms=m["last_duration_ms"],
        consecutive_failures=m["consecutive_failures"],
        next_poll_at=m["next_poll_at"],
        avg_response_ms=m["avg_response_ms"],
        avg_bytes=m["avg_bytes"],
        posts_per_day=m["posts_per_day"],
        poll_interval_s=m["poll_interval_s"],
        failing_since=m["failing_since"],
        dead_since=m["dead_since"],
        rate_valid_until=m["rate_valid_until"],
    )


ENTRY_COLUMNS = (
    *entries.c,
    sources.c.title.label("source_title"),
    sources.c.slug.label("source_slug"),
)


def entry_from_row(row: Row[Any]) -> StoredEntry:
    m = row._mapping
    enclosure = None
    if m["enclosure_url"]:
        enclosure = Enclosure(
            url=m["enclosure_url"], type=m["enclosure_type"] or "", length=m["enclosure_length"]
        )
    return StoredEntry(
        id=m["id"],
        source_id=m["source_id"],
        source_title=m["source_title"],
        source_slug=m["source_slug"],
        key=m["key"],
        guid=m["guid"],
        url=m["url"],
        title=m["title"],
        author=m["author"],
        published=m["published"],
        updated=m["updated"],
        first_seen=m["first_seen"],
        content_html=m["content_html"],
        excerpt_html=m["excerpt_html"],
        categories=tuple(json.loads(m["categories"])),
        tags=tuple(json.loads(m["tags"])),
        enclosure=enclosure,
        duration_s=m["duration_s"],
        sponsored=bool(m["sponsored"]),
        fingerprint=m["fingerprint"],
    )


class SqlStore(UpdateWrites, BulkSources, PageQueries, LeaseQueries, HealthQueries, AdminQueries):
    """The Store Protocol over one SQLAlchemy engine (see store/base.py for the shared rules)."""

    def __init__(
        self, engine: Engine, *, search: SearchFn, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._search = search
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
    ) -> Source:
        values: dict[str, Any] = {}
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
        with self.engine.begin() as conn:
            if values:
                result = conn.execute(
                    update(sources).where(sources.c.id == id_param(source_id)).values(**values)
                )
                if result.rowcount == 0:
                    raise NotFoundError(f"no source with id {source_id}")
            if category:
                ensure_category(conn, category)
        source = self.get_source(source_id)
        if source is None:
            raise NotFoundError(f"no source with id {source_id}")
        return source

    def remove_source(self, source_id: int) -> None:
        if not valid_id(source_id):
            raise NotFoundError(f"no source with id {source_id}")
        with self.engine.begin() as conn:
            result = conn.execute(delete(sources).where(sources.c.id == id_param(source_id)))
            if result.rowcount == 0:
                raise NotFoundError(f"no source with id {source_id}")

    # ------------------------------------------------------------------ entries

    def _entry_query(self) -> Any:
        return select(*ENTRY_COLUMNS).join(sources, sources.c.id == entries.c.source_id)

    def get_entry(self, entry_id: int) -> StoredEntry | None:
        if not valid_id(entry_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                self._entry_query().where(entries.c.id == id_param(entry_id))
            ).first()
        return entry_from_row(row) if row else None

    def list_entries(
        self,
        *,
        source_id: int | None = None,
        category: str | None = None,
        limit: int = 50,
    ) -> list[StoredEntry]:
        query = self._entry_query()
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
        """Give river, source and category positions (`seq`, `source_seq`, `entry_categories.seq`)
        to unsealed entries published before `cutoff`, oldest first, continuing after the
        highest position so far in each list.

        Positions never change once given, so page N (positions (N-1)*P+1 .. N*P) always holds
        the same posts once it is full. Entries newer than the cutoff stay unsealed: they are
        shown at the head of the river in date order, where a late-arriving post can still
        take its place. Returns the number of entries sealed.
        """
        with self.engine.connect() as conn, conn.execution_options(**{WRITE_FIRST: True}).begin():
            if conn.dialect.name == "postgresql":
                # Two sealers reading the same max(seq) would collide on the unique seq
                # indexes; the lock makes the second wait and then read the first's result.
                conn.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK_KEY)))
            top = conn.execute(select(func.coalesce(func.max(entries.c.seq), 0))).scalar_one()
            ids = (
                conn.execute(
                    select(entries.c.id)
                    .where(entries.c.seq.is_(None), entries.c.published < cutoff)
                    .order_by(entries.c.published, entries.c.id)
                )
                .scalars()
                .all()
            )
            if ids:
                conn.execute(
                    update(entries)
                    .where(entries.c.id == bindparam("eid"))
                    .values(seq=bindparam("s")),
                    [{"eid": i, "s": top + n} for n, i in enumerate(ids, start=1)],
                )
            self._seal_sources(conn, cutoff)
            pending = conn.execute(
                select(entry_categories.c.category_slug, entry_categories.c.entry_id)
                .where(entry_categories.c.seq.is_(None), entry_categories.c.published < cutoff)
                .order_by(
                    entry_categories.c.category_slug,
                    entry_categories.c.published,
                    entry_categories.c.entry_id,
                )
            ).all()
            tops: dict[str, int] = {}
            rows = []
            for slug, entry_id in pending:
                if slug not in tops:
                    tops[slug] = conn.execute(
                        select(func.coalesce(func.max(entry_categories.c.seq), 0)).where(
                            entry_categories.c.category_slug == slug
                        )
                    ).scalar_one()
                tops[slug] += 1
                rows.append({"slug": slug, "eid": entry_id, "s": tops[slug]})
            if rows:
                conn.execute(
                    update(entry_categories)
                    .where(
                        entry_categories.c.category_slug == bindparam("slug"),
                        entry_categories.c.entry_id == bindparam("eid"),
                    )
                    .values(seq=bindparam("s")),
                    rows,
                )
        return len(ids)

    @staticmethod
    def _seal_sources(conn: Connection, cutoff: datetime) -> None:
        """Per-source positions, in the same order as the river's (published, id)."""
        pending = conn.execute(
            select(entries.c.source_id, entries.c.id)
            .where(entries.c.source_seq.is_(None), entries.c.published < cutoff)
            .order_by(entries.c.source_id, entries.c.published, entries.c.id)
        ).all()
        tops: dict[int, int] = {}
        rows = []
        for source_id, entry_id in pending:
            if source_id not in tops:
                tops[source_id] = conn.execute(
                    select(func.coalesce(func.max(entries.c.source_seq), 0)).where(
                        entries.c.source_id == source_id
                    )
                ).scalar_one()
            tops[source_id] += 1
            rows.append({"eid": entry_id, "s": tops[source_id]})
        if rows:
            conn.execute(
                update(entries)
                .where(entries.c.id == bindparam("eid"))
                .values(source_seq=bindparam("s")),
                rows,
            )

    # ------------------------------------------------------------------ search

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        category: str | None = None,
        source_id: int | None = None,
    ) -> list[SearchHit]:
        with self.engine.connect() as conn:
            return self._search(
                conn,
                query,
                limit=limit,
                offset=offset,
                category_slug=slugify(category) if category else None,
                source_id=source_id,
            )

    # ------------------------------------------------------------------ whole-database views

    def dump(self) -> Sequence[tuple[object, ...]]:
        with self.engine.connect() as conn:
            out: list[tuple[object, ...]] = []
            for table, order in (
                (sources, (sources.c.id,)),
                (entries, (entries.c.id,)),
                (entry_categories, (entry_categories.c.entry_id, entry_categories.c.category_slug)),
                (categories, (categories.c.slug,)),
            ):
                out.extend(tuple(r) for r in conn.execute(select(table).order_by(*order)))
        return out
