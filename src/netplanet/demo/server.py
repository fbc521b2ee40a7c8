"""The demo's feed server: the bundled feeds over real HTTP on a loopback port.

An aiohttp.web app bound to 127.0.0.1 (port 0 by default, so the OS picks a free one). Every
document carries an ETag (a hash of its bytes) and a Last-Modified (when its bytes last changed),
and conditional requests get 304, so a re-update of the demo exercises the fetcher's cache path.
`refresh(now)` re-renders the templates (dates move with the clock); only documents whose bytes
changed get new validators.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Self

from aiohttp import web

from netplanet.demo import DemoDocument, render_documents


@dataclass(frozen=True, slots=True)
class _Served:
    doc: DemoDocument
    etag: str
    modified: datetime


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _not_modified(request: web.Request, served: _Served) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return served.etag in tags or "*" in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return served.modified <= since
    return False


class DemoFeedServer:
    """Serves the demo documents on `host` (loopback) until closed. Use as an async context
    manager, or call `start()` and `close()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.base_url = ""
        self.hits: Counter[str] = Counter()
        """Requests per path (all methods and outcomes), for tests and the summary."""
        self._docs: dict[str, _Served] = {}
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        """Bind, render the documents, and return the base URL (no trailing slash)."""
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/{path:.+}", self._document)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"
        self.refresh()
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def refresh(self, now: datetime | None = None) -> int:
        """Re-render every document for `now`; returns how many changed."""
        now = now or self.clock()
        changed = 0
        for path, doc in render_documents(now, self.base_url).items():
            old = self._docs.get(path)
            if old is not None and old.doc.body == doc.body:
                continue
            changed += 1
            self._docs[path] = _Served(doc, _etag(doc.body), now.replace(microsecond=0))
        return changed

    def url(self, path: str) -> str:
        return self.base_url + path

    # ------------------------------------------------------------------ handlers

    async def _document(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        served = self._docs.get(request.path)
        if served is None:
            raise web.HTTPNotFound(text=f"no demo document at {request.path}\n")
        headers = {
            "ETag": served.etag,
            "Last-Modified": format_datetime(served.modified, usegmt=True),
            "Cache-Control": "max-age=300",
        }
        if _not_modified(request, served):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=served.doc.body, headers={**headers, "Content-Type": served.doc.content_type}
        )

    async def _index(self, request: web.Request) -> web.Response:
        self.hits["/"] += 1
        rows = "".join(
            f'<li><a href="{html.escape(p)}">{html.escape(p)}</a> '
            f"({html.escape(s.doc.content_type)})</li>"
            for p, s in sorted(self._docs.items())
        )
        page = f"<!doctype html><title>netplanet demo feeds</title><ul>{rows}</ul>"
        return web.Response(text=page, content_type="text/html")
