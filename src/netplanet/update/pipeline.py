"""The update pipeline: the one place that touches both fetch and store.

For each source: fetch conditionally -> digest (parse and enrich, update/digest.py) -> decide
(update/decide.py, with what is stored read in between) -> apply the plan, all or nothing, in
a transaction shared with the plans of other polls finishing at about the same time
(update/batch.py). Every decision, the next poll's included, is made in decide.py; this
module only does the I/O and gathers the decisions' inputs.

When a feed URL starts answering 404, or HTML naming no feed, the pipeline runs feed
discovery on the source's site and names what it found in the error, for the operator to act
on; it never changes the URL itself (only a permanent redirect does that).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from netplanet.enrich.excerpt import EXCERPT_WORDS
from netplanet.errors import DiscoveryError, StoreError
from netplanet.fetch.http import Fetcher
from netplanet.model import (
    ExistingEntry,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    PollOutcome,
    Source,
    UpdatePlan,
)
from netplanet.model import SourceReport as SourceReport  # callers import it from here
from netplanet.schedule import Policy, Random
from netplanet.store.base import SEAL_AFTER, ApplyResult, Store
from netplanet.untrusted import one_line
from netplanet.update import decide
from netplanet.update.batch import MAX_DELAY_S, MAX_PLANS, WriteBehind
from netplanet.update.classifier import Classifier
from netplanet.update.digest import Digest, digest
from netplanet.update.discovery import discover_feed

if TYPE_CHECKING:
    from netplanet.enrich.topics import Taxonomy

log = logging.getLogger(__name__)

INLINE_MAX_BYTES = 512 * 1024
"""Changed bodies up to this size of sources with stored entries are digested inline."""

MAX_DETAIL = 300
"""Characters of an unexpected exception's message kept in the source's last error."""

SEAL_EVERY_S = 300.0
"""How often a long-running process seals archive pages at most (UpdatePipeline.seal)."""

KNOWN_HASHES = 1000
"""How many of a source's newest stored entries a changed body is compared with by raw hash
(a feed lists its newest posts; an older one that reappears is merely enriched again)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _report(
    source: Source, result: FetchResult, plan: UpdatePlan, applied: ApplyResult
) -> SourceReport:
    su = plan.source
    return SourceReport(
        source_id=source.id,
        title=source.display_title,
        outcome=decide.poll_outcome(result, plan),
        new=applied.new,
        changed=applied.changed,
        unchanged=applied.unchanged,
        error_class=su.last_error_class,
        error=su.last_error,
        moved_to=su.feed_url,
    )


