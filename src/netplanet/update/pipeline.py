"""The update pipeline: the one place that touches both fetch and store.

For each source: fetch conditionally -> parse -> enrich -> look up what is stored -> decide ->
schedule the next poll (schedule.py, through decide.schedule_plan) -> apply the plan, all or
nothing, in a transaction shared with the plans of other polls finishing at about the same
time (update/batch.py). Deciding and scheduling are pure; this module only gathers their
inputs.

When a feed URL starts answering 404, or HTML naming no feed, the pipeline runs feed
discovery on the source's site and names what it found in the error, for the operator to act
on; it never changes the URL itself (only a permanent redirect does that).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from netplanet.enrich.excerpt import EXCERPT_WORDS
from netplanet.errors import DiscoveryError, NotAFeedError, StoreError
from netplanet.fetch.http import Fetcher
from netplanet.model import (
    FetchOutcome,
    FetchRequest,
    FetchResult,
    ParsedFeed,
    Source,
    UpdatePlan,
)
from netplanet.schedule import RATE_WINDOW_DAYS, Policy, Random
from netplanet.sources.discover import find_feed_links, suggest_feed
from netplanet.store.base import SEAL_AFTER, ApplyResult, Store
from netplanet.text import one_line
from netplanet.update import decide
from netplanet.update.batch import MAX_DELAY_S, MAX_PLANS, WriteBehind
from netplanet.update.digest import Digest, digest

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


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one poll of one source did, for progress output and the closing table."""

    source_id: int
    title: str
    outcome: str
    """"updated", "not_modified", "unchanged", "failed" or "gone"."""
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_class: str = ""
    error: str = ""
    moved_to: str | None = None
    stored: bool = True
    """False when not even the failure could be recorded (the database refused it): the
    source is still due, so a scheduler must hold it back itself."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def html_diagnosis(body: bytes, url: str) -> str:
    """The one-line explanation for an HTML page served where a feed was expected."""
    links = find_feed_links(body, url)
    if links:
        return (
            f"{url} returned HTML, not a feed; found <link rel=alternate> {suggest_feed(links[0])}"
        )
    return f"{url} returned HTML, not a feed, and the page names no feed; check the feed URL"


def _looks_moved(result: FetchResult, plan: UpdatePlan) -> bool:
    """A 404, or HTML that names no feed: the feed may have moved somewhere the site names."""
    kind = plan.source.last_error_class
    if kind == "http" and result.status == 404:
        return True
    return kind == NotAFeedError.kind and "names no feed" in plan.source.last_error


def _rate_needs_count(source: Source, plan: UpdatePlan, now: datetime) -> bool:
    """Whether the posting rate must be counted again: entries changed, or the stored count
    may have gone stale (a post left the window). A 304 usually needs no query at all."""
    if plan.new_entries or plan.changed_entries or source.posts_per_day is None:
        return True
    return source.rate_valid_until is None or now >= source.rate_valid_until


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _report(
    source: Source, result: FetchResult, plan: UpdatePlan, applied: ApplyResult
) -> SourceReport:
    su = plan.source
    if result.outcome is FetchOutcome.GONE:
        outcome = "gone"
    elif su.last_error_class:
        outcome = "failed"
    elif result.outcome is FetchOutcome.OK:
        outcome = "updated"
    else:
        outcome = result.outcome.value
    return SourceReport(
        source_id=source.id,
        title=source.display_title,
        outcome=outcome,
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
    ) -> None:
        self.store = store
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
            if _looks_moved(result, plan):
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
            outcome="failed",
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
        )
        # A re-poll of a source with stored entries usually enriches none or one of them, and
        # parsing a body of ordinary size takes a few milliseconds: less than shipping it to
        # a worker and back, and, in a short `netplanet update` whose other sources all
        # answer 304, less than starting the pool at all. The pool is for first polls.
        if self.executor is None or (known and len(result.body) <= INLINE_MAX_BYTES):
            return call()
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def plan(
        self, source: Source, result: FetchResult, now: datetime, digested: Digest | None
    ) -> UpdatePlan:
        """Turn one fetch result and its digest (from `_digest`) into a scheduled plan."""
        plan, parsed = self._decide(source, result, now, digested)
        recent = valid_until = None
        if not plan.source.last_error_class and _rate_needs_count(source, plan, now):
            window = timedelta(days=RATE_WINDOW_DAYS)
            since = now - window
            recent, oldest = self.store.recent_entry_stats(source.id, since)
            dates = [e.published for e in plan.new_entries if e.published >= since]
            recent += len(dates)
            if oldest is not None:
                dates.append(oldest)
            # The count holds until its oldest post leaves the window (nothing counted: until
            # a post arrives, which counts again anyway; recounted now and then regardless).
            valid_until = min(dates) + window if dates else now + window
        scheduled = decide.schedule_plan(
            plan,
            source,
            result,
            parsed,
            recent_posts=recent,
            now=now,
            policy=self.policy,
            rand=self.rand,
        )
        if valid_until is None:
            return scheduled
        su = dataclasses.replace(scheduled.source, rate_valid_until=valid_until)
        return dataclasses.replace(scheduled, source=su)

    def _decide(
        self, source: Source, result: FetchResult, now: datetime, digested: Digest | None
    ) -> tuple[UpdatePlan, ParsedFeed | None]:
        if result.outcome is FetchOutcome.GONE:
            return decide.plan_gone(source, result, now), None
        if result.outcome is FetchOutcome.ERROR:
            failed = decide.plan_failure(
                source, result, now, error_class=result.error_class, error=result.error
            )
            return failed, None
        new_url = self._new_feed_url(source, result)
        if result.outcome is not FetchOutcome.OK:
            return decide.plan_not_modified(source, result, now, new_feed_url=new_url), None
        assert result.body is not None and digested is not None
        if digested.feed is None:
            if digested.error_kind == NotAFeedError.kind:
                error = html_diagnosis(result.body, result.final_url)
            else:
                error = f"{result.final_url} is not a readable feed: {digested.error}"
            failed = decide.plan_failure(
                source,
                result,
                now,
                error_class=digested.error_kind,
                error=error,
                clear_cache_state=True,
            )
            return failed, None
        entries = digested.entries
        existing = self.store.existing_entries(
            source.id,
            keys=[e.key for e in entries],
            urls=[e.url for e in entries],
            title_date_hashes=[e.title_date_hash for e in entries],
            raw_hashes=digested.known,
        )
        known_hashes = set(digested.known)
        known = [e for e in existing if e.raw_hash in known_hashes]
        planned = decide.plan_entries(
            source,
            result,
            digested.feed,
            entries,
            existing,
            now,
            new_feed_url=new_url,
            known=known,
        )
        return planned, digested.feed

    async def _suggest_new_feed(
        self, source: Source, result: FetchResult, plan: UpdatePlan
    ) -> UpdatePlan:
        """Run discovery on the source's site and name the feed it finds in the error."""
        from netplanet.update.discovery import discover_feed

        site = source.site_url or _origin(source.feed_url)
        try:
            found = await discover_feed(self.fetcher, site)
        except DiscoveryError:
            return plan
        if found.feed_url in (source.feed_url, result.final_url):
            return plan
        suggestion = suggest_feed(found.feed_url)
        error = f"{plan.source.last_error}; the site {site} now names a feed {suggestion}"
        return dataclasses.replace(plan, source=dataclasses.replace(plan.source, last_error=error))

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
        return sealed
