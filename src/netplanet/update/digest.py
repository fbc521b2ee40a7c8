"""Parse and enrich one fetched body: the CPU-heavy, pure half of an update.

A module-level function with picklable arguments and results, so the pipeline can run it in a
process pool and keep the event loop (and the fetches it drives) moving while other cores parse.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from netplanet.enrich import enrich_entry
from netplanet.errors import NotAFeedError, ParseError
from netplanet.model import Entry, ParsedFeed
from netplanet.parse import parse_feed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Digest:
    """What one body became: the feed's metadata (entries emptied) and the enriched entries,
    or the reason it could not be read."""

    feed: ParsedFeed | None
    entries: tuple[Entry, ...] = ()
    error_kind: str = ""
    """"not_a_feed" for HTML, another ParseError kind otherwise; empty on success."""
    error: str = ""
    skipped: int = 0
    """Entries that could not be enriched (logged, not stored)."""


def digest(
    body: bytes,
    *,
    content_type: str,
    url: str,
    source_id: int,
    source_category: str,
    now: datetime,
    excerpt_words: int,
) -> Digest:
    try:
        parsed = parse_feed(body, content_type=content_type, url=url)
    except NotAFeedError as exc:
        return Digest(None, error_kind=NotAFeedError.kind, error=str(exc))
    except ParseError as exc:
        return Digest(None, error_kind=exc.kind, error=str(exc))
    entries: list[Entry] = []
    skipped = 0
    for entry in parsed.entries:
        try:
            entries.append(
                enrich_entry(
                    entry,
                    source_id=source_id,
                    source_category=source_category,
                    base_url=url,
                    now=now,
                    excerpt_words=excerpt_words,
                )
            )
        except Exception as exc:  # one bad entry must not lose the rest of the feed
            skipped += 1
            if skipped == 1:
                log.warning(
                    "skipping entries of %s that could not be enriched (first: %s: %s)",
                    url,
                    type(exc).__name__,
                    exc,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
    # The parsed entries are not needed past this point; dropping them halves what a process
    # pool has to send back.
    return Digest(dataclasses.replace(parsed, entries=()), tuple(entries), skipped=skipped)
