"""Stable pagination on the website: front pages, numbered pages, cursors (docs/pagination.md)."""

from __future__ import annotations

import re
from datetime import timedelta

from builders import NOW, make_entry, spec
from netplanet.store import SqlStore
from test_web_client import (  # noqa: F401 - fixtures
    Planet,
    make_planet,
    numbers,
    pager_links,
    river_fixture,
    web_store_fixture,
    with_key,
)


def test_home_shows_unsealed_then_newest_sealed_and_links_to_the_page_holding_the_next(
    river: Planet,
) -> None:
    page = river.client.get("/")
    assert page.status == 200
    assert numbers(page.text) == [1, 2, 3, 4, 5]
    # posts 3, 4, 5 are positions 21, 20, 19; the next older post (position 18) is on page 4
    assert pager_links(page.text) == {"older": "/page/4"}


def test_first_numbered_page_is_the_oldest(river: Planet) -> None:
    page = river.client.get("/page/1")
    assert numbers(page.text) == [19, 20, 21, 22, 23]
    assert pager_links(page.text) == {"newer": "/page/2"}
    assert "Page 1 of 5" in page.text


def test_last_numbered_page_is_partial_and_links_newer_to_home(river: Planet) -> None:
    page = river.client.get("/page/5")
    assert numbers(page.text) == [3]
    assert pager_links(page.text) == {"newer": "/", "older": "/page/4"}
    assert "Page 5 of 5" in page.text


def test_middle_page_links_both_ways(river: Planet) -> None:
    page = river.client.get("/page/3")
    assert numbers(page.text) == [9, 10, 11, 12, 13]
    assert pager_links(page.text) == {"newer": "/page/4", "older": "/page/2"}


def test_page_zero_and_beyond_the_last_are_404(river: Planet) -> None:
    assert river.client.get("/page/0").status == 404
    assert river.client.get("/page/6").status == 404
    assert river.client.get("/page/-1").status == 404
    assert river.client.get("/page/x").status == 404


def test_numbered_pages_do_not_change_when_newer_posts_arrive(river: Planet) -> None:
    before = {n: numbers(river.client.get(f"/page/{n}").text) for n in (1, 2, 5)}
    src = river.store.get_source_by_slug("example-blog-1")
    assert src is not None
    newer = [
        with_key(make_entry(src.id, 0, published=NOW + timedelta(hours=h)), f"new-{h}")
        for h in range(1, 13)
    ]
    river.add(src.id, *newer)
    river.clock.now = NOW + timedelta(days=1)
    river.store.seal_pages(NOW + timedelta(hours=20))
    assert {n: numbers(river.client.get(f"/page/{n}").text) for n in (1, 2)} == {
        n: before[n] for n in (1, 2)
    }
    # the old partial page filled up from its end; what it showed before is still there, in place
    assert numbers(river.client.get("/page/5").text)[-1:] == before[5]
    assert river.client.get("/page/7").status == 200


def test_page_two_is_byte_identical_after_new_posts_apart_from_the_page_count(
    river: Planet,
) -> None:
    first = river.client.get("/page/2").text
    src = river.store.get_source_by_slug("example-blog-1")
    assert src is not None
    river.add(src.id, with_key(make_entry(src.id, 0, published=NOW), "fresh"))
    river.store.seal_pages(NOW + timedelta(seconds=1))
    again = river.client.get("/page/2").text
    assert again == first


def test_more_unsealed_than_a_page_continues_with_cursors_then_numbered_pages(
    web_store: SqlStore,
) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 21)))
    web_store.seal_pages(NOW - timedelta(hours=12, minutes=30))  # 13..20 sealed: positions 1..8
    home = planet.client.get("/")
    assert numbers(home.text) == [1, 2, 3, 4, 5]
    older = pager_links(home.text)["older"]
    assert older.startswith("/?before=")

    second = planet.client.get(older)
    assert numbers(second.text) == [6, 7, 8, 9, 10]
    assert pager_links(second.text)["newer"] == "/"
    third_url = pager_links(second.text)["older"]

    third = planet.client.get(third_url)
    # the last two unsealed posts, then the newest sealed ones (positions 8, 7, 6)
    assert numbers(third.text) == [11, 12, 13, 14, 15]
    links = pager_links(third.text)
    assert links["older"] == "/page/1"  # position 5 is on page 1
    # ten posts lie above: "newer" is a cursor that shows exactly the page above
    assert links["newer"].startswith("/?before=")
    assert numbers(planet.client.get(links["newer"]).text) == [6, 7, 8, 9, 10]

    assert numbers(planet.client.get("/page/1").text) == [16, 17, 18, 19, 20]
    assert pager_links(planet.client.get("/page/2").text) == {"newer": "/", "older": "/page/1"}


