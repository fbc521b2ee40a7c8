"""HTTP caching: validators on every page, 304 answers, and invalidation when data changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from builders import NOW, make_entry
from netplanet.store.base import Scope
from test_web_client import (  # noqa: F401 - fixtures
    BOTH_BACKENDS,
    Planet,
    river_fixture,
    web_store_fixture,
    with_key,
)

PAGES = [
    "/",
    "/page/2",
    "/category/networking/",
    "/source/example-blog-1/",
    "/sources/",
    "/archive/2026/11/",
    "/search?q=bgp",
    "/post/1/",
    "/about/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_validators_and_cache_control(river: Planet, url: str) -> None:
    reply = river.client.get(url)
    assert reply.status == 200
    assert reply.headers["etag"].startswith('W/"')
    assert reply.headers["last-modified"].endswith("GMT")
    assert reply.headers["cache-control"] == "public, max-age=60"
    assert reply.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("url", PAGES)
def test_if_none_match_gets_304(river: Planet, url: str) -> None:
    etag = river.client.get(url).headers["etag"]
    reply = river.client.get(url, {"If-None-Match": etag})
    assert reply.status == 304
    assert reply.body == b""
    assert reply.headers["etag"] == etag
    # strong form of the same tag, and a list containing it, also match
    assert river.client.get(url, {"If-None-Match": etag.removeprefix("W/")}).status == 304
    assert river.client.get(url, {"If-None-Match": f'"other", {etag}'}).status == 304


@BOTH_BACKENDS
def test_if_modified_since_gets_304_until_something_changes(river: Planet) -> None:
    first = river.client.get("/")
    modified = first.headers["last-modified"]
    assert river.client.get("/", {"If-Modified-Since": modified}).status == 304
    assert (
        river.client.get("/", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}).status == 200
    )
    assert river.client.get("/", {"If-Modified-Since": "garbage"}).status == 200


def test_etags_differ_per_url(river: Planet) -> None:
    tags = {river.client.get(url).headers["etag"] for url in PAGES}
    assert len(tags) == len(PAGES)


@BOTH_BACKENDS
def test_new_post_changes_the_etag_and_the_page(river: Planet) -> None:
    first = river.client.get("/")
    etag = first.headers["etag"]
    src = river.store.get_source_by_slug("example-blog-1")
    assert src is not None
    river.add(src.id, with_key(make_entry(src.id, 0, published=NOW, title="Fresh news"), "k"))
    reply = river.client.get("/", {"If-None-Match": etag})
    assert reply.status == 200
    assert reply.headers["etag"] != etag
    assert "Fresh news" in reply.text


@BOTH_BACKENDS
def test_sealing_changes_the_etag(river: Planet) -> None:
    etag = river.client.get("/").headers["etag"]
    river.store.seal_pages(NOW)
    assert river.client.get("/", {"If-None-Match": etag}).status == 200


@BOTH_BACKENDS
def test_renamed_source_changes_the_etag(river: Planet) -> None:
    etag = river.client.get("/sources/").headers["etag"]
    src = river.store.get_source_by_slug("example-blog-1")
    assert src is not None
    river.store.edit_source(src.id, title="Renamed Blog")
    reply = river.client.get("/sources/", {"If-None-Match": etag})
    assert reply.status == 200
    assert "Renamed Blog" in reply.text


def test_time_passing_changes_the_etag_because_of_relative_dates(river: Planet) -> None:
    etag = river.client.get("/").headers["etag"]
    river.clock.now = NOW + timedelta(seconds=30)
    assert river.client.get("/", {"If-None-Match": etag}).status == 304
    river.clock.now = NOW + timedelta(hours=2)
    reply = river.client.get("/", {"If-None-Match": etag})
    assert reply.status == 200
    assert "3 hours ago" in reply.text


@BOTH_BACKENDS
def test_conditional_request_runs_no_page_query(
    river: Planet, monkeypatch: pytest.MonkeyPatch
) -> None:
    etag = river.client.get("/").headers["etag"]
    calls: list[Scope] = []
    original = river.store.keyset_entries

    def spy(scope: Scope, **kw: object) -> object:
        calls.append(scope)
        return original(scope, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(river.store, "keyset_entries", spy)
    assert river.client.get("/", {"If-None-Match": etag}).status == 304
    assert calls == []


def test_error_responses_have_no_validators(river: Planet) -> None:
    reply = river.client.get("/page/99")
    assert reply.status == 404
    assert "etag" not in reply.headers
