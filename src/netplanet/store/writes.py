"""The update write path of SqlStore (mixed in): the lookups that plan a poll and the
transactions that store plans, one (`apply_update`) or many together (`apply_updates`, the
group commit of update/batch.py).

Each plan is all-or-nothing. A batch is one transaction; if it fails, its plans are retried
one transaction each, so a plan that cannot be stored loses only itself. Source rows are
written with one cached UPDATE per set of columns (an executemany row per poll), so the
commonest poll, a 304, costs one parameter row and a share of a commit.

Several writers may poll one source at once (`netplanet run` beside a manual `update`, or a
worker): each plan was decided from what was stored when its poll looked, so a post it calls
new may have been stored by another writer since. Such posts are inserted with ON CONFLICT
DO NOTHING on (source_id, key), and the ones already there are merged as the decider would
have (`enrich.identity.as_edit`: unchanged, or an edit), so the plan stores cleanly instead
of failing the whole batch on the UNIQUE constraint. Lock order keeps concurrent batches from
deadlocking on PostgreSQL: source rows are locked in id order first, then new categories are
created in slug order; on SQLite a write transaction takes the write lock when it begins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from netplanet.errors import StoreError
from netplanet.model import Entry, ExistingEntry, UpdatePlan
from netplanet.sources.slug import slugify, unique_slug
from netplanet.store._rows import WRITE_FIRST, db_reason, driver_insert, driver_time
from netplanet.store.base import SLUG_MOVED_PREFIX, ApplyResult
from netplanet.store.schema import (
    app_settings,
    categories,
    entries,
    entry_categories,
    entry_topics,
    sources,
)
from netplanet.store.stories import link_stories, relink_story_keys

log = logging.getLogger(__name__)

# Source-row fields that SourceUpdate may set (None in the update means "leave as is").
_SOURCE_UPDATE_FIELDS = (
    "last_fetched_at",
    "last_status",
    "last_error_class",
    "last_error",
    "last_bytes",
    "last_duration_ms",
    "consecutive_failures",
    "last_success_at",
    "next_poll_at",
    "feed_url",
    "etag",
    "last_modified",
    "body_hash",
    "title",
    "site_url",
    "enabled",
    "disabled_reason",
    "avg_response_ms",
    "avg_bytes",
    "posts_per_day",
    "poll_interval_s",
    "failing_since",
    "dead_since",
    "rate_valid_until",
)
_ALWAYS_SET = frozenset({"last_status", "next_poll_at", "failing_since", "dead_since"})
_MAX_IN = 500  # stay under every backend's bound-parameter limit


def _entry_values(entry: Entry) -> dict[str, Any]:
    enc = entry.enclosure
    return {
        "source_id": entry.source_id,
        "key": entry.key,
        "guid": entry.guid,
        "url": entry.url,
        "title_date_hash": entry.title_date_hash,
        "title": entry.title,
        "author": entry.author,
        "published": entry.published,
        "updated": entry.updated,
        "content_html": entry.content_html,
        "excerpt_html": entry.excerpt_html,
        "text": entry.text,
        "categories": json.dumps(list(entry.categories), ensure_ascii=False),
        "tags": json.dumps(list(entry.tags), ensure_ascii=False),
        "enclosure_url": enc.url if enc else None,
        "enclosure_type": enc.type if enc else None,
        "enclosure_length": enc.length if enc else None,
        "duration_s": entry.duration_s,
        "sponsored": entry.sponsored,
        "date_from_feed": entry.date_from_feed,
        "date_known": entry.date_known,
        "fingerprint": entry.fingerprint,
        "raw_hash": entry.raw_hash or None,
        "topics": json.dumps([[slug, round(score, 4)] for slug, score in entry.topics]),
        "podcast": entry.podcast,
        "simhash": entry.simhash,
    }


# The planning lookups run for every changed poll; built once, they skip SQLAlchemy's
# statement construction and cache-key work (several ms per poll otherwise).
_IDENTITIES = ("keys", "urls", "tdhs", "raws")
_EXISTING_COLUMNS = (
    entries.c.id,
    entries.c.key,
    entries.c.guid,
    entries.c.url,
    entries.c.title_date_hash,
    entries.c.fingerprint,
    entries.c.first_seen,
    entries.c.published,
    entries.c.raw_hash,
    entries.c.date_known,
)
# A UNION ALL of one index lookup per identity: an OR of the IN lists could make SQLite scan
# every row of the source instead.
_EXISTING = union_all(
    *(
        select(*_EXISTING_COLUMNS).where(
            entries.c.source_id == bindparam("sid"),
            column.in_(bindparam(name, expanding=True)),
        )
        for column, name in zip(
            (entries.c.key, entries.c.url, entries.c.title_date_hash, entries.c.raw_hash),
            _IDENTITIES,
            strict=True,
        )
    )
)
_RECENT = select(func.count(), func.min(entries.c.published)).where(
    entries.c.source_id == bindparam("sid"), entries.c.published >= bindparam("since")
)
_NEWEST = (
    select(entries.c.raw_hash)
    .where(entries.c.source_id == bindparam("sid"))
    .order_by(entries.c.published.desc(), entries.c.id.desc())
    .limit(bindparam("lim"))
    .subquery()
)
_KNOWN = select(_NEWEST.c.raw_hash).where(_NEWEST.c.raw_hash.is_not(None))
_STORED_BY_KEY = select(*_EXISTING_COLUMNS).where(
    entries.c.source_id == bindparam("sid"), entries.c.key.in_(bindparam("keys", expanding=True))
)
# An edit rewrites every column but the row's identity, first-seen time, page position and
# what the store keeps of its own (story clusters, an operator's topics).
_STORE_KEPT = {"topics_manual", "cluster_id", "duplicate_of", "collapsed"}
_EDITABLE = tuple(
    c.name
    for c in entries.c
    if c.name not in {"id", "source_id", "key", "first_seen", "seq", "source_seq", *_STORE_KEPT}
)
_EDIT_ENTRY = (
    update(entries)
    .where(entries.c.id == bindparam("eid"))
    .values(
        {name: bindparam(f"v_{name}") for name in _EDITABLE}
        # Topics an operator chose survive the post's edits.
        | {"topics": case((entries.c.topics_manual, entries.c.topics), else_=bindparam("v_topics"))}
    )
)
_REHASH = update(entries).where(entries.c.id == bindparam("eid")).values(raw_hash=bindparam("rh"))


_INSERTS: dict[tuple[str, str], Any] = {}
_INSERT_NEW: dict[str, Any] = {}  # per dialect: new entries, returning (id, key)


def insert_or_skip(conn: Any, table: Table, *unique: str) -> Any:
    """INSERT into `table` that skips rows whose `unique` columns are already taken (by this
    transaction or, once it commits, another writer's): ON CONFLICT DO NOTHING on both
    backends. Built once per dialect and table."""
    cache_key = (conn.dialect.name, table.name)
    statement = _INSERTS.get(cache_key)
    if statement is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql as dialect
        else:
            from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(unique))
        _INSERTS[cache_key] = statement
    return statement


def ensure_category(conn: Any, name: str) -> str:
    """The slug of category `name`, created (last in order) when missing. Two writers
    creating the same category at once both succeed (the second finds the first's row)."""
    slug = slugify(name)
    if not conn.execute(select(categories.c.slug).where(categories.c.slug == slug)).first():
        position = conn.execute(select(func.count()).select_from(categories)).scalar_one()
        conn.execute(
            insert_or_skip(conn, categories, "slug").values(slug=slug, name=name, position=position)
        )
    return slug


def _ensure_categories(conn: Any, plans: Iterable[UpdatePlan], slugs: dict[str, str]) -> None:
    """Every category the plans' entries name, found or created in slug order (so that two
    transactions creating the same new categories wait on each other in one order)."""
    names = {
        name
        for p in plans
        for e in (*p.new_entries, *(e for _, e in p.changed_entries))
        for name in e.categories
    }
    for name in sorted(names, key=lambda n: (slugify(n), n)):
        if name not in slugs:
            slugs[name] = ensure_category(conn, name)


def _lock_sources(conn: Any, source_ids: Iterable[int]) -> None:
    """PostgreSQL: lock the plans' source rows in id order before writing anything, so two
    writers storing overlapping batches queue on the first shared source instead of
    deadlocking (the UPDATEs lock rows grouped by column set, not in id order). A writer
    storing a source another writer is storing then waits for it, and sees its rows."""
    if conn.dialect.name == "postgresql":
        ids = sorted(set(source_ids))
        conn.execute(
            select(sources.c.id)
            .where(sources.c.id.in_(ids))
            .order_by(sources.c.id)
            .with_for_update()
        )


def _write_transaction(engine: Engine) -> Any:
    """A transaction that takes SQLite's write lock when it begins (BEGIN IMMEDIATE), waiting
    for another writer's commit; its first statement may then be a read."""
    return engine.connect().execution_options(**{WRITE_FIRST: True})


class UpdateWrites:
    """Planning lookups and plan storage over `engine`."""

    engine: Engine
    _clock: Callable[[], datetime]

    def existing_entries(
        self,
        source_id: int,
        *,
        keys: Iterable[str] = (),
        urls: Iterable[str] = (),
        title_date_hashes: Iterable[str] = (),
        raw_hashes: Iterable[str] = (),
    ) -> list[ExistingEntry]:
        lists = [sorted(set(v)) for v in (keys, urls, title_date_hashes, raw_hashes)]
        found: dict[int, ExistingEntry] = {}
        with self.engine.connect() as conn:
            for start in range(0, max(1, *map(len, lists)), _MAX_IN):
                params: dict[str, Any] = {"sid": source_id}
                for name, values in zip(_IDENTITIES, lists, strict=True):
                    params[name] = values[start : start + _MAX_IN]
                for r in conn.execute(_EXISTING, params):
                    found[r.id] = ExistingEntry(*r)
        return sorted(found.values(), key=lambda e: e.id)

    def recent_entry_stats(self, source_id: int, since: datetime) -> tuple[int, datetime | None]:
        """Entries of a source published at or after `since`: how many, and the oldest date
        among them (an index range on (source_id, published, id))."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(_RECENT, {"sid": source_id, "since": since}).one()
        if isinstance(oldest, str):  # SQLite's min() returns the stored text, untyped
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    def known_raw_hashes(self, source_id: int, *, limit: int) -> frozenset[str]:
        """Raw hashes of the source's `limit` newest entries (rows without one are left out)."""
        with self.engine.connect() as conn:
            return frozenset(conn.execute(_KNOWN, {"sid": source_id, "lim": limit}).scalars())

    def apply_update(self, plan: UpdatePlan) -> ApplyResult:
        try:
            with _write_transaction(self.engine) as conn, conn.begin():
                result = self._apply(conn, plan, {})
        except SQLAlchemyError as exc:
            raise StoreError(
                f"database error storing the update of source {plan.source_id}: {db_reason(exc)}"
            ) from exc
        return result

    def apply_updates(self, plans: Sequence[UpdatePlan]) -> list[ApplyResult | StoreError]:
        """Apply many plans in one transaction; if that fails, each in its own (so one bad
        plan loses only itself). Results are in the order of `plans`."""
        if len(plans) > 1:
            try:
                with _write_transaction(self.engine) as conn, conn.begin():
                    slugs: dict[str, str] = {}
                    rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                    # Locks are taken in one order (source ids, then category slugs), so two
                    # writers storing overlapping batches cannot deadlock on each other.
                    order = sorted(range(len(plans)), key=lambda i: plans[i].source_id)
                    _lock_sources(conn, (p.source_id for p in plans))
                    for i in order:
                        _add_source_row(rows, plans[i])
                    # Source rows first, in few statements: polls that changed no entry (a
                    # 304, an unchanged body) cost one executemany row each.
                    _update_sources(conn, rows)
                    _rename_slugs(conn, (plans[i] for i in order))
                    _ensure_categories(conn, plans, slugs)
                    fresh: list[tuple[int, Entry]] = []
                    done = {i: self._apply_entries(conn, plans[i], slugs, fresh) for i in order}
                    link_stories(conn, fresh)  # once for the whole batch
                return [done[i] for i in range(len(plans))]
            except SQLAlchemyError as exc:
                log.warning(
                    "storing %d updates in one transaction failed (%s); storing them one by one",
                    len(plans),
                    db_reason(exc),
                )
        out: list[ApplyResult | StoreError] = []
        for plan in plans:
            try:
                out.append(self.apply_update(plan))
            except StoreError as exc:
                out.append(exc)
        return out

    def _apply(self, conn: Any, plan: UpdatePlan, slugs: dict[str, str]) -> ApplyResult:
        """One plan inside the caller's transaction. `slugs` caches category slugs made or
        found earlier in the same transaction."""
        rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        _lock_sources(conn, (plan.source_id,))
        _add_source_row(rows, plan)
        _update_sources(conn, rows)
        _rename_slugs(conn, (plan,))
        _ensure_categories(conn, (plan,), slugs)
        fresh: list[tuple[int, Entry]] = []
        result = self._apply_entries(conn, plan, slugs, fresh)
        link_stories(conn, fresh)
        return result

    def _apply_entries(
        self,
        conn: Any,
        plan: UpdatePlan,
        slugs: dict[str, str],
        fresh_out: list[tuple[int, Entry]],
    ) -> ApplyResult:
        """The plan's entry writes; `slugs` must hold the slug of every category they name.
        The new posts are added to `fresh_out`, whose story clusters the caller links once
        for its whole transaction (store/stories.py)."""
        changed = list(plan.changed_entries)
        rehashed = list(plan.rehashed_entries)
        inserted = unchanged = 0
        if plan.new_entries:
            fresh, taken = self._insert_new(conn, plan)
            self._link_categories(conn, fresh, slugs)
            link_topics(conn, fresh)
            fresh_out.extend(fresh)  # story clusters: linked once per transaction
            inserted = len(fresh)
            # Posts another writer stored after this plan was decided: merge them as the
            # decider would have, had it seen them. (Imported here: the enrich package loads
            # lxml, which commands that only read the store never need.)
            if taken:
                from netplanet.enrich.identity import as_edit
            for stored, entry in taken:
                edit = as_edit(entry, stored)
                if edit is not None:
                    changed.append((stored.id, edit))
                    continue
                unchanged += 1
                if entry.raw_hash and stored.raw_hash != entry.raw_hash:
                    rehashed.append((stored.id, entry.raw_hash))
            if taken:
                log.debug(
                    "source %d: %d posts planned as new were stored meanwhile by another "
                    "writer; merged",
                    plan.source_id,
                    len(taken),
                )
        if changed:
            edits = []
            for entry_id, entry in changed:
                vals = _entry_values(entry)
                del vals["key"], vals["source_id"]
                edits.append({f"v_{k}": v for k, v in vals.items()} | {"eid": entry_id})
            conn.execute(_EDIT_ENTRY, edits)
            self._relink_categories(conn, changed, slugs)
            relink_topics(conn, changed)
            relink_story_keys(conn, changed)
        if rehashed:
            conn.execute(_REHASH, [{"eid": i, "rh": h} for i, h in rehashed])
        return ApplyResult(
            new=inserted,
            changed=len(changed),
            unchanged=plan.unchanged_entries + unchanged,
        )

    def _insert_new(
        self, conn: Any, plan: UpdatePlan
    ) -> tuple[list[tuple[int, Entry]], list[tuple[ExistingEntry, Entry]]]:
        """Insert the plan's new entries, skipping keys already stored. Returns the inserted
        (id, entry) pairs and the skipped entries with the row that holds their key."""
        now = self._clock()
        rows = [_entry_values(e) | {"first_seen": now} for e in plan.new_entries]
        statement = _INSERT_NEW.get(conn.dialect.name)
        if statement is None:
            statement = insert_or_skip(conn, entries, "source_id", "key").returning(
                entries.c.id, entries.c.key
            )
            _INSERT_NEW[conn.dialect.name] = statement
        ids = {key: entry_id for entry_id, key in conn.execute(statement, rows)}
        fresh: list[tuple[int, Entry]] = []
        skipped: list[Entry] = []
        for entry in plan.new_entries:
            entry_id = ids.pop(entry.key, None)  # pop: a key twice in one plan inserts once
            if entry_id is None:
                skipped.append(entry)
            else:
                fresh.append((entry_id, entry))
        if not skipped:
            return fresh, []
        stored: dict[str, ExistingEntry] = {}
        keys = sorted({e.key for e in skipped})
        for start in range(0, len(keys), _MAX_IN):
            params = {"sid": plan.source_id, "keys": keys[start : start + _MAX_IN]}
            for r in conn.execute(_STORED_BY_KEY, params):
                stored[r.key] = ExistingEntry(*r)
        # A row gone again by now (its source deleted meanwhile) has nothing to merge with.
        return fresh, [(stored[e.key], e) for e in skipped if e.key in stored]

    @staticmethod
    def _relink_categories(
        conn: Any, changed: Sequence[tuple[int, Entry]], slugs: dict[str, str]
    ) -> None:
        """Edited entries: keep the category rows that still apply (with their stable page
        position), drop the ones that no longer do, add new ones unsealed."""
        ids = [entry_id for entry_id, _ in changed]
        current: dict[int, set[str]] = {}
        for start in range(0, len(ids), _MAX_IN):
            rows = conn.execute(
                select(entry_categories.c.entry_id, entry_categories.c.category_slug).where(
                    entry_categories.c.entry_id.in_(ids[start : start + _MAX_IN])
                )
            )
            for entry_id, slug in rows:
                current.setdefault(entry_id, set()).add(slug)
        added: list[dict[str, Any]] = []
        for entry_id, entry in changed:
            wanted = {slugs[name] for name in entry.categories}
            have = current.get(entry_id, set())
            for slug in have - wanted:
                conn.execute(
                    delete(entry_categories).where(
                        entry_categories.c.entry_id == entry_id,
                        entry_categories.c.category_slug == slug,
                    )
                )
            for slug in have & wanted:
                conn.execute(
                    update(entry_categories)
                    .where(
                        entry_categories.c.entry_id == entry_id,
                        entry_categories.c.category_slug == slug,
                    )
                    .values(published=entry.published)
                )
            added.extend(
                {"entry_id": entry_id, "category_slug": slug, "published": entry.published}
                for slug in sorted(wanted - have)
            )
        if added:
            conn.execute(insert(entry_categories), added)

    @staticmethod
    def _link_categories(
        conn: Any, pairs: Iterable[tuple[int, Entry]], slugs: dict[str, str]
    ) -> None:
        rows = [
            {"entry_id": entry_id, "category_slug": slug, "published": entry.published}
            for entry_id, entry in pairs
            for slug in dict.fromkeys(slugs[name] for name in entry.categories)
        ]
        if rows:
            conn.execute(insert(entry_categories), rows)


def link_topics(conn: Any, pairs: Sequence[tuple[int, Entry]]) -> None:
    """The entry_topics rows of newly stored posts: one per topic, rank 0 the primary.
    Through the driver: SQLAlchemy's per-row dict processing cost more than the inserts."""
    rows: list[tuple[Any, ...]] = []
    for entry_id, entry in pairs:
        when = driver_time(conn, entry.published)
        rows.extend(
            (entry_id, slug, score, rank, when)
            for rank, (slug, score) in enumerate(dict(entry.topics).items())
        )
    driver_insert(conn, "entry_topics", _TOPIC_COLUMNS, rows)


_TOPIC_COLUMNS = ("entry_id", "topic_slug", "score", "rank", "published")


def relink_topics(conn: Any, pairs: Sequence[tuple[int, Entry]]) -> None:
    """Edited posts' topics, unless an operator set them: rows of a topic the post keeps keep
    their archive position (`seq`); the others go, and new ones wait for sealing."""
    relink_topic_rows(conn, [(entry_id, e.topics, e.published) for entry_id, e in pairs])


TopicRow = tuple[int, Sequence[tuple[str, float]], datetime]
"""(entry id, its topics primary first, its published date) for relink_topic_rows."""


def relink_topic_rows(conn: Any, items: Sequence[TopicRow], *, keep_manual: bool = True) -> None:
    """The entry_topics rows of stored posts made to match `items` (relink_topics); with
    `keep_manual`, posts whose topics an operator set are left alone (re-classification
    and edits), without it they are rewritten too (the operator's own override)."""
    ids = [entry_id for entry_id, _, _ in items]
    manual: set[int] = set()
    held: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for start in range(0, len(ids), _MAX_IN):
        chunk = ids[start : start + _MAX_IN]
        if keep_manual:
            manual.update(
                conn.execute(
                    select(entries.c.id).where(entries.c.id.in_(chunk), entries.c.topics_manual)
                ).scalars()
            )
        for entry_id, slug, seq in conn.execute(
            select(entry_topics.c.entry_id, entry_topics.c.topic_slug, entry_topics.c.seq).where(
                entry_topics.c.entry_id.in_(chunk)
            )
        ):
            held[entry_id][slug] = seq
    added: list[dict[str, Any]] = []
    for entry_id, topics, published in items:
        if entry_id in manual:
            continue
        wanted = dict(topics)
        for slug in held[entry_id].keys() - wanted.keys():
            conn.execute(
                delete(entry_topics).where(
                    entry_topics.c.entry_id == entry_id, entry_topics.c.topic_slug == slug
                )
            )
        for rank, (slug, score) in enumerate(wanted.items()):
            if slug in held[entry_id]:
                conn.execute(
                    update(entry_topics)
                    .where(entry_topics.c.entry_id == entry_id, entry_topics.c.topic_slug == slug)
                    .values(score=score, rank=rank, published=published)
                )
            else:
                added.append(
                    {
                        "entry_id": entry_id,
                        "topic_slug": slug,
                        "score": score,
                        "rank": rank,
                        "published": published,
                    }
                )
    if added:
        conn.execute(insert(entry_topics), added)


def _add_source_row(rows: dict[tuple[str, ...], list[dict[str, Any]]], plan: UpdatePlan) -> None:
    """The plan's source-row changes, filed under the columns they set."""
    su = plan.source
    values: dict[str, Any] = {}
    for name in _SOURCE_UPDATE_FIELDS:
        value = getattr(su, name)
        if value is not None or name in _ALWAYS_SET:
            values[name] = value
    if su.clear_cache_state:
        values.update(etag=None, last_modified=None, body_hash=None)
    # A completed poll ends any worker's lease on the source (store/leases.py).
    values.update(lease_owner=None, lease_until=None)
    row = {f"v_{name}": value for name, value in values.items()}
    row["sid"] = plan.source_id
    rows.setdefault(tuple(values), []).append(row)


_SOURCE_UPDATES: dict[tuple[str, ...], Any] = {}


def _update_sources(conn: Any, rows: dict[tuple[str, ...], list[dict[str, Any]]]) -> None:
    for columns, params in rows.items():
        statement = _SOURCE_UPDATES.get(columns)
        if statement is None:
            # One statement object per column set, built once: building and hashing a new
            # UPDATE for every poll was a visible part of a 304's cost.
            statement = (
                update(sources)
                .where(sources.c.id == bindparam("sid"))
                .values({name: bindparam(f"v_{name}") for name in columns})
            )
            _SOURCE_UPDATES[columns] = statement
        conn.execute(statement, params)


def _rename_slugs(conn: Any, plans: Iterable[UpdatePlan]) -> None:
    """Give sources named by their host the slug of their feed's title (SourceUpdate.slug_base),
    unique among the slugs in use, and remember the old slug so /source/<old>/ redirects."""
    for plan in plans:
        base = plan.source.slug_base
        if not base:
            continue
        old = conn.execute(
            select(sources.c.slug).where(sources.c.id == plan.source_id)
        ).scalar_one_or_none()
        if old is None:
            continue
        taken = set(
            conn.execute(select(sources.c.slug).where(sources.c.slug.like(f"{base}%"))).scalars()
        )
        new = unique_slug(base, taken)
        conn.execute(update(sources).where(sources.c.id == plan.source_id).values(slug=new))
        key = SLUG_MOVED_PREFIX + old
        conn.execute(delete(app_settings).where(app_settings.c.key == key))
        conn.execute(insert(app_settings).values(key=key, value=new))
