"""The pure view-model helpers behind the pages (netplanet.publish.pages / .posts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from netplanet.model import Enclosure
from netplanet.publish.pages import Cursor, month_bounds, page_bounds, page_count, page_of
from netplanet.publish.posts import format_duration, is_media, relative_time, safe_url

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(hours=30), "yesterday"),
        (timedelta(days=6), "6 days ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_relative_time(age: timedelta, text: str) -> None:
    assert relative_time(NOW - age, NOW) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0, ""), (59, "0:00:59"), (3725, "1:02:05"), (36000, "10:00:00")],
)
def test_format_duration(seconds: int | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_media_kind_from_type_or_file_name() -> None:
    assert is_media(Enclosure("https://x/a.mp3", "audio/mpeg")) == "Podcast"
    assert is_media(Enclosure("https://x/a.mp4", "video/mp4")) == "Video"
    assert is_media(Enclosure("https://x/a.m4a?x=1", "")) == "Podcast"
    assert is_media(Enclosure("https://x/a.pdf", "application/pdf")) == ""
    assert is_media(None) == ""


def test_safe_url_keeps_only_http() -> None:
    assert safe_url("https://a.example/") == "https://a.example/"
    assert safe_url(" javascript:alert(1)") == ""
    assert safe_url("data:text/html,x") == ""


def test_cursor_round_trip_and_rejects() -> None:
    c = Cursor(published=datetime(2026, 11, 1, 10, 0, 0, 1234, tzinfo=UTC), id=42)
    assert c.encode() == "2026-11-01T10:00:00.001234Z_42"
    assert Cursor.decode(c.encode()) == c
    assert Cursor.decode("2026-11-01T10:00:00Z_7") == Cursor(
        datetime(2026, 11, 1, 10, tzinfo=UTC), 7
    )
    for bad in ("", "x_1", "2026-11-01_1", "2026-02-30T00:00:00Z_1", "2026-11-01T10:00:00+01:00_1"):
        assert Cursor.decode(bad) is None


def test_page_arithmetic() -> None:
    assert [page_of(s, 30) for s in (1, 30, 31, 60, 61)] == [1, 1, 2, 2, 3]
    assert page_bounds(3, 30) == (60, 90)
    assert [page_count(t, 30) for t in (0, 1, 30, 31)] == [0, 1, 1, 2]


def test_month_bounds() -> None:
    assert month_bounds(2026, 12) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert month_bounds(2026, 0) is None
    assert month_bounds(2026, 13) is None


def test_date_span_reads_as_days_in_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from netplanet.publish.pages import DateSpan

    assert DateSpan.of([]) is None
    day = datetime(2024, 3, 3, 23, 30, tzinfo=UTC)
    assert DateSpan.of([day, day.replace(hour=1)]).text == "3 Mar 2024"  # type: ignore[union-attr]
    span = DateSpan.of([datetime(2024, 4, 18, 9, tzinfo=UTC), day])
    assert span is not None and span.text == "3 Mar 2024 to 18 Apr 2024"
    # the same instant written in another zone is still 3 March in UTC
    east = day.astimezone(timezone(timedelta(hours=5)))
    assert DateSpan(east, east).text == "3 Mar 2024"
