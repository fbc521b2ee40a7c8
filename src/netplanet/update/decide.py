"""The decider: old state + what one poll found + now -> an UpdatePlan. Pure: no I/O, no clock.

Identity rules (so feeds that rewrite or omit GUIDs produce no duplicates):
1. an entry whose key ("g:<guid>", else "u:<url>", else "h:<hash>") is stored is that entry;
2. else one whose canonical URL is stored (unless several entries of this fetch share the URL);
3. else one whose title+date hash is stored (unless shared in this fetch).
A stored entry keeps its key, id and first-seen time forever; edits update its other fields.

Entries the digest did not enrich because their raw hash is stored (`known`) are that stored
entry, unchanged: they claim it before any identity rule runs and are never rewritten.

Every decision of a poll is made here, in the order update/pipeline.py asks for them (it
fetches what each one needs in between): what the fetch and its digest mean (`plan_poll`),
whether the posting rate must be counted again (`rate_needs_count`, `posting_rate`), the next
poll (`schedule_plan`), whether the feed may have moved (`looks_moved`, `suggest_moved_feed`)
and what the poll is reported as (`poll_outcome`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from netplanet import schedule
from netplanet.enrich.identity import as_edit
from netplanet.errors import HTTP_STATUS_KIND, NotAFeedError
from netplanet.model import (
    Entry,
    ExistingEntry,
    FetchOutcome,
    FetchResult,
    ParsedFeed,
    PollOutcome,
    Source,
    SourceUpdate,
    UpdatePlan,
)
from netplanet.sources.bounds import bound_title
from netplanet.sources.discover import find_feed_links, suggest_feed
from netplanet.sources.slug import slugify
from netplanet.untrusted import http_url, plain_text
from netplanet.update.dating import date_undated
from netplanet.update.digest import Digest

RATE_WINDOW = timedelta(days=schedule.RATE_WINDOW_DAYS)


def _is_home_page(url: str) -> bool:
    """Linkless entries fall back to the site's URL, which identifies no single post."""
    try:
        return urlsplit(url).path in ("", "/")
    except ValueError:  # e.g. "https://a.ex]ample/1" from a feed: a link, if a broken one
        return False


def _attempt(result: FetchResult, now: datetime, **fields: Any) -> SourceUpdate:
    """A SourceUpdate recording this attempt, plus the outcome-specific fields."""
    return SourceUpdate(
        last_fetched_at=now,
        last_status=result.status,
        last_bytes=result.bytes_received,
        last_duration_ms=result.duration_ms,
        **fields,
    )


def plan_failure(
    source: Source,
    result: FetchResult,
    now: datetime,
    *,
    error_class: str,
    error: str,
    clear_cache_state: bool = False,
) -> UpdatePlan:
    """A poll that failed (network, HTTP, parse): count it and keep the entries as they are."""
    next_poll = None
    if result.retry_after_s:
        next_poll = now + timedelta(seconds=result.retry_after_s)
    update = _attempt(
        result,
        now,
        last_error_class=error_class,
        last_error=error,
        consecutive_failures=source.consecutive_failures + 1,
        next_poll_at=next_poll,
        clear_cache_state=clear_cache_state,
        failing_since=source.failing_since or now,
    )
    return UpdatePlan(source_id=source.id, source=update)


def plan_gone(source: Source, result: FetchResult, now: datetime) -> UpdatePlan:
    """410 Gone: the publisher removed the feed, so stop polling it."""
    reason = (
        f"HTTP 410 Gone at {result.final_url}: the feed was removed; "
        "re-enable the source if it comes back"
    )
    update = _attempt(
        result,
        now,
        last_error_class="gone",
        last_error=reason,
        consecutive_failures=source.consecutive_failures + 1,
        enabled=False,
        disabled_reason=reason,
        failing_since=source.failing_since or now,
    )
    return UpdatePlan(source_id=source.id, source=update)


