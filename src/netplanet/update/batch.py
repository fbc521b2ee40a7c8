"""Group commit: the plans of many polls stored in one transaction (store.apply_updates).

One transaction per source made every poll pay a commit (an fsync, and, while posts were
indexed for search in the write, a new FTS5 segment that later had to be merged). Here a poll
hands its plan over and waits; the plans waiting are stored together when `max_plans` are
waiting, when `max_delay_s` has passed since the first one, or at once when no other poll of
the pipeline is still running (nobody else would join the batch, so waiting would only add
latency).

A poll still returns only once its plan is committed, so callers see the same guarantees as
before: a returned report means stored, and a source is never polled again while its last
plan is unwritten. A poll cancelled while it waits (shutdown) is dropped from the batch, so
nothing is stored for it. The store keeps each plan all-or-nothing: if the batch transaction
fails, it retries the plans one transaction each, so one bad plan does not lose the others;
should storing a batch raise anything else, the plans are tried one by one here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from netplanet.model import UpdatePlan
from netplanet.store.base import ApplyResult, Store
from netplanet.untrusted import one_line

log = logging.getLogger(__name__)

MAX_PLANS = 100
MAX_DELAY_S = 0.25


class WriteBehind:
    """Collects plans and stores them in batches; `running` counts polls not yet waiting."""

    def __init__(
        self, store: Store, *, max_plans: int = MAX_PLANS, max_delay_s: float = MAX_DELAY_S
    ) -> None:
        self.store = store
        self.max_plans = max(1, max_plans)
        self.max_delay_s = max_delay_s
        self.running = 0
        """Polls started and not yet waiting here (the pipeline keeps it up to date)."""
        self._waiting: list[tuple[UpdatePlan, asyncio.Future[ApplyResult]]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def apply(self, plan: UpdatePlan) -> ApplyResult:
        """Store `plan` with the next batch and return once it is committed."""
        future: asyncio.Future[ApplyResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((plan, future))
        if len(self._waiting) >= self.max_plans or self.running <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_delay_s, self.flush)
        return await future

    def idle(self) -> None:
        """A poll ended without a plan: flush if that leaves only waiting polls."""
        if self.running <= 0 and self._waiting:
            self.flush()

    def flush(self) -> None:
        """Store every waiting plan now (synchronously, on the event loop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = [(plan, fut) for plan, fut in self._waiting if not fut.done()]
        self._waiting = []
        if not batch:
            return
        plans = [plan for plan, _ in batch]
        results: Sequence[ApplyResult | Exception]
        try:
            results = self.store.apply_updates(plans)
        except Exception as exc:
            # apply_updates reports refused plans one by one; an exception here (e.g. a driver
            # that cannot encode one plan's text) failed the whole transaction. Each plan is
            # tried alone, so the one at fault fails only its own poll.
            if len(plans) == 1:
                results = [exc]
            else:
                log.warning(
                    "storing a batch of %d plans failed (%s: %s); storing them one by one",
                    len(plans),
                    type(exc).__name__,
                    one_line(exc)[:200],
                )
                results = [self._apply_alone(plan) for plan in plans]
        for (_, fut), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)

    def _apply_alone(self, plan: UpdatePlan) -> ApplyResult | Exception:
        try:
            return self.store.apply_updates([plan])[0]
        except Exception as exc:
            return exc
