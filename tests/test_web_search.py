"""The search page: results with highlights, filters, paging, no results, hostile input.

Search is the store's own full-text search (FTS5 on SQLite, tsvector on PostgreSQL), so the
page runs on both; the tests only read, so they share one planet per backend."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from builders import make_entry, spec
from conftest import postgres_schema
from netplanet.store import SqlStore, open_store
from test_web_client import (  # noqa: F401 - fixtures
    Planet,
    make_planet,
    numbers,
    pager_links,
    web_store_fixture,
)


@pytest.fixture(
    name="planet",
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def planet_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planet]:
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            admin = request.getfixturevalue("postgres_admin")
            url = stack.enter_context(postgres_schema(admin))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'web.db'}"
        store = open_store(url)
        stack.callback(store.close)
        net = store.add_source(spec(1, title="Routing Blog"))
        sec = store.add_source(spec(2, title="Firewall Blog", category="Security"))
        planet = make_planet(store)
        planet.add(net.id, *(make_entry(net.id, n) for n in range(1, 13)))
        planet.add(
            sec.id,
            *(
                make_entry(
                    sec.id, n, categories=("Security",), title=f"Post number {n} about BGP RPKI"
                )
                for n in range(100, 103)
            ),
        )
        yield planet


def test_empty_query_shows_the_form(planet: Planet) -> None:
    html = planet.client.get("/search").text
    assert "<h1>Search</h1>" in html
    assert '<label for="site-search"' in html  # the header's box is the search box
    assert '<label for="search-category">' in html and '<label for="search-source">' in html
    assert "No results" not in html
    assert '<option value="security">Security</option>' in html
    assert '<option value="firewall-blog">Firewall Blog</option>' in html


def test_results_are_highlighted_and_paged(planet: Planet) -> None:
    first = planet.client.get("/search?q=reflectors")
    assert first.status == 200
    assert "Search results for “reflectors”" in first.text
    assert "<mark>" in first.text
    assert len(numbers(first.text)) == 5
    older = pager_links(first.text)["older"]
    assert older == "/search?q=reflectors&page=2"
    second = planet.client.get(older)
    assert len(numbers(second.text)) == 5
    assert not set(numbers(first.text)) & set(numbers(second.text))
    assert pager_links(second.text)["newer"] == "/search?q=reflectors"
    third = planet.client.get("/search?q=reflectors&page=3")
    assert len(numbers(third.text)) == 5
    assert "older" not in pager_links(third.text)


def test_category_and_source_filters(planet: Planet) -> None:
    by_category = planet.client.get("/search?q=bgp&category=security").text
    assert sorted(numbers(by_category)) == [100, 101, 102]
    assert '<option value="security" selected>' in by_category
    by_source = planet.client.get("/search?q=bgp&source=routing-blog&page=3").text
    found = numbers(by_source)
    assert len(found) == 2 and all(n < 100 for n in found)  # 12 posts, page size 5
    assert '<option value="routing-blog" selected>' in by_source


def test_no_results_page(planet: Planet) -> None:
    html = planet.client.get("/search?q=frobnicate").text
    assert "<h2>No results</h2>" in html
    assert "Nothing matched “frobnicate”" in html


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "(",
        ")",
        "AND OR NOT *",
        '"unterminated phrase',
        "bgp NEAR(x y)",
        "col:umn",
        "-",
        "^*",
        "🙂",
        "a" * 5000,
        "bgp " * 400,
        "%00",
    ],
)
def test_hostile_queries_never_fail(planet: Planet, query: str) -> None:
    reply = planet.client.get("/search?q=" + quote(query))
    assert reply.status == 200
    assert "<h1>" in reply.text


@pytest.mark.parametrize("page", ["0", "-3", "x", "99999", "1e9"])
def test_odd_page_numbers_are_clamped(planet: Planet, page: str) -> None:
    assert planet.client.get(f"/search?q=bgp&page={page}").status == 200


def test_unknown_filters_are_named_not_silently_ignored(planet: Planet) -> None:
    html = planet.client.get("/search?q=rpki&category=nope&source=nobody").text
    assert "There is no category “nope”" in html
    assert "There is no source “nobody”" in html
    assert sorted(numbers(html)) == [100, 101, 102]  # searched everything, and says so
    hostile = planet.client.get("/search?q=rpki&category=" + quote("<b>x</b>")).text
    assert "<b>x</b>" not in hostile and "&lt;b&gt;x&lt;/b&gt;" in hostile


def test_results_are_counted(planet: Planet) -> None:
    html = planet.client.get("/search?q=reflectors").text
    assert re.search(r'<p class="result-count"[^>]*>\s*15 results\s*</p>', html)
    one = planet.client.get("/search?q=rpki&source=firewall-blog").text
    assert re.search(r'<p class="result-count"[^>]*>\s*3 results\s*</p>', one)
    last = planet.client.get("/search?q=reflectors&page=3").text
    assert re.search(r'<p class="result-count"[^>]*>\s*15 results\s*</p>', last)
    beyond = planet.client.get("/search?q=reflectors&page=9").text
    assert "result-count" not in beyond and "No results" in beyond


def test_count_is_capped(planet: Planet, monkeypatch: pytest.MonkeyPatch) -> None:
    from netplanet.web import public

    monkeypatch.setattr(public, "SEARCH_COUNT_CAP", 10)
    fresh = make_planet(planet.store)  # not the shared app's cached page
    html = fresh.client.get("/search?q=reflectors").text
    assert re.search(r'<p class="result-count"[^>]*>\s*More than 10 results\s*</p>', html)


def test_the_search_page_has_one_search_box(planet: Planet) -> None:
    for url in ("/search", "/search?q=bgp", "/search?q=bgp&category=security"):
        html = planet.client.get(url).text
        assert html.count('name="q"') == 1, url
        assert html.count('role="search"') == 1, url
        # The filters submit with the header's box, so the query travels with them.
        for field in ('name="category"', 'name="source"'):
            assert re.search(rf'<select [^>]*{field}[^>]*form="site-search-form"', html), url
    assert '<form id="site-search-form"' in html
    assert "<summary>Filtered: category Security</summary>" in html


def test_filters_are_shown_when_they_leave_nothing(planet: Planet) -> None:
    html = planet.client.get("/search?q=reflectors&category=security&source=routing-blog").text
    assert "No results" in html
    assert '<details class="search-filters" open>' in html
    assert "Filtered: category Security, Routing Blog" in html
    found = planet.client.get("/search?q=reflectors").text
    assert '<details class="search-filters">' in found  # folded above results


def test_exclusions_only_list_the_newest_posts_without_them(planet: Planet) -> None:
    html = planet.client.get("/search?q=" + quote("-rpki")).text
    assert numbers(html) == [1, 2, 3, 4, 5]  # newest first, none of the RPKI posts
    assert "<mark>" not in html
    assert "newest first" in html


@pytest.mark.parametrize("query", ["-", '"', "( )", "--"])
def test_query_without_words_says_so(planet: Planet, query: str) -> None:
    html = planet.client.get("/search?q=" + quote(query)).text
    assert "has no words to search for" in html
    assert "No results" not in html


def test_search_query_is_escaped(planet: Planet) -> None:
    html = planet.client.get("/search?q=" + quote('<img src=x onerror="alert(1)">')).text
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_source_filter_stays_small_with_many_sources(web_store: SqlStore) -> None:
    # 3,000 sources, 150 with posts: the filter lists a bounded number of them (those that
    # posted most recently, by title), and ?source= still works for any source.
    web_store.add_sources([spec(n, title=f"Source {n:04d}") for n in range(1, 3001)])
    planet = make_planet(web_store)
    posting = web_store.list_sources()[:150]
    for i, source in enumerate(posting):
        planet.add(source.id, make_entry(source.id, i, url=f"https://b{i}.example/p"))
    html = planet.client.get("/search?q=bgp").text
    options = re.findall(r'<option value="([^"]*)"', html.split('id="search-source"')[1])
    assert 50 <= len(options) - 1 <= 101  # "All sources" + at most 100
    assert len(html) < 40_000
    quiet = web_store.list_sources()[-1]  # no posts, never listed
    assert quiet.slug not in options
    chosen = planet.client.get(f"/search?q=bgp&source={quiet.slug}").text
    assert f'<option value="{quiet.slug}" selected>' in chosen
    assert "No results" in chosen
