"""Pages rendered by the site's own route handlers, in-process: the export is byte for byte
what the server sends for the same URL (no second template set, no HTTP).

`Renderer.get(target)` matches the target against the app's routes, builds the request scope
a server would (with the export's base URL where web/edge.py would put it, so the Host check
never runs and never fixes the planet's base URL) and calls the handler directly (every
public handler is synchronous). `chain(front)` renders a list front and follows its "older
posts" `?before=` links: the pages of a list that the server pages with cursors.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match

from netplanet.web.edge import BASE_SCOPE_KEY

MAX_CHAIN = 100_000
"""More `?before=` pages than this in one list means a loop, not a list."""

_HREF = re.compile(rb'href="([^"]*\?before=[^"]*)"')


@dataclass(frozen=True, slots=True)
class Rendered:
    status: int
    body: bytes
    media_type: str


class Renderer:
    """Calls the app's handlers for served paths, as GET requests to `base_url`."""

    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        parts = urlsplit(base_url if "://" in base_url else "http://localhost")
        self._host = (parts.hostname or "localhost").encode()
        self._scheme = "https" if parts.scheme == "https" else "http"

    def get(self, target: str) -> Rendered:
        """The response to GET `target` (path and query). A status other than 200 (a 404, a
        redirect) has an empty body."""
        path, _, query = target.partition("?")
        scope: dict[str, Any] = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": self._scheme,
            "path": unquote(path),
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", self._host)],
            "client": ("127.0.0.1", 0),
            "server": (self._host.decode(), 443 if self._scheme == "https" else 80),
            "app": self.app,
            "state": {},
            BASE_SCOPE_KEY: self.base_url,
        }
        for route in self.app.router.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                try:
                    response = route.endpoint(Request(scope))
                except HTTPException as exc:
                    return Rendered(exc.status_code, b"", "")
                if response.status_code != 200:
                    return Rendered(response.status_code, b"", "")
                return Rendered(200, bytes(response.body), response.media_type or "")
        return Rendered(404, b"", "")

    def chain(self, front: str) -> list[tuple[str, bytes]]:
        """The front page `front` and its older `?before=` pages, in order, as (served
        target, body); empty when the front is not a 200."""
        first = self.get(front)
        if first.status != 200:
            return []
        out = [(front, first.body)]
        seen = {front}
        body = first.body
        while len(out) < MAX_CHAIN:
            older = [
                link
                for link in (html.unescape(m.decode()) for m in _HREF.findall(body))
                if link.split("?", 1)[0] == front and link not in seen
            ]
            if not older:
                break
            target = older[-1]  # the pager's "Older posts" comes after "Newer posts"
            page = self.get(target)
            seen.add(target)
            if page.status != 200:
                break
            out.append((target, page.body))
            body = page.body
        return out
