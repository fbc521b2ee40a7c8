"""Changing one source: the one path `netplanet sources edit` and the admin source form share.

A new feed URL is checked like an added one before anything is stored: an http(s) URL, no
other source already polling it (one line naming that source), then the SSRF guard's pre-save
check (`check_url_resolves_public`: scheme, credentials, literal and resolved addresses); the
fetcher checks every connection again when the source is polled. The store keeps the source's
id, slug and posts and resets its poll state, so it is due at once (store/sql.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from netplanet.errors import DuplicateSourceError, NotFoundError, UsageError
from netplanet.fetch.guard import check_url_resolves_public
from netplanet.model import Source
from netplanet.store.base import SourceStore
from netplanet.untrusted import http_url


@dataclass(frozen=True, slots=True)
class Edited:
    source: Source
    changes: tuple[str, ...]
    """One line per field that changed, e.g. "feed URL: https://a/feed → https://b/atom.xml"."""


def feed_url_of(text: str) -> str:
    """`text` as the http(s) URL to store, or UsageError in one line."""
    url = http_url(text.strip())
    if not url:
        raise UsageError(f"{text.strip()!r} is not an http(s) URL; give the feed's full URL")
    return url


async def edit_source(
    store: SourceStore,
    source_id: int,
    *,
    allow_private: bool,
    url: str | None = None,
    title: str | None = None,
    category: str | None = None,
    enabled: bool | None = None,
) -> Edited:
    """Apply the given changes (None: leave as is); raises a NetplanetError with one line
    (NotFoundError, UsageError, DuplicateSourceError, BlockedAddressError, DnsError) before
    storing anything when the new URL is refused."""
    source = store.get_source(source_id)
    if source is None:
        raise NotFoundError(f"no source with id {source_id}")
    changes: list[str] = []
    new_url = None
    if url is not None:
        candidate = feed_url_of(url)
        if candidate != source.feed_url:
            other = store.get_source_by_url(candidate)
            if other is not None:
                raise DuplicateSourceError(
                    f"source {other.id} ({other.display_title}) already has the feed URL "
                    f"{candidate}; remove one of the two instead"
                )
            await check_url_resolves_public(candidate, allow_private)
            new_url = candidate
            changes.append(f"feed URL: {source.feed_url} → {candidate}")
    edited = store.edit_source(
        source_id, feed_url=new_url, title=title, category=category, enabled=enabled
    )
    if title is not None and edited.title != source.title:
        changes.append(f"title: {edited.title or '(from the feed)'}")
    if category is not None and edited.category != source.category:
        changes.append(f"category: {edited.category or '(none)'}")
    if enabled is not None and edited.enabled != source.enabled:
        changes.append("enabled" if edited.enabled else "disabled")
    return Edited(edited, tuple(changes))


__all__ = ["Edited", "edit_source", "feed_url_of"]
