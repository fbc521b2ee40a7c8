"""The weekly digest in a real browser, over the demo planet: /digest/ lists its weeks and a
week's page shows its topics, each story once with its source, date and excerpt, at 390 px (a
phone) and 1280 px, without horizontal scrolling, in light and dark mode."""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import SCREENSHOTS, PageWatch
from test_browser import browser, page, site  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)


def _fits(p: Any, width: int, name: str) -> None:
    p.set_viewport_size({"width": width, "height": 900})
    overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than a {width}px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def test_the_digest_index_and_a_week(
    page: tuple[Any, PageWatch],  # noqa: F811 - the fixture imported above
) -> None:
    p, watch = page
    p.goto("/")
    p.get_by_role("link", name="Weekly digest").first.click()
    p.wait_for_url("**/digest/")
    assert p.locator("h1").inner_text() == "Weekly digest"
    weeks = p.locator(".digest-weeks a")
    assert weeks.count() >= 1
    for width in WIDTHS:
        _fits(p, width, "digest-index")
    # The week with the most stories: the demo's posts span a few days.
    best, most = "", -1
    for n in range(weeks.count()):
        href = weeks.nth(n).get_attribute("href") or ""
        p.goto(href)
        count = p.locator(".digest-item").count()
        if count > most:
            best, most = href, count
        p.go_back()
    p.goto(best)
    assert most >= 3
    sections = p.locator(".digest-group h2").all_inner_texts()
    assert sections and len(sections) == len(set(sections))
    first = p.locator(".digest-item").first
    assert first.locator(".digest-title a").get_attribute("href", timeout=2000)
    assert first.locator(".meta .source").inner_text()
    assert first.locator("time").get_attribute("datetime")
    links = p.locator(".digest-title a")
    hrefs = [links.nth(n).get_attribute("href") or "" for n in range(links.count())]
    assert all(h.startswith(("http://", "https://", "/post/")) for h in hrefs)
    assert len(hrefs) == len(set(hrefs))  # every story once
    for width in WIDTHS:
        assert first.is_visible()
        _fits(p, width, "digest-week")
    p.emulate_media(color_scheme="dark")
    _fits(p, 390, "digest-week-dark")
    p.emulate_media(color_scheme="light")
    # The topics' links jump to their sections.
    if p.locator(".digest-toc a").count():
        target = p.locator(".digest-toc a").first.get_attribute("href") or ""
        assert p.locator(target).count() == 1
    watch.assert_clean()
