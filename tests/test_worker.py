"""Worker leases and the worker loop, on every backend (the `store` fixture)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from builders import NOW, make_entry, pipelines_over, plan, spec, success
from feedserver import feed_server, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.runtime.worker import IDLE_S, WorkerConfig, run_worker
from netplanet.schedule import Policy
from netplanet.store import SqlStore

LEASE = 60.0


def add_sources(store: SqlStore, n: int, host: str = "blog{n}.example.net") -> list[int]:
    ids = []
    for i in range(1, n + 1):
        url = f"https://{host.format(n=i)}/feed/{i}"
        ids.append(store.add_source(spec(i, feed_url=url, title=f"Blog {i}")).id)
    return ids


def leases(store: SqlStore) -> dict[int, str | None]:
    with store.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT id, lease_owner FROM sources").all())


def test_claim_leases_due_sources_once(store: SqlStore) -> None:
    ids = add_sources(store, 3)
    first = store.claim_due_sources("w1", NOW, 10, LEASE)
    assert sorted(s.id for s in first) == ids
    assert set(leases(store).values()) == {"w1"}
    assert store.claim_due_sources("w2", NOW, 10, LEASE) == []


def test_claim_respects_the_limit_and_due_order(store: SqlStore) -> None:
    ids = add_sources(store, 4)
    # Source 1 polled long ago, 2 recently (due), 3 not yet due, 4 never polled (NULL: first).
    for source_id, when in ((ids[0], NOW - timedelta(hours=2)), (ids[1], NOW - timedelta(1))):
        store.apply_update(dataclasses.replace(plan(source_id), source=success(next_poll_at=when)))
    store.apply_update(
        dataclasses.replace(plan(ids[2]), source=success(next_poll_at=NOW + timedelta(1)))
    )
    claimed = store.claim_due_sources("w1", NOW, 2, LEASE)
    assert [s.id for s in claimed] == [ids[3], ids[1]]
    assert [s.id for s in store.claim_due_sources("w2", NOW, 5, LEASE)] == [ids[0]]


def test_disabled_sources_are_not_claimed(store: SqlStore) -> None:
    ids = add_sources(store, 2)
    store.edit_source(ids[0], enabled=False)
    assert [s.id for s in store.claim_due_sources("w1", NOW, 10, LEASE)] == [ids[1]]


def test_expired_lease_is_claimed_again(store: SqlStore) -> None:
    add_sources(store, 2)
    store.claim_due_sources("crashed", NOW, 10, LEASE)
    assert store.claim_due_sources("w2", NOW + timedelta(seconds=LEASE - 1), 10, LEASE) == []
    later = NOW + timedelta(seconds=LEASE)
    assert len(store.claim_due_sources("w2", later, 10, LEASE)) == 2
    assert set(leases(store).values()) == {"w2"}


def test_applying_the_poll_ends_the_lease(store: SqlStore) -> None:
    (source_id,) = add_sources(store, 1)
    store.claim_due_sources("w1", NOW, 10, LEASE)
    store.apply_update(plan(source_id, (make_entry(source_id, 1),)))
    assert leases(store) == {source_id: None}


def test_per_host_cap_counts_leases_held_by_any_worker(store: SqlStore) -> None:
    shared = add_sources(store, 5, host="feeds.example.com")
    other = store.add_source(spec(9, feed_url="https://other.example.org/rss")).id
    first = store.claim_due_sources("w1", NOW, 10, LEASE, per_host=2)
    assert sorted(s.id for s in first) == [*shared[:2], other]
    # Two feeds.example.com leases are held: nobody gets a third until one ends.
    assert store.claim_due_sources("w2", NOW, 10, LEASE, per_host=2) == []
    polled = success(next_poll_at=NOW + timedelta(hours=1))
    store.apply_update(dataclasses.replace(plan(shared[0]), source=polled))
    assert [s.id for s in store.claim_due_sources("w2", NOW, 10, LEASE, per_host=2)] == [shared[2]]


def test_release_gives_back_only_own_leases(store: SqlStore) -> None:
    ids = add_sources(store, 3)
    store.claim_due_sources("w1", NOW, 2, LEASE)
    store.claim_due_sources("w2", NOW, 2, LEASE)
    assert store.release_leases("w1", [ids[0], ids[2]]) == 1
    assert leases(store) == {ids[0]: None, ids[1]: "w1", ids[2]: "w2"}
    assert store.release_leases("w1") == 1


async def _run_once(store: SqlStore, config: WorkerConfig) -> None:
    async with Fetcher(fetch_settings(fetch_per_host=50)) as fetcher:
        await run_worker(
            store,
            fetcher,
            dataclasses.replace(config, once=True, per_host=None),
            pipelines=pipelines_over(store),
        )


def test_worker_polls_every_due_source_once_per_interval(store: SqlStore) -> None:
    async def scenario() -> dict[str, int]:
        async with feed_server() as server:
            for n in range(12):
                server.static(
                    f"/f{n}", rss([(f"p{n}-{k}", f"Post {k}", "<p>x</p>") for k in range(3)])
                )
                store.add_source(SourceSpec(feed_url=server.url(f"/f{n}")))
            server.static("/broken", b"not a feed", "text/plain")
            store.add_source(SourceSpec(feed_url=server.url("/broken")))
            config = WorkerConfig("w", batch=5, policy=Policy(min_interval_s=3600))
            await _run_once(store, config)
            await _run_once(store, config)  # nothing is due yet
            return dict(server.hits)

    hits = asyncio.run(scenario())
    assert hits == {**{f"/f{n}": 1 for n in range(12)}, "/broken": 1}
    assert store.count_entries() == 36
    sources = store.list_sources()
    assert all(s.next_poll_at is not None for s in sources)
    # schedule.py's interval: at least min_interval_s less jitter, for the healthy feeds.
    healthy = [s for s in sources if not s.consecutive_failures]
    for s in healthy:
        assert s.next_poll_at is not None and s.last_fetched_at is not None
        assert s.next_poll_at - s.last_fetched_at >= timedelta(seconds=3600 * 0.9)
    assert set(leases(store).values()) == {None}
    broken = next(s for s in sources if s.feed_url.endswith("/broken"))
    assert broken.last_error and broken.consecutive_failures == 1  # failed, and still scheduled


def test_worker_seals_pages(store: SqlStore) -> None:
    (source_id,) = add_sources(store, 1)
    store.apply_update(plan(source_id, (make_entry(source_id, 1),)))
    store.edit_source(source_id, enabled=False)

    asyncio.run(_run_once(store, WorkerConfig("w", seal_after=timedelta(0))))
    assert store.max_seq() == 1


def test_the_idle_default_is_written_once() -> None:
    """`netplanet worker --idle` keeps its default in the option (the command line loads no
    runtime code until a command runs); it must be the worker's own."""
    import typer

    from netplanet.cli import app

    worker = typer.main.get_command(app).commands["worker"]  # type: ignore[attr-defined]
    idle = next(p for p in worker.params if p.name == "idle")
    assert idle.default == IDLE_S == WorkerConfig("w").idle_s
