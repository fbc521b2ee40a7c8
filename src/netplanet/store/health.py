"""Reads for scheduling and monitoring (mixed into SqlStore): posting rates, the next due time,
the numbers `/healthz` reports (posts waiting to be indexed for search among them), and the
commonest error kinds (what an empty site explains).

The posting rate is computed, not stored as a running average: the number of a source's entries
published in the last 30 days, counted on the (source_id, published, id) index when a poll
changed entries or the stored count may be stale (`sources.rate_valid_until`); the pipeline
stores the result in `sources.posts_per_day` for display and scheduling.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, case, func, select, true
from sqlalchemy.exc import SQLAlchemyError

from netplanet.errors import StoreError
from netplanet.store._rows import as_utc, source_from_row
from netplanet.store.base import HealthCounts
from netplanet.store.schema import entries, search_queue, sources

if TYPE_CHECKING:
    from netplanet.model import Source

_failing = (sources.c.enabled == true()) & (sources.c.consecutive_failures > 0)
_polled = (sources.c.enabled == true()) & sources.c.last_fetched_at.is_not(None)


class HealthQueries:
    engine: Engine

    def recent_entry_count(self, source_id: int, since: datetime) -> int:
        """Entries of a source published at or after `since` (an index range count)."""
        query = (
            select(func.count())
            .select_from(entries)
            .where(entries.c.source_id == source_id, entries.c.published >= since)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def next_due_at(self) -> datetime | None:
        """The earliest next poll among enabled sources (None when there is none at all; a
        source never polled counts as due at the epoch, so callers treat it as due now)."""
        with self.engine.connect() as conn:
            never = conn.execute(
                select(sources.c.id)
                .where(sources.c.enabled == true(), sources.c.next_poll_at.is_(None))
                .limit(1)
            ).first()
            if never is not None:
                return datetime.fromtimestamp(0, UTC)
            value = conn.execute(
                select(func.min(sources.c.next_poll_at)).where(sources.c.enabled == true())
            ).scalar_one()
        return as_utc(value)

    def due_sources(self, now: datetime) -> list[Source]:
        """Enabled sources whose next poll is due (never-polled ones first)."""
        query = (
            select(sources)
            .where(
                sources.c.enabled == true(),
                (sources.c.next_poll_at.is_(None)) | (sources.c.next_poll_at <= now),
            )
            .order_by(sources.c.next_poll_at.asc().nulls_first(), sources.c.id)
        )
        with self.engine.connect() as conn:
            return [source_from_row(r) for r in conn.execute(query)]

    def health_counts(self) -> HealthCounts:
        """One small aggregate over sources; raises StoreError when the database is down."""
        query = select(
            func.count(),
            func.coalesce(func.sum(case((sources.c.enabled == true(), 1), else_=0)), 0),
            func.coalesce(func.sum(case((_failing, 1), else_=0)), 0),
            func.max(sources.c.last_fetched_at),
            func.coalesce(func.sum(case((_polled, 1), else_=0)), 0),
            select(func.count()).select_from(search_queue).scalar_subquery(),
        )
        try:
            with self.engine.connect() as conn:
                total, enabled, failing, last, polled, queued = conn.execute(query).one()
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"database unreachable: {reason}") from exc
        return HealthCounts(
            int(total), int(enabled), int(failing), as_utc(last), int(polled), int(queued)
        )

    def failure_kinds(self, limit: int = 3) -> list[tuple[str, int]]:
        """Error kinds of failing enabled sources, commonest first (one grouped count)."""
        n = func.count().label("n")
        query = (
            select(sources.c.last_error_class, n)
            .where(_failing)
            .group_by(sources.c.last_error_class)
            .order_by(n.desc(), sources.c.last_error_class)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(str(kind), int(count)) for kind, count in conn.execute(query)]
