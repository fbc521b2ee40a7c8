"""How the fetch stage describes what happened: error classes, one-line messages, server hints.

Kept apart from the HTTP client so the wording of health reports lives in one place.
"""

from __future__ import annotations

import dataclasses
import errno as errnos
import os
import re
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import aiohttp
from aiohttp.http_exceptions import ContentLengthError, TransferEncodingError
from yarl import URL

from netplanet.errors import ConnectError, DnsError, FetchTimeoutError, ProtocolError
from netplanet.settings import Settings


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def fmt_bytes(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


# OpenSSL verify codes (X509_V_ERR_*) grouped by what the operator is told.
_UNTRUSTED: Final = frozenset({2, 18, 19, 20, 21})  # unknown issuer, self-signed (in chain)
_NOT_YET_VALID: Final = 9
_EXPIRED: Final = 10
_WRONG_HOST: Final = frozenset({62, 64})  # hostname or IP address mismatch
_SSL_NOISE: Final = re.compile(r"^\[[A-Z0-9_]+: [A-Z0-9_]+\] | \(_ssl\.c:\d+\)$")


def _ssl_text(err: BaseException) -> str:
    """An SSL error without OpenSSL's "[SSL: CODE]" prefix and "(_ssl.c:N)" source line."""
    if isinstance(err, ssl.SSLError) and len(err.args) > 1:
        return _SSL_NOISE.sub("", str(err.args[1]))
    return _SSL_NOISE.sub("", str(err)) or type(err).__name__


def certificate_problem(err: BaseException, host: str) -> str:
    """One line for a certificate the fetcher refused: untrusted, expired, or for another host."""
    code = getattr(err, "verify_code", None)
    detail = (getattr(err, "verify_message", None) or _ssl_text(err)).rstrip(".")
    if code == _EXPIRED:
        return f"TLS certificate of {host} has expired; the site must renew it"
    if code == _NOT_YET_VALID:
        return f"TLS certificate of {host} is not valid yet; check this machine's clock"
    if code in _WRONG_HOST:
        return (
            f"TLS certificate of {host} is for another host ({detail}); "
            "check the host name in the feed URL"
        )
    if code in _UNTRUSTED:
        return (
            f"TLS certificate of {host} is not trusted ({detail}); the site must serve one "
            "signed by a public certificate authority"
        )
    return f"TLS certificate of {host} was refused: {detail}"


@dataclasses.dataclass(slots=True)
class Progress:
    """Where a fetch got to (mutable while it runs), so an error can say what it was doing."""

    url: str
    phase: str = "connecting"
    status: int | None = None
    bytes_received: int = 0
    elapsed: float = 0.0


TLS_KIND: Final = "tls"
"""The kind of a refused certificate or failed handshake: found in aiohttp's exceptions only."""

URL_KIND: Final = "url"
"""The kind of a URL aiohttp cannot request (the guard refuses most bad URLs before)."""


def classify(exc: BaseException, progress: Progress, settings: Settings) -> tuple[str, str]:
    """Map an aiohttp/OS exception to (error_class, one-line message); the error classes are
    the kinds of netplanet's own FetchErrors (errors.py) where one stands for the failure."""
    s = settings
    url = progress.url
    try:
        parsed = URL(url)
        host, port = parsed.raw_host or url, parsed.port
    except ValueError:
        host, port = url, None
    match exc:
        case aiohttp.ConnectionTimeoutError():
            return FetchTimeoutError.kind, (
                f"timed out after {fmt_seconds(s.connect_timeout)} connecting to {host}"
            )
        case aiohttp.SocketTimeoutError():
            return FetchTimeoutError.kind, (
                f"timed out after {fmt_seconds(s.read_timeout)} {progress.phase} at {url}"
            )
        case aiohttp.ClientConnectorDNSError():
            return (
                DnsError.kind,
                f"DNS lookup failed for host {host} ({exc.strerror or exc.os_error})",
            )
        case aiohttp.ClientConnectorCertificateError():
            return TLS_KIND, certificate_problem(exc.certificate_error, host)
        case aiohttp.ClientSSLError():
            return TLS_KIND, f"TLS handshake with {host} failed: {_ssl_text(exc.os_error)}"
        case aiohttp.ClientConnectorError():
            errno = exc.os_error.errno
            why = os.strerror(errno) if errno else str(exc.os_error)
            return ConnectError.kind, f"could not connect to {host}:{port}: {why}"
        case aiohttp.ServerDisconnectedError():
            return ConnectError.kind, f"{host} closed the connection {progress.phase} at {url}"
        case aiohttp.ClientPayloadError() if isinstance(
            exc.__cause__, ContentLengthError | TransferEncodingError
        ):
            # The body stopped short of its length or last chunk: the connection went away.
            return ConnectError.kind, (
                f"{host} dropped the connection after {progress.bytes_received} bytes of the "
                f"body at {url}: the body is incomplete"
            )
        case aiohttp.ClientPayloadError():
            return ProtocolError.kind, f"malformed response body at {url}: {exc}"
        case aiohttp.InvalidURL() | ValueError():
            return URL_KIND, f"invalid URL {url}: {exc}"
        case aiohttp.ClientResponseError():
            return ProtocolError.kind, f"invalid HTTP response at {url}: {exc.message}"
        case TimeoutError():
            return FetchTimeoutError.kind, f"timed out {progress.phase} at {url}"
        case OSError() if exc.errno == errnos.ECONNRESET:
            return ConnectError.kind, f"{host} reset the connection {progress.phase} at {url}"
        case _:
            error = ConnectError(f"connection to {host} failed {progress.phase}: {exc}")
            return error.kind, str(error)
