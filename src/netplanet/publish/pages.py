"""Pagination arithmetic and cursors for the website (pure: no store, no clock).

The scheme (docs/pagination.md): sealed entries have stable positions 1..top; numbered page N
holds positions ((N-1)*P, N*P], so page 1 is the oldest and only the newest numbered page can be
partial. The head of a list (home page, category front page) and the lists without positions
(source pages, month archives) are read with a (published, id) keyset cursor instead, written in
URLs as `?before=<published-iso>_<id>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Cursor",
    "DateSpan",
    "Pager",
    "month_bounds",
    "page_bounds",
    "page_count",
    "page_of",
]

DEFAULT_PAGE_SIZE = 30

# ASCII digits only (\d alone also matches other scripts' digits, which int() accepts).
_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z)_(\d{1,18})$", re.ASCII)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: entries strictly older than (published, id) come next."""

    published: datetime
    id: int

    def encode(self) -> str:
        """`2026-11-01T10:00:00Z_123` — readable, URL-safe, and exact to the microsecond."""
        when = self.published.astimezone(UTC).replace(tzinfo=None)
        return f"{when.isoformat()}Z_{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """The cursor in `text`, or None when it is not one we could have written."""
        match = _CURSOR.match(text)
        if match is None:
            return None
        try:
            when = datetime.fromisoformat(match.group(1).removesuffix("Z"))
        except ValueError:  # e.g. month 13: the pattern checks the shape, not the calendar
            return None
        return cls(published=when.replace(tzinfo=UTC), id=int(match.group(2)))


@dataclass(frozen=True, slots=True)
class Pager:
    """The navigation under a list of posts. Links are site-relative URLs, None when absent."""

    newer: str | None = None
    older: str | None = None
    label: str = ""
    """e.g. "Page 3 of 12"; empty on keyset pages, which have no number."""


@dataclass(frozen=True, slots=True)
class DateSpan:
    """The first and last publication dates of a numbered page's posts."""

    first: datetime
    last: datetime

    @classmethod
    def of(cls, dates: list[datetime]) -> DateSpan | None:
        return cls(min(dates), max(dates)) if dates else None

    @property
    def first_day(self) -> str:
        return _day(self.first)

    @property
    def last_day(self) -> str:
        return _day(self.last)

    @property
    def text(self) -> str:
        """ "3 Mar 2024 to 18 Apr 2024", or one date when every post is from the same day."""
        first, last = self.first_day, self.last_day
        return first if first == last else f"{first} to {last}"


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _day(when: datetime) -> str:
    # Not strftime's %b: that follows the process locale.
    when = when.astimezone(UTC)
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}"


def page_of(seq: int, page_size: int) -> int:
    """The numbered page holding stable position `seq` (1-based)."""
    return (seq - 1) // page_size + 1


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    """(low, high): page `page` holds positions low < seq <= high."""
    return (page - 1) * page_size, page * page_size


def page_count(top: int, page_size: int) -> int:
    """How many numbered pages positions 1..top fill (the last one may be partial)."""
    return (top + page_size - 1) // page_size


def month_bounds(year: int, month: int) -> tuple[datetime, datetime] | None:
    """[start, end) of a calendar month in UTC, or None for an impossible month."""
    if not (1 <= month <= 12 and 1970 <= year <= 9998):
        return None
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
