"""The website in a real browser: Debian's headless Chromium driven by Playwright, over the real
app (uvicorn on a loopback port) and a store filled by the demo through the real pipeline.

Every test fails on a console error, a page error, a failed request, an HTTP error or a request
to another host. Screenshots at 360 px and 1280 px go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    LiveServer,
    PageWatch,
    chromium_or_skip,
    populate_demo_store,
)
from netplanet.settings import Settings

pytestmark = pytest.mark.browser

PAGE_SIZE = 10  # small pages, so the demo's ~57 posts give several to page through
WIDTHS = (360, 1280)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from netplanet.web.app import create_app

    store, summary = populate_demo_store(Path(tmp_path_factory.mktemp("browser")) / "demo.db")
    assert summary.new > 40
    app = create_app(store, Settings(site_title="netplanet demo"), page_size=PAGE_SIZE)
    try:
        with LiveServer(app) as server:
            yield server.url
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[tuple[Any, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = PageWatch()
    watch.attach(context, page)
    try:
        yield page, watch
    finally:
        context.close()


def screenshots(page: Any, name: str) -> None:
    """Full-page screenshots of the current page at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("article.post .post-title").all_inner_texts()]


def no_horizontal_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 1, f"page is {overflow}px wider than a 360px screen"


def test_home_shows_the_newest_posts(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/")
    assert "netplanet demo" in p.title()
    shown = titles(p)
    # unsealed posts and the partial newest page, with the newest full page when that is
    # less than a page (docs/pagination.md)
    # (two of the demo's posts are collapsed into a story shown once, at its newest post)
    assert PAGE_SIZE - 2 <= len(shown) < 2 * PAGE_SIZE
    assert "BGP Add-Path in practice: what changes on the wire" in shown[:3]
    assert p.locator("nav.categories a").count() >= 5
    no_horizontal_scroll(p)
    screenshots(p, "home")
    watch.assert_clean()


def test_pages_run_under_the_strict_content_security_policy(page: tuple[Any, PageWatch]) -> None:
    """The browser enforces the real policy on every page visited here: an inline style or
    script, or an asset from elsewhere, shows up as a console error (and fails the test)."""
    p, watch = page
    for path in ("/", "/sources/", "/search?q=bgp", "/about/", "/admin/login"):
        response = p.goto(path)
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp, path
        assert response.headers["x-frame-options"] == "DENY"
    watch.assert_clean()


def test_category_link_opens_the_category(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/")
    p.locator("nav.categories a", has_text="Podcasts").click()
    p.wait_for_url(re.compile(r"/category/podcasts/$"))
    assert "Podcasts" in p.locator("h1").inner_text()
    shown = titles(p)
    assert shown and all(t.startswith("Episode") for t in shown)
    assert p.locator('nav.categories a[aria-current="page"]').inner_text() == "Podcasts"
    no_horizontal_scroll(p)
    screenshots(p, "category")
    watch.assert_clean()


def dated_titles(page: Any) -> list[tuple[str, str]]:
    """(ISO date, title) of each post shown, in page order."""
    posts = page.locator("article.post")
    return [
        (
            posts.nth(n).locator("time").get_attribute("datetime") or "",
            posts.nth(n).locator(".post-title").inner_text().strip(),
        )
        for n in range(posts.count())
    ]


def test_paging_older_and_newer(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/")
    first = dated_titles(p)
    assert first == sorted(first, reverse=True)
    p.locator("nav.pager a.older").click()
    p.wait_for_url(re.compile(r"/page/\d+$"))
    second = dated_titles(p)
    # "Older" opens the newest numbered page the front page does not show: no repeat, no gap.
    assert second and second == sorted(second, reverse=True)
    assert second[0] < first[-1]
    assert not set(second) & set(first)
    assert "Posts from" in p.locator("p.page-span").inner_text()
    p.locator("nav.pager a.older").click()
    p.wait_for_url(re.compile(r"/page/\d+$"))
    third = dated_titles(p)
    assert third and third[0] < second[-1]  # numbered pages never overlap
    p.locator("nav.pager a.newer").click()
    p.wait_for_url(re.compile(r"/page/\d+$"))
    assert dated_titles(p) == second
    p.go_back()
    assert dated_titles(p) == third
    assert "Page" in p.locator("nav.pager .page-label").inner_text()
    watch.assert_clean()


def test_search_highlights_matches(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/")
    p.fill("#site-search", "EVPN")
    p.press("#site-search", "Enter")
    p.wait_for_url(re.compile(r"/search\?q=EVPN"))
    assert p.locator("article.post").count() >= 3
    marks = p.locator("main mark").all_inner_texts()
    assert marks and all(m.lower() == "evpn" for m in marks)
    assert p.input_value("#site-search") == "EVPN"
    no_horizontal_scroll(p)
    screenshots(p, "search")
    watch.assert_clean()


def test_search_results_start_high_on_a_phone(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.set_viewport_size({"width": 390, "height": 844})
    p.goto("/search?q=evpn&category=networking")
    assert p.locator("input[name=q]").count() == 1  # the header's box, not a second one
    first = p.locator("article.post").first.bounding_box()
    assert first is not None and first["y"] < 844 * 0.45, first  # it was ~560 px down
    # The filters travel with the header's box: a new query keeps the chosen category.
    p.fill("#site-search", "vxlan")
    p.press("#site-search", "Enter")
    p.wait_for_url(re.compile(r"/search\?q=vxlan&category=networking"))
    p.set_viewport_size({"width": 1280, "height": 900})
    watch.assert_clean()


def test_search_with_hostile_input_is_harmless(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%20%22unterminated%20AND%20(")
    assert p.locator("main script").count() == 0
    assert p.locator("h1").count() == 1
    watch.assert_clean()


def test_post_permalink_opens_the_post(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/category/podcasts/")
    first = titles(p)[0]
    p.locator("article.post a.when").first.click()
    p.wait_for_url(re.compile(r"/post/\d+/$"))
    assert first in p.locator("main").inner_text()
    original = p.locator("main a", has_text="Continue reading").first.get_attribute("href")
    assert original and original.startswith("https://underlayradio.example/")
    no_horizontal_scroll(p)
    screenshots(p, "post")
    watch.assert_clean()


def test_sponsored_post_is_labelled(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/category/security/")
    sponsored = p.locator("article.post.sponsored")
    assert sponsored.count() == 1
    assert sponsored.locator(".badge-sponsored").text_content() == "Sponsored"
    watch.assert_clean()


def test_output_feeds_are_served(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    for path, kind in (
        ("/feed.xml", "rss+xml"),
        ("/atom.xml", "atom+xml"),
        ("/feed.json", "feed+json"),
        ("/opml.xml", "opml"),
    ):
        response = p.request.get(path)
        assert response.status == 200, path
        assert kind in response.headers["content-type"], path
    watch.assert_clean()


@pytest.mark.parametrize("width", [390, 1280])
def test_topic_chips_open_the_topic_archive(page: tuple[Any, PageWatch], width: int) -> None:
    p, watch = page
    p.set_viewport_size({"width": width, "height": 844})
    p.goto("/")
    chips = p.locator("article.post").first.locator("ul[aria-label=Topics] a")
    assert chips.count() >= 1 and chips.first.is_visible()
    name = chips.first.inner_text().replace("(main topic)", "").strip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SCREENSHOTS / f"river-topics-{width}.png"))
    chips.first.click()
    p.wait_for_url(re.compile(r"/topic/[a-z-]+/$"))
    assert p.locator("h1").inner_text() == name
    current = p.locator("nav[aria-label=Topics] a[aria-current=page]")
    assert current.inner_text() == name
    assert titles(p)
    # Every post listed here has this topic among its chips.
    for post in p.locator("article.post").all():
        topics = post.locator("ul[aria-label=Topics] a").all_inner_texts()
        assert any(t.replace("(main topic)", "").strip() == name for t in topics), topics
    nav = p.locator("nav.topic-nav").bounding_box()
    assert nav is not None
    if width < 500:
        # One scrollable row on a phone: the topics do not push the posts down.
        assert nav["height"] < 48, nav
        first = p.locator("article.post").first.bounding_box()
        assert first is not None and first["y"] < 844 * 0.6, first
    overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the screen"
    p.screenshot(path=str(SCREENSHOTS / f"topic-{width}.png"))
    p.set_viewport_size({"width": 1280, "height": 900})
    watch.assert_clean()


def test_label_filters_hide_podcasts_and_keep_paging(page: tuple[Any, PageWatch]) -> None:
    p, watch = page
    p.goto("/")
    p.get_by_role("link", name="Hide podcasts and videos").click()
    p.wait_for_url(re.compile(r"/\?podcasts=0$"))
    assert p.locator("article.post .badge-media").count() == 0
    older = p.locator("nav.pager a.older")
    assert "podcasts=0" in (older.get_attribute("href") or "")
    older.click()
    assert p.locator("article.post .badge-media").count() == 0
    assert p.get_by_role("link", name="Show podcasts and videos").count() == 1
    watch.assert_clean()


def test_missing_chromium_skips_locally_and_fails_in_ci() -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium_or_skip("/nonexistent/chromium", ci=False)
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        chromium_or_skip("/nonexistent/chromium", ci=True)
