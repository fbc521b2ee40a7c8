"""update/dating.py: where a post without a date of its own is placed (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from builders import NOW, make_entry
from netplanet.model import Entry, ParsedFeed, Source
from netplanet.update.dating import UNKNOWN, date_undated

SEEN = Source(id=1, feed_url="https://a.example/feed", title="", site_url="", category="", slug="a")
LAST_POLL = NOW - timedelta(hours=2)


def _undated(n: int) -> Entry:
    return make_entry(1, n, published=NOW, date_from_feed=False)


def _place(
    new: list[Entry], *, feed_date: datetime | None = None, polled: datetime | None = None
) -> list[tuple[datetime, bool]]:
    source = replace(SEEN, last_success_at=polled)
    placed = date_undated(
        new, fetched=new, parsed=ParsedFeed("rss20", updated=feed_date), source=source, now=NOW
    )
    return [(e.published, e.date_known) for e in placed]


def test_dated_posts_are_left_alone() -> None:
    dated = make_entry(1, 3)
    assert _place([dated]) == [(dated.published, True)]


def test_later_poll_stale_or_future_feed_dates_give_the_fetch_time() -> None:
    for feed_date in (LAST_POLL - timedelta(days=30), NOW + timedelta(days=900), None):
        assert _place([_undated(1)], feed_date=feed_date, polled=LAST_POLL) == [(NOW, True)]


def test_later_poll_feed_date_inside_the_window_is_used() -> None:
    between = LAST_POLL + timedelta(minutes=30)
    placed = _place([_undated(1), _undated(2)], feed_date=between, polled=LAST_POLL)
    assert placed == [(between, True), (between - timedelta(seconds=1), True)]


def test_first_read_without_evidence_is_filed_from_unknown_upwards_in_feed_order() -> None:
    placed = _place([_undated(1), _undated(2), _undated(3)])
    assert [p for p, _ in placed] == [UNKNOWN + timedelta(seconds=s) for s in (2, 1, 0)]
    assert not any(known for _, known in placed)


def test_first_read_future_feed_date_is_clamped_and_then_too_fresh_to_count() -> None:
    assert _place([_undated(1)], feed_date=datetime(2031, 1, 1, tzinfo=UTC))[0][0] == UNKNOWN


def test_first_read_goes_below_the_oldest_dated_post_and_an_old_feed_date() -> None:
    old = NOW - timedelta(days=400)
    new = [_undated(1), make_entry(1, 5), make_entry(1, 9)]
    assert _place(new)[0] == (make_entry(1, 9).published - timedelta(seconds=1), False)
    assert _place(new, feed_date=old)[0] == (old - timedelta(seconds=1), False)
