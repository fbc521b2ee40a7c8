"""The site's own base URL and the authority of its output-feed ids, the same for every client.

Pages and output feeds carry absolute URLs (canonical links, feed links) and feed entry ids
(`tag:<authority>:entry/...`). None of them may depend on a Host header that a stranger can
choose: the pages and feeds are cached and shared, and a feed reader that sees new ids shows
every post again. So:

- The base URL is `site_url` when set, else the one `netplanet init --site-url` stored
  (`site_base_url`). With a base, requests are answered for its host, the loopback names
  (localhost, 127.0.0.0/8, ::1: local checks work) and `allowed_hosts`, all with that base.
- Without one, only names that no stranger can pick are answered, each with its own base
  (`<scheme>://<Host>`; the page cache is keyed by base, so no one gets another's links): the
  loopback names, `allowed_hosts`, and the address the connection itself arrived on (a reader
  on the LAN typing the server's IP). Nothing a request says is ever stored as the base.
- Any other Host gets 400, and the log says once per name how to serve it (site_url or
  allowed_hosts): no request can put its Host into what another client gets.
- The id authority (`<host>,<date>`, stored as `feed_id_authority`) is taken from the first base
  answered (site_url's when set) and never changes after that, not even when `site_url` does.
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
        return self._loaded and bool(self._authority)

    @property
    def fixed(self) -> str:
        """The base URL every client gets ("" when neither site_url nor a stored one is set)."""
        return self.configured or self._stored

    def load(self) -> None:
        """Read the stored base URL and authority once (and store `site_url`'s if none is)."""
        with self._lock:
            if self._loaded:
                return
            self._stored = self.store.get_setting(BASE_URL_KEY) or ""
            if self.configured and not self._stored:
                self._stored = store_base_url(self.store, self.configured)
            self._authority = self.store.get_setting(ID_AUTHORITY_KEY) or ""
            if self.fixed and not self._authority:
                self._authority = self.store.setting_or_create(
                    ID_AUTHORITY_KEY, tag_authority(self.fixed)
                )
            self._loaded = True

    def authority(self, base: str) -> str:
        """The feed-id authority: the stored one, else (none stored yet) `base`'s."""
        self.load()
        return self._authority or tag_authority(base)

    # ------------------------------------------------------------------ decisions

    def base_for(
        self, name: str | None, host: str, scheme: str, local: str | None = None
    ) -> str | None:
        """The base URL for a request to `host` (the Host header, port included; `name` is its
        host name, None when the header is missing; `local` the address the connection arrived
        on), or None to refuse it (400).

        May read or write the database unless `in_memory(name)`: call it off the event loop.
        """
        self.load()
        trusted = name is None or is_loopback(name) or name in self.allowed
        if self.fixed:
            if trusted or name == base_host(self.fixed):
                return self.fixed
            return self._refuse(name)
        if trusted or (local is not None and name == local):
            base = f"{scheme}://{host}"
            if not self._authority:
                with self._lock:
                    self._authority = self.store.setting_or_create(
                        ID_AUTHORITY_KEY, tag_authority(base)
                    )
            return base
        return self._refuse(name)

    def _refuse(self, name: str | None) -> str | None:
        if name is not None and name not in self._refused and len(self._refused) < 100:
            self._refused.add(name)  # once per name: scanners send many
            log.warning(
                "refused requests for host %r: not the site's host (%s), allowed_hosts or a "
                "loopback name; set site_url (or add it to allowed_hosts) if it is yours",
                name,
                self.fixed or "site_url is not set",
            )
        return None
