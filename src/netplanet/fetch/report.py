"""How the fetch stage describes what happened: error classes, one-line messages, server hints.

Kept apart from the HTTP client so the wording of health reports lives in one place.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from netplanet.errors import ConnectError
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


@dataclasses.dataclass(slots=True)
class Progress:
    """Where a fetch got to (mutable while it runs), so an error can say what it was doing."""

    url: str
    phase: str = "connecting"
    status: int | None = None
    bytes_received: int = 0
    elapsed: float = 0.0


def classify(exc: BaseException, progress: Progress, settings: Settings) -> tuple[str, str]:
    """Map an aiohttp/OS exception to (error_class, one-line message)."""
    s = settings
    url = progress.url
    try:
        parsed = URL(url)
        host, port = parsed.raw_host or url, parsed.port
    except ValueError:
        host, port = url, None
    match exc:
        case aiohttp.ConnectionTimeoutError():
            return "timeout", (
                f"timed out after {fmt_seconds(s.connect_timeout)} connecting to {host}"
            )
        case aiohttp.SocketTimeoutError():
            return "timeout", (
                f"timed out after {fmt_seconds(s.read_timeout)} {progress.phase} at {url}"
            )
        case aiohttp.ClientConnectorDNSError():
            return "dns", f"DNS lookup failed for host {host} ({exc.strerror or exc.os_error})"
        case aiohttp.ClientConnectorCertificateError():
            return "tls", f"TLS certificate error for host {host}: {exc.certificate_error}"
        case aiohttp.ClientSSLError():
            return "tls", f"TLS handshake with {host} failed: {exc.os_error}"
        case aiohttp.ClientConnectorError():
            errno = exc.os_error.errno
            why = os.strerror(errno) if errno else str(exc.os_error)
            return "connect", f"could not connect to {host}:{port}: {why}"
        case aiohttp.ServerDisconnectedError():
            return "connect", f"{host} closed the connection {progress.phase} at {url}"
        case aiohttp.ClientPayloadError():
            return "protocol", f"malformed response body at {url}: {exc}"
        case aiohttp.InvalidURL() | ValueError():
            return "url", f"invalid URL {url}: {exc}"
        case aiohttp.ClientResponseError():
            return "protocol", f"invalid HTTP response at {url}: {exc.message}"
        case TimeoutError():
            return "timeout", f"timed out {progress.phase} at {url}"
        case _:
            error = ConnectError(f"connection to {host} failed {progress.phase}: {exc}")
            return error.kind, str(error)
