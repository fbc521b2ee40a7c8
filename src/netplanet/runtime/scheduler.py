"""The loop machinery `netplanet run` and `netplanet worker` share.

`PollingLoop` is the shape of both loops: every turn seals stable archive pages (the
pipeline's one sealing timer decides whether it is time; calling it every turn covers the
idle stretches, when entries age past the cut-off without any poll), then takes the loop's own
step, then sleeps for what the step asked, waking early when `stop` is set or a poll the step
named ends. `stop_on_signals` is the one SIGTERM/SIGINT handling: each signal sets `stop`
and is counted, and the loop's caller says what a second signal does more.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from netplanet.update.pipeline import UpdatePipeline

SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
