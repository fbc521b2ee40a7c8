"""A tiny in-process ASGI client and the planet fixtures the web tests share.

Starlette's TestClient warns that its httpx backend is deprecated, and tests run with warnings as
errors, so the web tests call the ASGI app directly: one `asyncio.run` per request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette

from builders import NOW, make_entry, plan, spec
from netplanet.model import Entry
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.web.app import create_app

PAGE = 5
SITE_TITLE = "Test Planet"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Client:
    """Calls an ASGI app in process. `raise_errors=False` returns the 500 page instead."""

    def __init__(self, app: Starlette, *, raise_errors: bool = True) -> None:
        self.app = app
        self.raise_errors = raise_errors

    def get(self, url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
        path, _, query = url.partition("?")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"planet.test")]
            + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 50000),
            "server": ("planet.test", 80),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        try:
            asyncio.run(self.app(scope, receive, send))
        except Exception:
            if self.raise_errors or not sent:
                raise
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return Reply(status=start["status"], headers=hdrs, body=body)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Planet:
    store: SqlStore
    clock: Clock
    client: Client
    app: Starlette

    def add(self, source_id: int, *entries: Entry) -> None:
        self.store.apply_update(plan(source_id, tuple(entries)))


def make_planet(store: SqlStore, clock: Clock | None = None, *, page_size: int = PAGE) -> Planet:
    clock = clock or Clock()
    app = create_app(
        store, Settings(site_title=SITE_TITLE), clock=clock, page_size=page_size, nav_ttl=0.0
    )
    return Planet(store=store, clock=clock, client=Client(app), app=app)


@pytest.fixture(name="web_store")
def web_store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """SQLite, or the backend a test asks for with `BOTH_BACKENDS`."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        s = open_store(str(request.getfixturevalue("postgres_url")))
    else:
        s = open_store(f"sqlite:///{tmp_path / 'web.db'}")
    yield s
    s.close()


BOTH_BACKENDS = pytest.mark.parametrize(
    "web_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""For web tests whose pages are store queries (search, paging, archives, validators): the
planet is built on SQLite and on PostgreSQL. Most web tests stay on SQLite (the suite's time)."""


@pytest.fixture(name="river")
def river_fixture(web_store: SqlStore) -> Planet:
    """One source, posts 1..23 published 1..23 hours before NOW; 3..23 sealed (positions 1..21,
    oldest first), 1 and 2 still unsealed. With P=5: pages 1-4 full, page 5 holds only post 3."""
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 24)))
    web_store.seal_pages(NOW - timedelta(hours=2, minutes=30))
    return planet


def titles(html: str) -> list[str]:
    """Post titles in page order."""
    return re.findall(r'<h[12] class="post-title"><a [^>]*>([^<]*)</a>', html)


def numbers(html: str) -> list[int]:
    """The n of "Post number n about BGP" titles, in page order."""
    return [int(m) for m in re.findall(r"Post number (-?\d+) about", " ".join(titles(html)))]


def pager_links(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    if nav is None:
        return {}
    return {
        cls: href.replace("&amp;", "&")
        for cls, href in re.findall(r'<a class="(newer|older)" rel="\w+" href="([^"]*)"', nav[0])
    }


def entries_at(source_id: int, numbers: range, **kw: Any) -> list[Entry]:
    return [make_entry(source_id, n, **kw) for n in numbers]


def with_key(entry: Entry, key: str) -> Entry:
    return replace(entry, key=key, guid=key, url=f"https://blog.example.net/{key}/")


Builder = Callable[..., Entry]


# --------------------------------------------------------------------------- the client itself


def test_static_asset_is_versioned_and_immutable(river: Planet) -> None:
    page = river.client.get("/")
    css = re.search(r'href="(/static/site\.[0-9a-f]{12}\.css)"', page.text)
    assert css is not None
    reply = river.client.get(css[1])
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/css")
    assert "immutable" in reply.headers["cache-control"]
    assert b"prefers-color-scheme: dark" in reply.body
    assert river.client.get("/static/site.0000.css").status == 404


def test_head_request_is_answered_with_validators(river: Planet) -> None:
    reply = river.client.get("/", method="HEAD")
    assert reply.status == 200
    assert reply.headers["etag"]
