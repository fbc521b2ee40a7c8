"""Adding and changing one source: the one path `netplanet sources add`/`sources edit` and the
admin's add form and source page share.

An added URL passes the SSRF guard's pre-save check (`check_url_resolves_public`: scheme,
credentials, literal and resolved addresses), then feed discovery through the guarded fetcher,
which checks every resolved address and redirect hop again; only then is the source stored.

A new feed URL for a stored source is checked like an added one before anything is stored: an
http(s) URL, no other source already polling it (one line naming that source), then the same
pre-save check; the fetcher checks every connection again when the source is polled. The store
keeps the source's id, slug and posts and resets its poll state, so it is due at once
(store/sql.py). The admin's one-click fix (`use_suggested_feed_url`) is such an edit, to the
feed URL that the update pipeline's discovery named in the source's last error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netplanet.errors import DuplicateSourceError, NetplanetError, NotFoundError, UsageError
from netplanet.fetch.guard import check_url_resolves_public
from netplanet.model import Source, SourceSpec
from netplanet.settings import Settings
from netplanet.store.base import SourceStore
from netplanet.untrusted import http_url


@dataclass(frozen=True, slots=True)
class Added:
    source: Source
    how: str
    """How the feed was found, e.g. "found <link rel=alternate> at https://a/feed.xml"."""


async def add_source(
    store: SourceStore,
    settings: Settings,
    url: str,
    *,
    title: str = "",
    category: str = "",
    on_found: Callable[[str], None] | None = None,
) -> Added:
    """Check `url`, discover its feed and store the source (`title` "": the feed's); raises a
    NetplanetError with one line (BlockedAddressError, DnsError, a fetch or discovery error,
    DuplicateSourceError) and stores nothing when the URL is refused.

    `on_found` hears how the feed was found before the source is stored, so the command line
    says it even when storing then fails (a feed already stored under another URL)."""
    # Here, not at the top: `sources edit` needs neither the fetcher nor the feed parsers.
    from netplanet.fetch.http import Fetcher
    from netplanet.update.discovery import discover_feed

    await check_url_resolves_public(url, settings.allow_private_networks)
    async with Fetcher(settings) as fetcher:
        found = await discover_feed(fetcher, url)
    if on_found is not None:
        on_found(found.how)
    spec = SourceSpec(
        feed_url=found.feed_url,
        title=title or found.feed.title,
        site_url=found.feed.link,
        category=category,
    )
    return Added(store.add_source(spec), found.how)


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


async def use_suggested_feed_url(
    store: SourceStore, source_id: int, *, allow_private: bool
) -> Edited:
    """Change a failing source's feed URL to the one discovery named in its last error
    (`publish.health.suggested_feed_url`), checked like any new URL by `edit_source`."""
    from netplanet.publish.health import suggested_feed_url

    source = store.get_source(source_id)
    url = suggested_feed_url(source) if source is not None else ""
    if not url:
        raise NetplanetError("there is no suggested feed URL for this source any more")
    return await edit_source(store, source_id, allow_private=allow_private, url=url)


__all__ = ["Added", "Edited", "add_source", "edit_source", "feed_url_of", "use_suggested_feed_url"]
