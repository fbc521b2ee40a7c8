"""Two processes polling the same sources into one database (`netplanet run` and a manual
`netplanet update`, or a worker beside them): each decides its plan from what was stored when
it looked, so both may store "new" posts the other stored a moment before. Storing such a
plan must merge with the rows found instead of failing on UNIQUE (source_id, key): no source
counted failed, nothing logged as an error, and every post stored once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress

import pytest
from aiohttp import web

from builders import make_entry, plan, spec
from feedserver import rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.runtime.service import Scheduler
from netplanet.store import SqlStore, open_store
from netplanet.store.base import ApplyResult
from netplanet.update.pipeline import SourceReport, UpdatePipeline


@pytest.fixture
def other(store: SqlStore) -> Iterator[SqlStore]:
    """A second store on the same database, as another process would have."""
    second = open_store(store.engine.url.render_as_string(hide_password=False))
    yield second
    second.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("netplanet")
    ]


def test_plan_decided_before_another_writer_stored_merges(
    store: SqlStore, other: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sid = store.add_source(spec(1)).id
    bystander = store.add_source(spec(2)).id
    one, two, three = (make_entry(sid, n) for n in (1, 2, 3))
    edited = dataclasses.replace(two, title="Post two, edited", fingerprint="v1:edited")
    # Both writers saw no entries when they decided: everything is "new" to each.
    assert store.apply_updates([plan(sid, (one, two))]) == [ApplyResult(2, 0, 0)]
    late = other.apply_updates(
        [plan(sid, (one, edited, three)), plan(bystander, (make_entry(bystander, 1),))]
    )
    assert late == [ApplyResult(new=1, changed=1, unchanged=1), ApplyResult(1, 0, 0)]
    assert _warnings(caplog) == []
    stored = {e.key: e for e in store.list_entries(source_id=sid)}
    assert sorted(stored) == sorted({one.key, two.key, three.key})
    assert stored[two.key].title == "Post two, edited"
    # The category rows follow the merge (one per entry, none doubled).
    assert store.count_entries() == 4


def test_single_plan_apply_merges_too(store: SqlStore, other: SqlStore) -> None:
    sid = store.add_source(spec(1)).id
    entries = tuple(make_entry(sid, n, categories=("New Topic",)) for n in range(1, 4))
    store.apply_update(plan(sid, entries))
    assert other.apply_update(plan(sid, entries)) == ApplyResult(new=0, changed=0, unchanged=3)
    assert store.count_entries(source_id=sid) == 3
    assert [c.slug for c in store.list_categories()].count("new-topic") == 1


FEEDS = 8
POSTS = 6


@asynccontextmanager
async def gated_feeds(readers: int) -> AsyncIterator[str]:
    """Feeds that answer only once `readers` requests for them have arrived (or after a few
    seconds), so that every writer reads the same posts before any of them stores them."""
    arrived: dict[str, int] = {}
    opened: dict[str, asyncio.Event] = {}

    async def handle(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        path = request.path
        arrived[path] = arrived.get(path, 0) + 1
        gate = opened.setdefault(path, asyncio.Event())
        if arrived[path] >= readers:
            gate.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(gate.wait(), timeout=5)
        items = [
            (f"f{n}-p{k}", f"Feed {n} post {k}", f"<p>Post {k} of {n}.</p>") for k in range(POSTS)
        ]
        return web.Response(body=rss(items, title=f"Feed {n}"), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/f{n:[0-9]+}.xml", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def test_run_scheduler_and_manual_update_store_without_failures(
    store: SqlStore, other: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    """The reported case: `run`'s scheduler and `netplanet update` poll the same new sources
    at once. Each must count every source as updated, and nothing may be logged as failed."""
    caplog.set_level(logging.INFO)

    async def main() -> tuple[list[SourceReport], list[SourceReport]]:
        async with gated_feeds(readers=2) as base:
            sources = [
                store.add_source(SourceSpec(feed_url=f"{base}/f{n}.xml")) for n in range(FEEDS)
            ]
            scheduled: list[SourceReport] = []
            stop = asyncio.Event()

            def on_report(report: SourceReport) -> None:
                scheduled.append(report)
                if len(scheduled) == FEEDS:
                    stop.set()

            async with (
                Fetcher(fetch_settings(fetch_per_host=2 * FEEDS)) as fetch_a,
                Fetcher(fetch_settings(fetch_per_host=2 * FEEDS)) as fetch_b,
            ):
                scheduler = Scheduler(
                    store,
                    UpdatePipeline(store, fetch_a),
                    concurrency=FEEDS,
                    on_report=on_report,
                )
                running = asyncio.ensure_future(scheduler.run(stop))
                manual = await UpdatePipeline(other, fetch_b).update_many(sources)
                await asyncio.wait_for(running, timeout=60)
            return scheduled, manual

    scheduled, manual = asyncio.run(main())
    assert sorted(r.outcome for r in scheduled) == ["updated"] * FEEDS, scheduled
    assert sorted(r.outcome for r in manual) == ["updated"] * FEEDS, manual
    # Between them, the two stored each post exactly once.
    assert sum(r.new for r in scheduled + manual) == FEEDS * POSTS
    assert store.count_entries() == FEEDS * POSTS
    assert all(not s.last_error_class for s in store.list_sources())
    assert _warnings(caplog) == []
