"""Group commit: many polls' plans in one transaction, each plan still all-or-nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from builders import NOW, make_entry, plan, spec, success
from feedserver import feed_server, rss
from loopback import fetch_settings
from netplanet.errors import StoreError
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec, UpdatePlan
from netplanet.store import SqlStore
from netplanet.store.base import ApplyResult
from netplanet.update.batch import WriteBehind
from netplanet.update.pipeline import UpdatePipeline


@contextlib.contextmanager
def commits(store: SqlStore) -> Iterator[list[int]]:
    """Counts the transactions committed while the block runs."""
    count = [0]

    def on_commit(_conn: object) -> None:
        count[0] += 1

    sa.event.listen(store.engine, "commit", on_commit)
    try:
        yield count
    finally:
        sa.event.remove(store.engine, "commit", on_commit)


def test_apply_updates_stores_every_plan_in_one_transaction(store: SqlStore) -> None:
    ids = [store.add_source(spec(n)).id for n in range(1, 4)]
    plans = [plan(i, (make_entry(i, n), make_entry(i, n + 10))) for n, i in enumerate(ids)]
    with commits(store) as count:
        results = store.apply_updates(plans)
    assert count == [1]
    assert results == [ApplyResult(new=2, changed=0, unchanged=0)] * 3
    assert [store.count_entries(source_id=i) for i in ids] == [2, 2, 2]
    assert len(store.search("reflectors")) == 6


def test_a_failing_plan_loses_only_itself(store: SqlStore) -> None:
    ids = [store.add_source(spec(n)).id for n in range(1, 4)]
    # An entry without a title violates NOT NULL. (Two entries with one key no longer fail:
    # the second merges with the first, as with another writer's row, test_concurrent_writers.)
    bad = plan(ids[1], (make_entry(ids[1], 1), make_entry(ids[1], 2, title=None)))
    plans = [plan(ids[0], (make_entry(ids[0], 1),)), bad, plan(ids[2], (make_entry(ids[2], 1),))]
    results = store.apply_updates(plans)
    assert isinstance(results[1], StoreError)
    assert results[0] == results[2] == ApplyResult(new=1, changed=0, unchanged=0)
    assert [store.count_entries(source_id=i) for i in ids] == [1, 0, 1]
    failed = store.get_source(ids[1])
    assert failed is not None and failed.last_fetched_at is None  # its source row too


def test_concurrent_polls_share_transactions(store: SqlStore) -> None:
    async def main() -> list[str]:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            sources = []
            for n in range(6):
                items = [(f"s{n}p{k}", f"Feed {n} post {k}", f"<p>Text {k}.</p>") for k in range(3)]
                server.static(f"/f{n}.xml", rss(items))
                sources.append(store.add_source(SourceSpec(feed_url=server.url(f"/f{n}.xml"))))
            # A long delay: only a full batch or "no other poll running" may flush.
            pipeline = UpdatePipeline(store, fetcher, batch_delay_s=60)
            with commits(store) as count:
                reports = await pipeline.update_many(sources)
            assert count[0] < len(sources)
            return [r.outcome for r in reports]

    assert asyncio.run(main()) == ["updated"] * 6
    assert store.count_entries() == 18


def test_a_poll_cancelled_while_waiting_stores_nothing(store: SqlStore) -> None:
    a, b = (store.add_source(spec(n)).id for n in (1, 2))

    async def main() -> ApplyResult:
        writer = WriteBehind(store, max_delay_s=60)
        writer.running = 1  # another poll is still running: plans wait for it
        waiting = asyncio.ensure_future(writer.apply(plan(a, (make_entry(a, 1),))))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        writer.running = 0
        return await writer.apply(plan(b, (make_entry(b, 1),)))

    assert asyncio.run(main()).new == 1
    assert (store.count_entries(source_id=a), store.count_entries(source_id=b)) == (0, 1)
    untouched = store.get_source(a)
    assert untouched is not None and untouched.last_fetched_at is None


def test_a_full_batch_is_stored_without_waiting(store: SqlStore) -> None:
    ids = [store.add_source(spec(n)).id for n in range(1, 4)]

    async def main() -> list[ApplyResult]:
        writer = WriteBehind(store, max_plans=3, max_delay_s=60)
        writer.running = 5  # other polls running: only the batch size can flush
        return await asyncio.gather(*(writer.apply(plan(i, (make_entry(i, 1),))) for i in ids))

    with commits(store) as count:
        assert [r.new for r in asyncio.run(main())] == [1, 1, 1]
    assert count == [1]


def test_source_rows_setting_different_columns_each_get_their_own(store: SqlStore) -> None:
    ids = [store.add_source(spec(n)).id for n in range(1, 5)]
    when = NOW + timedelta(hours=1)
    updates = [
        success(etag='"a"', next_poll_at=when),
        success(etag='"b"', next_poll_at=when + timedelta(minutes=1)),
        success(last_modified="Sun, 01 Nov 2026 10:00:00 GMT"),
        success(
            last_success_at=None,
            last_error_class="http",
            last_error="HTTP 500",
            consecutive_failures=1,
            failing_since=NOW,
        ),
    ]
    results = store.apply_updates([UpdatePlan(i, u) for i, u in zip(ids, updates, strict=True)])
    assert all(isinstance(r, ApplyResult) for r in results)
    got = [store.get_source(i) for i in ids]
    assert [(s.etag, s.last_modified, s.next_poll_at) for s in got if s] == [
        ('"a"', None, when),
        ('"b"', None, when + timedelta(minutes=1)),
        (None, "Sun, 01 Nov 2026 10:00:00 GMT", None),
        (None, None, None),
    ]
    failed = got[3]
    assert failed is not None and failed.last_error == "HTTP 500" and failed.failing_since == NOW
