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
it, storing nothing more, and gives the unfinished leases back at once. The loop and the signal
handling are runtime/scheduler.py's, shared with `netplanet run`, and so is the background
search indexer (`keep_indexed`), which indexes what the workers store between their batches;
with `--once` the worker indexes what is left before it returns.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from netplanet.fetch.http import Fetcher
from netplanet.model import Source
from netplanet.runtime.scheduler import Pause, PollingLoop, keep_indexed, stop_on_signals
from netplanet.schedule import Policy
from netplanet.settings import Settings, setting_default
from netplanet.store.base import SEAL_AFTER, WorkerStore
from netplanet.store.indexing import catch_up
from netplanet.update.factory import PipelineFactory
from netplanet.update.pipeline import SEAL_EVERY_S, SourceReport, UpdatePipeline

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


IDLE_S = 5.0
"""Sleep between claims when nothing is due (`netplanet worker --idle`)."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    worker_id: str
    batch: int = setting_default("fetch_concurrency")
    """Sources claimed at a time (they are fetched concurrently, within the fetcher's limits)."""
    lease_s: float = 300.0
    """How long a claim holds; must exceed the worst time to poll a whole batch."""
    policy: Policy = field(default_factory=Policy)
    """When a polled source is due again (schedule.py)."""
    per_host: int | None = setting_default("fetch_per_host")
    """At most this many sources of one host leased at once, across all workers."""
    idle_s: float = IDLE_S
    """Sleep between claims when nothing is due."""
    seal_every_s: float = SEAL_EVERY_S
    seal_after: timedelta = SEAL_AFTER
    once: bool = False
    """Exit when no unleased source is due instead of waiting for the next due source."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        worker_id: str,
        *,
        batch: int | None = None,
        lease_s: float | None = None,
        idle_s: float = IDLE_S,
        once: bool = False,
    ) -> WorkerConfig:
        """`netplanet worker`'s configuration: a batch is `fetch_concurrency` sources, a lease
        holds 4x the fetch time limit, unless given."""
        return cls(
            worker_id=worker_id,
            batch=batch or settings.fetch_concurrency,
            lease_s=lease_s or 4 * settings.total_timeout,
            policy=Policy.from_settings(settings),
            per_host=settings.fetch_per_host,
            idle_s=idle_s,
            once=once,
        )


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
    pipelines: PipelineFactory,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = _utcnow,
    on_batch: Callable[[list[SourceReport]], None] | None = None,
) -> WorkerStats:
    """Poll due sources until `stop` is set (or, with `once`, until none is due). The
    pipeline is `pipelines(fetcher)` (Planet.pipeline: the planet's process pool too), with
    the config's policy and sealing cadence."""
    pipeline = pipelines(
        fetcher,
        clock=clock,
        policy=config.policy,
        seal_after=config.seal_after,
        seal_every_s=config.seal_every_s,
    )
    loop = _Worker(store, pipeline, config, clock, on_batch)
    stop = stop or asyncio.Event()
    halt = threading.Event()
    # Every worker indexes beside its polls (PostgreSQL: each takes other queued posts).
    indexer = asyncio.ensure_future(keep_indexed(store, stop, halt, busy=lambda: loop.polling))
    try:
        await loop.run(stop)
    finally:
        halt.set()
        stop.set()  # the loop ends by itself with --once
        await indexer
    if config.once:  # like `netplanet update`: what it stored is searchable when it exits
        await asyncio.to_thread(catch_up, store)
    return loop.stats


class _Worker(PollingLoop):
    """Claim a batch of due sources, poll them, repeat; wait a little when none is due."""

    def __init__(
        self,
        store: WorkerStore,
        pipeline: UpdatePipeline,
        config: WorkerConfig,
        clock: Callable[[], datetime],
        on_batch: Callable[[list[SourceReport]], None] | None,
    ) -> None:
        super().__init__(pipeline)
        self.store = store
        self.config = config
        self.clock = clock
        self.on_batch = on_batch
        self.stats = WorkerStats()
        self.polling = False
        """A claimed batch is being polled (and written): the indexer waits for a pause."""

    async def step(self) -> Pause | None:
        config, store = self.config, self.store
        batch = store.claim_due_sources(
            config.worker_id, self.clock(), config.batch, config.lease_s, per_host=config.per_host
        )
        if not batch:
            # With --once, stop only when nothing claimable is left: an empty claim can also
            # mean the due rows were locked by another worker's claim at that instant.
            if config.once and store.count_claimable(self.clock()) == 0:
                return None
            # Under --once the wait is for other claims to finish, which takes milliseconds.
            return Pause(min(config.idle_s, 0.2) if config.once else config.idle_s)
        await self._poll(batch)
        return Pause(0)

    async def _poll(self, batch: list[Source]) -> None:
        self.polling = True
        try:
            reports = await self.pipeline.update_many(batch)
        except BaseException:
            # Abandoned (second signal) or failed past the per-source boundary: hand back what
            # was not applied, so nobody waits for the leases to expire. Applied sources have
            # no lease left to release. (A finished batch keeps only the leases of polls whose
            # failure the database would not even record: they hold those sources back until
            # they expire, instead of claiming them again at once.)
            _release(self.store, self.config.worker_id, [s.id for s in batch])
            raise
        finally:
            self.polling = False
        stats = self.stats
        stats.batches += 1
        stats.polled += len(reports)
        stats.new += sum(r.new for r in reports)
        stats.failed += sum(1 for r in reports if r.failed)
        if self.on_batch is not None:
            self.on_batch(reports)

    async def finish(self) -> None:
        if self.config.once:
            self.pipeline.seal(force=True)


def _release(store: WorkerStore, worker_id: str, source_ids: list[int]) -> None:
    try:
        store.release_leases(worker_id, source_ids)
    except Exception:  # the database is gone: the leases expire on their own
        log.exception("giving back the leases of %d sources failed", len(source_ids))


@contextmanager
def worker_signals(stop: asyncio.Event, task: asyncio.Task[object]) -> Iterator[None]:
    """First SIGTERM/SIGINT: finish the in-flight batch and exit. Second: abandon it."""

    def on_signal(sig: int, count: int) -> None:
        if count > 1:
            task.cancel()
        else:
            log.warning("stopping after the current batch (signal again to abandon it)")

    with stop_on_signals(stop, on_signal):
        yield
