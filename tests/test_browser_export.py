"""The static export in a real browser (Debian's headless Chromium under Playwright): the
demo planet exported under a sub-path (`--base-url http://127.0.0.1:PORT/planet/`) and
served by a plain static file server on a loopback port, and opened from the file system.
The same checks as the served site's (tests/test_browser.py) at 390 px and 1280 px: the
river, categories, paging, permalinks, topic chips, no sideways scrolling; and the
client-side search, with the pages readable without JavaScript.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from browser_support import SCREENSHOTS, PageWatch, populate_demo_store
from netplanet.export import export_site
from netplanet.settings import Settings
from test_browser import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser

PAGE_SIZE = 10
WIDTHS = (390, 1280)
PREFIX = "/planet/"
SEARCHED = """() => {
  const count = document.querySelector("#search-results .result-count");
  return count !== null && !count.textContent.startsWith("Searching");
}"""


class _Quiet(SimpleHTTPRequestHandler):
    """Serves the export under PREFIX, as a static host serving a sub-path would."""

    def translate_path(self, path: str) -> str:
        if not path.startswith(PREFIX):
            return "/nonexistent"
        return super().translate_path("/" + path[len(PREFIX) :])

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = Path(tmp_path_factory.mktemp("browser-export"))
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder / "out"))
    )
    base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    now = datetime.now(UTC)
    store, summary = populate_demo_store(folder / "demo.db", now=now)
    try:
        assert summary.new > 40
        export_site(
            store,
            Settings(site_title="netplanet demo"),
            folder / "out",
            base_url=base,
            page_size=PAGE_SIZE,
            clock=lambda: now,
        )
    finally:
        store.close()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, folder / "out"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder / "out", ignore_errors=True)


@pytest.fixture
def page(
    browser: Any,  # noqa: F811 - the fixture imported above
    exported: tuple[str, Path],
) -> Iterator[tuple[Any, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=exported[0])
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = PageWatch()
    watch.attach(context, page)
    try:
        yield page, watch
    finally:
        context.close()


def titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("article.post .post-title").all_inner_texts()]


def fits(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than a {width}px screen"


def screenshots(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        fits(page, width)
        page.screenshot(path=str(SCREENSHOTS / f"export-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_home_shows_the_newest_posts(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("index.html")
    assert "netplanet demo" in p.title()
    shown = titles(p)
    assert PAGE_SIZE - 2 <= len(shown) < 2 * PAGE_SIZE
    assert "BGP Add-Path in practice: what changes on the wire" in shown[:3]
    assert p.locator("nav.categories a").count() >= 5
    screenshots(p, "home")
    watch.assert_clean()


def test_category_link_opens_the_category(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("index.html")
    p.locator("nav.categories a", has_text="Podcasts").click()
    p.wait_for_url(re.compile(r"/planet/category/podcasts/index\.html$"))
    assert "Podcasts" in p.locator("h1").inner_text()
    shown = titles(p)
    assert shown and all(t.startswith("Episode") for t in shown)
    screenshots(p, "category")
    watch.assert_clean()


def test_paging_older_and_newer(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("index.html")
    first = titles(p)
    p.locator("nav.pager a.older").click()
    p.wait_for_url(re.compile(r"/planet/page/\d+/index\.html$"))
    second = titles(p)
    assert second and not set(second) & set(first)
    p.locator("nav.pager a.older").click()
    p.wait_for_url(re.compile(r"/planet/page/\d+/index\.html$"))
    third = titles(p)
    assert third and not set(third) & set(second)
    p.locator("nav.pager a.newer").click()
    assert titles(p) == second
    watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_topic_chips_and_permalinks(page: tuple[Any, PageWatch], width: int) -> None:
    p, watch = page
    p.set_viewport_size({"width": width, "height": 844})
    p.goto("index.html")
    chips = p.locator("article.post").first.locator("ul[aria-label=Topics] a")
    name = chips.first.inner_text().replace("(main topic)", "").strip()
    chips.first.click()
    p.wait_for_url(re.compile(r"/planet/topic/[a-z-]+/index\.html$"))
    assert p.locator("h1").inner_text() == name
    first = titles(p)[0]
    fits(p, width)
    p.locator("article.post a.when").first.click()
    p.wait_for_url(re.compile(r"/planet/post/\d+/index\.html$"))
    assert first in p.locator("main").inner_text()
    fits(p, width)
    watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_search_runs_in_the_browser(page: tuple[Any, PageWatch], width: int) -> None:
    p, watch = page
    p.set_viewport_size({"width": width, "height": 844})
    p.goto("post/1/index.html")
    p.fill("#site-search", "EVPN")
    p.press("#site-search", "Enter")
    p.wait_for_url(re.compile(r"/planet/search/index\.html\?q=EVPN"))
    p.wait_for_function(SEARCHED)
    found = titles(p)
    assert len(found) >= 3
    assert "result" in p.locator("#search-results .result-count").inner_text()
    assert p.input_value("#site-search") == "EVPN"
    p.locator("#search-results article.post a.when").first.click()
    p.wait_for_url(re.compile(r"/planet/post/\d+/index\.html$"))
    p.go_back()
    p.fill("#site-search", "-evpn -bgp")
    p.press("#site-search", "Enter")
    p.wait_for_url(re.compile(r"q=-evpn"))
    p.wait_for_function(SEARCHED)
    left = titles(p)
    assert left and not [t for t in left if re.search(r"\b(evpn|bgp)\b", t, re.IGNORECASE)]
    assert "without these words" in p.locator("#search-results .result-count").inner_text()
    fits(p, width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SCREENSHOTS / f"export-search-{width}.png"))
    watch.assert_clean()


def test_pages_read_without_javascript(
    browser: Any,  # noqa: F811 - the fixture imported above
    exported: tuple[str, Path],
) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=exported[0])
    try:
        p = context.new_page()
        p.goto("index.html")
        assert len(titles(p)) >= PAGE_SIZE - 2
        p.goto("search/index.html?q=evpn")
        assert "needs JavaScript" in p.locator("main").inner_text()
    finally:
        context.close()


def test_the_export_works_from_the_file_system(
    browser: Any,  # noqa: F811 - the fixture imported above
    exported: tuple[str, Path],
) -> None:
    root = exported[1]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    try:
        p = context.new_page()
        p.on("pageerror", lambda exc: errors.append(str(exc)))
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.goto((root / "index.html").as_uri())
        p.locator("nav.categories a", has_text="Podcasts").click()
        p.wait_for_url(re.compile(r"/category/podcasts/index\.html$"))
        assert titles(p)
        assert p.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet
        p.fill("#site-search", "EVPN")
        p.press("#site-search", "Enter")
        p.wait_for_selector("#search-results article.post")
        assert len(titles(p)) >= 3
    finally:
        context.close()
    assert errors == []
