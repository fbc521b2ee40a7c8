"""Stable page positions for the river (`seq`), each source (`source_seq`), each category
(`entry_categories.seq`) and each topic (`entry_topics.seq`): docs/pagination.md.

Entries published before the sealing cutoff get positions in date order, 1 for the oldest.
Almost always they are newer than every sealed entry and simply continue the numbering, so no
position ever changes. An entry older than the newest sealed one (a newly added source's
backlog of 2008 posts, a feed that was down for days) would break the date order if it were
appended: it would sit on the newest numbered page and at the top of the front page's sealed
part. It is filed at its dated place instead: the sealed entries above that place move up by
the number of entries filed below them. Only that rare case renumbers, and only the positions
above the oldest newcomer.

Runs inside the caller's write transaction (SqlStore.seal_pages, which also serializes
sealers). Positions are unique: entries that move go through negative values first, so no
statement ever holds two rows at one position.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, func, or_, select, update
from sqlalchemy.sql import ColumnElement

from netplanet.store.schema import entries, entry_categories, entry_topics

Key = tuple[datetime, int]
"""(published, id): the river's date order."""


@dataclass(frozen=True)
class _Numbering:
    """One sequence of positions: the river, or one source's, category's or topic's (the
    rows whose `group` column holds `key`)."""

    table: Table
    ident: Column[Any]
    pub: Column[Any]
    seq: Column[Any]
    group: Column[Any] | None = None
    key: Any = None

    @property
    def scope(self) -> tuple[ColumnElement[bool], ...]:
        return () if self.group is None else (self.group == self.key,)


_RIVER = _Numbering(entries, entries.c.id, entries.c.published, entries.c.seq)
_BY_SOURCE = _Numbering(
    entries, entries.c.id, entries.c.published, entries.c.source_seq, entries.c.source_id
)


def _after(n: _Numbering, key: Key) -> ColumnElement[bool]:
    return and_(n.pub >= key[0], or_(n.pub > key[0], n.ident > key[1]))


def _set(conn: Connection, n: _Numbering, values: dict[int, int]) -> None:
    _set_rows(
        conn, n, [(s, n.key, i) if n.group is not None else (s, i) for i, s in values.items()]
    )


