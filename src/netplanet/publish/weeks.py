"""ISO weeks (pure): the digest's unit of time, from Monday 00:00 UTC to the next Monday.

Kept apart from publish/weekly.py so the sealing timer of every update (freezing the week that
ended) does not import the digest's rendering and the enrich modules it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from netplanet.errors import UsageError

_WEEK_RE = re.compile(r"\A(\d{4})-[wW](\d{1,2})\Z", re.ASCII)
_WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True, order=True)
class Week:
    """An ISO week: Monday 00:00 UTC to the next Monday."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """`2026-W48` or `2026-w48`; UsageError naming the value otherwise."""
        shown = text if len(text) <= 40 else text[:40] + "…"
        match = _WEEK_RE.match(text.strip())
        if match is None:
            raise UsageError(f"{shown!r} is not a week; give an ISO week like 2026-W48")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise UsageError(
                f"{shown!r} is not a week: {year} has weeks 01 to {weeks_in(year)}"
                if 1 <= year <= 9998
                else f"{shown!r} is not a week; give an ISO week like 2026-W48"
            ) from None
        return cls(year, number)

    @classmethod
    def of(cls, when: datetime) -> Week:
        year, number, _ = when.astimezone(UTC).isocalendar()
        return cls(year, number)

    @property
    def start(self) -> datetime:
        day = date.fromisocalendar(self.year, self.number, 1)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + _WEEK

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def slug(self) -> str:
        return self.label.lower()

    @property
    def href(self) -> str:
        return f"/digest/{self.slug}/"

    @property
    def span(self) -> str:
        """`23–29 November 2026`, `30 November – 6 December 2026`, `28 Dec 2026 – 3 Jan 2027`."""
        first, last = self.start, self.end - timedelta(days=1)
        if first.year != last.year:
            return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"
        if first.month != last.month:
            return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
        return f"{first.day}–{last.day} {last:%B %Y}"

    def previous(self) -> Week:
        return Week.of(self.start - _WEEK)

    def next(self) -> Week:
        return Week.of(self.end)

    def finished(self, now: datetime) -> bool:
        return now >= self.end


def weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def last_finished(now: datetime) -> Week:
    """The newest week that is over at `now`."""
    return Week.of(now).previous()
