"""parse_date: every date form feeds use -> aware UTC datetime; None (never an exception) else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplanet.parse.dates import parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sun, 17 Aug 2008 16:51:14 +0200", datetime(2008, 8, 17, 14, 51, 14, tzinfo=UTC)),
        ("Sun, 17 Aug 2008 16:51:14 GMT", datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)),
        ("Sun, 17 Aug 2008 16:51 EDT", datetime(2008, 8, 17, 20, 51, tzinfo=UTC)),
        ("Fri 3 Dec 2010 04:30:00 GMT", datetime(2010, 12, 3, 4, 30, tzinfo=UTC)),
        ("03 Apr 02 1500 GMT", datetime(2002, 4, 3, 15, 0, tzinfo=UTC)),
        ("Sun Aug 17 16:51:14 UTC 2008", datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)),
        ("Sat Oct 03 2015 00:00:00 GMT+0200 (CEST)", datetime(2015, 10, 2, 22, 0, tzinfo=UTC)),
        ("2018-12-13 00:00:00", datetime(2018, 12, 13, tzinfo=UTC)),
        ("2008-08-17T16:51:14Z", datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)),
        ("2008-08-17T16:51:14.5-05:00", datetime(2008, 8, 17, 21, 51, 14, 500000, tzinfo=UTC)),
        ("2008-08-17T16:51:14.123456789+00:00", datetime(2008, 8, 17, 16, 51, 14, 123456, UTC)),
        ("2008-08-17 16:51:14 +0200", datetime(2008, 8, 17, 14, 51, 14, tzinfo=UTC)),
        ("20080817T165114Z", datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)),
        ("2008-08-17", datetime(2008, 8, 17, tzinfo=UTC)),
        ("Mo, 17 Mär 2008 10:00:00 +0100", datetime(2008, 3, 17, 9, 0, tzinfo=UTC)),
        ("mardi, 5 août 2008 10:00 CEST", datetime(2008, 8, 5, 8, 0, tzinfo=UTC)),
        ("lunes, 7 de enero de 2019 10:00:00 +0000", datetime(2019, 1, 7, 10, 0, tzinfo=UTC)),
        ("10-Jun-2003", datetime(2003, 6, 10, tzinfo=UTC)),
        ("Mon, 12 Jan 2009 3:45 PM EST", datetime(2009, 1, 12, 20, 45, tzinfo=UTC)),
        ("1218991874", datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)),
    ],
)
def test_known_date_forms(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "not a date", "Sun, 32 Aug 2008 16:51:14 +0200", "2008-13-45T00:00:00Z", "Aug"],
)
def test_unreadable_dates_are_none(text: str) -> None:
    assert parse_date(text) is None


@given(st.text(max_size=80))
def test_parse_date_never_raises_and_is_utc(text: str) -> None:
    value = parse_date(text)
    assert value is None or value.tzinfo is UTC