def _set_rows(conn: Connection, n: _Numbering, rows: list[tuple[Any, ...]]) -> None:
    """Positions as (seq, [group value,] ident) tuples, any groups of `n`'s table at once,
    through the driver: a cold round positions every row four times over, and SQLAlchemy's
    per-row parameter processing cost more than the updates did."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where = f"{n.ident.name} = {mark}"
    if n.group is not None:
        where = f"{n.group.name} = {mark} AND {where}"
    conn.exec_driver_sql(f"UPDATE {n.table.name} SET {n.seq.name} = {mark} WHERE {where}", rows)


def _number(conn: Connection, n: _Numbering, pending: Sequence[Key]) -> dict[int, int]:
    """Give positions to `pending` (unsealed, in date order) within numbering `n`. When they
    all come after the sealed ones (almost always), nothing is written: their positions are
    returned for the caller to write (with other numberings' in one statement)."""
    if not pending:
        return {}
    newest = conn.execute(
        select(n.pub, n.ident, n.seq)
        .where(*n.scope, n.seq.is_not(None))
        .order_by(n.seq.desc())
        .limit(1)
    ).first()
    if newest is None or pending[0] > (newest[0], newest[1]):
        top = 0 if newest is None else newest[2]
        return {i: top + k for k, (_, i) in enumerate(pending, start=1)}
    # Sealed entries newer than the oldest newcomer make room: they and the newcomers are
    # numbered again from the lowest position among them, merged by date.
    start = conn.execute(
        select(func.min(n.seq)).where(*n.scope, n.seq.is_not(None), _after(n, pending[0]))
    ).scalar_one()
    moving = [
        (pub, ident)
        for pub, ident in conn.execute(
            select(n.pub, n.ident).where(*n.scope, n.seq >= start).order_by(n.seq)
        )
    ]
    merged = heapq.merge(moving, pending)
    position = {ident: start + k for k, (_, ident) in enumerate(merged)}
    moved = {ident for _, ident in moving}
    _set(conn, n, {i: -position[i] for i in moved})
    _set(conn, n, {i: s for i, s in position.items() if i not in moved})
    conn.execute(update(n.table).where(*n.scope, n.seq < 0).values({n.seq.name: -n.seq}))
    return {}


def _appended_each(
    conn: Connection,
    table: Table,
    group: Column[Any],
    ident: Column[Any],
    seq: Column[Any],
    cutoff: datetime,
) -> list[tuple[Any, ...]]:
    """Position the unsealed rows of `table` published before `cutoff` within each value of
    `group` (a source, a category, a topic): one numbering per group. Renumbered groups are
    written here; the appended positions are returned as (seq, group value, ident) rows for
    the caller to write."""
    pub = table.c.published
    pending: dict[Any, list[Key]] = {}
    for key, row_id, published in conn.execute(
        select(group, ident, pub).where(seq.is_(None), pub < cutoff).order_by(group, pub, ident)
    ):
        pending.setdefault(key, []).append((published, row_id))
    appended: list[tuple[Any, ...]] = []
    for key, keys in pending.items():
        values = _number(conn, _Numbering(table, ident, pub, seq, group, key), keys)
        appended.extend((s, key, i) for i, s in values.items())
    return appended


def _number_each(
    conn: Connection,
    table: Table,
    group: Column[Any],
    ident: Column[Any],
    seq: Column[Any],
    cutoff: datetime,
) -> None:
    """`_appended_each`, its appended positions written."""
    rows = _appended_each(conn, table, group, ident, seq, cutoff)
    _set_rows(conn, _Numbering(table, ident, table.c.published, seq, group), rows)


def _set_entries(conn: Connection, river: dict[int, int], by_source: list[tuple[Any, ...]]) -> None:
    """Write entries' appended river and source positions, both of a row in one UPDATE.

    An entries row holds the post's HTML and text, and an UPDATE rewrites the row whole (on
    SQLite with its overflow pages, as setting a NULL column changes the record's size):
    writing the two numberings one after the other cost a cold round twice its posts'
    weight (docs/benchmarks.md, "Two farms")."""
    both = [(river[i], s, i) for s, _, i in by_source if i in river]
    if both:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            f"UPDATE entries SET seq = {mark}, source_seq = {mark} WHERE id = {mark}", both
        )
    paired = {i for _, _, i in both}
    _set(conn, _RIVER, {i: s for i, s in river.items() if i not in paired})
    by_source_alone = [row for row in by_source if row[2] not in paired]
    _set_rows(conn, _BY_SOURCE, by_source_alone)


def seal(conn: Connection, cutoff: datetime) -> int:
    """Position every unsealed entry published before `cutoff`, in the river, its source and
    each of its categories and topics. Returns how many entries got a river position."""
    pending = [
        (pub, ident)
        for ident, pub in conn.execute(
            select(entries.c.id, entries.c.published)
            .where(entries.c.seq.is_(None), entries.c.published < cutoff)
            .order_by(entries.c.published, entries.c.id)
        )
    ]
    river = _number(conn, _RIVER, pending)
    e = entries.c
    _set_entries(
        conn, river, _appended_each(conn, entries, e.source_id, e.id, e.source_seq, cutoff)
    )
    ec = entry_categories
    _number_each(conn, ec, ec.c.category_slug, ec.c.entry_id, ec.c.seq, cutoff)
    # A topic row added later (an edit, a re-classification) waits unsealed like a new post's
    # and is filed at its dated place, as a late backlog is.
    et = entry_topics
    _number_each(conn, et, et.c.topic_slug, et.c.entry_id, et.c.seq, cutoff)
    return len(pending)
