"""Helpers for the browser tests: Debian's Chromium under Playwright, the real app under uvicorn.

- `chromium_or_skip()` finds /usr/bin/chromium; without it the tests skip with the install
  command, except in CI (env CI set), where a missing browser is a failure, not a skip.
- `LiveServer` runs the real Starlette app with uvicorn (configured as `netplanet run` does) in
  a thread on 127.0.0.1 and an ephemeral port, and stops it cleanly (no warnings left for
  `filterwarnings = error`).
- `populate_demo_store()` fills a SQLite store through the demo's loopback feed server and the
  real update pipeline, exactly as `netplanet demo` does.
- `PageWatch` records console errors, page errors, failed requests, HTTP errors and any request
  that leaves 127.0.0.1 (answered locally with an empty 204, so the test never reaches out).

Playwright never downloads a browser here: the tests pass `executable_path`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import pytest
import uvicorn

from builders import pipelines_over
from netplanet.demo.ingest import DemoSummary, ingest_demo
from netplanet.demo.server import DemoFeedServer
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.web.app import UVICORN_OPTIONS

CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "apt-get update && apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def chromium_or_skip(path: str = CHROMIUM, *, ci: bool | None = None) -> str:
    """The Chromium executable; skip (or, in CI, fail) when it is not installed."""
    if os.access(path, os.X_OK):
        return path
    ci = bool(os.environ.get("CI")) if ci is None else ci
    message = f"{path} is missing; install it with: {INSTALL_HINT}"
    if ci:
        pytest.fail(f"browser tests must run in CI: {message}", pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------- the app


class LiveServer:
    """The app under uvicorn in a background thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", **UVICORN_OPTIONS
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def populate_demo_store(path: Path, *, now: datetime | None = None) -> tuple[SqlStore, DemoSummary]:
    """A SQLite store at `path`, filled with the demo through the real pipeline."""
    store = open_store(f"sqlite:///{path}")
    settings = Settings(
        allow_private_networks=True, connect_timeout=5, read_timeout=5, per_host_gap_s=0.0
    )

    async def main() -> DemoSummary:
        async with DemoFeedServer() as feeds:
            return await ingest_demo(
                store,
                settings,
                feeds.base_url,
                pipelines=pipelines_over(store, settings),
                now=now or datetime.now(UTC),
            )

    # A thread of its own: Playwright's sync API may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return store, pool.submit(asyncio.run, main()).result()


# --------------------------------------------------------------------------- page problems


@dataclass
class PageWatch:
    """Everything that went wrong while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def attach(self, context: Any, page: Any) -> None:
        context.route("**/*", self._route)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _failed(self, request: Any) -> None:
        # A click that navigates away cancels what the old page was still loading (e.g. its
        # favicon) with ERR_ABORTED: the browser's doing, not a broken resource. Real failures
        # (refused, reset, HTTP errors via _response) are still recorded.
        if request.failure != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.url}: {request.failure}")

    def _route(self, route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
            return
        # The planet must not make the reader's browser call other sites on its own.
        self.external_requests.append(f"{route.request.resource_type} {url}")
        route.fulfill(status=204, body="")

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(f"console: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.url}: HTTP {response.status}")

    def assert_clean(self) -> None:
        problems = self.console_errors + self.failed_requests + self.external_requests
        assert not problems, "\n".join(problems)
