"""The fetch stage's HTTP client: one conditional GET per feed, under limits, behind the guard.

`Fetcher` owns one aiohttp session for all feeds. It follows redirects itself so that every hop
passes the SSRF guard and so that it knows whether the whole chain was permanent. It never raises
for network or HTTP problems: every failure becomes a FetchResult with outcome ERROR, a short
`error_class` and a one-line `error`. It knows nothing of parsing or storage.

Connections are kept alive and reused by every later request to the same host (scheme, host,
port) for as long as the Fetcher lives: across the feeds of one `netplanet update` round, and
across rounds in `netplanet run` and `netplanet worker`, which hold one Fetcher for their whole
life. The pool is bounded three ways: the per-host limit (at most `fetch_per_host` connections
to a host are ever open, since no more requests to it run at once), KEEPALIVE_S (an idle
connection is closed after that long) and MAX_IDLE (past that many idle connections, the one
idle longest is closed), so a planet of thousands of hosts holds at most MAX_IDLE idle
sockets. A request that finds its reused connection closed by the server (the server's own
keep-alive timeout raced it) is sent once more on a new connection, by aiohttp: a GET is
idempotent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import importlib
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from netplanet.errors import (
    HTTP_STATUS_KIND,
    FetchError,
    FetchTimeoutError,
    ProtocolError,
    TooLargeError,
    TooManyRedirectsError,
)
from netplanet.fetch.guard import AddressPolicy, GuardedResolver, guard_url, is_forbidden_address
from netplanet.fetch.report import (
    Progress,
    classify,
    fmt_bytes,
    fmt_seconds,
    parse_retry_after,
)
from netplanet.model import FetchOutcome, FetchRequest, FetchResult
from netplanet.settings import Settings
from netplanet.untrusted import one_line, valid_text

FEED_ACCEPT: Final = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT: Final = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ACCEPT_ENCODING: Final = "gzip, deflate, br"

USEFUL_HEADERS: Final = (
    "cache-control",
    "expires",
    "retry-after",
    "content-type",
    "etag",
    "last-modified",
    "date",
    "age",
)
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_PERMANENT: Final = frozenset({301, 308})
# Only a chain that ends in a usable answer may move the feed to a new URL.
_MOVABLE: Final = frozenset({FetchOutcome.OK, FetchOutcome.NOT_MODIFIED, FetchOutcome.UNCHANGED})
_CHUNK: Final = 64 * 1024

KEEPALIVE_S: Final = 30.0
"""How long an idle connection is kept for a next request to its host. Servers close idle
connections after 5 s (Apache) to 75 s (nginx); past their limit a kept one is useless."""
MAX_IDLE: Final = 256
"""Idle connections kept at most, over all hosts (each is a file descriptor and a slot on the
server). A round over thousands of single-feed hosts would otherwise hold one per host."""


def _use_fast_inflate() -> bool:
    """Let aiohttp inflate gzip/deflate bodies with ISA-L when the `isal` package is installed.

    Inflating is most of the CPU a re-sent unchanged feed costs (about 0.9 ms for a 40 KB gzip
    feed with zlib, 0.3 ms with ISA-L). The output is the same bytes and aiohttp drives both
    through the same bounded-output loop, so the body size cap holds as before.
    """
    try:
        isal_zlib = importlib.import_module("isal.isal_zlib")
    except ImportError:
        return False
    set_backend = getattr(aiohttp, "set_zlib_backend", None)  # aiohttp >= 3.12
    if set_backend is None:
        return False
    set_backend(isal_zlib)
    return True


FAST_INFLATE: Final = _use_fast_inflate()


@dataclasses.dataclass(frozen=True, slots=True)
class _Redirect:
    status: int
    location: str


class _HostLimiter:
    """Per-host politeness: at most `per_host` requests at once, and request starts at least
    `gap_s` apart. Semaphores are created on demand and dropped when nobody holds or waits on
    them; start times are kept only while they are in the future."""

    def __init__(self, per_host: int, gap_s: float = 0.0) -> None:
        self._limit = max(1, per_host)
        self._gap = max(0.0, gap_s)
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        sem, users = self._slots.get(host, (asyncio.Semaphore(self._limit), 0))
        self._slots[host] = (sem, users + 1)
        try:
            async with sem:
                await self._space(host)
                yield
        finally:
            sem, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (sem, users - 1)

    async def _space(self, host: str) -> None:
        if not self._gap:
            return
        # Reserve the next start time before sleeping (no await in between), so concurrent
        # holders of the host's slots queue up one gap apart.
        now = time.monotonic()
        start = max(now, self._next_start.get(host, now))
        self._next_start[host] = start + self._gap
        if len(self._next_start) > 4096:
            self._next_start = {h: t for h, t in self._next_start.items() if t > now}
        if start > now:
            await asyncio.sleep(start - now)


class _BoundedPool(aiohttp.TCPConnector):
    """aiohttp's connection pool with a cap on idle connections over all hosts.

    aiohttp bounds the connections in use (`limit`) and closes idle ones after the keep-alive
    timeout, but keeps any number of idle ones until then. Here, when more than `max_idle`
    connections were released to the pool, the one released longest ago is closed. `_order`
    holds the released connections oldest first; one taken again for a request (or closed by
    aiohttp) stays in it until it is released again or reaches the front, so the cap may close
    a connection a little early, never keep too many. This reaches into the connector's idle
    table (`_conns`: key -> oldest-first sequence of (protocol, released at));
    tests/test_fetch_reuse.py pins the behaviour, so an aiohttp that changes it fails there.
    """

    def __init__(self, *, max_idle: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_idle = max(0, max_idle)
        self._order: OrderedDict[Any, Any] = OrderedDict()

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        kept = self._conns.get(key)
        if not kept or kept[-1][0] is not protocol:
            return  # closed, not kept
        order = self._order
        order[protocol] = key
        order.move_to_end(protocol)
        while len(order) > self._max_idle:
            oldest, oldest_key = order.popitem(last=False)
            queue = self._conns.get(oldest_key)
            for i, (proto, _) in enumerate(queue or ()):
                if proto is oldest:
                    assert queue is not None
                    del queue[i]
                    if not queue:
                        del self._conns[oldest_key]
                    proto.close()
                    break

    @property
    def idle(self) -> int:
        """Idle connections kept now."""
        return sum(len(q) for q in self._conns.values())


class Fetcher:
    """Conditional GETs with redirects, caps, concurrency limits and the SSRF guard.

    Use as an async context manager. `resolver`, `clock`, `policy` and `tls` are seams for tests:
    the DNS resolver under the guard, the clock for HTTP-date Retry-After values, the rule that
    says which addresses are forbidden, and the TLS context (certificate authorities trusted);
    by default the system's certificate authorities, with verification on. `keepalive_s` and
    `max_idle` bound the idle connections kept for reuse (see the module's docstring).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: AbstractResolver | None = None,
        clock: Callable[[], datetime] | None = None,
        policy: AddressPolicy = is_forbidden_address,
        tls: ssl.SSLContext | None = None,
        keepalive_s: float = KEEPALIVE_S,
        max_idle: int = MAX_IDLE,
    ) -> None:
        self._settings = settings
        self._keepalive_s = keepalive_s
        self._max_idle = max_idle
        self._tls = tls
        self._resolver = resolver
        self._clock = clock or (lambda: datetime.now(UTC))
        self._policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._guarded: GuardedResolver | None = None
        self._global = asyncio.Semaphore(max(1, settings.fetch_concurrency))
        self._hosts = _HostLimiter(settings.fetch_per_host, settings.per_host_gap_s)

    async def __aenter__(self) -> Self:
        s = self._settings
        self._guarded = GuardedResolver(
            self._resolver, allow_private=s.allow_private_networks, policy=self._policy
        )
        connector = _BoundedPool(
            max_idle=self._max_idle,
            resolver=self._guarded,
            limit=max(1, s.fetch_concurrency),
            # The fetcher's per-host limiter already bounds the connections to one host.
            limit_per_host=0,
            keepalive_timeout=self._keepalive_s,
            ssl=self._tls if self._tls is not None else True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # total is enforced by asyncio.timeout across all redirect hops (see _follow).
            timeout=aiohttp.ClientTimeout(
                total=None, connect=s.connect_timeout, sock_read=s.read_timeout
            ),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            # Cookies set by one feed's host must not follow requests to another.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
            # Proxies from the environment would resolve hosts themselves, past the guard.
            trust_env=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._guarded is not None:
            await self._guarded.close()
            self._guarded = None

    async def fetch(self, req: FetchRequest) -> FetchResult:
        """Poll one feed conditionally. Never raises for network or HTTP problems."""
        return await self._run(req, FEED_ACCEPT, conditional=True)

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an HTML page (for feed autodiscovery) under the same limits and guard.

        Unconditional: a 200 always comes back as OK with its body.
        """
        return await self._run(FetchRequest(url=url), PAGE_ACCEPT, conditional=False)

    # ------------------------------------------------------------------ internals

    async def _run(self, req: FetchRequest, accept: str, *, conditional: bool) -> FetchResult:
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        progress = Progress(url=req.url)
        async with self._global:
            try:
                return await self._follow(self._session, req, accept, conditional, progress)
            except FetchError as exc:
                kind, message = exc.kind, str(exc)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                kind, message = classify(exc, progress, self._settings)
        return FetchResult(
            request=req,
            outcome=FetchOutcome.ERROR,
            final_url=progress.url,
            status=progress.status,
            bytes_received=progress.bytes_received,
            duration_ms=round(progress.elapsed * 1000),
            error_class=kind,
            error=one_line(message),
        )

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        req: FetchRequest,
        accept: str,
        conditional: bool,
        progress: Progress,
    ) -> FetchResult:
        s = self._settings
        visited = [req.url]
        statuses: list[int] = []
        remaining = s.total_timeout
        while True:
            url = progress.url
            # The URL that passed the guard is the one requested: parsed once per hop.
            target = guard_url(url, allow_private=s.allow_private_networks, policy=self._policy)
            async with self._hosts.hold(target.raw_host or ""):
                # The total limit covers time on the network, not time queued for a host slot.
                timer = asyncio.timeout(remaining)
                started = time.monotonic()
                try:
                    async with timer:
                        hop = await self._hop(
                            session, req, url, target, accept, conditional, progress
                        )
                except TimeoutError:
                    if timer.expired():
                        raise FetchTimeoutError(
                            f"timed out after {fmt_seconds(s.total_timeout)} (total limit) "
                            f"{progress.phase} at {url}"
                        ) from None
                    raise
                finally:
                    spent = time.monotonic() - started
                    remaining -= spent
                    progress.elapsed += spent
            if isinstance(hop, FetchResult):
                permanent = bool(statuses) and all(code in _PERMANENT for code in statuses)
                return dataclasses.replace(
                    hop,
                    permanent_url=url if permanent and hop.outcome in _MOVABLE else None,
                    duration_ms=round(progress.elapsed * 1000),
                )
            statuses.append(hop.status)
            if hop.location in visited:
                chain = " -> ".join([*visited, hop.location])
                raise TooManyRedirectsError(f"redirect loop: {chain}", status=hop.status)
            visited.append(hop.location)
            if len(statuses) > s.max_redirects:
                raise TooManyRedirectsError(
                    f"too many redirects (more than {s.max_redirects}): {' -> '.join(visited)}",
                    status=hop.status,
                )
            progress.url = hop.location

    async def _hop(
        self,
        session: aiohttp.ClientSession,
        req: FetchRequest,
        url: str,
        target: URL,
        accept: str,
        conditional: bool,
        progress: Progress,
    ) -> FetchResult | _Redirect:
        headers = {"Accept": accept}
        if conditional and req.etag:
            headers["If-None-Match"] = req.etag
        if conditional and req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        progress.phase = "waiting for the response"
        progress.status = None
        async with session.get(target, headers=headers, allow_redirects=False) as resp:
            status = progress.status = resp.status
            if status in _REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise ProtocolError(
                        f"HTTP {status} redirect without a Location header at {url}",
                        status=status,
                    )
                try:
                    joined = str(target.join(URL(location)).with_fragment(None))
                except ValueError:
                    raise ProtocolError(
                        f"HTTP {status} redirect to an invalid URL {location!r} at {url}",
                        status=status,
                    ) from None
                return _Redirect(status, joined)
            rh = resp.headers
            # aiohttp decodes header bytes that are not UTF-8 as lone surrogates; these
            # values are stored with the source (validators) and must be valid text.
            found = {name: valid_text(rh[name]) for name in USEFUL_HEADERS if name in rh}
            if status == 304:  # built once: a 304 is the most common answer of all
                return FetchResult(
                    request=req,
                    outcome=FetchOutcome.NOT_MODIFIED,
                    final_url=url,
                    status=status,
                    content_type=found.get("content-type", ""),
                    headers=found,
                    # A 304 may omit validators; the ones we sent are still current.
                    etag=found.get("etag") or req.etag,
                    last_modified=found.get("last-modified") or req.last_modified,
                    body_hash=req.body_hash,
                )
            result = FetchResult(
                request=req,
                outcome=FetchOutcome.ERROR,
                final_url=url,
                status=status,
                content_type=found.get("content-type", ""),
                headers=found,
                etag=found.get("etag"),
                last_modified=found.get("last-modified"),
            )
            if status == 410:
                return dataclasses.replace(
                    result, outcome=FetchOutcome.GONE, error=f"HTTP 410 Gone at {url}"
                )
            if not 200 <= status < 300:
                return dataclasses.replace(
                    result,
                    error_class=HTTP_STATUS_KIND,
                    error=one_line(f"HTTP {status} {resp.reason or ''}".rstrip() + f" at {url}"),
                    retry_after_s=parse_retry_after(resp.headers.get("Retry-After"), self._clock()),
                )
            progress.phase = "reading the body"
            body, digest = await self._read_body(resp, url, progress)
            if req.body_hash is not None and digest == req.body_hash:
                return dataclasses.replace(
                    result,
                    outcome=FetchOutcome.UNCHANGED,
                    body_hash=digest,
                    bytes_received=len(body),
                )
            return dataclasses.replace(
                result,
                outcome=FetchOutcome.OK,
                body=body,
                body_hash=digest,
                bytes_received=len(body),
            )

    async def _read_body(
        self, resp: aiohttp.ClientResponse, url: str, progress: Progress
    ) -> tuple[bytes, str]:
        """Read the (decoded) body in chunks, stopping as soon as it passes max_body_bytes.

        aiohttp decompresses incrementally with a bounded output per step, so counting decoded
        chunks here bounds memory even for a compression bomb or an endless stream.
        """
        limit = self._settings.max_body_bytes

        def too_large() -> TooLargeError:
            return TooLargeError(
                f"response body is larger than the {fmt_bytes(limit)} limit at {url}",
                status=resp.status,
            )

        declared = resp.content_length
        if declared is not None and declared > limit and "Content-Encoding" not in resp.headers:
            resp.close()
            raise too_large()
        hasher = hashlib.sha256()
        chunks: list[bytes] = []
        try:
            async for chunk in resp.content.iter_chunked(_CHUNK):
                progress.bytes_received += len(chunk)
                if progress.bytes_received > limit:
                    raise too_large()
                hasher.update(chunk)
                chunks.append(chunk)
        except BaseException:
            # Drop the connection rather than drain it: it may be endless.
            resp.close()
            raise
        return b"".join(chunks), hasher.hexdigest()
