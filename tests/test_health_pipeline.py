"""Scheduling and feed health through the real pipeline (loopback server, both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from builders import NOW
from feedserver import FeedServer, feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec, SourceStatus
from netplanet.schedule import Policy
from netplanet.store import SqlStore
from netplanet.update.pipeline import UpdatePipeline

POLICY = Policy(min_interval_s=600, max_interval_s=7200, dead_after_s=3 * 86400, jitter=0.1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> Any:
        return self.now


def dated_rss(n: int, every: timedelta = timedelta(days=1)) -> bytes:
    """n posts, one `every` before NOW (so the posting rate is known)."""
    items = "".join(
        f"<item><guid>p{i}</guid><title>Post {i}</title><link>https://x.example/{i}</link>"
        f"<pubDate>{(NOW - i * every).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        "<description>x</description></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    ).encode()


def run(store: SqlStore, scenario: Any) -> Any:
    async def main() -> Any:
        clock = Clock()
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            pipeline = UpdatePipeline(store, fetcher, clock=clock, policy=POLICY, rand=lambda: 0.5)
            return await scenario(server, pipeline, clock)

    return asyncio.run(main())


async def poll(store: SqlStore, pipeline: UpdatePipeline, source_id: int) -> None:
    source = store.get_source(source_id)
    assert source is not None
    await pipeline.update_source(source)


def test_success_records_rate_averages_and_adaptive_next_poll(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> int:
        server.static("/feed.xml", dated_rss(10))
        source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
        await poll(store, pipeline, source_id)
        return source_id

    source = store.get_source(run(store, scenario))
    assert source is not None and source.status is SourceStatus.OK
    assert source.posts_per_day == 10 / 30
    assert source.avg_response_ms is not None and source.avg_bytes and source.avg_bytes > 100
    # 1/3 post a day asks for 86400/(1/3*4) = 64800 s, clamped to max_interval_s.
    assert source.poll_interval_s == 7200
    assert source.next_poll_at == NOW + timedelta(seconds=7200)


def test_ttl_raises_the_interval_of_a_busy_feed(store: SqlStore) -> None:
    # 200 posts an hour apart: 6.7 a day asks for a poll every 54 min; the ttl says 90.
    body = dated_rss(200, timedelta(hours=1))
    body = body.replace(b"<title>T</title>", b"<title>T</title><ttl>90</ttl>")

    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> int:
        server.static("/feed.xml", body)
        source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
        await poll(store, pipeline, source_id)
        return source_id

    source = store.get_source(run(store, scenario))
    assert source is not None
    assert source.poll_interval_s == 90 * 60


def test_failures_back_off_then_the_source_dies_and_a_success_revives_it(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> list[Any]:
        source_id = store.add_source(SourceSpec(feed_url=server.url("/gone.xml"))).id
        seen = []
        for step in (0, 1, 2, 3):
            clock.now = NOW + timedelta(days=step)
            await poll(store, pipeline, source_id)
            seen.append(store.get_source(source_id))
        server.static("/gone.xml", dated_rss(2))
        clock.now = NOW + timedelta(days=5)
        await poll(store, pipeline, source_id)
        seen.append(store.get_source(source_id))
        return seen

    first, second, third, dead, revived = run(store, scenario)
    assert first.status is SourceStatus.FAILING and first.failing_since == NOW
    assert "HTTP 404" in first.last_error
    # Never read, so no posting rate: back-off starts at the default interval (1800 s).
    assert (first.next_poll_at - first.last_fetched_at) == timedelta(seconds=1800)
    assert second.poll_interval_s == 3600 and third.poll_interval_s == 7200
    assert third.failing_since == NOW and third.dead_since is None
    assert dead.status is SourceStatus.DEAD and dead.dead_since == NOW + timedelta(days=3)
    assert dead.next_poll_at == dead.last_fetched_at + timedelta(days=1)
    assert revived.status is SourceStatus.OK
    assert revived.failing_since is None and revived.dead_since is None


def test_404_feed_names_the_feed_the_site_now_links(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> Any:
        server.static(
            "/",
            b'<html><head><link rel="alternate" type="application/rss+xml" href="/new.xml">'
            b"</head></html>",
            content_type="text/html",
        )
        server.static("/new.xml", rss([("a", "t", "<p>x</p>")]))
        spec = SourceSpec(feed_url=server.url("/old.xml"), site_url=server.url("/"))
        source_id = store.add_source(spec).id
        await poll(store, pipeline, source_id)
        return store.get_source(source_id), server.url("/new.xml")

    source, new_url = run(store, scenario)
    assert source.last_error.startswith("HTTP 404")
    assert f"now names a feed at {new_url}" in source.last_error
    assert source.feed_url.endswith("/old.xml")  # never changed without a permanent redirect


def test_html_feed_without_link_tries_the_site(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> Any:
        server.static("/feed", b"<html><body>redesigned</body></html>", content_type="text/html")
        server.static("/", b"<html><body>home, no feed link</body></html>", "text/html")
        server.static("/index.xml", rss([("a", "t", "<p>x</p>")]))
        source_id = store.add_source(SourceSpec(feed_url=server.url("/feed"))).id
        await poll(store, pipeline, source_id)
        return store.get_source(source_id), server.url("/index.xml")

    source, new_url = run(store, scenario)
    assert "returned HTML" in source.last_error
    assert f"now names a feed at {new_url}" in source.last_error


def test_the_rate_is_counted_only_when_entries_change_or_a_post_leaves_the_window(
    store: SqlStore,
) -> None:
    counts: list[int] = []
    real = store.recent_entry_stats

    def counting(source_id: int, since: Any) -> Any:
        counts.append(source_id)
        return real(source_id, since)

    store.recent_entry_stats = counting  # type: ignore[method-assign]

    async def scenario(server: FeedServer, pipeline: UpdatePipeline, clock: Clock) -> list[Any]:
        # Posts 0..9, one a day: the oldest (9 days old) leaves the 30-day window in 21 days.
        server.static("/feed.xml", dated_rss(10))
        source_id = store.add_source(SourceSpec(feed_url=server.url("/feed.xml"))).id
        rates = []
        for step in (timedelta(0), timedelta(days=1), timedelta(days=19), timedelta(hours=60)):
            clock.now += step
            await poll(store, pipeline, source_id)
            source = store.get_source(source_id)
            assert source is not None
            rates.append((len(counts), source.posts_per_day, source.rate_valid_until))
        return rates

    first, unchanged, still_valid, expired = run(store, scenario)
    assert first == (1, 10 / 30, NOW - timedelta(days=9) + timedelta(days=30))
    assert unchanged == still_valid == first  # same body: no count, same rate
    # 22.5 days on, posts 9 and 8 (9 and 8 days before NOW) have left the window.
    assert expired[0] == 2 and expired[1] == 8 / 30
    assert expired[2] == NOW - timedelta(days=7) + timedelta(days=30)
