"""The site's own base URL and the authority of its output-feed ids, fixed once for every client.

Pages and output feeds carry absolute URLs (canonical links, feed links) and feed entry ids
(`tag:<authority>:entry/...`). None of them may depend on what one request's Host header says:
the pages and feeds are cached and shared, and a feed reader that sees new ids shows every post
again. So:

- The base URL is `site_url` when set. Otherwise the first request naming a public host (any
  host but the loopback names) fixes it: `<scheme>://<Host>` is stored in the database
  (`site_base_url`) and used from then on, by every process. `netplanet init --site-url`
  stores it up front; `site_url` always takes precedence.
- Requests are answered only for the fixed base's host, the loopback names (localhost,
  127.0.0.0/8, ::1: local checks work whatever is fixed) and `allowed_hosts`; any other Host
  gets 400. Loopback requests are answered with the fixed base; before anything is fixed, with
  their own (the page cache is keyed by base, so no one else ever gets those).
- The id authority (`<host>,<date>`, stored as `feed_id_authority`) is taken from the base the
  first time one is fixed and never changes after that, not even when `site_url` changes.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from typing import Final
from urllib.parse import urlsplit

from netplanet.publish.feeds import tag_authority
from netplanet.settings import Settings, host_name, split_list
from netplanet.store.admin import BASE_URL_KEY, ID_AUTHORITY_KEY
from netplanet.store.base import AdminStore

log = logging.getLogger(__name__)

LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(name: str) -> bool:
    """Whether a host name (as `host_name` returns it) names this machine."""
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified  # `curl 0.0.0.0:8080` reaches us too


def base_host(base: str) -> str:
    """The comparable host name of a base URL."""
    return host_name(urlsplit(base).hostname or "") or ""


def store_base_url(store: AdminStore, base: str, *, replace: bool = False) -> str:
    """Store `base` as the site's base URL (unless one is stored and not `replace`) and, if none
    is stored yet, the feed-id authority it implies. Returns the base now stored."""
    base = base.rstrip("/")
    if replace:
        store.set_setting(BASE_URL_KEY, base)
        stored = base
    else:
        stored = store.setting_or_create(BASE_URL_KEY, base)
    store.setting_or_create(ID_AUTHORITY_KEY, tag_authority(stored))
    return stored


class Origin:
    """Decides, per request Host, which base URL a response uses, or that the Host is refused."""

    def __init__(self, store: AdminStore, settings: Settings) -> None:
        self.store = store
        self.configured = settings.site_url.rstrip("/")
        self.allowed = frozenset(
            n for n in (host_name(h) for h in split_list(settings.allowed_hosts)) if n
        )
        self._lock = threading.Lock()
        self._loaded = False
        self._stored = ""
        self._authority = ""
        self._refused: set[str] = set()

    # ------------------------------------------------------------------ state

    def in_memory(self, name: str | None) -> bool:
        """Whether `base_for(name, ...)` can answer without the database."""
        if not self._loaded:
            return False
        return bool(self.fixed) or name is None or is_loopback(name)

    @property
    def fixed(self) -> str:
        """The base URL every client gets ("" while nothing is fixed yet)."""
        return self.configured or self._stored

    def load(self) -> None:
        """Read the stored base URL and authority once (and store `site_url` if none is)."""
        with self._lock:
            if self._loaded:
                return
            self._stored = self.store.get_setting(BASE_URL_KEY) or ""
            if self.configured and not self._stored:
                self._stored = store_base_url(self.store, self.configured)
            self._authority = self.store.get_setting(ID_AUTHORITY_KEY) or ""
            if self._stored and not self._authority:
                self._authority = self.store.setting_or_create(
                    ID_AUTHORITY_KEY, tag_authority(self.configured or self._stored)
                )
            self._loaded = True

    def authority(self, base: str) -> str:
        """The feed-id authority: the stored one, else (nothing fixed yet) `base`'s."""
        self.load()
        return self._authority or tag_authority(base)

    # ------------------------------------------------------------------ decisions

    def base_for(self, name: str | None, host: str, scheme: str) -> str | None:
        """The base URL for a request to `host` (the Host header, port included; `name` is its
        host name, None when the header is missing), or None to refuse it (400).

        May read or write the database unless `in_memory(name)`: call it off the event loop.
        """
        self.load()
        if name is None or is_loopback(name):
            return self.fixed or f"{scheme}://{host}"
        if not self.fixed:
            if self.allowed and name not in self.allowed:
                return self._refuse(name)
            with self._lock:
                self._stored = store_base_url(self.store, f"{scheme}://{host}")
                self._authority = self.store.get_setting(ID_AUTHORITY_KEY) or self._authority
            if self._stored == f"{scheme}://{host}":
                log.warning(
                    "site base URL fixed at %s by the first request's Host header; set "
                    "site_url to choose another",
                    self._stored,
                )
        if name == base_host(self.fixed) or name in self.allowed:
            return self.fixed
        return self._refuse(name)

    def _refuse(self, name: str) -> str | None:
        if name not in self._refused and len(self._refused) < 100:
            self._refused.add(name)  # once per name: scanners send many
            log.warning(
                "refused requests for host %r: not the site's host (%s), allowed_hosts or a "
                "loopback name; add it to allowed_hosts or set site_url if it is yours",
                name,
                self.fixed or "not fixed yet",
            )
        return None