def test_malformed_cursor_is_404(river: Planet) -> None:
    for bad in ("x", "2026-13-01T00:00:00Z_1", "2026-11-01T00:00:00Z_", "1_1"):
        assert river.client.get(f"/?before={bad}").status == 404
        assert river.client.get(f"/source/example-blog-1/?before={bad}").status == 404


def test_exactly_a_page_of_unsealed_links_older_to_the_newest_numbered_page(
    web_store: SqlStore,
) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 13)))
    web_store.seal_pages(NOW - timedelta(hours=5, minutes=30))  # 6..12 sealed: positions 1..7
    home = planet.client.get("/")
    assert numbers(home.text) == [1, 2, 3, 4, 5]
    assert pager_links(home.text) == {"older": "/page/2"}


def test_empty_planet_home_says_so(web_store: SqlStore) -> None:
    planet = make_planet(web_store)
    page = planet.client.get("/")
    assert page.status == 200
    assert "This planet has no sources yet." in page.text  # says why (issue 12, item 5)
    assert pager_links(page.text) == {}
    assert planet.client.get("/page/1").status == 404


def test_category_pages_use_per_category_positions(web_store: SqlStore) -> None:
    net = web_store.add_source(spec(1))
    sec = web_store.add_source(spec(2, category="Security"))
    planet = make_planet(web_store)
    planet.add(net.id, *(make_entry(net.id, n) for n in range(1, 12)))
    planet.add(sec.id, *(make_entry(sec.id, n, categories=("Security",)) for n in range(100, 108)))
    web_store.seal_pages(NOW)
    front = planet.client.get("/category/security/")
    assert "Category archives for “Security”" in front.text
    assert numbers(front.text) == [100, 101, 102, 103, 104]
    assert pager_links(front.text) == {"older": "/category/security/page/1"}
    first = planet.client.get("/category/security/page/1")
    assert numbers(first.text) == [103, 104, 105, 106, 107]
    assert pager_links(first.text) == {"newer": "/category/security/page/2"}
    last = planet.client.get("/category/security/page/2")
    assert numbers(last.text) == [100, 101, 102]
    assert pager_links(last.text) == {
        "newer": "/category/security/",
        "older": "/category/security/page/1",
    }
    assert planet.client.get("/category/security/page/3").status == 404
    assert planet.client.get("/category/security/page/0").status == 404
    assert planet.client.get("/category/nope/").status == 404
    assert planet.client.get("/category/nope/page/1").status == 404
    assert re.search(r'aria-current="page">Security<', front.text)


def test_source_pages_page_with_cursors_both_ways(river: Planet) -> None:
    front = river.client.get("/source/example-blog-1/")
    assert numbers(front.text) == [1, 2, 3, 4, 5]
    assert "newer" not in pager_links(front.text)
    second = river.client.get(pager_links(front.text)["older"])
    assert numbers(second.text) == [6, 7, 8, 9, 10]
    assert pager_links(second.text)["newer"] == "/source/example-blog-1/"
    third = river.client.get(pager_links(second.text)["older"])
    assert numbers(third.text) == [11, 12, 13, 14, 15]
    back = river.client.get(pager_links(third.text)["newer"])
    assert numbers(back.text) == [6, 7, 8, 9, 10]
    page = third
    while "older" in pager_links(page.text):
        page = river.client.get(pager_links(page.text)["older"])
    assert numbers(page.text) == [21, 22, 23]