def _host_slug(url: str | None) -> str:
    host = urlsplit(url).hostname if url else None
    return slugify(host.removeprefix("www."), fallback="") if host else ""


def _success_update(
    source: Source,
    result: FetchResult,
    now: datetime,
    parsed: ParsedFeed | None,
    *,
    new_feed_url: str | None,
) -> SourceUpdate:
    # A 304 carries no body: the stored hash, and the validators the server did not resend,
    # are kept (None leaves a column as it is).
    not_modified = result.outcome is FetchOutcome.NOT_MODIFIED
    title = site_url = slug_base = None
    if parsed is not None:
        # The feed names the source: plain, bounded text and an http(s) link only.
        if not source.site_url:
            site_url = http_url(parsed.link, result.final_url) or None
        if not source.title:
            title = bound_title(plain_text(parsed.title)) or None
            # Added without a title, the source was named by its feed's host ("127-0-0-1-72"):
            # its first successful poll gives it the feed's name, or for a feed without one
            # its website's host. Later polls never move it.
            if source.last_success_at is None:
                base = slugify(title) if title else _host_slug(site_url)
                if base and base != source.slug and not source.slug.startswith(base + "-"):
                    slug_base = base
    return _attempt(
        result,
        now,
        last_error_class="",
        last_error="",
        consecutive_failures=0,
        last_success_at=now,
        feed_url=new_feed_url,
        etag=(result.etag or None) if not_modified else result.etag,
        last_modified=(result.last_modified or None) if not_modified else result.last_modified,
        body_hash=None if not_modified else result.body_hash,
        title=title,
        site_url=site_url,
        slug_base=slug_base,
    )


def plan_not_modified(
    source: Source, result: FetchResult, now: datetime, *, new_feed_url: str | None = None
) -> UpdatePlan:
    """304 or an unchanged body: a success that changes no entries."""
    assert result.outcome in (FetchOutcome.NOT_MODIFIED, FetchOutcome.UNCHANGED)
    update = _success_update(source, result, now, None, new_feed_url=new_feed_url)
    return UpdatePlan(source_id=source.id, source=update)


def plan_entries(
    source: Source,
    result: FetchResult,
    parsed: ParsedFeed,
    entries: Sequence[Entry],
    existing: Sequence[ExistingEntry],
    now: datetime,
    *,
    new_feed_url: str | None = None,
    known: Sequence[ExistingEntry] = (),
) -> UpdatePlan:
    """A parsed feed: decide which entries are new, which were edited and which are unchanged.

    `known` are the stored entries that parsed entries left out of `entries` are identical to
    (same raw hash, see update/digest.py): unchanged, and unavailable to other matches.
    """
    by_key = {e.key: e for e in existing}
    by_url = {e.url: e for e in existing}
    by_hash = {e.title_date_hash: e for e in existing}
    claimed = {k.id: k for k in known}
    # The left-out entries still count as this fetch's URLs and hashes (their stored ones:
    # the same input gave the same output), so the "shared in this fetch" rules see them.
    url_counts = Counter(e.url for e in entries)
    url_counts.update(k.url for k in claimed.values())
    hash_counts = Counter(e.title_date_hash for e in entries)
    hash_counts.update(k.title_date_hash for k in claimed.values())

    new: list[Entry] = []
    changed: list[tuple[int, Entry]] = []
    rehashed: list[tuple[int, str]] = []
    unchanged = len(claimed)
    seen_keys: set[str] = {k.key for k in claimed.values()}
    matched_ids: set[int] = set(claimed)
    for entry in entries:
        if entry.key in seen_keys:
            continue  # duplicated GUID inside one feed: the first one wins
        seen_keys.add(entry.key)
        match = by_key.get(entry.key)
        if match is None and url_counts[entry.url] == 1 and not _is_home_page(entry.url):
            match = by_url.get(entry.url)
        if match is None and hash_counts[entry.title_date_hash] == 1:
            match = by_hash.get(entry.title_date_hash)
        if match is None:
            new.append(entry)
            continue
        if match.id in matched_ids:
            continue  # two entries of this fetch resolve to one stored post
        matched_ids.add(match.id)
        kept = as_edit(entry, match)
        if kept is None:
            unchanged += 1
            if entry.raw_hash and match.raw_hash != entry.raw_hash:
                rehashed.append((match.id, entry.raw_hash))
            continue
        changed.append((match.id, kept))

    return UpdatePlan(
        source_id=source.id,
        source=_success_update(source, result, now, parsed, new_feed_url=new_feed_url),
        # Posts without a date of their own are placed by the evidence (update/dating.py).
        new_entries=date_undated(new, fetched=entries, parsed=parsed, source=source, now=now),
        changed_entries=tuple(changed),
        unchanged_entries=unchanged,
        rehashed_entries=tuple(rehashed),
    )


