"""Which posts a list page shows and where its newer/older links go (docs/pagination.md).

Three kinds of list, all keyset reads on the store (never OFFSET):
- the head of the river, a category, a topic or a source (`/`, `/category/<slug>/`,
  `/topic/<slug>/`, `/source/<slug>/`, optionally `?before=`): unsealed posts newest first,
  then the newest, partial numbered page;
- numbered pages (`/page/N`, `/category/<slug>/page/N`, `/topic/<slug>/page/N`,
  `/source/<slug>/page/N`): a range of stable positions;
- date-ordered lists without positions (month archives) with `?before=` cursors.

Label filters (`Labels`: `?podcasts=0`, `?sponsored=0`) narrow every read but never the
numbering; `carry` puts the reader's filter on every link and redirect of a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.exceptions import HTTPException

from netplanet.model import StoredEntry
from netplanet.publish.pages import Cursor, DateSpan, Pager, page_bounds, page_of
from netplanet.store.base import ALL_LABELS, EntryKey, Labels, Scope, SiteStore


@dataclass(frozen=True, slots=True)
class Listing:
    entries: list[StoredEntry]
    pager: Pager
    redirect: str | None = None
    """Where to send the reader instead (a partial numbered page, a stale cursor)."""
    redirect_status: int = 302
    page: int | None = None
    """The number of a numbered page."""
    span: DateSpan | None = None
    """The dates a numbered page's posts were published between."""


def with_query(url: str, keep: Mapping[str, str]) -> str:
    """`url` with the query parameters `keep` added (the list's filters)."""
    if not keep:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(keep)


def carry(result: Listing, keep: Mapping[str, str]) -> Listing:
    """`result` with the reader's filters on its newer/older links and its redirect."""
    if not keep:
        return result
    pager = result.pager
    return replace(
        result,
        pager=replace(
            pager,
            newer=with_query(pager.newer, keep) if pager.newer else None,
            older=with_query(pager.older, keep) if pager.older else None,
        ),
        redirect=with_query(result.redirect, keep) if result.redirect else None,
    )


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
    category: str | None = None,
    source_id: int | None = None,
    topic: str | None = None,
    front: str,
    before: EntryKey | None,
    labels: Labels = ALL_LABELS,
) -> Listing:
    """The front page of the river, a category, a topic or a source: the unsealed posts, then
    the posts of the newest numbered page while it is partial (and the newest full page too
    when that is less than a page in all). "Older posts" opens the next full numbered page,
    so nothing shown here is shown again there (docs/pagination.md).

    More than a page of unsealed posts are paged with `?before=` cursors; the partial page's
    posts come after the last of them. `front` is the list's front-page URL ("/",
    "/category/<slug>/", "/topic/<slug>/", "/source/<slug>/"); its numbered pages live under
    it ("…/page/N").
    A cursor that no unsealed post lies below (it was followed after those posts were sealed)
    is sent on to the numbered page holding the next post; nothing below it at all is a 404.
    """
    scope = Scope(category=category, source_id=source_id, topic=topic, unsealed=True, labels=labels)
    unsealed = store.keyset_entries(scope, before=before, limit=page_size + 1)
    base = front.rstrip("/")
    older: str | None = None
    if len(unsealed) > page_size:
        shown = unsealed[:page_size]
        older = f"{front}?before={_cursor(shown[-1])}"
    else:
        top = store.max_seq(category=category, source_id=source_id, topic=topic)
        full = top // page_size
        if before is not None and not unsealed:
            whole = Scope(category=category, source_id=source_id, topic=topic, labels=labels)
            position = store.position_below(whole, before)
            if position is None:
                raise HTTPException(404)
            if page_of(position, page_size) <= full:
                # The page holding the next post: for good, as positions never change.
                target = f"{base}/page/{page_of(position, page_size)}"
                return Listing([], Pager(), redirect=target, redirect_status=301)
        # The head ends with the partial page; when that leaves less than a page to show
        # (everything sealed, the partial page short or empty), the newest full page joins
        # it, so a front page is never thin nor empty while older posts exist.
        older_page = full
        if full and len(unsealed) + top - full * page_size < page_size:
            older_page = full - 1
        sealed = store.sealed_entries(
            category=category,
            source_id=source_id,
            topic=topic,
            low=older_page * page_size,
            limit=2 * page_size,
            labels=labels,
        )
        shown = unsealed + [s.entry for s in sealed]
        if older_page:
            older = f"{base}/page/{older_page}"
    newer: str | None = None
    if before is not None:
        newer = _newer_link(store, scope, unsealed[0], page_size, front) if unsealed else front
    return Listing(shown, Pager(newer=newer, older=older))


def numbered(
    store: SiteStore,
    page_size: int,
    page: int,
    *,
    category: str | None = None,
    source_id: int | None = None,
    topic: str | None = None,
    front: str,
    labels: Labels = ALL_LABELS,
) -> Listing:
    """Numbered page `page`: stable positions ((page-1)*P, page*P], newest first.

    Only full pages are served: the newest page, while partial, redirects to the front page,
    which shows its posts (page numbers past it are 404s). With `labels` filtering, a page
    keeps its positions and shows fewer posts."""
    top = store.max_seq(category=category, source_id=source_id, topic=topic)
    full = top // page_size
    if page == full + 1 and top % page_size:
        return Listing([], Pager(), redirect=front)
    if not 1 <= page <= full:
        raise HTTPException(404)
    low, high = page_bounds(page, page_size)
    rows = store.sealed_entries(
        category=category,
        source_id=source_id,
        topic=topic,
        low=low,
        high=high,
        limit=page_size,
        labels=labels,
    )
    base = front.rstrip("/")
    pager = Pager(
        newer=f"{base}/page/{page + 1}" if page < full else front,
        older=f"{base}/page/{page - 1}" if page > 1 else None,
        label=f"Page {page} of {full}",
    )
    shown = [r.entry for r in rows]
    span = DateSpan.of([e.published for e in shown])
    return Listing(shown, pager, page=page, span=span)


def keyset(
    store: SiteStore,
    page_size: int,
    scope: Scope,
    *,
    front: str,
    before: EntryKey | None,
) -> Listing:
    """A date-ordered list read with `?before=` cursors (month archives).

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
