"""What the site says while no source works (issue 12, item 5), source slugs from the feed's
title, the shutdown line and the "last attempts failed" wording (item 11)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal

from builders import NOW, make_entry, plan, spec, success
from feedserver import feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.store import SqlStore
from netplanet.update.pipeline import UpdatePipeline
from test_admin import Clock, make_client

DNS_FAIL = dict(
    consecutive_failures=2,
    last_error_class="dns",
    last_error="DNS lookup failed for host blog.internal.corp: Name or service not known",
    last_success_at=None,
    failing_since=NOW,
)


def fail(store: SqlStore, source_id: int, **kw: object) -> None:
    store.apply_update(dataclasses.replace(plan(source_id), source=success(**{**DNS_FAIL, **kw})))


def test_healthz_is_degraded_while_every_source_fails(store: SqlStore) -> None:
    a = store.add_source(spec(1))
    b = store.add_source(spec(2))
    fail(store, a.id)
    with make_client(store, Clock()) as c:
        body = c.get("/healthz").json()
        assert body["status"] == "ok" and body["failing"] == 1
        fail(store, b.id)
        response = c.get("/healthz")
        # The site itself still serves: 200, so a load balancer keeps routing to it.
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded" and body["failing"] == 2 == body["enabled"]
        assert body["polled"] == 2


def test_healthz_is_ok_before_anything_is_polled_and_without_sources(store: SqlStore) -> None:
    with make_client(store, Clock()) as c:
        assert c.get("/healthz").json()["status"] == "ok"
        store.add_source(spec(1))
        assert c.get("/healthz").json()["status"] == "ok"


def test_empty_river_says_every_source_fails_without_the_error_details(store: SqlStore) -> None:
    for n in (1, 2, 3):
        fail(store, store.add_source(spec(n)).id)
    with make_client(store, Clock()) as c:
        page = c.get("/").text
    assert "No posts here yet. New posts appear" not in page
    assert "3 sources" in page and "3 of them failed" in page
    assert "DNS" in page  # the kind of error, in words
    assert "netplanet demo" in page and "/admin/health" in page and "/healthz" in page
    # The message itself may name internal hosts: it stays on the admin health page.
    assert "blog.internal.corp" not in page


def test_empty_river_before_the_first_poll(store: SqlStore) -> None:
    store.add_source(spec(1))
    with make_client(store, Clock()) as c:
        page = c.get("/").text
    assert "not been polled yet" in page and "netplanet demo" in page


def test_empty_river_without_sources(store: SqlStore) -> None:
    with make_client(store, Clock()) as c:
        page = c.get("/").text
    assert "no sources yet" in page.lower()


def test_river_with_posts_shows_no_status(store: SqlStore) -> None:
    ok = store.add_source(spec(1))
    store.apply_update(dataclasses.replace(plan(ok.id, (make_entry(ok.id, 1),)), source=success()))
    fail(store, store.add_source(spec(2)).id)
    with make_client(store, Clock()) as c:
        page = c.get("/").text
    assert "failed" not in page and "netplanet demo" not in page


# --------------------------------------------------------------------------- item 11


def test_sources_directory_says_the_last_attempt_in_the_singular(store: SqlStore) -> None:
    one = store.add_source(spec(1, title="One"))
    three = store.add_source(spec(2, title="Three"))
    for source in (one, three):
        store.apply_update(
            dataclasses.replace(plan(source.id, (make_entry(source.id, 1),)), source=success())
        )
    fail(store, one.id, consecutive_failures=1)
    fail(store, three.id, consecutive_failures=3)
    with make_client(store, Clock()) as c:
        page = c.get("/sources/").text
    assert "the last attempt to read the feed failed" in page
    assert "the last 3 attempts to read the feed failed" in page
    assert "last 1 attempt" not in page


def test_stopping_line_names_the_signal() -> None:
    from netplanet.runtime.service import stopping_line

    assert stopping_line(signal.SIGTERM, 1) == "stopping (SIGTERM)"
    assert stopping_line(signal.SIGINT, 1) == "stopping (SIGINT)"
    assert "again" in stopping_line(signal.SIGINT, 2)


def poll_title(store: SqlStore, spec_: SourceSpec, title: str = "Loopback Blog") -> int:
    async def main() -> int:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            server.static("/feed.xml", rss([("a", "t", "<p>x</p>")], title=title))
            source = store.add_source(dataclasses.replace(spec_, feed_url=server.url("/feed.xml")))
            await UpdatePipeline(store, fetcher).update_source(source)
            return source.id

    return asyncio.run(main())


def test_host_slug_becomes_the_feed_title_after_the_first_fetch(store: SqlStore) -> None:
    taken = store.add_source(spec(9, title="Loopback Blog"))
    source_id = poll_title(store, SourceSpec(feed_url="x"))
    source = store.get_source(source_id)
    assert source is not None and source.title == "Loopback Blog"
    assert source.slug == "loopback-blog-2" != taken.slug
    with make_client(store, Clock()) as c:
        moved = c.get("/source/127-0-0-1/", follow_redirects=False)
        assert moved.status_code == 301
        assert moved.headers["location"] == "/source/loopback-blog-2/"
        assert c.get("/source/loopback-blog-2/").status_code == 200


def test_operator_title_keeps_its_slug(store: SqlStore) -> None:
    source_id = poll_title(store, SourceSpec(feed_url="x", title="My Name"))
    source = store.get_source(source_id)
    assert source is not None and (source.title, source.slug) == ("My Name", "my-name")


def test_an_untitled_feed_names_its_source_by_its_website(store: SqlStore) -> None:
    # The feed's own <link> (https://loopback.example/) says more than the feed URL's host.
    source_id = poll_title(store, SourceSpec(feed_url="x"), title="")
    source = store.get_source(source_id)
    assert source is not None and source.slug == "loopback-example"
    assert source.last_success_at is not None
    with make_client(store, Clock()) as c:
        moved = c.get("/source/127-0-0-1/", follow_redirects=False)
        assert moved.headers["location"] == "/source/loopback-example/"
