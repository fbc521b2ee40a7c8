"""One exception tree for netplanet; every message is one line: what went wrong, what to do."""

from __future__ import annotations

from typing import Final


class NetplanetError(Exception):
    """Base of every error netplanet raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class ConfigError(NetplanetError):
    """Bad configuration: names the key and the expected value."""

    exit_code = 2


class UsageError(NetplanetError):
    """A bad argument from the operator."""

    exit_code = 2


class OpmlError(NetplanetError):
    """An OPML document that cannot be read; names the line."""


class DiscoveryError(NetplanetError):
    """No feed could be found for a URL given by the operator."""


class StoreError(NetplanetError):
    """The database is unreachable or inconsistent."""

    exit_code = 3


class DuplicateSourceError(StoreError):
    """A source with the same feed URL already exists."""

    exit_code = 1


class NotFoundError(NetplanetError):
    """A source or entry that does not exist."""


class FetchError(NetplanetError):
    """A fetch that failed. `kind` is a short machine-readable class used in health reports."""

    kind = "fetch"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddressError(FetchError):
    """The SSRF guard refused a URL (scheme, or an address in a private/reserved range)."""

    kind = "blocked"


class TooLargeError(FetchError):
    kind = "too_large"


class FetchTimeoutError(FetchError):
    kind = "timeout"


class TooManyRedirectsError(FetchError):
    kind = "redirects"


class DnsError(FetchError):
    """The feed's host name did not resolve."""

    kind = "dns"


class ConnectError(FetchError):
    """No connection could be made, or the server dropped it."""

    kind = "connect"


class ProtocolError(FetchError):
    """The server answered with something that is not valid HTTP (or a corrupt encoded body)."""

    kind = "protocol"


HTTP_STATUS_KIND: Final = "http"
"""The kind of a fetch answered with an error status (4xx/5xx but 410): a response, not an
exception, so no FetchError subclass carries it (fetch/http.py)."""


class ParseError(NetplanetError):
    """A document that is not a feed, even after recovery. `kind` is used in health reports."""

    kind = "parse"


class NotAFeedError(ParseError):
    """An HTML page (or other non-feed) where a feed was expected; may name a discovered feed."""

    kind = "not_a_feed"

    def __init__(self, message: str, *, discovered: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.discovered = discovered
