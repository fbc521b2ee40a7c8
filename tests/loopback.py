"""Test helpers for the fetch stage: a loopback feed server, a fake resolver, test settings.

The server is a real aiohttp.web app on 127.0.0.1 (port 0), so the fetcher is exercised over a
real socket; every route below is one behaviour a feed server can have.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import ipaddress
import random
import socket
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import brotli
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from netplanet.fetch.guard import IPAddress, is_forbidden_address
from netplanet.settings import Settings

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
BOMB_SIZE = 1 << 30  # 1 GiB of zeros once decompressed


def fetch_settings(**overrides: Any) -> Settings:
    """Settings for loopback tests: private networks allowed, short timeouts, and no gap
    between requests to one host (every test server is 127.0.0.1)."""
    values: dict[str, Any] = {
        "allow_private_networks": True,
        "per_host_gap_s": 0.0,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 10.0,
    }
    values.update(overrides)
    return Settings(**values)


def only_127_0_0_1(ip: IPAddress) -> str | None:
    """A guard policy for SSRF tests: the real rules, except that the test server is public."""
    if ip == ipaddress.IPv4Address("127.0.0.1"):
        return None
    return is_forbidden_address(ip)


class FakeResolver(AbstractResolver):
    """Maps host names to fixed addresses; any other name fails like a real NXDOMAIN."""

    def __init__(self, names: Mapping[str, str | list[str]]) -> None:
        self.names = {k: [v] if isinstance(v, str) else v for k, v in names.items()}
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host,
                host=addr,
                port=port,
                family=socket.AF_INET6 if ":" in addr else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for addr in self.names[host]
        ]

    async def close(self) -> None:
        pass


@functools.cache
def gzip_bomb(size: int = BOMB_SIZE) -> bytes:
    """A valid gzip stream of `size` zero bytes (~1 MB for 1 GiB), built in a fraction of a second.

    After a full flush the compressor starts afresh, so compressing the same block again yields
    the same bytes: compress one 16 MiB block and repeat its output.
    """
    block = b"\0" * (16 << 20)
    assert size % len(block) == 0
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    deflate = first + repeat * (size // len(block) - 1) + comp.flush()
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + deflate + struct.pack("<II", crc, size & 0xFFFFFFFF)


@dataclass
class ServerState:
    """What the loopback server saw, for assertions."""

    requests: list[web.BaseRequest] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the first request reaches the server."""


def build_app(state: ServerState) -> web.Application:
    routes = web.RouteTableDef()

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        state.requests.append(request)
        state.paths.append(request.path_qs)
        state.arrived.set()
        state.active += 1
        state.max_active = max(state.max_active, state.active)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            state.active -= 1

    @routes.get("/feed")
    async def feed(request: web.Request) -> web.Response:
        validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers=validators)
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304, headers={"Last-Modified": LAST_MODIFIED})
        headers = {**validators, "Cache-Control": "max-age=600", "X-Other": "dropped"}
        return web.Response(body=FEED, content_type="application/rss+xml", headers=headers)

    @routes.get("/page")
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><head></head></html>", content_type="text/html")

    @routes.get("/chain")
    async def chain(request: web.Request) -> web.Response:
        codes = [int(c) for c in request.query.get("codes", "").split(",") if c]
        if not codes:
            return await feed(request)
        rest = ",".join(str(c) for c in codes[1:])
        # A relative Location, to check it is resolved against the current URL.
        return web.Response(status=codes[0], headers={"Location": f"chain?codes={rest}"})

    @routes.get("/many/{n}")
    async def many(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return await feed(request)
        return web.Response(status=301, headers={"Location": f"/many/{n - 1}"})

    @routes.get("/self")
    async def self_loop(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": "/self"})

    @routes.get("/slowhop/{n}")
    async def slowhop(request: web.Request) -> web.Response:
        await asyncio.sleep(0.15)
        n = int(request.match_info["n"])
        if n == 0:
            return await feed(request)
        return web.Response(status=302, headers={"Location": f"/slowhop/{n - 1}"})

    @routes.get("/loop/{name}")
    async def loop(request: web.Request) -> web.Response:
        other = "b" if request.match_info["name"] == "a" else "a"
        return web.Response(status=302, headers={"Location": f"/loop/{other}"})

    @routes.get("/to")
    async def to(request: web.Request) -> web.Response:
        code = int(request.query.get("code", "302"))
        return web.Response(status=code, headers={"Location": request.query["url"]})

    @routes.get("/status/{code}")
    async def status(request: web.Request) -> web.Response:
        headers = {}
        if "ra" in request.query:
            headers["Retry-After"] = request.query["ra"]
        return web.Response(status=int(request.match_info["code"]), headers=headers)

    @routes.get("/big")
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.query["size"]))

    @routes.get("/stall")
    async def stall(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b"<rss>" * 10)
        await state.release.wait()  # never set while the client waits
        return resp

    @routes.get("/slow-headers")
    async def slow_headers(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(body=FEED)

    @routes.get("/endless")
    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b"<item>spam</item>" * 4000
        while True:
            await resp.write(chunk)

    @routes.get("/bomb")
    async def bomb(request: web.Request) -> web.StreamResponse:
        data = gzip_bomb()
        resp = web.StreamResponse(headers={"Content-Encoding": "gzip"})
        resp.content_length = len(data)
        await resp.prepare(request)
        for start in range(0, len(data), 64 * 1024):
            await resp.write(data[start : start + 64 * 1024])
        return resp

    @routes.get("/encoded/{coding}")
    async def encoded(request: web.Request) -> web.Response:
        coding = request.match_info["coding"]
        compress = {"br": brotli.compress, "deflate": zlib.compress, "gzip": gzip.compress}
        body = compress[coding](FEED)
        return web.Response(body=body, headers={"Content-Encoding": coding})

    @routes.get("/slow")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.15)
        return web.Response(body=FEED)

    @routes.get("/delay")
    async def delay(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query["s"]))
        return web.Response(body=FEED)

    @routes.get("/cookie")
    async def cookie(request: web.Request) -> web.Response:
        resp = web.Response(body=FEED)
        resp.set_cookie("session", "feed-a", path="/", max_age=3600)
        return resp

    @routes.get("/incompressible")
    async def incompressible(request: web.Request) -> web.Response:
        # Random bytes grow under gzip: the body is larger on the wire than decoded.
        data = random.Random(0).randbytes(int(request.query["size"]))
        return web.Response(body=gzip.compress(data), headers={"Content-Encoding": "gzip"})

    app = web.Application(middlewares=[record])
    app.add_routes(routes)
    return app


@asynccontextmanager
async def serve(
    host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, ServerState]]:
    """Run the loopback app (over HTTPS with a `tls` server context); yields (base URL without
    trailing slash, state)."""
    state = ServerState()
    runner = web.AppRunner(build_app(state), handler_cancellation=True, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=tls)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    port = server.sockets[0].getsockname()[1]
    try:
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if tls else "http"
        yield f"{scheme}://{shown}:{port}", state
    finally:
        state.release.set()
        await runner.cleanup()
