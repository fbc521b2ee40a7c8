"""The decider: old state + what one poll found + now -> an UpdatePlan. Pure: no I/O, no clock.

Identity rules (so feeds that rewrite or omit GUIDs produce no duplicates):
1. an entry whose key ("g:<guid>", else "u:<url>", else "h:<hash>") is stored is that entry;
2. else one whose canonical URL is stored (unless several entries of this fetch share the URL);
3. else one whose title+date hash is stored (unless shared in this fetch).
A stored entry keeps its key, id and first-seen time forever; edits update its other fields.

Entries the digest did not enrich because their raw hash is stored (`known`) are that stored
entry, unchanged: they claim it before any identity rule runs and are never rewritten.
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
from netplanet.model import (
    Entry,
    ExistingEntry,
    FetchOutcome,
    FetchResult,
    ParsedFeed,
    Source,
    SourceUpdate,
    UpdatePlan,
)
from netplanet.sources.bounds import bound_title
from netplanet.sources.slug import slugify
from netplanet.untrusted import http_url, plain_text
from netplanet.update.dating import date_undated


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
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=result.body_hash,
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
    if result.outcome is FetchOutcome.NOT_MODIFIED:
        # A 304 carries no body: keep the stored hash and validators the server did not resend.
        update = dataclasses.replace(
            update,
            body_hash=None,
            etag=result.etag or None,
            last_modified=result.last_modified or None,
        )
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
) -> UpdatePlan:
    """The plan with its next poll (schedule.py) and the source's health averages filled in.

    `recent_posts` counts the source's posts published in the last RATE_WINDOW_DAYS, new ones
    included (None when unknown, e.g. after a failure: the stored rate is kept).
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
    )
    return dataclasses.replace(plan, source=updated)
