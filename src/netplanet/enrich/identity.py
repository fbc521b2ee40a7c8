"""Entry identity within a source: the key the decider matches old and new entries on, and
what a re-read entry changes in the stored row it matched.

The guid wins when the feed has one; else the canonical URL; else the title+date hash. The
prefix says which, so a guid that happens to look like a URL never collides with a URL key.
"""

from __future__ import annotations

import dataclasses

from netplanet.model import Entry, ExistingEntry


def entry_key(guid: str | None, canonical_url: str, title_date_hash: str) -> str:
    """The key: `g:<guid>`, else `u:<canonical url>`, else `h:<title_date_hash>`."""
    if guid is not None and guid.strip():
        return f"g:{guid.strip()}"
    if canonical_url.strip():
        return f"u:{canonical_url.strip()}"
    return f"h:{title_date_hash}"


def as_edit(entry: Entry, stored: ExistingEntry) -> Entry | None:
    """`entry`, read again, as the new values of the stored row it matched; None when it is
    the same post unchanged (equal fingerprints).

    The row keeps its key (it may have matched by URL or by title and date) and, when the feed
    gives no date, its published time and whether that time is known (update/dating.py).
    Used by the decider, and by the store when a post it was told is new turns out to be
    stored by another writer.
    """
    if stored.fingerprint == entry.fingerprint:
        return None
    kept = dataclasses.replace(entry, key=stored.key)
    if not entry.date_from_feed:
        kept = dataclasses.replace(kept, published=stored.published, date_known=stored.date_known)
    return kept
