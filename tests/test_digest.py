"""Parsing and enriching off the event loop: the same result inline and in a process pool."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime

from feedserver import feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.store import SqlStore
from netplanet.update.digest import digest
from netplanet.update.pipeline import UpdatePipeline

POSTS = [(f"p{n}", f"Post {n} on IS-IS", f"<p>Level {n} adjacency.</p>") for n in range(5)]


def ingest(store: SqlStore, executor: Executor | None) -> list[tuple[str, str, str]]:
    async def main() -> None:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            server.static("/feed.xml", rss(POSTS))
            source = store.add_source(SourceSpec(feed_url=server.url("/feed.xml")))
            report = await UpdatePipeline(store, fetcher, executor=executor).update_source(source)
            assert report.new == len(POSTS)

    asyncio.run(main())
    return [(e.key, e.title, e.excerpt_html) for e in store.list_entries()]


def test_process_pool_gives_the_same_entries_as_inline(store: SqlStore) -> None:
    inline = ingest(store, None)
    for source in store.list_sources():
        store.remove_source(source.id)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pooled = ingest(store, pool)
    assert pooled == inline


def test_digest_reports_html_and_garbage_without_raising() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    kw = {"content_type": "", "source_id": 1, "source_category": "", "now": now}
    html = digest(
        b"<!doctype html><html><body>hi</body></html>", url="http://x/", excerpt_words=50, **kw
    )
    assert html.feed is None and html.error_kind == "not_a_feed"
    junk = digest(b"\x00\x01\x02", url="http://x/", excerpt_words=50, **kw)
    assert junk.feed is None and junk.error_kind and junk.error
    ok = digest(rss(POSTS), url="http://x/feed", excerpt_words=50, **kw)
    assert ok.feed is not None and ok.feed.entries == () and len(ok.entries) == len(POSTS)
