"""`netplanet run`: the website and the scheduler in one asyncio process.

The scheduler keeps each source's next poll time in the database (chosen by schedule.py when
the previous poll was stored). It sleeps until the earliest one (at most `MAX_SLEEP_S`, so a
source added from the admin area is picked up soon), starts the due sources that are not
already in flight, up to `fetch_concurrency` at once (the fetcher adds the per-host limits),
and seals stable archive pages now and then.

Shutdown on SIGINT/SIGTERM: the web server stops accepting requests, the scheduler starts
nothing new and gives in-flight polls `GRACE_S` to finish, then cancels them. Each source
update is stored all-or-nothing after its fetch (grouped with other polls' updates into one
transaction, see update/batch.py; a poll returns once its update is committed), so a cancelled
poll leaves no trace and none is half-written. A second signal cancels at once.

Stored posts are re-classified in a thread beside the polls when the taxonomy's version is not
the one they were classified with: at start (a new netplanet changed the bundled taxonomy, or
it was edited while nothing ran), and whenever the taxonomy changes while `run` runs (an
operator edits the file; looked at every TAXONOMY_CHECK_S). Stopping stops it between two
batches, and the next start goes on where it stopped (operations/topics.py).

With `after_change` (`netplanet run --export DIR`: export/run.py's ExportStep), a hook runs in
a thread at start and then within AFTER_CHANGE_CHECK_S (or `min_interval_s`, when shorter)
of any change the polls stored (the
site's version token moved), or at least every AFTER_CHANGE_MAX_S (a week's digest finishes
with no poll); one run at a time, so a slow export delays the next instead of piling up.
Stopping asks the hook to stop (the callable it is given says so) and waits for it.

Posts are stored unindexed; `keep_indexed` (runtime/scheduler.py) indexes them for search in a
thread: at start (what a crash or a stopped `update` left), then once no poll is in flight,
and at the latest INDEX_MAX_LAG_S after they were stored while polls go on.

The loop and the signal handling are runtime/scheduler.py's, shared with `netplanet worker`;
the pipeline comes from Planet.pipeline (the `pipelines` factory), like every other poller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uvicorn

from netplanet.fetch.http import Fetcher
from netplanet.model import Source
from netplanet.operations.topics import TAXONOMY_CHECK_S
from netplanet.runtime.scheduler import Pause, PollingLoop, keep_indexed, stop_on_signals
from netplanet.settings import Settings
from netplanet.store.base import PlanetStore
from netplanet.update.factory import PipelineFactory
from netplanet.update.pipeline import SourceReport, UpdatePipeline
from netplanet.web.app import UVICORN_OPTIONS, create_app

if TYPE_CHECKING:
    from netplanet.enrich.topics import Taxonomy

log = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0
GRACE_S = 5.0
AFTER_CHANGE_CHECK_S = 60.0
AFTER_CHANGE_MAX_S = 3600.0

AfterChange = Callable[[Callable[[], bool]], object]
"""A hook run after the planet changed; it is given a callable that says "stop now"."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Scheduler(PollingLoop):
    """Polls due sources as they come due, `concurrency` at a time, until stopped."""

    def __init__(
        self,
        store: PlanetStore,
        pipeline: UpdatePipeline,
        *,
        concurrency: int,
        clock: Callable[[], datetime] = _utcnow,
        max_sleep_s: float = MAX_SLEEP_S,
        on_report: Callable[[SourceReport], None] | None = None,
    ) -> None:
        super().__init__(pipeline)
        self.store = store
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.max_sleep_s = max_sleep_s
        self.on_report = on_report
        self.in_flight: dict[int, asyncio.Task[SourceReport]] = {}
        self.held: dict[int, float] = {}
        """Sources not to start again before this time.monotonic(): their last poll failed
        and not even the failure could be stored, so the database still says they are due."""
        self.hold_s = pipeline.policy.min_interval_s
        self._only_held = False
        self.last_round_at: datetime | None = None
        self.polled = 0

    async def step(self) -> Pause:
        """Start what is due; sleep until the next due time, or until a poll finishes (a
        slot is free)."""
        try:
            self._start_due()
            delay = self._sleep_s()
        except Exception:  # a database hiccup must not stop the planet; retry soon
            log.exception("scheduler step failed; retrying in %g s", self.max_sleep_s)
            delay = self.max_sleep_s
        return Pause(delay, tuple(self.in_flight.values()))

    async def finish(self) -> None:
        await self._drain()

    def _start_due(self) -> None:
        self._only_held = False
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return
        if self.held:
            now = time.monotonic()
            self.held = {sid: until for sid, until in self.held.items() if until > now}
        started = skipped_held = 0
        for source in self.store.due_sources(self.clock()):
            if source.id in self.in_flight:
                continue
            if source.id in self.held:
                skipped_held += 1
                continue
            task = asyncio.create_task(self._poll(source))
            self.in_flight[source.id] = task
            started += 1
            if started >= free:
                break
        else:
            # Every due source is polling or held back: the database's earliest due time is
            # in the past, but nothing is to be started until a poll ends or a hold does.
            self._only_held = skipped_held > 0
        if started:
            self.last_round_at = self.clock()
            log.info("polling %d due sources", started, extra={"started": started})

    async def _poll(self, source: Source) -> SourceReport:
        try:
            one = (await self.pipeline.update_many([source]))[0]
        except Exception as exc:
            # update_source records the failures of a poll itself; this one got past it. It
            # is still that source's error, stored with back-off when the database allows.
            one = await self.pipeline.record_failure(source, exc)
        finally:
            self.in_flight.pop(source.id, None)
        if not one.stored:
            log.error(
                "source %d stays due but is held back for %g s: its failure was not stored",
                source.id,
                self.hold_s,
            )
            self.held[source.id] = time.monotonic() + self.hold_s
        self.polled += 1
        extra = {"source_id": one.source_id, "outcome": one.outcome, "new": one.new}
        if one.failed:
            log.warning("%s: %s", one.title, one.error, extra=extra)
        else:
            log.info("%s: %s, %d new", one.title, one.outcome, one.new, extra=extra)
        if self.on_report is not None:
            try:
                self.on_report(one)
            except Exception:
                log.exception("reporting the poll of source %d failed", source.id)
        return one

    def _sleep_s(self) -> float:
        if len(self.in_flight) >= self.concurrency or self._only_held:
            return self.max_sleep_s  # woken by a finishing poll
        due = self.store.next_due_at()
        if due is None:
            return self.max_sleep_s
        wait = (due - self.clock()).total_seconds()
        return min(self.max_sleep_s, max(0.05, wait))

    async def _drain(self) -> None:
        tasks = list(self.in_flight.values())
        if not tasks:
            return
        log.info("waiting up to %g s for %d polls in flight", GRACE_S, len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=GRACE_S)
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if pending:
            log.info("abandoned %d unfinished polls (nothing was stored for them)", len(pending))


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run_service` owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def stopping_line(sig: int, count: int) -> str:
    """The log line for the `count`-th stop signal: "stopping (SIGTERM)"; a second one ends
    the web server's open connections at once."""
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    if count > 1:
        return f"stopping now ({name} again: open connections are closed)"
    return f"stopping ({name})"


async def run_service(
    store: PlanetStore,
    settings: Settings,
    pipelines: PipelineFactory,
    fetcher: Fetcher,
    *,
    web: bool = True,
    update: bool = True,
    taxonomy: Callable[[], Taxonomy] | None = None,
    after_change: AfterChange | None = None,
) -> None:
    """Serve the site and keep it updated until SIGINT/SIGTERM. The scheduler and the admin's
    "poll now" build their pipelines with `pipelines`; the scheduler's polls use `fetcher`.
    With `taxonomy`, stored posts are re-classified first when they need it (in a thread);
    with `after_change`, it runs after the planet changed (see the module's docstring)."""
    stop = asyncio.Event()
    halt = threading.Event()
    background: list[asyncio.Future[None]] = []
    if taxonomy is not None:
        background.append(asyncio.ensure_future(keep_classified(store, taxonomy, stop, halt)))
    if after_change is not None:
        # Checked as often as the busiest source may be polled, at most every minute.
        every = min(AFTER_CHANGE_CHECK_S, settings.min_interval_s)
        background.append(
            asyncio.ensure_future(keep_current(store, after_change, stop, halt, every_s=every))
        )
    server: _Server | None = None
    if web:
        app = create_app(store, settings, pipelines=pipelines)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **UVICORN_OPTIONS,
        )
        server = _Server(config)

    def on_signal(sig: int, count: int) -> None:
        log.info(stopping_line(sig, count))
        if server is not None:
            server.should_exit = True
            server.force_exit = count > 1

    scheduler = Scheduler(
        store,
        pipelines(fetcher),
        concurrency=settings.fetch_concurrency,
        max_sleep_s=min(MAX_SLEEP_S, settings.min_interval_s),
    )
    background.append(
        asyncio.ensure_future(
            keep_indexed(store, stop, halt, busy=lambda: bool(scheduler.in_flight))
        )
    )
    with stop_on_signals(stop, on_signal):
        tasks: list[asyncio.Task[None]] = []
        if update:
            tasks.append(asyncio.create_task(scheduler.run(stop)))
        if server is not None:
            tasks.append(asyncio.create_task(server.serve()))
        try:
            # Whichever ends first (a signal, or the web server failing to start) ends both.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            halt.set()
            if server is not None:
                server.should_exit = True
            await asyncio.gather(*tasks)
            for job in background:
                await job
    log.info("stopped after %d polls", scheduler.polled)


async def keep_current(
    store: PlanetStore,
    after_change: AfterChange,
    stop: asyncio.Event,
    halt: threading.Event,
    every_s: float = AFTER_CHANGE_CHECK_S,
    at_least_s: float = AFTER_CHANGE_MAX_S,
) -> None:
    """Run `after_change` (in a thread) now, then whenever the site's version token moved,
    checking every `every_s`, and at least every `at_least_s`, until `stop`. A failure of the
    hook or of the version read is logged; the loop goes on."""
    last: str | None = None
    last_at = -float("inf")
    while not stop.is_set():
        try:
            token: str | None = (await asyncio.to_thread(store.site_version)).token
        except Exception:
            log.exception("reading the site's version failed; trying again later")
            token = None
        if token is not None and (token != last or time.monotonic() - last_at >= at_least_s):
            try:
                await asyncio.to_thread(after_change, halt.is_set)
            except Exception:
                log.exception("the after-change hook failed; it runs again after the next change")
            last, last_at = token, time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def keep_classified(
    store: PlanetStore,
    taxonomy: Callable[[], Taxonomy],
    stop: asyncio.Event,
    halt: threading.Event,
    every_s: float = TAXONOMY_CHECK_S,
) -> None:
    """Re-classify the stored posts now, then whenever `taxonomy()` (which reloads a changed
    taxonomy) gives another version, until `stop`; the work runs in a thread."""

    def turn() -> None:
        try:
            current = taxonomy()
        except Exception:  # Planet.taxonomy keeps the one in use when a new one is broken
            log.exception("the taxonomy cannot be read; stored posts keep their topics")
            return
        reclassify_if_needed(store, current, halt.is_set)

    while not stop.is_set():
        await asyncio.to_thread(turn)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def reclassify_if_needed(
    store: PlanetStore, taxonomy: Taxonomy, halted: Callable[[], bool] = lambda: False
) -> None:
    """Re-classify the stored posts when they were classified with another taxonomy version
    (or a run stopped half-way), logging what it does; a failure is logged, never raised.
    Nothing happens while this process re-classifies already (the admin's job)."""
    from netplanet.operations.topics import reclassifying

    if not reclassifying.acquire(blocking=False):
        return
    try:
        _reclassify_if_needed(store, taxonomy, halted)
    finally:
        reclassifying.release()


def _reclassify_if_needed(
    store: PlanetStore, taxonomy: Taxonomy, halted: Callable[[], bool]
) -> None:
    from netplanet.operations.topics import VERSION_KEY, needs_reclassify, reclassify

    try:
        if not needs_reclassify(store, taxonomy):
            return
        log.info(
            "re-classifying stored posts with taxonomy %s (they were classified with %s)",
            taxonomy.version,
            store.get_setting(VERSION_KEY) or "none yet",
        )
        report = reclassify(store, taxonomy, stop=halted)
        if report.finished:
            log.info(
                "re-classified %d posts with taxonomy %s: %d changed, %d podcast labels corrected",
                report.examined,
                report.version,
                report.changed,
                report.relabelled,
            )
        else:
            log.info(
                "re-classifying stopped after %d posts; the next start goes on from there",
                report.examined,
            )
    except Exception:
        log.exception(
            "re-classifying stored posts failed; `netplanet topics reclassify` tries again"
        )
