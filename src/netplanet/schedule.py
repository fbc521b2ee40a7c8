"""When to poll a source next: pure arithmetic, with `now` and the random source passed in.

Rules (docs/design-notes.md, "Scheduling"):

* A healthy source's interval follows its posting rate: about `POLLS_PER_POST` polls per
  expected post (86400 / (posts_per_day * 4) seconds), so a feed posting 20 times a day is
  polled every ~18 min and a monthly blog every `max_interval_s`. A source whose rate is not
  known yet (never read) uses `default_interval_s`.
* The feed's own hints are lower bounds (never poll sooner than the publisher asks): RSS
  `<ttl>`, `sy:updatePeriod`/`sy:updateFrequency`, HTTP `Cache-Control: max-age` and
  `Expires`. Everything above is then clamped into [min_interval_s, max_interval_s], so a
  feed claiming a one-week ttl is still polled every `max_interval_s`.
* Failures back off exponentially from the normal interval (x2 per consecutive failure),
  capped at `backoff_max_s`. A source failing for `dead_after_s` is dead: retried every
  `dead_retry_s`.
* `Retry-After` (429/503) is a hard lower bound, capped at `backoff_max_s`.
* Jitter: every interval is multiplied by a factor in [1 - jitter, 1 + jitter] and clamped
  back into its bounds, so sources added together do not stay in lockstep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from netplanet.settings import Settings, setting_default

DAY_S = 86400.0
POLLS_PER_POST = 4
"""Polls per expected post: a post is seen on average within a quarter of its gap."""
RATE_WINDOW_DAYS = 30
"""The posting rate is the number of posts published in the last 30 days, per day."""

_PERIODS = {
    "hourly": 3600.0,
    "daily": DAY_S,
    "weekly": 7 * DAY_S,
    "monthly": 30 * DAY_S,
    "yearly": 365 * DAY_S,
}
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)

Random = Callable[[], float]
"""Returns a float in [0, 1), like random.random."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The scheduling knobs (from Settings; see settings.py for each one's meaning)."""

    # The defaults are the settings' defaults: Policy() == Policy.from_settings(Settings()).
    min_interval_s: float = setting_default("min_interval_s")
    max_interval_s: float = setting_default("max_interval_s")
    default_interval_s: float = float(setting_default("update_interval_s"))
    backoff_max_s: float = setting_default("backoff_max_s")
    dead_after_s: float = setting_default("dead_after_s")
    dead_retry_s: float = setting_default("dead_retry_s")
    jitter: float = setting_default("jitter")

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            min_interval_s=settings.min_interval_s,
            max_interval_s=settings.max_interval_s,
            default_interval_s=float(settings.update_interval_s),
            backoff_max_s=settings.backoff_max_s,
            dead_after_s=settings.dead_after_s,
            dead_retry_s=settings.dead_retry_s,
            jitter=settings.jitter,
        )


@dataclass(frozen=True, slots=True)
class Hints:
    """What the publisher said about polling, from the feed and the HTTP response."""

    ttl_minutes: int | None = None
    update_period: str = ""
    update_frequency: int | None = None
    cache_lifetime_s: float | None = None
    """From Cache-Control max-age, else Expires."""
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    next_poll_at: datetime
    interval_s: float
    """The interval before jitter (what the health page calls the source's poll interval)."""
    dead: bool = False


