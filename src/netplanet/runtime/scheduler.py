"""The loop machinery `netplanet run` and `netplanet worker` share.

`PollingLoop` is the shape of both loops: every turn seals stable archive pages (the
pipeline's one sealing timer decides whether it is time; calling it every turn covers the
idle stretches, when entries age past the cut-off without any poll), then takes the loop's own
step, then sleeps for what the step asked, waking early when `stop` is set or a poll the step
named ends. `stop_on_signals` is the one SIGTERM/SIGINT handling: each signal sets `stop`
and is counted, and the loop's caller says what a second signal does more.

`keep_indexed` is the background search indexer both run beside their loop (store/indexing.py):
posts are stored unindexed, and it indexes them in batches once the polls are not writing,
within INDEX_MAX_LAG_S of their storing even while polls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from netplanet.store.base import Store
from netplanet.store.indexing import catch_up
from netplanet.update.pipeline import UpdatePipeline

SIGNALS = (signal.SIGTERM, signal.SIGINT)

log = logging.getLogger(__name__)

INDEX_CHECK_S = 2.0
"""How often the background indexer looks for queued posts."""
INDEX_MAX_LAG_S = 10.0
"""Queued posts wait for the polls to stop writing at most this long before they are indexed
anyway (a batch at a time, between the polls' own transactions)."""


@dataclass(frozen=True, slots=True)
class Pause:
    """What a step asks of its loop: sleep `seconds` (0: go on at once), waking early when
    one of `wake` finishes."""

    seconds: float
    wake: tuple[asyncio.Future[Any], ...] = ()


class PollingLoop(ABC):
    """Seal, step, sleep until stopped. Subclasses give `step` (None ends the loop) and may
    give `finish`, which runs once the loop has ended by itself or by `stop`."""

    def __init__(self, pipeline: UpdatePipeline) -> None:
        self.pipeline = pipeline

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.pipeline.seal()
            pause = await self.step()
            if pause is None:
                break
            await sleep_until_stopped(stop, pause.seconds, pause.wake)
        await self.finish()

    @abstractmethod
    async def step(self) -> Pause | None:
        """One turn's work; what to sleep before the next (None: the loop is done)."""

    async def finish(self) -> None:
        return None


async def sleep_until_stopped(
    stop: asyncio.Event, seconds: float, wake: Iterable[asyncio.Future[Any]] = ()
) -> None:
    """Sleep `seconds`, waking early when `stop` is set or one of `wake` finishes."""
    if seconds <= 0:
        await asyncio.sleep(0)  # still let the other tasks run
        return
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopper, *wake}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event, on_signal: Callable[[int, int], None] | None = None
) -> Iterator[None]:
    """While inside: every SIGTERM/SIGINT sets `stop`, then `on_signal(signal, count)` runs
    (count is 1 for the first signal, 2 for the second...)."""
    loop = asyncio.get_running_loop()
    count = 0

    def handle(sig: int) -> None:
        nonlocal count
        count += 1
        stop.set()
        if on_signal is not None:
            on_signal(sig, count)

    for sig in SIGNALS:
        loop.add_signal_handler(sig, handle, sig)
    try:
        yield
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)


async def keep_indexed(
    store: Store,
    stop: asyncio.Event,
    halt: threading.Event,
    *,
    busy: Callable[[], bool] = lambda: False,
    every_s: float = INDEX_CHECK_S,
    max_lag_s: float = INDEX_MAX_LAG_S,
) -> None:
    """Index queued posts until `stop`: at once (what a crash or an earlier process left),
    then whenever posts wait, as soon as `busy()` (polls writing) is false, and at the latest
    `max_lag_s` after they were first seen waiting. The work runs in a thread: SQLite tokenizes
    with the GIL released, so the event loop goes on meanwhile. A failure is logged and tried
    again at the next check."""
    waiting_since: float | None = -float("inf")  # the first check indexes whatever waits
    while not stop.is_set():
        try:
            if await asyncio.to_thread(store.pending_index) == 0:
                waiting_since = None
            else:
                now = time.monotonic()
                waiting_since = now if waiting_since is None else waiting_since
                if not busy() or now - waiting_since >= max_lag_s:
                    started = time.monotonic()
                    done = await asyncio.to_thread(catch_up, store, halted=halt.is_set)
                    waiting_since = None
                    if done:
                        log.info(
                            "indexed %d posts for search in %.1f s",
                            done,
                            time.monotonic() - started,
                            extra={"indexed": done},
                        )
        except Exception:
            log.exception("indexing posts for search failed; trying again in %g s", every_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
