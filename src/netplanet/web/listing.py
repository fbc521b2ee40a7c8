"""Which posts a list page shows and where its newer/older links go (docs/pagination.md).

Three kinds of list, all keyset reads on the store (never OFFSET):
- the head of the river or of a category (`/`, `/category/<slug>/`, optionally `?before=`):
  unsealed posts newest first, then the newest sealed ones, up to a page;
- numbered pages (`/page/N`, `/category/<slug>/page/N`): a range of stable positions;
- date-ordered lists without positions (source pages, month archives) with `?before=` cursors.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException

from netplanet.model import StoredEntry
from netplanet.publish.pages import Cursor, Pager, page_bounds, page_count, page_of
from netplanet.store.base import EntryKey, Scope, SiteStore


@dataclass(frozen=True, slots=True)
class Listing:
    entries: list[StoredEntry]
    pager: Pager


def _key(entry: StoredEntry) -> EntryKey:
    return EntryKey(published=entry.published, id=entry.id)


def _cursor(published_id: EntryKey | StoredEntry) -> str:
    return Cursor(published=published_id.published, id=published_id.id).encode()


def parse_before(raw: str | None) -> EntryKey | None:
    """The `?before=` cursor, None when absent; 404 when it is not one of ours."""
    if raw is None:
        return None
    cursor = Cursor.decode(raw)
    if cursor is None:
        raise HTTPException(404)
    return EntryKey(published=cursor.published, id=cursor.id)


def _newer_link(
    store: SiteStore, scope: Scope, first: StoredEntry, page_size: int, front: str
) -> str:
    """The page just above `first`: the front page when fewer than a page of posts lie above,
    else the cursor that starts a full page right above it."""
    keys = store.keys_after(scope, after=_key(first), limit=page_size + 1)
    if len(keys) <= page_size:
        return front
    return f"{front}?before={_cursor(keys[page_size])}"


def head(
    store: SiteStore,
    page_size: int,
    *,
    category: str | None,
    front: str,
    before: EntryKey | None,
) -> Listing:
    """The front page of the river or a category: unsealed posts then the newest sealed ones.

    `front` is the list's front-page URL ("/" or "/category/<slug>/"); numbered pages live
    under it ("/page/N", "/category/<slug>/page/N").
    """
    scope = Scope(category=category, unsealed=True)
    unsealed = store.keyset_entries(scope, before=before, limit=page_size + 1)
    older: str | None = None
    if len(unsealed) > page_size:
        shown = unsealed[:page_size]
        older = f"{front}?before={_cursor(shown[-1])}"
    else:
        room = page_size - len(unsealed)
        # One extra sealed post says which numbered page the "older" link must open.
        sealed = store.sealed_entries(category=category, limit=room + 1)
        shown = unsealed + [s.entry for s in sealed[:room]]
        if len(sealed) > room:
            older = f"{front.rstrip('/')}/page/{page_of(sealed[room].seq, page_size)}"
    newer: str | None = None
    if before is not None:
        newer = _newer_link(store, scope, unsealed[0], page_size, front) if unsealed else front
    return Listing(shown, Pager(newer=newer, older=older))


def numbered(
    store: SiteStore, page_size: int, page: int, *, category: str | None, front: str
) -> Listing:
    """Numbered page `page`: stable positions ((page-1)*P, page*P], newest first."""
    top = store.max_seq(category=category)
    last = page_count(top, page_size)
    if not 1 <= page <= last:
        raise HTTPException(404)
    low, high = page_bounds(page, page_size)
    rows = store.sealed_entries(category=category, low=low, high=high, limit=page_size)
    base = front.rstrip("/")
    pager = Pager(
        newer=f"{base}/page/{page + 1}" if page < last else front,
        older=f"{base}/page/{page - 1}" if page > 1 else None,
        label=f"Page {page} of {last}",
    )
    return Listing([r.entry for r in rows], pager)


def keyset(
    store: SiteStore,
    page_size: int,
    scope: Scope,
    *,
    front: str,
    before: EntryKey | None,
) -> Listing:
    """A date-ordered list read with `?before=` cursors (source pages, month archives).

    A cursor page with nothing on it is a 404 (a made-up or long-stale cursor); the front page
    of an empty list is not (the caller decides what an empty list means).
    """
    rows = store.keyset_entries(scope, before=before, limit=page_size + 1)
    if before is not None and not rows:
        raise HTTPException(404)
    shown = rows[:page_size]
    older = f"{front}?before={_cursor(shown[-1])}" if len(rows) > page_size else None
    newer = _newer_link(store, scope, shown[0], page_size, front) if before is not None else None
    return Listing(shown, Pager(newer=newer, older=older))
