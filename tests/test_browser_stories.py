"""Story clusters in a real browser: the demo's three posts about one (made-up) VPN flaw show
once in the river, at the newest, with "Also covered by" linking to the other two; the post
page lists the cluster. At 390 px (a phone) and 1280 px, without horizontal scrolling.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from browser_support import SCREENSHOTS, PageWatch
from test_browser import browser, page, site, titles  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

LEAD = "Scanning for Harbor Gate portals started within hours"
OTHERS = {
    "Harbor Gate VPN: what CVE-2026-41872 means for your edge": "Bastion Networks Blog",
    "We patched Harbor Gate in an afternoon: notes on CVE-2026-41872": "Cloud Edge Journal",
}
WIDTHS = (390, 1280)


def _fits(p: Any, width: int, name: str) -> None:
    p.set_viewport_size({"width": width, "height": 900})
    overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than a {width}px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def test_the_river_shows_a_story_once_with_also_covered_by(
    page: tuple[Any, PageWatch],  # noqa: F811 - the fixture imported above
) -> None:
    p, watch = page
    p.goto("/")
    shown = titles(p)
    assert LEAD in shown
    assert not set(OTHERS) & set(shown)  # the other posts of the story are not repeated
    item = p.locator("article.post", has_text=LEAD)
    line = item.locator(".also-covered")
    for width in WIDTHS:
        p.set_viewport_size({"width": width, "height": 900})
        assert line.is_visible()
        assert line.inner_text().startswith("Also covered by:")
        _fits(p, width, "story-river")
    links = line.locator("a")
    hrefs = [links.nth(n).get_attribute("href") or "" for n in range(links.count())]
    assert all(h.startswith("https://") for h in hrefs)  # the original posts
    # What a screen reader says: the source, then the post's title.
    names = [links.nth(n).text_content() or "" for n in range(links.count())]
    assert {n.split(":", 1)[0] for n in names} == set(OTHERS.values())
    assert all(any(title in n for title in OTHERS) for n in names)
    watch.assert_clean()


def test_the_post_page_lists_the_whole_cluster(
    page: tuple[Any, PageWatch],  # noqa: F811 - the fixture imported above
) -> None:
    p, watch = page
    p.goto("/")
    p.locator("article.post", has_text=LEAD).locator("a.when").click()
    p.wait_for_url(re.compile(r"/post/\d+/$"))
    section = p.locator("section.coverage-list")
    for width in WIDTHS:
        p.set_viewport_size({"width": width, "height": 900})
        assert section.is_visible()
        _fits(p, width, "story-post")
    assert section.locator("h2").inner_text() == "This story on the planet"
    items = section.locator("ul.also-covered li")
    assert items.count() == 2
    listed = " ".join(items.all_inner_texts())
    for title, source in OTHERS.items():
        assert title in listed and source in listed
    # Each source links to its page on the planet.
    section.locator("a.source", has_text="Bastion Networks Blog").click()
    p.wait_for_url(re.compile(r"/source/[^/]+/$"))
    assert "Harbor Gate VPN: what CVE-2026-41872" in " ".join(titles(p))  # all its posts
    watch.assert_clean()