def cache_lifetime_s(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response may be cached (lower-case header names), or None."""
    control = headers.get("cache-control", "")
    if _NO_CACHE.search(control):
        return None
    found = _MAX_AGE.search(control)
    if found:
        age_header = headers.get("age", "")
        age = float(age_header) if age_header.isdigit() else 0.0
        return max(0.0, float(found.group(1)) - age) or None
    expires = headers.get("expires")
    if not expires:
        return None
    try:
        when = parsedate_to_datetime(expires)
    except (TypeError, ValueError, IndexError):
        return None  # "Expires: 0" and other junk mean "already expired"
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds()) or None


def syndication_s(period: str, frequency: int | None) -> float | None:
    """sy:updatePeriod / sy:updateFrequency as seconds between updates."""
    base = _PERIODS.get(period.strip().lower())
    if base is None:
        return None
    return base / max(1, frequency or 1)


def feed_hint_s(hints: Hints) -> float | None:
    """The longest "do not poll before" the publisher gave, or None."""
    found = [
        value
        for value in (
            hints.ttl_minutes * 60.0 if hints.ttl_minutes and hints.ttl_minutes > 0 else None,
            syndication_s(hints.update_period, hints.update_frequency),
            hints.cache_lifetime_s,
        )
        if value
    ]
    return max(found) if found else None


def rate_interval_s(posts_per_day: float | None, policy: Policy) -> float:
    """The interval the posting rate alone asks for, clamped into [min, max]."""
    if posts_per_day is None:
        wanted = policy.default_interval_s
    elif posts_per_day <= 0:
        wanted = policy.max_interval_s
    else:
        wanted = DAY_S / (posts_per_day * POLLS_PER_POST)
    return _clamp(wanted, policy.min_interval_s, policy.max_interval_s)


def interval_s(posts_per_day: float | None, hints: Hints, policy: Policy) -> float:
    """A healthy source's interval: posting rate, raised by the feed's hints, within bounds."""
    wanted = rate_interval_s(posts_per_day, policy)
    hint = feed_hint_s(hints)
    if hint is not None:
        wanted = max(wanted, hint)
    return _clamp(wanted, policy.min_interval_s, policy.max_interval_s)


def jittered(base: float, jitter: float, rand: Random, low: float, high: float) -> float:
    """base x a factor in [1 - jitter, 1 + jitter], clamped into [low, high]."""
    factor = 1.0 + jitter * (2.0 * rand() - 1.0)
    return _clamp(base * factor, low, high)


def is_dead(failing_since: datetime | None, now: datetime, policy: Policy) -> bool:
    return failing_since is not None and (now - failing_since).total_seconds() >= (
        policy.dead_after_s
    )


def after_success(
    now: datetime,
    *,
    posts_per_day: float | None,
    hints: Hints,
    policy: Policy,
    rand: Random,
) -> Decision:
    base = interval_s(posts_per_day, hints, policy)
    wait = jittered(base, policy.jitter, rand, policy.min_interval_s, policy.max_interval_s)
    return _with_retry_after(now, Decision(now + timedelta(seconds=wait), base), hints, policy)


def after_failure(
    now: datetime,
    *,
    consecutive_failures: int,
    failing_since: datetime | None,
    posts_per_day: float | None,
    hints: Hints,
    policy: Policy,
    rand: Random,
) -> Decision:
    """`consecutive_failures` counts this failure too; `failing_since` is the first one's time."""
    if is_dead(failing_since, now, policy):
        base = policy.dead_retry_s
        spread = policy.jitter * base
        wait = jittered(base, policy.jitter, rand, base - spread, base + spread)
        decision = Decision(now + timedelta(seconds=wait), base, dead=True)
        return _with_retry_after(now, decision, hints, policy)
    normal = rate_interval_s(posts_per_day, policy)
    doublings = min(max(0, consecutive_failures - 1), 32)  # 2**32 x anything exceeds the cap
    base = min(policy.backoff_max_s, normal * 2.0**doublings)
    wait = jittered(base, policy.jitter, rand, policy.min_interval_s, policy.backoff_max_s)
    return _with_retry_after(now, Decision(now + timedelta(seconds=wait), base), hints, policy)


def _with_retry_after(now: datetime, decision: Decision, hints: Hints, policy: Policy) -> Decision:
    if not hints.retry_after_s or hints.retry_after_s <= 0:
        return decision
    asked = now + timedelta(seconds=min(hints.retry_after_s, policy.backoff_max_s))
    if asked <= decision.next_poll_at:
        return decision
    return Decision(asked, decision.interval_s, decision.dead)


def ewma(previous: float | None, sample: float, alpha: float = 0.3) -> float:
    """Exponentially weighted moving average (the first sample starts it)."""
    if previous is None:
        return float(sample)
    return alpha * sample + (1 - alpha) * previous


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
