"""Stable pagination on the website: front pages, numbered pages, cursors (docs/pagination.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from builders import NOW, make_entry, spec
from netplanet.publish.pages import Cursor
from netplanet.store import SqlStore, open_store
from test_web_client import (  # noqa: F401 - fixtures
    Planet,
    make_planet,
    numbers,
    pager_links,
    river_fixture,
    with_key,
)


@pytest.fixture(name="web_store")
def web_store_fixture(database: str) -> Iterator[SqlStore]:
    """Paging is all store queries: these pages run on both backends."""
    s = open_store(database)
    yield s
    s.close()


def test_home_shows_unsealed_then_the_partial_page_and_links_to_the_next_full_page(
    river: Planet,
) -> None:
    page = river.client.get("/")
    assert page.status == 200
    # posts 1, 2 are unsealed; post 3 (position 21) is all of the partial page 5; that is less
    # than a page, so the newest full page 4 (posts 4-8) is shown too
    assert numbers(page.text) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert pager_links(page.text) == {"older": "/page/3"}
    older = river.client.get("/page/3")
    assert numbers(older.text) == [9, 10, 11, 12, 13]  # nothing the front page showed
    assert pager_links(older.text) == {"newer": "/page/4", "older": "/page/2"}
    assert pager_links(river.client.get("/page/4").text) == {"newer": "/", "older": "/page/3"}


def test_first_numbered_page_is_the_oldest(river: Planet) -> None:
    page = river.client.get("/page/1")
    assert numbers(page.text) == [19, 20, 21, 22, 23]
    assert pager_links(page.text) == {"newer": "/page/2"}
    assert "Page 1 of 4" in page.text


def test_numbered_page_says_which_dates_it_holds(river: Planet) -> None:
    # NOW is 1 Nov 2026 12:00 UTC; posts 19-23 are 19-23 hours older
    page = river.client.get("/page/1")
    assert 'Posts from <time datetime="2026-10-31">31 Oct 2026</time></p>' in page.text
    assert "<title>Page 1: 31 Oct 2026 — Test Planet</title>" in page.text
    page = river.client.get("/page/3")  # posts 9-13: 1 Nov 03:00 back to 31 Oct 23:00
    assert (
        'Posts from <time datetime="2026-10-31">31 Oct 2026</time> to '
        '<time datetime="2026-11-01">1 Nov 2026</time>'
    ) in page.text
    assert "<title>Page 3: 31 Oct 2026 to 1 Nov 2026 — Test Planet</title>" in page.text
    assert "Posts from" not in river.client.get("/").text


def test_partial_numbered_page_redirects_to_the_front_page_that_shows_it(river: Planet) -> None:
    page = river.client.get("/page/5")
    assert page.status == 302
    assert page.headers["location"] == "/"


def test_middle_page_links_both_ways(river: Planet) -> None:
    page = river.client.get("/page/3")
    assert numbers(page.text) == [9, 10, 11, 12, 13]
    assert pager_links(page.text) == {"newer": "/page/4", "older": "/page/2"}


def test_page_zero_and_beyond_the_last_are_404(river: Planet) -> None:
    assert river.client.get("/page/0").status == 404
    assert river.client.get("/page/6").status == 404
    assert river.client.get("/page/7").status == 404
    assert river.client.get("/page/-1").status == 404
    assert river.client.get("/page/x").status == 404


def test_numbered_pages_do_not_change_when_newer_posts_arrive(river: Planet) -> None:
    before = {n: numbers(river.client.get(f"/page/{n}").text) for n in (1, 2)}
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
    assert numbers(river.client.get("/page/5").text)[-1:] == [3]
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
    assert pager_links(planet.client.get("/page/1").text) == {"newer": "/"}
    assert planet.client.get("/page/2").status == 302  # partial: its posts end the cursor pages


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
    # a page of unsealed posts, then the partial page 2 (positions 7, 6)
    assert numbers(home.text) == [1, 2, 3, 4, 5, 6, 7]
    assert pager_links(home.text) == {"older": "/page/1"}
    assert numbers(planet.client.get("/page/1").text) == [8, 9, 10, 11, 12]


def test_exactly_full_pages_front_page_shows_unsealed_posts_and_the_newest_full_page(
    web_store: SqlStore,
) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 13)))
    web_store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # 3..12 sealed: two full pages
    home = planet.client.get("/")
    # two unsealed posts are less than a page: the newest full page (2) joins them
    assert numbers(home.text) == [1, 2, 3, 4, 5, 6, 7]
    assert pager_links(home.text) == {"older": "/page/1"}
    assert numbers(planet.client.get("/page/1").text) == [8, 9, 10, 11, 12]


def test_everything_sealed_in_full_pages_front_page_is_not_empty(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 11)))
    web_store.seal_pages(NOW)  # two full pages, nothing unsealed, no partial page
    home = planet.client.get("/")
    assert numbers(home.text) == [1, 2, 3, 4, 5]
    assert pager_links(home.text) == {"older": "/page/1"}
    assert pager_links(planet.client.get("/page/1").text) == {"newer": "/page/2"}
    assert pager_links(planet.client.get("/page/2").text) == {"newer": "/", "older": "/page/1"}


def test_nothing_sealed_pages_with_cursors_to_the_end(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 8)))
    home = planet.client.get("/")
    assert numbers(home.text) == [1, 2, 3, 4, 5]
    last = planet.client.get(pager_links(home.text)["older"])
    assert numbers(last.text) == [6, 7]
    assert pager_links(last.text) == {"newer": "/"}


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
    planet.add(sec.id, *(make_entry(sec.id, n, categories=("Security",)) for n in range(100, 113)))
    web_store.seal_pages(NOW)
    front = planet.client.get("/category/security/")
    assert "Category archives for “Security”" in front.text
    # the partial page 3 (100-102) and, as that is less than a page, page 2 (103-107)
    assert numbers(front.text) == list(range(100, 108))
    assert pager_links(front.text) == {"older": "/category/security/page/1"}
    first = planet.client.get("/category/security/page/1")
    assert numbers(first.text) == [108, 109, 110, 111, 112]
    assert pager_links(first.text) == {"newer": "/category/security/page/2"}
    assert "<title>Security, page 1: 27 Oct 2026 to 28 Oct 2026 — Test Planet</title>" in first.text
    partial = planet.client.get("/category/security/page/3")
    assert (partial.status, partial.headers["location"]) == (302, "/category/security/")
    assert planet.client.get("/category/security/page/4").status == 404
    assert planet.client.get("/category/security/page/0").status == 404
    assert planet.client.get("/category/nope/").status == 404
    assert planet.client.get("/category/nope/page/1").status == 404
    assert re.search(r'aria-current="page">Security<', front.text)


def test_source_pages_have_numbered_pages_of_their_own(web_store: SqlStore) -> None:
    one = web_store.add_source(spec(1))
    two = web_store.add_source(spec(2))
    planet = make_planet(web_store)
    # the sources' posts interleave in the river: odd numbers are source 1's
    planet.add(one.id, *(make_entry(one.id, n) for n in range(1, 24, 2)))
    planet.add(two.id, *(make_entry(two.id, n) for n in range(2, 24, 2)))
    web_store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # all but posts 1, 2
    front = planet.client.get("/source/example-blog-1/")
    # post 1 unsealed; source positions 1..11 = posts 23..3: page 3 (post 3) is partial, and
    # page 2 joins them on the front page
    assert numbers(front.text) == [1, 3, 5, 7, 9, 11, 13]
    assert pager_links(front.text) == {"older": "/source/example-blog-1/page/1"}
    second = planet.client.get("/source/example-blog-1/page/2")
    assert numbers(second.text) == [5, 7, 9, 11, 13]
    assert pager_links(second.text) == {
        "newer": "/source/example-blog-1/",
        "older": "/source/example-blog-1/page/1",
    }
    assert "<h1>Example Blog 1, page 2</h1>" in second.text
    assert "<title>Example Blog 1, page 2: 31 Oct 2026 to 1 Nov 2026" in second.text
    first = planet.client.get("/source/example-blog-1/page/1")
    assert numbers(first.text) == [15, 17, 19, 21, 23]
    assert planet.client.get("/source/example-blog-1/page/3").status == 302
    assert planet.client.get("/source/example-blog-1/page/4").status == 404
    assert planet.client.get("/source/nope/page/1").status == 404


def test_old_source_cursor_links_lead_to_the_numbered_page_holding_the_next_post(
    river: Planet,
) -> None:
    post10 = next(
        e for e in river.store.list_entries(limit=50) if e.title.endswith(" 10 about BGP")
    )
    cursor = Cursor(published=post10.published, id=post10.id).encode()
    reply = river.client.get(f"/source/example-blog-1/?before={cursor}")
    # post 11 is source position 13, on page 3
    assert (reply.status, reply.headers["location"]) == (301, "/source/example-blog-1/page/3")
    assert 11 in numbers(river.client.get("/source/example-blog-1/page/3").text)
    # the same for the river's own cursors, once their posts are sealed
    assert river.client.get(f"/?before={cursor}").headers["location"] == "/page/3"
    oldest = next(
        e for e in river.store.list_entries(limit=50) if e.title.endswith(" 23 about BGP")
    )
    below_all = Cursor(published=oldest.published, id=oldest.id).encode()
    assert river.client.get(f"/source/example-blog-1/?before={below_all}").status == 404