def html_diagnosis(body: bytes, url: str) -> str:
    """The one-line explanation for an HTML page served where a feed was expected."""
    links = find_feed_links(body, url)
    if links:
        return (
            f"{url} returned HTML, not a feed; found <link rel=alternate> {suggest_feed(links[0])}"
        )
    return f"{url} returned HTML, not a feed, and the page names no feed; check the feed URL"


def plan_poll(
    source: Source,
    result: FetchResult,
    now: datetime,
    digested: Digest | None,
    *,
    existing: Sequence[ExistingEntry] = (),
    new_feed_url: str | None = None,
) -> UpdatePlan:
    """What one fetch and its digest (update/digest.py, None unless a new body was read)
    change, before scheduling. `existing` are the stored entries the digested ones may be
    (store.existing_entries); `new_feed_url` is where a permanent redirect moves the source."""
    if result.outcome is FetchOutcome.GONE:
        return plan_gone(source, result, now)
    if result.outcome is FetchOutcome.ERROR:
        return plan_failure(source, result, now, error_class=result.error_class, error=result.error)
    if result.outcome is not FetchOutcome.OK:
        return plan_not_modified(source, result, now, new_feed_url=new_feed_url)
    assert result.body is not None and digested is not None
    if digested.feed is None:
        if digested.error_kind == NotAFeedError.kind:
            error = html_diagnosis(result.body, result.final_url)
        else:
            error = f"{result.final_url} is not a readable feed: {digested.error}"
        return plan_failure(
            source,
            result,
            now,
            error_class=digested.error_kind,
            error=error,
            clear_cache_state=True,
        )
    known_hashes = set(digested.known)
    return plan_entries(
        source,
        result,
        digested.feed,
        digested.entries,
        existing,
        now,
        new_feed_url=new_feed_url,
        known=[e for e in existing if e.raw_hash in known_hashes],
    )


def rate_needs_count(source: Source, plan: UpdatePlan, now: datetime) -> bool:
    """Whether a successful poll must count the posting rate again: entries changed, or the
    stored count may have gone stale (a post left the window). A 304 usually needs no query
    at all; a failure keeps the stored rate."""
    if plan.source.last_error_class:
        return False
    if plan.new_entries or plan.changed_entries or source.posts_per_day is None:
        return True
    return source.rate_valid_until is None or now >= source.rate_valid_until


def posting_rate(
    plan: UpdatePlan, now: datetime, *, stored: int, oldest: datetime | None
) -> tuple[int, datetime]:
    """(posts in the rate window, until when that count holds), from the `stored` posts
    published since `now - RATE_WINDOW` (the oldest of them `oldest`) and the plan's new ones."""
    since = now - RATE_WINDOW
    dates = [e.published for e in plan.new_entries if e.published >= since]
    recent = stored + len(dates)
    if oldest is not None:
        dates.append(oldest)
    # The count holds until its oldest post leaves the window (nothing counted: until a post
    # arrives, which counts again anyway; recounted now and then regardless).
    return recent, min(dates) + RATE_WINDOW if dates else now + RATE_WINDOW


