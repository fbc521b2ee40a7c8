"""Read queries for the website's pages (river, archives, sources directory), all keyset-based.

Mixed into SqlStore; every query here is portable SQL over the tables in schema.py. The paging
scheme they serve is described in docs/pagination.md: sealed entries are read by a range of
their stable position (`seq`, a unique index), recent ones by a (published, id) keyset. No
query uses OFFSET, so the last page of a ten-year archive costs what the first one does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, case, func, literal, or_, select
from sqlalchemy.sql import ColumnElement, Select

from netplanet.store._rows import as_utc, entry_from_row, source_from_row
from netplanet.store.base import (
    ALL_LABELS,
    CategoryInfo,
    Coverage,
    EntryKey,
    Labels,
    Scope,
    SealedEntry,
    SiteVersion,
    SourceSummary,
    valid_id,
)
from netplanet.store.schema import (
    app_settings,
    categories,
    entries,
    entry_categories,
    entry_topics,
    id_param,
    sources,
)

if TYPE_CHECKING:
    from netplanet.model import Source, StoredEntry

ec = entry_categories
et = entry_topics
# Lists leave out collapsed posts: copies of a post, and story members shown at their
# cluster's lead (store/stories.py). A source's own pages list them all.
_SHOWN = entries.c.collapsed.is_(False)
_MAX_IN = 500  # stay under every backend's bound-parameter limit


# Lists (river, archives, category pages) show excerpts, never the body: their rows leave out
# content_html and text (~9 KB a post), so the sort of the unsealed head and every page read
# carry small rows. StoredEntry.content_html is "" in what these queries return.
_HEAVY = frozenset({"content_html", "text"})
_LIST_COLUMNS = (
    *(c for c in entries.c if c.name not in _HEAVY),
    literal("").label("content_html"),
    sources.c.title.label("source_title"),
    sources.c.slug.label("source_slug"),
)


def _entry_select(*extra: Any) -> Select[Any]:
    return select(*_LIST_COLUMNS, *extra).join(sources, sources.c.id == entries.c.source_id)


def _to_entries(rows: Sequence[Any]) -> list[StoredEntry]:
    return [entry_from_row(r) for r in rows]


def label_filter(labels: Labels) -> list[ColumnElement[bool]]:
    """Conditions on entries leaving out the labelled posts a reader asked not to see."""
    out: list[ColumnElement[bool]] = []
    if not labels.podcasts:
        out.append(entries.c.podcast.is_(False))
    if not labels.sponsored:
        out.append(entries.c.sponsored.is_(False))
    return out


def _older_than(pub: Any, ident: Any, key: EntryKey) -> ColumnElement[bool]:
    # The redundant `pub <= x` lets the planner turn the keyset into an index range. The id
    # may come from a reader's `?before=` cursor: any 64-bit value compares (id_param).
    return and_(pub <= key.published, or_(pub < key.published, ident < id_param(key.id)))


def _newer_than(pub: Any, ident: Any, key: EntryKey) -> ColumnElement[bool]:
    return and_(pub >= key.published, or_(pub > key.published, ident > id_param(key.id)))


class PageQueries:
    """Page-oriented reads (the page queries SiteStore adds in store/base.py)."""

    engine: Engine

    # ------------------------------------------------------------------ story clusters

    def coverage(self, entry_ids: Sequence[int]) -> dict[int, list[Coverage]]:
        ids = sorted({i for i in entry_ids if valid_id(i)})
        if not ids:
            return {}
        with self.engine.connect() as conn:
            own = {
                r.id: (r.cluster_id, r.duplicate_of)
                for start in range(0, len(ids), _MAX_IN)
                for r in conn.execute(
                    select(entries.c.id, entries.c.cluster_id, entries.c.duplicate_of).where(
                        entries.c.id.in_([id_param(i) for i in ids[start : start + _MAX_IN]]),
                        entries.c.cluster_id.is_not(None),
                    )
                )
            }
            clusters = sorted({cluster for cluster, _ in own.values()})
            members: dict[int, list[Any]] = {c: [] for c in clusters}
            for start in range(0, len(clusters), _MAX_IN):
                for r in conn.execute(
                    select(
                        entries.c.id,
                        entries.c.cluster_id,
                        entries.c.duplicate_of,
                        entries.c.title,
                        entries.c.url,
                        entries.c.published,
                        sources.c.title.label("source_title"),
                        sources.c.slug.label("source_slug"),
                    )
                    .join(sources, sources.c.id == entries.c.source_id)
                    .where(entries.c.cluster_id.in_(clusters[start : start + _MAX_IN]))
                    .order_by(entries.c.published.desc(), entries.c.id.desc())
                ):
                    members[r.cluster_id].append(r)
        out: dict[int, list[Coverage]] = {}
        for entry_id, (cluster, copy_of) in own.items():
            post = copy_of or entry_id  # the post this row is, or copies
            others = [
                Coverage(
                    entry_id=m.id,
                    title=m.title,
                    url=m.url,
                    source_title=m.source_title,
                    source_slug=m.source_slug,
                    published=as_utc(m.published) or m.published,
                    same_post=(m.duplicate_of or m.id) == post,
                )
                for m in members[cluster]
                if m.id != entry_id
            ]
            if others:
                out[entry_id] = others
        return out

    # ------------------------------------------------------------------ keyset lists

    def _scoped(self, scope: Scope, *extra: Any) -> tuple[Select[Any], Any, Any, Any]:
        """The select for `scope`, the (published, id) columns its keyset runs on and the
        column of its stable positions (river, category, topic or source).

        A category (topic) list walks entry_categories' (entry_topics') own (slug, published,
        entry_id) index; the others walk entries' (published, id) or (source_id, published,
        id) index.
        """
        query = _entry_select(*extra)
        if scope.category is not None:
            query = query.join(ec, ec.c.entry_id == entries.c.id).where(
                ec.c.category_slug == scope.category
            )
            pub, ident, seq = ec.c.published, ec.c.entry_id, ec.c.seq
        elif scope.topic is not None:
            query = query.join(et, et.c.entry_id == entries.c.id).where(
                et.c.topic_slug == scope.topic
            )
            pub, ident, seq = et.c.published, et.c.entry_id, et.c.seq
        elif scope.source_id is not None:
            pub, ident, seq = entries.c.published, entries.c.id, entries.c.source_seq
        else:
            pub, ident, seq = entries.c.published, entries.c.id, entries.c.seq
        if scope.source_id is not None:
            query = query.where(entries.c.source_id == scope.source_id)
        else:
            query = query.where(_SHOWN)  # a source's own page lists all its posts
        query = query.where(*label_filter(scope.labels))
        if scope.since is not None:
            query = query.where(pub >= scope.since)
        if scope.until is not None:
            query = query.where(pub < scope.until)
        if scope.unsealed:
            query = query.where(seq.is_(None))
            # An unsealed entry older than the newest sealed one (a new source's backlog, until
            # sealing files it at its dated place: store/sealing.py) must not be listed above
            # newer sealed posts.
            frontier = select(pub).where(seq.is_not(None)).order_by(seq.desc()).limit(1)
            if scope.category is not None:
                frontier = frontier.where(ec.c.category_slug == scope.category)
            elif scope.topic is not None:
                frontier = frontier.where(et.c.topic_slug == scope.topic)
            elif scope.source_id is not None:
                frontier = frontier.where(entries.c.source_id == scope.source_id)
            newest_sealed = frontier.correlate(None).scalar_subquery()  # not per row
            query = query.where(or_(newest_sealed.is_(None), pub >= newest_sealed))
        return query, pub, ident, seq

    def keyset_entries(
        self, scope: Scope, *, before: EntryKey | None = None, limit: int
    ) -> list[StoredEntry]:
        """Entries of `scope` older than `before`, newest first (content_html left empty)."""
        query, pub, ident, _ = self._scoped(scope)
        if before is not None:
            query = query.where(_older_than(pub, ident, before))
        query = query.order_by(pub.desc(), ident.desc()).limit(limit)
        with self.engine.connect() as conn:
            return _to_entries(conn.execute(query).all())

    def keys_after(self, scope: Scope, *, after: EntryKey, limit: int) -> list[EntryKey]:
        query, pub, ident, _ = self._scoped(scope)
        query = (
            query.with_only_columns(pub, ident)
            .where(_newer_than(pub, ident, after))
            .order_by(pub, ident)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [EntryKey(published=r[0], id=r[1]) for r in conn.execute(query)]

    # ------------------------------------------------------------------ stable positions

    def position_below(self, scope: Scope, before: EntryKey) -> int | None:
        """The stable position of the newest entry of `scope` older than `before` (None when
        there is no such entry or it is not sealed yet)."""
        query, pub, ident, seq = self._scoped(scope)
        query = (
            query.with_only_columns(seq)
            .where(_older_than(pub, ident, before))
            .order_by(pub.desc(), ident.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

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
        """Sealed entries with positions in (low, high], highest first (content_html empty)."""
        if category is not None:
            seq = ec.c.seq
            query = (
                _entry_select(seq.label("page_seq"))
                .join(ec, ec.c.entry_id == entries.c.id)
                .where(ec.c.category_slug == category)
            )
        elif topic is not None:
            seq = et.c.seq
            query = (
                _entry_select(seq.label("page_seq"))
                .join(et, et.c.entry_id == entries.c.id)
                .where(et.c.topic_slug == topic)
            )
        elif source_id is not None:
            seq = entries.c.source_seq
            query = _entry_select(seq.label("page_seq")).where(entries.c.source_id == source_id)
        else:
            seq = entries.c.seq
            query = _entry_select(seq.label("page_seq"))
        query = query.where(seq > low, *label_filter(labels))
        if source_id is None:
            # A collapsed post keeps its position: its page just shows one post fewer.
            query = query.where(_SHOWN)
        if high is not None:
            query = query.where(seq <= high)
        query = query.order_by(seq.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            SealedEntry(seq=r.page_seq, entry=e)
            for r, e in zip(rows, _to_entries(rows), strict=True)
        ]

    def max_seq(
        self,
        *,
        category: str | None = None,
        source_id: int | None = None,
        topic: str | None = None,
    ) -> int:
        if category is not None:
            query = select(func.max(ec.c.seq)).where(ec.c.category_slug == category)
        elif topic is not None:
            query = select(func.max(et.c.seq)).where(et.c.topic_slug == topic)
        elif source_id is not None:
            query = select(func.max(entries.c.source_seq)).where(entries.c.source_id == source_id)
        else:
            query = select(func.max(entries.c.seq))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # ------------------------------------------------------------------ archives and directory

    def month_neighbours(
        self, since: datetime, until: datetime
    ) -> tuple[datetime | None, datetime | None]:
        pub = entries.c.published
        query = select(
            select(func.max(pub)).where(pub < since, _SHOWN).scalar_subquery(),
            select(func.min(pub)).where(pub >= until, _SHOWN).scalar_subquery(),
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        # Aggregates lose the column type, so SQLite hands back naive text: restore UTC.
        return as_utc(row[0]), as_utc(row[1])

    def list_categories(self) -> list[CategoryInfo]:
        query = select(categories.c.slug, categories.c.name, categories.c.position).order_by(
            categories.c.position, categories.c.name
        )
        with self.engine.connect() as conn:
            return [CategoryInfo(slug=s, name=n, position=p) for s, n, p in conn.execute(query)]

    def _summaries(self, where: Any = None) -> list[SourceSummary]:
        # Correlated subqueries walk the (source_id, published, id) index per source; a GROUP BY
        # over a join would read every entry row.
        own = entries.c.source_id == sources.c.id
        count = select(func.count()).select_from(entries).where(own).scalar_subquery()
        # A post of unknown date (update/dating.py) says nothing about when the source last
        # posted.
        last = (
            select(func.max(entries.c.published)).where(own, entries.c.date_known).scalar_subquery()
        )
        query = select(sources, count.label("post_count"), last.label("last_published"))
        if where is not None:
            query = query.where(where)
        query = query.order_by(func.lower(sources.c.title), sources.c.id)
        with self.engine.connect() as conn:
            return [
                SourceSummary(
                    source=source_from_row(r),
                    post_count=int(r.post_count),
                    last_published=as_utc(r.last_published),
                )
                for r in conn.execute(query)
            ]

    def list_source_summaries(self) -> list[SourceSummary]:
        return self._summaries()

    def source_summary(self, slug: str) -> SourceSummary | None:
        found = self._summaries(sources.c.slug == slug)
        return found[0] if found else None

    def recent_sources(self, limit: int, *, scan: int = 5000) -> list[Source]:
        """Up to `limit` sources among the authors of the `scan` newest entries, the most
        recent first picked, returned by title. Its cost is bounded by `scan` (a walk of the
        (published, id) index), however many sources and entries the planet has."""
        newest = (
            select(entries.c.source_id, entries.c.published)
            .order_by(entries.c.published.desc(), entries.c.id.desc())
            .limit(scan)
            .subquery()
        )
        latest = func.max(newest.c.published)
        picked = (
            select(newest.c.source_id)
            .group_by(newest.c.source_id)
            .order_by(latest.desc(), newest.c.source_id)
            .limit(limit)
            .subquery()
        )
        query = (
            select(sources)
            .where(sources.c.id.in_(select(picked.c.source_id)))
            .order_by(func.lower(sources.c.title), sources.c.id)
        )
        with self.engine.connect() as conn:
            return [source_from_row(r) for r in conn.execute(query)]

    # ------------------------------------------------------------------ change detection

    def site_version(self) -> SiteVersion:
        """One small statement (see _site_version_query), built once per process: it is asked
        for on every request, and building it cost more than running it."""
        query = _site_version_query()
        with self.engine.connect() as conn:
            row = tuple(conn.execute(query).one())
        token = hashlib.blake2b(repr(row).encode(), digest_size=8).hexdigest()
        times = [t for t in (as_utc(row[2]), as_utc(row[6])) if t is not None]
        return SiteVersion(token=token, changed_at=max(times) if times else None)


@cache
def _site_version_query() -> Select[Any]:
    """One small statement: index-only maxima over entries plus an aggregate over the
    (small) sources table. New posts change max(id); sealing changes max(seq); edits arrive
    with a successful poll (last_success_at); added, removed or renamed sources change the
    source aggregates."""
    newest = select(entries.c.first_seen).order_by(entries.c.id.desc()).limit(1)
    src = select(
        func.count(),
        func.max(sources.c.id),
        func.max(sources.c.last_success_at),
        func.sum(
            func.length(sources.c.title)
            + func.length(sources.c.site_url)
            + func.length(sources.c.category)
            + func.length(sources.c.slug)
            + case((sources.c.enabled, literal(1000)), else_=literal(0))
        ),
        # Health shows on the sources directory: a feed starting to fail changes pages.
        func.sum(sources.c.consecutive_failures),
    ).subquery()
    query = select(
        select(func.max(entries.c.id)).scalar_subquery(),
        select(func.max(entries.c.seq)).scalar_subquery(),
        newest.scalar_subquery(),
        select(func.count()).select_from(categories).scalar_subquery(),
        *src.c,
        # Admin edits that keep the counts above (renames, reordering) bump this.
        select(app_settings.c.value)
        .where(app_settings.c.key == "site_generation")
        .scalar_subquery(),
    )
    return query
