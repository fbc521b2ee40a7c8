"""A loopback feed server for pipeline tests: routes are mutable between polls.

Each route maps a path to a callable returning (status, headers, body), so a test can change
what a feed says from one update to the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

Response = tuple[int, dict[str, str], bytes]


@dataclass
class FeedServer:
    routes: dict[str, Callable[[web.Request], Response]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    base: str = ""

    def url(self, path: str) -> str:
        return self.base + path

    def static(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        self.routes[path] = lambda _req: (200, {"Content-Type": content_type}, body)

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        status, headers, body = handler(request)
        return web.Response(status=status, headers=headers, body=body)


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


def rss(items: list[tuple[str, str, str]], *, title: str = "Loopback Blog") -> bytes:
    """An RSS 2.0 document; items are (guid, title, html body)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{title}</title><link>https://loopback.example/</link>",
        "<description>d</description>",
    ]
    for n, (guid, item_title, body) in enumerate(items):
        day = 10 + n
        parts.append(
            f"<item><title>{item_title}</title>"
            f"<link>https://loopback.example/posts/{guid}/</link>"
            f'<guid isPermaLink="false">{guid}</guid>'
            f"<pubDate>Tue, {day} Nov 2026 08:00:00 GMT</pubDate>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()