def schedule_plan(
    plan: UpdatePlan,
    source: Source,
    result: FetchResult,
    parsed: ParsedFeed | None,
    *,
    recent_posts: int | None,
    now: datetime,
    policy: schedule.Policy,
    rand: schedule.Random,
    rate_valid_until: datetime | None = None,
) -> UpdatePlan:
    """The plan with its next poll (schedule.py) and the source's health averages filled in.

    `recent_posts` counts the source's posts published in the last RATE_WINDOW_DAYS, new ones
    included (None when unknown, e.g. after a failure: the stored rate is kept);
    `rate_valid_until` is when that count goes stale (see `posting_rate`).
    """
    su = plan.source
    avg_ms = source.avg_response_ms
    if result.status is not None:  # only a response says how fast the server is
        avg_ms = schedule.ewma(avg_ms, result.duration_ms)
    avg_bytes = source.avg_bytes
    if result.outcome in (FetchOutcome.OK, FetchOutcome.UNCHANGED) and result.bytes_received:
        avg_bytes = schedule.ewma(avg_bytes, result.bytes_received)
    rate = source.posts_per_day
    if recent_posts is not None:
        rate = recent_posts / schedule.RATE_WINDOW_DAYS
    hints = schedule.Hints(
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        update_period=parsed.update_period if parsed else "",
        update_frequency=parsed.update_frequency if parsed else None,
        cache_lifetime_s=schedule.cache_lifetime_s(result.headers, now),
        retry_after_s=result.retry_after_s,
    )
    dead_since = None
    if su.enabled is False:  # 410 Gone: no more polls until the operator re-enables it
        decision = None
    elif su.last_error_class:
        decision = schedule.after_failure(
            now,
            consecutive_failures=su.consecutive_failures,
            failing_since=su.failing_since,
            posts_per_day=rate,
            hints=hints,
            policy=policy,
            rand=rand,
        )
        if decision.dead:
            dead_since = source.dead_since or now
    else:
        decision = schedule.after_success(
            now, posts_per_day=rate, hints=hints, policy=policy, rand=rand
        )
    updated = dataclasses.replace(
        su,
        avg_response_ms=avg_ms,
        avg_bytes=avg_bytes,
        posts_per_day=rate,
        poll_interval_s=decision.interval_s if decision else None,
        next_poll_at=decision.next_poll_at if decision else None,
        dead_since=dead_since,
        rate_valid_until=rate_valid_until,
    )
    return dataclasses.replace(plan, source=updated)


def looks_moved(result: FetchResult, plan: UpdatePlan) -> bool:
    """A 404, or HTML that names no feed: the feed may have moved somewhere the site names."""
    kind = plan.source.last_error_class
    if kind == HTTP_STATUS_KIND and result.status == 404:
        return True
    return kind == NotAFeedError.kind and "names no feed" in plan.source.last_error


def discovery_site(source: Source) -> str:
    """Where to look for a moved feed: the source's site, else its feed's origin."""
    if source.site_url:
        return source.site_url
    parts = urlsplit(source.feed_url)
    return f"{parts.scheme}://{parts.netloc}/"


def suggest_moved_feed(
    plan: UpdatePlan, source: Source, result: FetchResult, *, site: str, found: str
) -> UpdatePlan:
    """The plan with its error naming the feed discovery `found` on `site`, for the operator
    to act on; the feed URL itself is never changed this way (only a permanent redirect)."""
    if found in (source.feed_url, result.final_url):
        return plan
    error = f"{plan.source.last_error}; the site {site} now names a feed {suggest_feed(found)}"
    return dataclasses.replace(plan, source=dataclasses.replace(plan.source, last_error=error))


def poll_outcome(result: FetchResult, plan: UpdatePlan) -> PollOutcome:
    """What the poll is reported as."""
    if result.outcome is FetchOutcome.GONE:
        return PollOutcome.GONE
    if plan.source.last_error_class:
        return PollOutcome.FAILED
    if result.outcome is FetchOutcome.OK:
        return PollOutcome.UPDATED
    return PollOutcome(result.outcome.value)
