"""The update pipeline end to end: loopback server, fetch, parse, enrich, decide, store."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from feedserver import FeedServer, feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import FetchOutcome, FetchRequest, FetchResult, SourceSpec
from netplanet.store import SqlStore
from netplanet.update.pipeline import SourceReport, UpdatePipeline

POSTS = [
    (
        "p1",
        "Why EVPN route type 5 matters",
        "<p>Type-5 routes carry IP prefixes.</p><script>alert(1)</script>"
        '<p>The post <a href="https://loopback.example/posts/p1/">Why EVPN route type 5 '
        'matters</a> appeared first on <a href="https://loopback.example/">Loopback Blog</a>.</p>',
    ),
    ("p2", "BFD timers in practice", "<p onclick='x()'>Detect failures fast.</p>"),
]


def run(
    store: SqlStore,
    scenario: Callable[[FeedServer, UpdatePipeline], Awaitable[Any]],
    **settings: Any,
) -> Any:
    async def main() -> Any:
        async with feed_server() as server, Fetcher(fetch_settings(**settings)) as fetcher:
            return await scenario(server, UpdatePipeline(store, fetcher))

    return asyncio.run(main())


def add(store: SqlStore, server: FeedServer, path: str = "/feed.xml") -> int:
    return store.add_source(SourceSpec(feed_url=server.url(path), category="Networking")).id


async def poll(store: SqlStore, pipeline: UpdatePipeline, source_id: int) -> SourceReport:
    source = store.get_source(source_id)
    assert source is not None
    return await pipeline.update_source(source)


def entry_rows(store: SqlStore) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM entries ORDER BY id")]


def test_update_stores_clean_entries_and_learns_the_title(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        server.static("/feed.xml", rss(POSTS))
        return await poll(store, pipeline, add(store, server))

    report = run(store, scenario)
    assert (report.outcome, report.new) == ("updated", 2)
    entries = store.list_entries()
    assert {e.title for e in entries} == {p[1] for p in POSTS}
    for e in entries:
        for html in (e.content_html, e.excerpt_html):
            assert "<script" not in html and "onclick" not in html
            assert "appeared first on" not in html
        assert e.categories == ("Networking",)
    source = store.list_sources()[0]
    assert source.title == "Loopback Blog" and source.last_success_at is not None
    assert len(store.search("evpn")) == 1


def test_two_identical_updates_produce_the_same_entries(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> list[SourceReport]:
        server.static("/feed.xml", rss(POSTS))
        source_id = add(store, server)
        first = await poll(store, pipeline, source_id)
        before = entry_rows(store)
        second = await poll(store, pipeline, source_id)
        assert entry_rows(store) == before
        return [first, second]

    first, second = run(store, scenario)
    assert first.new == 2
    assert second.outcome == "unchanged" and second.new == 0


def test_reparsed_body_with_no_real_change_changes_no_entries(store: SqlStore) -> None:
    builds = itertools.count()

    def changing_build_date(_req: object) -> tuple[int, dict[str, str], bytes]:
        body = rss(POSTS).replace(b"<description>d</description>", b"<ttl>%d</ttl>" % next(builds))
        return 200, {"Content-Type": "application/rss+xml"}, body

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        server.routes["/feed.xml"] = changing_build_date
        source_id = add(store, server)
        await poll(store, pipeline, source_id)
        before = entry_rows(store)
        report = await poll(store, pipeline, source_id)
        assert entry_rows(store) == before
        return report

    report = run(store, scenario)
    assert (report.outcome, report.new, report.changed, report.unchanged) == ("updated", 0, 0, 2)


def test_feed_that_changes_every_guid_makes_no_duplicates(store: SqlStore) -> None:
    fetches = itertools.count()

    def new_guids(_req: object) -> tuple[int, dict[str, str], bytes]:
        n = next(fetches)
        body = rss([(f"{guid}-{n}", title, html) for guid, title, html in POSTS])
        # Keep links stable: only the GUIDs are rewritten.
        for guid, _, _ in POSTS:
            body = body.replace(f"posts/{guid}-{n}/".encode(), f"posts/{guid}/".encode())
        return 200, {"Content-Type": "application/rss+xml"}, body

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.routes["/feed.xml"] = new_guids
        source_id = add(store, server)
        for _ in range(3):
            await poll(store, pipeline, source_id)

    run(store, scenario)
    assert store.count_entries() == 2


def test_edited_post_updates_its_row(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        server.static("/feed.xml", rss(POSTS))
        source_id = add(store, server)
        await poll(store, pipeline, source_id)
        edited = [(POSTS[0][0], "Why EVPN route type 5 matters (updated)", POSTS[0][2]), POSTS[1]]
        server.static("/feed.xml", rss(edited))
        return await poll(store, pipeline, source_id)

    report = run(store, scenario)
    assert (report.new, report.changed) == (0, 1)
    assert "Why EVPN route type 5 matters (updated)" in {e.title for e in store.list_entries()}


def test_html_page_instead_of_feed_names_the_discovered_feed(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        page = (
            b"<!doctype html><html><head><title>Blog</title>"
            b'<link rel="alternate" type="application/rss+xml" href="/real.xml">'
            b"</head><body>hello</body></html>"
        )
        server.static("/feed.xml", page, content_type="text/html")
        return await poll(store, pipeline, add(store, server))

    report = run(store, scenario)
    assert report.outcome == "failed" and report.error_class == "not_a_feed"
    assert (
        "returned HTML, not a feed; found <link rel=alternate> at http://127.0.0.1" in report.error
    )
    assert report.error.count("/real.xml") == 1
    source = store.list_sources()[0]
    assert source.consecutive_failures == 1 and source.body_hash is None


def test_permanent_redirect_moves_the_source_and_temporary_does_not(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> tuple[str, str]:
        server.static("/new.xml", rss(POSTS))
        server.routes["/old.xml"] = lambda _r: (301, {"Location": "/new.xml"}, b"")
        server.routes["/tmp.xml"] = lambda _r: (302, {"Location": "/new.xml"}, b"")
        moved = add(store, server, "/old.xml")
        temporary = add(store, server, "/tmp.xml")
        await poll(store, pipeline, moved)
        await poll(store, pipeline, temporary)
        a, b = store.get_source(moved), store.get_source(temporary)
        assert a is not None and b is not None
        return a.feed_url.removeprefix(server.base), b.feed_url.removeprefix(server.base)

    assert run(store, scenario) == ("/new.xml", "/tmp.xml")


def test_permanent_redirect_to_another_sources_url_keeps_the_old_url(store: SqlStore) -> None:
    # Moving it would make two sources with one feed URL; the poll itself still succeeds.
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> tuple[str, str]:
        server.static("/new.xml", rss(POSTS))
        server.routes["/old.xml"] = lambda _r: (308, {"Location": "/new.xml"}, b"")
        add(store, server, "/new.xml")
        moved = add(store, server, "/old.xml")
        report = await poll(store, pipeline, moved)
        source = store.get_source(moved)
        assert source is not None and source.consecutive_failures == 0
        return report.outcome, source.feed_url.removeprefix(server.base)

    assert run(store, scenario) == ("updated", "/old.xml")


def test_permanent_redirect_from_https_to_http_keeps_the_https_url(store: SqlStore) -> None:
    source = store.add_source(SourceSpec("https://feeds.example/feed.xml"))
    pipeline = UpdatePipeline(store, Fetcher(fetch_settings()))
    request = FetchRequest(source.feed_url)

    def moved_to(url: str) -> FetchResult:
        return FetchResult(request, FetchOutcome.OK, final_url=url, permanent_url=url)

    assert pipeline._new_feed_url(source, moved_to("http://feeds.example/feed.xml")) is None
    upgraded = "https://www.feeds.example/feed.xml"
    assert pipeline._new_feed_url(source, moved_to(upgraded)) == upgraded


def test_gone_feed_disables_the_source(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        server.routes["/feed.xml"] = lambda _r: (410, {}, b"gone")
        return await poll(store, pipeline, add(store, server))

    report = run(store, scenario)
    assert report.outcome == "gone"
    source = store.list_sources()[0]
    assert not source.enabled and "410" in source.disabled_reason


def test_broken_feed_is_recorded_and_reparsed_next_time(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> list[SourceReport]:
        server.static("/feed.xml", b"\x00\x01 definitely not a feed", content_type="text/plain")
        source_id = add(store, server)
        broken = await poll(store, pipeline, source_id)
        server.static("/feed.xml", rss(POSTS))
        fixed = await poll(store, pipeline, source_id)
        return [broken, fixed]

    broken, fixed = run(store, scenario)
    assert broken.outcome == "failed" and broken.error
    assert fixed.outcome == "updated" and fixed.new == 2
    source = store.list_sources()[0]
    assert source.consecutive_failures == 0 and source.last_error == ""


def test_private_address_is_refused_without_the_allowance(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> SourceReport:
        server.static("/feed.xml", rss(POSTS))
        return await poll(store, pipeline, add(store, server))

    report = run(store, scenario, allow_private_networks=False)
    assert report.outcome == "failed" and report.error_class == "blocked"
    assert "allow_private_networks" in report.error
    assert store.count_entries() == 0
