"""schedule.py: adaptive intervals, feed and HTTP hints, back-off, dead sources, jitter.

Pure functions with a fixed clock (NOW) and a fixed or hypothesis-drawn random source.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders import NOW
from netplanet.schedule import (
    DAY_S,
    Decision,
    Hints,
    Policy,
    after_failure,
    after_success,
    cache_lifetime_s,
    ewma,
    feed_hint_s,
    interval_s,
    rate_interval_s,
    syndication_s,
)

POLICY = Policy(min_interval_s=900, max_interval_s=4 * 3600, default_interval_s=1800, jitter=0.1)
MID = lambda: 0.5  # noqa: E731 -- a random source that gives no jitter at all
NO_HINTS = Hints()


def wait(decision: Decision) -> float:
    return (decision.next_poll_at - NOW).total_seconds()


# --------------------------------------------------------------------------- posting rate


def test_busy_feed_is_polled_every_min_interval() -> None:
    assert rate_interval_s(100.0, POLICY) == 900


def test_twenty_posts_a_day_is_about_every_eighteen_minutes() -> None:
    assert rate_interval_s(20.0, POLICY) == pytest.approx(DAY_S / 80)


def test_monthly_blog_is_polled_every_max_interval() -> None:
    assert rate_interval_s(1 / 30, POLICY) == 4 * 3600


def test_silent_feed_is_polled_every_max_interval() -> None:
    assert rate_interval_s(0.0, POLICY) == 4 * 3600


def test_unknown_rate_uses_the_default_interval() -> None:
    assert rate_interval_s(None, POLICY) == 1800


# --------------------------------------------------------------------------- hints


def test_ttl_is_a_lower_bound() -> None:
    assert interval_s(100.0, Hints(ttl_minutes=60), POLICY) == 3600


def test_hints_never_push_past_max_interval() -> None:
    assert interval_s(100.0, Hints(ttl_minutes=60 * 24 * 7), POLICY) == 4 * 3600


@pytest.mark.parametrize(
    ("period", "frequency", "expected"),
    [("hourly", 1, 3600), ("daily", 2, DAY_S / 2), ("Weekly", None, 7 * DAY_S), ("bogus", 1, None)],
)
def test_syndication_period(period: str, frequency: int | None, expected: float | None) -> None:
    assert syndication_s(period, frequency) == expected


def test_syndication_hint_raises_the_interval() -> None:
    hints = Hints(update_period="hourly", update_frequency=1)
    assert interval_s(50.0, hints, POLICY) == 3600


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=3600"}, 3600),
        ({"cache-control": "max-age=3600", "age": "600"}, 3000),
        ({"cache-control": "no-cache, max-age=3600"}, None),
        ({"cache-control": "max-age=0"}, None),
        ({"expires": "Sun, 01 Nov 2026 14:00:00 GMT"}, 7200),
        ({"expires": "0"}, None),
        ({"expires": "Sun, 01 Nov 2026 10:00:00 GMT"}, None),
        ({}, None),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: float | None) -> None:
    assert cache_lifetime_s(headers, NOW) == expected


def test_cache_control_raises_the_interval() -> None:
    hints = Hints(cache_lifetime_s=cache_lifetime_s({"cache-control": "max-age=7200"}, NOW))
    assert wait(after_success(NOW, posts_per_day=50, hints=hints, policy=POLICY, rand=MID)) == 7200


def test_feed_hint_takes_the_longest() -> None:
    assert feed_hint_s(Hints(ttl_minutes=30, cache_lifetime_s=4000)) == 4000
    assert feed_hint_s(NO_HINTS) is None


def test_retry_after_is_honoured_beyond_max_interval() -> None:
    hints = Hints(retry_after_s=6 * 3600)
    decision = after_success(NOW, posts_per_day=50, hints=hints, policy=POLICY, rand=MID)
    assert wait(decision) == 6 * 3600


def test_retry_after_is_capped_by_backoff_max() -> None:
    hints = Hints(retry_after_s=30 * DAY_S)
    decision = after_failure(
        NOW,
        consecutive_failures=1,
        failing_since=NOW,
        posts_per_day=1,
        hints=hints,
        policy=POLICY,
        rand=MID,
    )
    assert wait(decision) == POLICY.backoff_max_s


# --------------------------------------------------------------------------- failures


def _fail(n: int, since_s: float = 0, rate: float | None = 100.0) -> float:
    decision = after_failure(
        NOW,
        consecutive_failures=n,
        failing_since=NOW - timedelta(seconds=since_s),
        posts_per_day=rate,
        hints=NO_HINTS,
        policy=POLICY,
        rand=MID,
    )
    return wait(decision)


def test_failures_back_off_exponentially() -> None:
    assert [_fail(n) for n in (1, 2, 3, 4)] == [900, 1800, 3600, 7200]


def test_backoff_is_capped() -> None:
    assert _fail(40) == POLICY.backoff_max_s == DAY_S


def test_source_failing_for_the_dead_period_is_dead_and_retried_daily() -> None:
    decision = after_failure(
        NOW,
        consecutive_failures=3,
        failing_since=NOW - timedelta(days=7),
        posts_per_day=1,
        hints=NO_HINTS,
        policy=POLICY,
        rand=MID,
    )
    assert decision.dead and wait(decision) == DAY_S


def test_source_failing_just_under_the_dead_period_is_not_dead() -> None:
    decision = after_failure(
        NOW,
        consecutive_failures=3,
        failing_since=NOW - timedelta(days=7) + timedelta(seconds=1),
        posts_per_day=1,
        hints=NO_HINTS,
        policy=POLICY,
        rand=MID,
    )
    assert not decision.dead


def test_ewma() -> None:
    assert ewma(None, 100) == 100
    assert ewma(100, 200, alpha=0.5) == 150


# --------------------------------------------------------------------------- properties

rates = st.one_of(st.none(), st.floats(min_value=0, max_value=10_000, allow_nan=False))
hints_st = st.builds(
    Hints,
    ttl_minutes=st.one_of(st.none(), st.integers(min_value=-5, max_value=100_000)),
    update_period=st.sampled_from(["", "hourly", "daily", "weekly", "monthly", "junk"]),
    update_frequency=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    cache_lifetime_s=st.one_of(st.none(), st.floats(min_value=0, max_value=1e8)),
)
policies = st.builds(
    lambda lo, span, jitter: Policy(
        min_interval_s=lo, max_interval_s=lo + span, default_interval_s=lo, jitter=jitter
    ),
    st.floats(min_value=1, max_value=3600),
    st.floats(min_value=0, max_value=DAY_S),
    st.floats(min_value=0, max_value=0.5),
)
unit = st.floats(min_value=0, max_value=1, exclude_max=True)


@given(rate=rates, hints=hints_st, policy=policies, r=unit)
def test_success_interval_is_within_bounds_and_jitter(
    rate: float | None, hints: Hints, policy: Policy, r: float
) -> None:
    decision = after_success(NOW, posts_per_day=rate, hints=hints, policy=policy, rand=lambda: r)
    waited = wait(decision)
    assert policy.min_interval_s - 1e-6 <= waited <= policy.max_interval_s + 1e-6
    assert policy.min_interval_s <= decision.interval_s <= policy.max_interval_s
    assert abs(waited - decision.interval_s) <= policy.jitter * decision.interval_s + 1e-6


@given(
    rate=rates,
    policy=policies,
    r=unit,
    failures=st.integers(min_value=1, max_value=10_000),
    failing_for=st.floats(min_value=0, max_value=30 * DAY_S),
)
def test_failure_interval_is_within_backoff_bounds_and_jitter(
    rate: float | None, policy: Policy, r: float, failures: int, failing_for: float
) -> None:
    decision = after_failure(
        NOW,
        consecutive_failures=failures,
        failing_since=NOW - timedelta(seconds=failing_for),
        posts_per_day=rate,
        hints=NO_HINTS,
        policy=policy,
        rand=lambda: r,
    )
    waited = wait(decision)
    assert abs(waited - decision.interval_s) <= policy.jitter * decision.interval_s + 1e-6
    if decision.dead:
        assert failing_for >= policy.dead_after_s
    else:
        assert policy.min_interval_s - 1e-6 <= waited <= policy.backoff_max_s + 1e-6
