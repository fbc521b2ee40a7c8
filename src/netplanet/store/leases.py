"""Worker leases: how any number of `netplanet worker` processes share the polling work.

A worker claims a batch of due sources by writing its name and an expiry into the source
rows (`lease_owner`, `lease_until`) in one short transaction; applying a poll's plan clears
the lease (SqlStore.apply_update), and a crashed worker's leases simply run out, after which
another worker claims those sources again.

- PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on each
  other and never receive the same row; a row another claimer has just leased fails the
  re-checked WHERE clause.
- SQLite: one writer at a time; the claim runs in a BEGIN IMMEDIATE transaction.

Per-host politeness: a claim leaves out sources whose host already has `per_host` leases
held (by any worker) or picked in this batch. The count of held leases is read when the claim
starts, so workers claiming at the same instant on PostgreSQL can together exceed the cap by
at most (workers - 1) x per_host for that moment; it is a politeness bound, not a lock.
Leases use the claiming worker's clock: keep the machines' clocks in sync (NTP).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine, and_, func, or_, select, true, update
from sqlalchemy.sql import ColumnElement

from netplanet.store._rows import WRITE_FIRST, source_from_row
from netplanet.store.schema import sources

if TYPE_CHECKING:
    from netplanet.model import Source

# Due rows read (and, on PostgreSQL, locked for the claim's few milliseconds) per claim, as a
# multiple of the batch size, so that per-host filtering can still fill the batch when the
# oldest due sources crowd on a few hosts. Concurrent claimers skip the locked extra rows.
_SCAN_FACTOR = 3


def host_of(feed_url: str) -> str:
    return (urlsplit(feed_url).hostname or "").lower()


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        sources.c.enabled == true(),
        or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at <= now),
        or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now),
    )


class LeaseQueries:
    """Claiming and releasing sources (mixed into SqlStore)."""

    engine: Engine

    def claim_due_sources(
        self,
        worker_id: str,
        now: datetime,
        limit: int,
        lease_s: float,
        *,
        per_host: int | None = None,
    ) -> list[Source]:
        """Lease up to `limit` enabled sources that are due (next_poll_at NULL or <= now) and
        not leased (or whose lease expired) to `worker_id` until now + lease_s, oldest due
        first. With `per_host`, at most that many sources of one host are leased at once."""
        if limit <= 0:
            return []
        due = _claimable(now)
        query = (
            select(sources)
            .where(due)
            .order_by(sources.c.next_poll_at.asc().nulls_first(), sources.c.id)
            .limit(limit * _SCAN_FACTOR if per_host else limit)
        )
        with self.engine.connect() as conn, conn.execution_options(**{WRITE_FIRST: True}).begin():
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = [source_from_row(r) for r in conn.execute(query)]
            held: Counter[str] = Counter()
            if per_host:
                leased = select(sources.c.feed_url).where(sources.c.lease_until > now)
                held.update(host_of(url) for url in conn.execute(leased).scalars())
            picked: list[Source] = []
            for source in candidates:
                host = host_of(source.feed_url)
                if per_host and held[host] >= per_host:
                    continue
                held[host] += 1
                picked.append(source)
                if len(picked) >= limit:
                    break
            if picked:
                conn.execute(
                    update(sources)
                    .where(sources.c.id.in_([s.id for s in picked]))
                    .values(lease_owner=worker_id, lease_until=now + timedelta(seconds=lease_s))
                )
        return picked

    def count_claimable(self, now: datetime) -> int:
        """Due, enabled sources nobody holds a lease on (some may be locked by a claim in
        progress or held back by the per-host cap, so a claim can return fewer)."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(sources).where(_claimable(now))
                ).scalar_one()
            )

    def release_leases(self, worker_id: str, source_ids: list[int] | None = None) -> int:
        """Give back a worker's leases (all, or those of `source_ids`) without polling, so
        other workers can claim them at once. Returns how many were released."""
        where = sources.c.lease_owner == worker_id
        if source_ids is not None:
            where = and_(where, sources.c.id.in_(source_ids))
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sources).where(where).values(lease_owner=None, lease_until=None)
            )
        return int(result.rowcount)
