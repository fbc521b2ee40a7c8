"""Parse and enrich one fetched body: the CPU-heavy, pure half of an update.

A module-level function with picklable arguments and results, so the pipeline can run it in a
process pool and keep the event loop (and the fetches it drives) moving while other cores parse.

Enriching is most of that CPU, and a changed feed usually differs from the stored one by one
entry. So every parsed entry gets a raw hash (its parsed fields plus what else enrich reads),
stored with the entry; the pipeline passes the source's stored raw hashes in, and an entry
whose hash is among them is not enriched at all: it is reported as unchanged by its hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from netplanet.enrich import Draft, draft_entry, finish_entry
from netplanet.errors import NotAFeedError, ParseError
from netplanet.model import Entry, ParsedEntry, ParsedFeed
from netplanet.parse import parse_feed
from netplanet.untrusted import one_line
from netplanet.update.classifier import Classifier

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
    known: tuple[str, ...] = ()
    """Raw hashes of entries not enriched because the store already holds them (in feed
    order; an entry repeated in the feed appears once per repetition)."""


RAW_HASH_VERSION = "r4"  # r4: excerpts keep lists and code, cuts show "…", truncated summaries
# give way to the content (r3: only http(s) links, cite filtered, plain-text titles; r2: control
# characters become spaces; loose text split from blocks)
"""Part of every raw hash: bump it when enrich gives different output for the same input, so
every stored entry is enriched once more instead of being skipped as unchanged."""


RAW_FIELDS = (
    "guid",
    "link",
    "title",
    "content_html",
    "summary_html",
    "author",
    "published",
    "updated",
    "categories",
    "enclosures",
    "duration_s",
    "media_html",
)
"""Every field of ParsedEntry, in hashing order (tests check that none is missing)."""


def raw_hash(entry: ParsedEntry, *, url: str, source_category: str, excerpt_words: int) -> str:
    """Hash of everything enrich_entry reads, apart from `now` (see `_depends_on_now`)."""
    # Fed field by field: repr() of the whole entry escaped and copied every body first.
    # Each value is length-prefixed, so no two different entries feed the same bytes.
    h = hashlib.blake2b(digest_size=16)
    small = (
        RAW_HASH_VERSION,
        url,
        source_category,
        excerpt_words,
        entry.guid,
        entry.link,
        entry.title,
        entry.author,
        entry.published,
        entry.updated,
        entry.categories,
        entry.enclosures,
        entry.duration_s,
    )
    for value in (repr(small), entry.content_html, entry.summary_html, entry.media_html):
        data = value.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _depends_on_now(entry: ParsedEntry, now: datetime) -> bool:
    """A date ahead of `now` is clamped by enrich depending on `now`: always enrich those."""
    for when in (entry.published, entry.updated):
        if when is not None:
            aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            if aware > now:
                return True
    return False


def digest(
    body: bytes,
    *,
    content_type: str,
    url: str,
    source_id: int,
    source_category: str,
    now: datetime,
    excerpt_words: int,
    known: frozenset[str] = frozenset(),
    classifier: Classifier | None = None,
    source_title: str = "",
) -> Digest:
    """Parse `body` and enrich its entries, except those whose raw hash is in `known`; with a
    `classifier`, each is classified (its topics) with that taxonomy."""
    try:
        parsed = parse_feed(body, content_type=content_type, url=url)
    except NotAFeedError as exc:
        return Digest(None, error_kind=NotAFeedError.kind, error=str(exc))
    except ParseError as exc:
        return Digest(None, error_kind=exc.kind, error=str(exc))
    taxonomy = classifier.taxonomy if classifier is not None else None
    drafts: list[Draft] = []
    entries: list[Entry] = []
    unchanged: list[str] = []
    skipped = 0

    def skip(exc: Exception) -> None:
        # Parsed text is valid by construction, so this is a bug in enrich: say so where the
        # operator looks, with the traceback (of the first one only).
        nonlocal skipped
        skipped += 1
        if skipped == 1:
            log.error(
                "skipping entries of %s that could not be enriched (first: %s: %s)",
                url,
                type(exc).__name__,
                one_line(exc)[:300],
                exc_info=exc,
            )

    for entry in parsed.entries:
        hashed = raw_hash(
            entry, url=url, source_category=source_category, excerpt_words=excerpt_words
        )
        if hashed in known and not _depends_on_now(entry, now):
            unchanged.append(hashed)
            continue
        try:
            drafts.append(
                draft_entry(
                    entry,
                    source_id=source_id,
                    source_category=source_category,
                    base_url=url,
                    now=now,
                    excerpt_words=excerpt_words,
                    source_title=source_title,
                    raw_hash=hashed,
                )
            )
        except Exception as exc:  # one bad entry must not lose the rest of the feed
            skip(exc)
    # The feed's drafts finished in a loop of their own: the word tables of the story
    # signature and the classifier stay in the CPU's caches from one post to the next (see
    # enrich.Draft).
    for draft in drafts:
        try:
            entries.append(finish_entry(draft, taxonomy))
        except Exception as exc:
            skip(exc)
    # The parsed entries are not needed past this point; dropping them halves what a process
    # pool has to send back.
    return Digest(
        dataclasses.replace(parsed, entries=()),
        tuple(entries),
        skipped=skipped,
        known=tuple(unchanged),
    )
