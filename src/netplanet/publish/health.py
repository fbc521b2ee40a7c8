"""The feed-health view-model shared by /admin/health and `netplanet sources health`.

Pure: sources + now + the slow threshold -> rows with a status, readable durations and sizes,
sorted and filtered the way the page's query string asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from netplanet.model import Source, SourceStatus
from netplanet.sources.discover import suggested_feed

SORT_KEYS = ("status", "title", "failures", "response", "size", "rate", "next", "success")
PROBLEMS = frozenset({SourceStatus.FAILING, SourceStatus.DEAD, SourceStatus.DISABLED})
# Worst first when sorting by status.
_SEVERITY = {
    SourceStatus.DEAD: 0,
    SourceStatus.FAILING: 1,
    SourceStatus.SLOW: 2,
    SourceStatus.DISABLED: 3,
    SourceStatus.NEW: 4,
    SourceStatus.OK: 5,
}


@dataclass(frozen=True, slots=True)
class HealthRow:
    source: Source
    status: SourceStatus
    diagnosis: str
    """The last error (or why the source is disabled); empty when healthy."""
    response: str
    size: str
    rate: str
    next_poll: str
    last_success: str


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def fmt_size(n: float | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_rate(per_day: float | None) -> str:
    if per_day is None:
        return "–"
    if per_day >= 1:
        return f"{per_day:.1f}/day"
    if per_day * 7 >= 1:
        return f"{per_day * 7:.1f}/week"
    return f"{per_day * 30:.1f}/month"


def fmt_when(when: datetime | None, now: datetime, *, never: str = "never") -> str:
    """A short relative time: "in 14 min", "3 h ago"."""
    if when is None:
        return never
    seconds = (when - now).total_seconds()
    span = abs(seconds)
    if span < 60:
        text = f"{span:.0f} s"
    elif span < 3600:
        text = f"{span / 60:.0f} min"
    elif span < 2 * 86400:
        text = f"{span / 3600:.1f} h"
    else:
        text = f"{span / 86400:.0f} days"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def health_row(source: Source, now: datetime, slow_response_ms: float) -> HealthRow:
    status = source.health(slow_response_ms)
    diagnosis = source.last_error if source.consecutive_failures else ""
    if status is SourceStatus.NEW:
        diagnosis = source.last_error  # e.g. "feed URL changed from …; not polled since"
    if status is SourceStatus.DISABLED:
        diagnosis = source.disabled_reason or "disabled"
    elif status is SourceStatus.SLOW:
        diagnosis = f"average response time {fmt_ms(source.avg_response_ms)}"
    if status is SourceStatus.DEAD:
        diagnosis = f"dead (retried daily): {diagnosis}"
    if status is SourceStatus.DISABLED:
        next_poll = "not polled"
    else:
        next_poll = fmt_when(source.next_poll_at, now, never="now")
        if next_poll.endswith(" ago"):
            next_poll = "now"
    return HealthRow(
        source=source,
        status=status,
        diagnosis=diagnosis,
        response=fmt_ms(source.avg_response_ms),
        size=fmt_size(source.avg_bytes),
        rate=fmt_rate(source.posts_per_day),
        next_poll=next_poll,
        last_success=fmt_when(source.last_success_at, now),
    )


def suggested_feed_url(source: Source) -> str:
    """The feed URL that discovery found for a failing source (named in its last error), or
    "" when there is none or it is the source's own."""
    if not source.consecutive_failures:
        return ""
    url = suggested_feed(source.last_error)
    return "" if url == source.feed_url else url


def _sort_value(row: HealthRow, key: str) -> tuple[object, ...]:
    s = row.source
    values: dict[str, object] = {
        "status": _SEVERITY[row.status],
        "title": s.display_title.lower(),
        "failures": s.consecutive_failures,
        "response": s.avg_response_ms if s.avg_response_ms is not None else -1.0,
        "size": s.avg_bytes if s.avg_bytes is not None else -1.0,
        "rate": s.posts_per_day if s.posts_per_day is not None else -1.0,
        "next": s.next_poll_at.timestamp() if s.next_poll_at else 0.0,
        "success": s.last_success_at.timestamp() if s.last_success_at else 0.0,
    }
    return (values[key], s.display_title.lower(), s.id)


def health_rows(
    sources: Iterable[Source],
    now: datetime,
    slow_response_ms: float,
    *,
    sort: str = "status",
    descending: bool = False,
    problems_only: bool = False,
) -> list[HealthRow]:
    """Rows sorted by `sort` (one of SORT_KEYS; unknown keys sort by status)."""
    rows = [health_row(s, now, slow_response_ms) for s in sources]
    if problems_only:
        rows = [r for r in rows if r.status in PROBLEMS]
    key = sort if sort in SORT_KEYS else "status"
    rows.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    return rows
