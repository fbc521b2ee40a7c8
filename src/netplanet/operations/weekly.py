"""The weekly digest as the site, the command line and the admin area all read it: which
week's list to show (live, or frozen once the week is over) and the operator's picks.

The freezing rule: a week (Monday 00:00 UTC to the next Monday) is final once it is over.
Its list is frozen the first time it is read after that (a page, a feed, `netplanet
digest`) or by the sealing timer of `netplanet run`/`worker`/`update`
(`UpdatePipeline.seal`), whichever comes first, and never changes again. A finished week that
ends before the planet's oldest dated post has no digest and is never stored (so a crawler
asking for 1990-W01 writes nothing); a week that has not started is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from netplanet.errors import NotFoundError, UsageError
from netplanet.model import WeekData
from netplanet.publish.weeks import Week, last_finished
from netplanet.store.base import WeeklyStore

__all__ = ["WeekRead", "current_week", "freeze_due", "pick", "read_week"]


@dataclass(frozen=True, slots=True)
class WeekRead:
    week: Week
    data: WeekData
    final: bool


def read_week(store: WeeklyStore, week: Week, now: datetime) -> WeekRead:
    """The week's list: live while the week runs, frozen (freezing it now if nobody has)
    once it is over. NotFoundError (with a message for the reader) when there is none."""
    if week.start > now:
        raise NotFoundError(
            f"the digest of {week.label} does not exist yet: that week starts on "
            f"{week.start:%A %d %B %Y}"
        )
    if not week.finished(now):
        return WeekRead(week, store.week_data(week.label, week.start, week.end), final=False)
    found = store.frozen_week(week.label)
    if found is None:
        oldest = store.oldest_dated_post()
        if oldest is None or week.end <= oldest:
            raise NotFoundError(
                f"there is no digest for {week.label}: the planet has no posts that old"
            )
        found = store.freeze_week(week.label, week.start, week.end)
    return WeekRead(week, found, final=True)


def freeze_due(store: WeeklyStore, now: datetime) -> bool:
    """Freeze the week that ended last, when it has posts (the sealing timer's part); True
    when this call froze it."""
    week = last_finished(now)
    if store.frozen_week(week.label) is not None:
        return False
    oldest = store.oldest_dated_post()
    if oldest is None or week.end <= oldest:
        return False
    store.freeze_week(week.label, week.start, week.end)
    return True


def current_week(now: datetime) -> Week:
    return Week.of(now)


def pick(store: WeeklyStore, now: datetime, entry_id: int, choice: str | None) -> Week:
    """Pin or drop (or, with None, undo either) one post of the current week's digest.
    UsageError when the post is not in this week's digest (another week's, sponsored, or a
    copy): only the week in progress can still change."""
    week = Week.of(now)
    data = store.week_data(week.label, week.start, week.end)
    listed = {p.id for p in data.posts}
    if entry_id not in listed:
        raise UsageError(
            f"post {entry_id} is not in the digest of {week.label}, the week in progress; "
            "only its posts can be pinned or dropped"
        )
    store.set_digest_pick(week.label, entry_id, choice)
    return week
