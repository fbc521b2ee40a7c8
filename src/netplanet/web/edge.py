"""What every HTTP request passes through before a handler, as one pure ASGI middleware:

1. The client behind a reverse proxy. X-Forwarded-For / X-Forwarded-Proto are honoured only
   with `trust_proxy_headers` and only on connections from `trusted_proxies` (default: loopback).
   The client is then the right-most address in X-Forwarded-For that is not a trusted proxy:
   everything left of it was written by the client and proves nothing. The scheme is the
   right-most X-Forwarded-Proto value (the one our own proxy set). The server (uvicorn) must
   not rewrite these itself: it runs with `UVICORN_OPTIONS`.
2. The Host check (web/origin.py): a Host that is not the site's is answered 400, so no request
   can put another host into cached pages and feeds; the base URL chosen is left in the scope
   for `Site.base_url`. /healthz answers whatever the Host (load balancers probe by address).
3. Security headers on every response, errors included: a strict Content-Security-Policy (no
   scripts at all, styles and images as the pages use them, no framing), nosniff, DENY framing,
   a Referrer-Policy, and HSTS when the request came over HTTPS.
4. A bound on request bodies: the site's forms are small, so a body over MAX_FORM_BYTES is
   answered 413 (at once when Content-Length says so, else as soon as the count passes it),
   before the form parser spools it to disk. Only the OPML upload may be as large as an import
   may be (`operations.imports.max_opml_bytes`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any, Final

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from netplanet.operations.imports import max_opml_bytes
from netplanet.settings import Settings, host_name, split_list
from netplanet.web.origin import Origin

BASE_SCOPE_KEY: Final = "netplanet.base_url"

# Pages need their own stylesheet and favicon, and images in post excerpts from anywhere
# (sanitized <img src>, plus small data: images). Nothing else: no script, no inline style.
CSP: Final = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' https: http: data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HSTS: Final = "max-age=31536000"
_COMMON: Final = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_PUBLIC_REFERRER: Final = (b"referrer-policy", b"strict-origin-when-cross-origin")
_ADMIN_REFERRER: Final = (b"referrer-policy", b"no-referrer")
_UNCHECKED_PATHS: Final = frozenset({"/healthz"})
MAX_FORM_BYTES: Final = 64 * 1024
"""The largest body of any request but an OPML upload: a sign-in or edit form is far smaller."""
_UPLOAD_PATHS: Final = frozenset({"/admin/opml"})
_MULTIPART_SLACK: Final = 64 * 1024  # boundaries, part headers and the form's other fields

# host[:port]: a DNS name or IPv4 address, or a bracketed IPv6 address.
_HOST_HEADER: Final = re.compile(
    r"(?P<name>[^\[\]:]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)


def parse_host(header: str, scheme: str) -> tuple[str, str] | None:
    """A Host header value as (host name, normalized host[:port] for URLs), or None when it is
    malformed. The name is lower case without a trailing dot; a default port is dropped."""
    match = _HOST_HEADER.fullmatch(header)
    if match is None:
        return None
    name = host_name(match["name"])
    port = int(match["port"]) if match["port"] is not None else None
    if name is None or (port is not None and port > 65535):
        return None
    shown = f"[{name}]" if ":" in name else name
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        shown = f"{shown}:{port}"
    return name, shown


def _address(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from one X-Forwarded-For item ("1.2.3.4", "[::1]:80", "1.2.3.4:80")."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1:].partition("]")[0]
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        address = ipaddress.ip_address(hop)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Proxies:
    """Which peers are trusted reverse proxies, and who the client behind them is."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.trust_proxy_headers
        self.networks = [
            ipaddress.ip_network(n, strict=False) for n in split_list(settings.trusted_proxies)
        ]

    def trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in self.networks)

    def client(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """The right-most address of the chain (peer last) that is not a trusted proxy."""
        current = peer
        hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusted(_address(current)):
                break
            address = _address(hop)
            if address is None:  # garbage can only come from the client's side: stop here
                break
            current = str(address)
        return current

    def apply(self, scope: Scope) -> Scope:
        """The scope with the real client and scheme, when the peer is a trusted proxy."""
        peer = scope.get("client")
        if not self.enabled or not peer or not self.trusted(_address(str(peer[0]))):
            return scope
        forwarded_for: list[str] = []
        proto = ""
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif key == b"x-forwarded-proto":
                values = [v.strip().lower() for v in value.decode("latin-1").split(",")]
                proto = next((v for v in reversed(values) if v), proto)
        scope = dict(scope)
        scope["client"] = (self.client(str(peer[0]), forwarded_for), 0)
        if proto in ("http", "https"):
            scope["scheme"] = proto
        return scope


class Edge:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, origin: Origin, settings: Settings) -> None:
        self.app = app
        self.origin = origin
        self.proxies = Proxies(settings)
        self.upload_limit = max_opml_bytes(settings) + _MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self.proxies.apply(scope)
        send = _with_security_headers(send, scope)
        if scope["path"] not in _UNCHECKED_PATHS:
            base = await self._base(scope)
            if base is None:
                await _plain(send, 400, "this site does not answer to that host name")
                return
            scope[BASE_SCOPE_KEY] = base
        limit = self.upload_limit if scope["path"] in _UPLOAD_PATHS else MAX_FORM_BYTES
        if _content_length(scope) > limit:
            await _plain(send, 413, f"request bodies here are limited to {limit:,} bytes")
            return
        await self.app(scope, _bounded(receive, limit), send)

    async def _base(self, scope: Scope) -> str | None:
        scheme = "https" if scope["scheme"] == "https" else "http"
        raw = next((v for k, v in scope["headers"] if k == b"host"), None)
        name: str | None = None
        if raw is None:  # HTTP/1.0: answered as a local request, never fixes the base
            host = _server_host(scope)
        else:
            parsed = parse_host(raw.decode("latin-1"), scheme)
            if parsed is None:
                return None
            name, host = parsed
        local = _local_name(scope)
        if self.origin.in_memory(name):
            return self.origin.base_for(name, host, scheme, local)
        return await anyio.to_thread.run_sync(self.origin.base_for, name, host, scheme, local)


def _local_name(scope: Scope) -> str | None:
    """The address the connection arrived on, as a comparable host name."""
    server = scope.get("server")
    return host_name(str(server[0])) if server else None


def _server_host(scope: Scope) -> str:
    server = scope.get("server")
    if not server:
        return "localhost"
    host, port = str(server[0]), server[1]
    shown = f"[{host}]" if ":" in host else host
    return shown if port in (None, 80, 443) else f"{shown}:{port}"


def _with_security_headers(send: Send, scope: Scope) -> Send:
    extra = list(_COMMON)
    admin = scope["path"] == "/admin" or scope["path"].startswith("/admin/")
    extra.append(_ADMIN_REFERRER if admin else _PUBLIC_REFERRER)
    if scope["scheme"] == "https":
        extra.append((b"strict-transport-security", HSTS.encode()))

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in extra if k not in present]
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _content_length(scope: Scope) -> int:
    """The declared body size; 0 when absent. A malformed value counts as too large."""
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else 2**63
    return 0


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive` that stops a body (chunked, or longer than it said) once it passes `limit`:
    the handler reading it gets a 413 (Starlette's exception middleware answers it)."""
    seen = 0

    async def receiving() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"request bodies here are limited to {limit:,} bytes")
        return message

    return receiving


_REASONS: Final = {400: "Bad Request", 413: "Content Too Large"}


async def _plain(send: Send, status: int, text: str) -> None:
    body = f"{status} {_REASONS[status]}: {text}.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