class UpdatePipeline:
    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        *,
        excerpt_words: int = EXCERPT_WORDS,
        clock: Callable[[], datetime] = _utcnow,
        policy: Policy | None = None,
        rand: Random = random.random,
        executor: Executor | None = None,
        batch_plans: int = MAX_PLANS,
        batch_delay_s: float = MAX_DELAY_S,
        seal_after: timedelta = SEAL_AFTER,
        seal_every_s: float = SEAL_EVERY_S,
        taxonomy: Callable[[], Taxonomy | None] | None = None,
        after_seal: Callable[[datetime], object] | None = None,
    ) -> None:
        self.store = store
        self.after_seal = after_seal
        """Run after each sealing with the clock's time (Planet.pipeline: freezing the weekly
        digest of the week that ended, operations/weekly.py); a failure is logged."""
        self.taxonomy = taxonomy
        """Gives the taxonomy new and edited posts are classified with (asked at every
        digest, so a planet that reloads its taxonomy classifies with the new one); None: no
        topics."""
        self._classifier: Classifier | None = None
        self.executor = executor
        """Where parsing and enrichment run (e.g. a process pool); None means inline."""
        self.fetcher = fetcher
        self.excerpt_words = excerpt_words
        self.clock = clock
        self.policy = policy or Policy()
        self.rand = rand
        self.writer = WriteBehind(store, max_plans=batch_plans, max_delay_s=batch_delay_s)
        """Stores the plans of concurrent polls together (group commit)."""
        self.seal_after = seal_after
        """Entries published longer ago than this get stable archive positions (see seal)."""
        self.seal_every_s = seal_every_s
        self._sealed_at = float("-inf")
        self.sealed = 0
        """Entries this pipeline has sealed so far."""

    async def update_source(self, source: Source) -> SourceReport:
        """Poll one source and store the result; returns once the plan is committed (grouped
        with other polls' plans in one transaction, see update/batch.py).

        This is the boundary of one source's poll: whatever goes wrong inside it (a bug in a
        parser, a row the database refuses) is recorded as that source's error, with the
        usual back-off, and reported; it never propagates to the other polls of the round.
        Only cancellation does.
        """
        writer = self.writer
        writer.running += 1
        waiting = False
        result: FetchResult | None = None
        try:
            request = FetchRequest(
                url=source.feed_url,
                etag=source.etag,
                last_modified=source.last_modified,
                body_hash=source.body_hash,
            )
            result = await self.fetcher.fetch(request)
            now = self.clock()
            digested = await self._digest(source, result, now)
            plan = self.plan(source, result, now, digested)
            if decide.looks_moved(result, plan):
                plan = await self._suggest_new_feed(source, result, plan)
            writer.running -= 1
            waiting = True
            applied = await writer.apply(plan)
            return _report(source, result, plan, applied)
        except Exception as exc:
            failure = exc
        finally:
            if not waiting:
                writer.running -= 1
                writer.idle()
        return await self.record_failure(source, failure, result)

    async def record_failure(
        self, source: Source, exc: Exception, result: FetchResult | None = None
    ) -> SourceReport:
        """Store an unexpected failure of one poll as that source's error, backed off like any
        other failure, so the source is neither lost nor polled again at once. The traceback
        goes to the log at error level; the source's error is one line."""
        detail = one_line(exc)[:MAX_DETAIL]
        if isinstance(exc, StoreError):  # the database refused this source's plan
            error_class, error = "store", detail
        else:
            error_class = "internal"
            error = (
                f"internal error while polling: {type(exc).__name__}: {detail} "
                "(the log has the traceback; please report it)"
            )
        log.error(
            "polling %s (source %d) failed: %s",
            source.feed_url,
            source.id,
            error,
            exc_info=None if isinstance(exc, StoreError) else exc,
        )
        stored = False
        try:
            now = self.clock()
            if result is None:
                result = FetchResult(
                    request=FetchRequest(url=source.feed_url),
                    outcome=FetchOutcome.ERROR,
                    final_url=source.feed_url,
                )
            # Cache validators are dropped so that the next poll reads the whole body again.
            failed = decide.plan_failure(
                source, result, now, error_class=error_class, error=error, clear_cache_state=True
            )
            plan = decide.schedule_plan(
                failed,
                source,
                result,
                None,
                recent_posts=None,
                now=now,
                policy=self.policy,
                rand=self.rand,
            )
            await self.writer.apply(plan)
            stored = True
        except Exception as store_exc:
            log.error(
                "recording the failure of source %d failed too: %s",
                source.id,
                one_line(store_exc)[:MAX_DETAIL] or type(store_exc).__name__,
            )
        return SourceReport(
            source_id=source.id,
            title=source.display_title,
            outcome=PollOutcome.FAILED,
            error_class=error_class,
            error=error,
            stored=stored,
        )

    async def _digest(self, source: Source, result: FetchResult, now: datetime) -> Digest | None:
        """Parse and enrich a new body, in the executor when there is one."""
        if result.outcome is not FetchOutcome.OK or result.body is None:
            return None
        # Entries stored by an earlier poll are not enriched again (update/digest.py); a
        # source never read successfully has none, so it costs no query.
        known = frozenset[str]()
        if source.last_success_at is not None:
            known = self.store.known_raw_hashes(source.id, limit=KNOWN_HASHES)
        call = functools.partial(
            digest,
            result.body,
            content_type=result.content_type,
            url=result.final_url,
            source_id=source.id,
            source_category=source.category,
            now=now,
            excerpt_words=self.excerpt_words,
            known=known,
            classifier=self._current_classifier(),
            source_title=source.display_title,
        )
        # A re-poll of a source with stored entries usually enriches none or one of them, and
        # parsing a body of ordinary size takes a few milliseconds: less than shipping it to
        # a worker and back, and, in a short `netplanet update` whose other sources all
        # answer 304, less than starting the pool at all. The pool is for first polls.
        if self.executor is None or (known and len(result.body) <= INLINE_MAX_BYTES):
            return call()
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def _current_classifier(self) -> Classifier | None:
        taxonomy = self.taxonomy() if self.taxonomy is not None else None
        if taxonomy is None:
            return None
        if self._classifier is None or self._classifier.taxonomy is not taxonomy:
            self._classifier = Classifier(taxonomy)
        return self._classifier

    def plan(
        self, source: Source, result: FetchResult, now: datetime, digested: Digest | None
    ) -> UpdatePlan:
        """Turn one fetch result and its digest (from `_digest`) into a scheduled plan,
        reading from the store what the decisions need."""
        new_url = None
        existing: Sequence[ExistingEntry] = ()
        if result.outcome not in (FetchOutcome.GONE, FetchOutcome.ERROR):
            new_url = self._new_feed_url(source, result)
        if digested is not None and digested.feed is not None:
            entries = digested.entries
            existing = self.store.existing_entries(
                source.id,
                keys=[e.key for e in entries],
                urls=[e.url for e in entries],
                title_date_hashes=[e.title_date_hash for e in entries],
                raw_hashes=digested.known,
            )
        plan = decide.plan_poll(
            source, result, now, digested, existing=existing, new_feed_url=new_url
        )
        recent = valid_until = None
        if decide.rate_needs_count(source, plan, now):
            stored, oldest = self.store.recent_entry_stats(source.id, now - decide.RATE_WINDOW)
            recent, valid_until = decide.posting_rate(plan, now, stored=stored, oldest=oldest)
        return decide.schedule_plan(
            plan,
            source,
            result,
            digested.feed if digested is not None else None,
            recent_posts=recent,
            now=now,
            policy=self.policy,
            rand=self.rand,
            rate_valid_until=valid_until,
        )

    async def _suggest_new_feed(
        self, source: Source, result: FetchResult, plan: UpdatePlan
    ) -> UpdatePlan:
        """Run discovery on the source's site and name the feed it finds in the error."""
        site = decide.discovery_site(source)
        try:
            found = await discover_feed(self.fetcher, site)
        except DiscoveryError:
            return plan
        return decide.suggest_moved_feed(plan, source, result, site=site, found=found.feed_url)

    def _new_feed_url(self, source: Source, result: FetchResult) -> str | None:
        moved = result.permanent_url
        if not moved or moved == source.feed_url:
            return None
        if source.feed_url.startswith("https:") and moved.startswith("http:"):
            # Stored, an http URL would carry every later poll in clear, open to tampering on
            # the path; the redirect is still followed at each poll, under the guard.
            log.info("%s moved permanently to %s; keeping the https URL", source.feed_url, moved)
            return None
        other = self.store.get_source_by_url(moved)
        if other is not None and other.id != source.id:
            log.warning(
                "%s moved permanently to %s, which is already source %d; keeping the old URL",
                source.feed_url,
                moved,
                other.id,
            )
            return None
        return moved

    async def update_many(
        self,
        sources: Iterable[Source],
        on_report: Callable[[SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """Update sources concurrently (the fetcher enforces the global and per-host limits)."""

        async def one(source: Source) -> SourceReport:
            report = await self.update_source(source)  # never raises, see there
            if on_report is not None:
                try:
                    on_report(report)
                except Exception:  # progress display only: never worth the round
                    log.exception("reporting the poll of source %d failed", source.id)
            return report

        reports = list(await asyncio.gather(*(one(s) for s in sources)))
        self.seal()
        return reports

    def seal(self, *, force: bool = False, cutoff: datetime | None = None) -> int:
        """Give stable archive positions to the entries published before `cutoff` (by default
        now - `seal_after`; store.seal_pages); returns how many were sealed.

        Every round of polls ends here (`update`, `run`, `worker`, the demo), so whatever writes
        entries leaves the numbered pages sealed: a planet updated from cron and served by
        `netplanet serve` has archive pages too. Between rounds it runs at most every
        `seal_every_s` unless forced (the long-running loops also call it while idle, as
        entries age past the cut-off without any poll). A failure is logged, never raised:
        sealing is retried next time and must not cost the polls.
        """
        if not force and time.monotonic() - self._sealed_at < self.seal_every_s:
            return 0
        self._sealed_at = time.monotonic()
        try:
            sealed = self.store.seal_pages(cutoff or self.clock() - self.seal_after)
        except Exception:
            log.exception("sealing archive pages failed; retrying after the next round")
            self._sealed_at = float("-inf")
            return 0
        self.sealed += sealed
        if self.after_seal is not None:
            try:
                self.after_seal(self.clock())
            except Exception:
                log.exception("the work after sealing failed; retrying after the next round")
        return sealed
