"""Dates for new posts whose feed gives them none. Pure: no I/O, no clock (`now` is given).

Enrich leaves such an entry with `date_from_feed=False` (no date, an unreadable one, or one
more than a day ahead). Stamping it with the fetch time made a newly added source's undated
backlog flood the front page as "just now". Instead the best evidence places it:

1. its own <updated> date (enrich already took it as the published date, so never here);
2. on a later poll of the source, the post appeared between the last successful poll and
   this one: the feed's own date (RSS lastBuildDate/pubDate, Atom <updated>) when it falls in
   that window, else the fetch time. Either is honest to within the polling interval, so the
   date counts as known;
3. on the source's first successful read, nothing says when the post was written, only that
   it is no newer than the feed's own date and, if the feed lists dated posts too, most
   likely older than the oldest of them: it is filed just below the oldest of those, or at
   UNKNOWN when there is neither, and its date is marked unknown (`date_known=False`), so
   pages say "date unknown" rather than inventing an age. A feed date within ON_REQUEST of
   the fetch does not count here: it is as likely the time the feed was generated as the
   time anything in it was written, and a backlog filed there would outrank dated posts.

Several undated posts of one fetch keep the feed's order (first listed = newest): each is
placed one second below the one listed before it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from netplanet.model import Entry, ParsedFeed, Source

UNKNOWN = datetime(1970, 1, 1, tzinfo=UTC)
"""Where a first fetch's undated posts go when the feed offers no date at all: below every
dated post, so they never outrank one."""

ON_REQUEST = timedelta(days=1)
"""A feed date this close to a first read may only say the feed was generated on request (many
generators stamp lastBuildDate with the current time): it is no evidence of the posts' age."""

_STEP = timedelta(seconds=1)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def date_undated(
    new: Sequence[Entry],
    *,
    fetched: Sequence[Entry],
    parsed: ParsedFeed,
    source: Source,
    now: datetime,
) -> tuple[Entry, ...]:
    """`new` with every entry that has no date of its own placed by the evidence above.

    `fetched` are all the entries this fetch read (new or not): their dates bound where a first
    fetch's undated posts go. `now` is the fetch time.
    """
    undated = [i for i, e in enumerate(new) if not e.date_from_feed]
    if not undated:
        return tuple(new)
    feed_date = _aware(parsed.updated) if parsed.updated is not None else None
    if feed_date is not None and feed_date > now:
        feed_date = now  # a feed claiming a future build time was built by now at the latest
    if source.last_success_at is not None:
        since = _aware(source.last_success_at)
        top = feed_date if feed_date is not None and since < feed_date <= now else now
        known = True
        steps = 0
    else:
        bounds = [e.published for e in fetched if e.date_from_feed]
        if feed_date is not None and feed_date <= now - ON_REQUEST:
            bounds.append(feed_date)
        # With no bound at all they are filed upwards from UNKNOWN, so none lands in 1969.
        top = min(bounds) if bounds else UNKNOWN + len(undated) * _STEP
        known = False
        steps = 1  # strictly below the oldest dated post, not beside it
    placed = list(new)
    for i in undated:
        placed[i] = dataclasses.replace(new[i], published=top - steps * _STEP, date_known=known)
        steps += 1
    return tuple(placed)
