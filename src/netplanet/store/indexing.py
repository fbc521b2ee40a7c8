"""The search indexer's store side (mixed into SqlStore): queued posts indexed in batches.

Storing or editing a post only queues its id (`search_queue`, filled by migration 0011's
triggers in the write's own transaction), so the group commit no longer pays for full-text
indexing. `index_pending` takes the oldest queued ids, indexes those posts and removes them
from the queue in one transaction of its own: a crash (or kill -9) before the commit leaves
queue and index as they were and the next call redoes the batch; indexing a post twice gives
the same index row. Who calls it: `netplanet update` before it exits, `netplanet run` and
workers in the background (runtime/scheduler.py `keep_indexed`), `db copy` and restores at
the end of their copy.

The backend's own statements (FTS5 rows on SQLite, `search_vector` on PostgreSQL) are in
`sqlite.py` / `postgres.py` (`IndexFn`); both index a bounded prefix of a post's text
(INDEX_TEXT_CHARS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from netplanet.store._rows import WRITE_FIRST
from netplanet.store.schema import search_queue

if TYPE_CHECKING:
    from netplanet.store.base import Store

IndexFn = Callable[[Connection, Sequence[int] | None], None]
"""Index (or re-index) the posts with these ids (None: every queued post), inside the caller's
transaction; ids of posts deleted meanwhile are skipped. The queue is the caller's to empty."""

INDEX_BATCH = 1000
"""Posts per indexing transaction: ~0.45 ms of CPU a 4 KB post on SQLite (docs/benchmarks.md,
"Search indexing off the write path"; 5,000 or 20,000 a batch measured no cheaper), so a batch
holds SQLite's write lock for about half a second."""

INDEX_TEXT_CHARS = 20_000
"""Only this much of a post's text is indexed (its title and source title always are): ~3,000
words, which every post of the benchmark farm fits whole; it bounds what a book-length post
costs the index."""


class IndexQueries:
    engine: Engine
    _index: IndexFn

    def pending_index(self) -> int:
        """How many posts wait to be indexed for search (0: search is caught up)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(search_queue)).scalar_one())

    def index_pending(self, limit: int = INDEX_BATCH) -> int:
        """Index up to `limit` of the oldest queued posts in one transaction; how many were
        taken off the queue (0: nothing was waiting)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_FIRST: True})
            with conn.begin():
                query = select(search_queue.c.entry_id).order_by(search_queue.c.entry_id)
                query = query.limit(limit)
                if conn.dialect.name == "postgresql":
                    # Another process indexing at the same time takes the next batch instead.
                    query = query.with_for_update(skip_locked=True)
                ids = list(conn.execute(query).scalars())
                if not ids:
                    return 0
                index_all(conn, ids, self._index)
                return len(ids)

    def index_queued(self, conn: Connection) -> None:
        """Index every queued post inside `conn`'s transaction, set-wise: `db copy` (the rows
        it inserted queued themselves) and a restore's scratch copy."""
        index_queue(conn, self._index)


def catch_up(
    store: Store,
    *,
    halted: Callable[[], bool] = lambda: False,
    batch: int = INDEX_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index queued posts a batch per transaction until none is left (or `halted()`, checked
    between batches); how many were indexed, also told to `progress` after each batch (a
    running total). Batches of other processes' writes (and of another indexer) interleave
    with these."""
    done = 0
    while not halted():
        taken = store.index_pending(batch)
        if not taken:
            break
        done += taken
        if progress is not None:
            progress(done)
    return done


def index_all(conn: Connection, ids: Sequence[int], index: IndexFn) -> None:
    """Index `ids` and take them off the queue, in the caller's transaction."""
    for start in range(0, len(ids), _MAX_IN):
        chunk = ids[start : start + _MAX_IN]
        index(conn, chunk)
        conn.execute(search_queue.delete().where(search_queue.c.entry_id.in_(chunk)))


def index_queue(conn: Connection, index: IndexFn) -> None:
    """Index every queued post in the caller's transaction, set-wise (`db copy`, a restore)."""
    index(conn, None)
    conn.execute(search_queue.delete())


_MAX_IN = 500  # stay under every backend's bound-parameter limit
