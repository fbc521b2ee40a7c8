"""`netplanet worker`: one of any number of processes sharing the polling through the database.

Loop: claim a batch of due sources (a lease in the store, see store/leases.py) -> poll them
with the ordinary UpdatePipeline -> repeat; sleep briefly when nothing is due; seal stable
archive pages now and then. Applying a poll's plan ends the lease and stores the next poll
time that schedule.py chose (posting rate, feed hints, back-off, Retry-After), so each source
is polled once per its interval however many workers run. A worker that dies leaves its
leases to expire; then another worker claims those sources. A failure inside one source's
poll is that source's error (UpdatePipeline.update_source), recorded like any other; a batch
that ends with an exception (or is abandoned) gives back the leases it did not apply at once.

Shutdown: the first SIGTERM/SIGINT lets the in-flight batch finish (each source update is
stored all-or-nothing, the batch's updates grouped into few transactions); a second one abandons
it, storing nothing more, and gives the unfinished leases back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from netplanet.enrich.excerpt import EXCERPT_WORDS
from netplanet.fetch.http import Fetcher
from netplanet.schedule import Policy
from netplanet.store.base import SEAL_AFTER, WorkerStore
from netplanet.update.pipeline import SourceReport, UpdatePipeline

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    worker_id: str
    batch: int = 20
    """Sources claimed at a time (they are fetched concurrently, within the fetcher's limits)."""
    lease_s: float = 300.0
    """How long a claim holds; must exceed the worst time to poll a whole batch."""
    policy: Policy = field(default_factory=Policy)
    """When a polled source is due again (schedule.py)."""
    per_host: int | None = 2
    """At most this many sources of one host leased at once, across all workers."""
    idle_s: float = 5.0
    """Sleep between claims when nothing is due."""
    seal_every_s: float = 300.0
    seal_after: timedelta = SEAL_AFTER
    once: bool = False
    """Exit when no unleased source is due instead of waiting for the next due source."""


@dataclass(slots=True)
class WorkerStats:
    batches: int = 0
    polled: int = 0
    new: int = 0
    failed: int = 0


async def run_worker(
    store: WorkerStore,
    fetcher: Fetcher,
    config: WorkerConfig,
    *,
    stop: asyncio.Event | None = None,
    excerpt_words: int = EXCERPT_WORDS,
    clock: Callable[[], datetime] = _utcnow,
    on_batch: Callable[[list[SourceReport]], None] | None = None,
) -> WorkerStats:
    """Poll due sources until `stop` is set (or, with `once`, until none is due)."""
    stop = stop or asyncio.Event()
    pipeline = UpdatePipeline(
        store,
        fetcher,
        excerpt_words=excerpt_words,
        clock=clock,
        policy=config.policy,
        seal_after=config.seal_after,
        seal_every_s=config.seal_every_s,
    )
    stats = WorkerStats()
    while not stop.is_set():
        pipeline.seal()  # also while idle: entries age past the cut-off without any poll
        batch = store.claim_due_sources(
            config.worker_id, clock(), config.batch, config.lease_s, per_host=config.per_host
        )
        if not batch:
            # With --once, stop only when nothing claimable is left: an empty claim can also
            # mean the due rows were locked by another worker's claim at that instant.
            if config.once and store.count_claimable(clock()) == 0:
                break
            # Under --once the wait is for other claims to finish, which takes milliseconds.
            idle = min(config.idle_s, 0.2) if config.once else config.idle_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle)
            continue
        try:
            reports = await pipeline.update_many(batch)
        except BaseException:
            # Abandoned (second signal) or failed past the per-source boundary: hand back what
            # was not applied, so nobody waits for the leases to expire. Applied sources have
            # no lease left to release. (A finished batch keeps only the leases of polls whose
            # failure the database would not even record: they hold those sources back until
            # they expire, instead of claiming them again at once.)
            _release(store, config.worker_id, [s.id for s in batch])
            raise
        stats.batches += 1
        stats.polled += len(reports)
        stats.new += sum(r.new for r in reports)
        stats.failed += sum(1 for r in reports if r.outcome in ("failed", "gone"))
        if on_batch is not None:
            on_batch(reports)
    if config.once:
        pipeline.seal(force=True)
    return stats


def _release(store: WorkerStore, worker_id: str, source_ids: list[int]) -> None:
    try:
        store.release_leases(worker_id, source_ids)
    except Exception:  # the database is gone: the leases expire on their own
        log.exception("giving back the leases of %d sources failed", len(source_ids))


def install_signal_handlers(stop: asyncio.Event, task: asyncio.Task[object]) -> None:
    """First SIGTERM/SIGINT: finish the in-flight batch and exit. Second: abandon it."""
    loop = asyncio.get_running_loop()

    def handle() -> None:
        if stop.is_set():
            task.cancel()
        else:
            log.warning("stopping after the current batch (signal again to abandon it)")
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, handle)
