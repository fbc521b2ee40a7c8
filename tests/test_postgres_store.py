"""PostgreSQL-only store behaviour: URLs, errors, and what several processes do at once.

Each "process" here is a separate SqlStore (its own engine and connections) on a thread, which
is what separate worker processes look like to the server.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest

from builders import NOW, make_entry, plan, spec
from netplanet.errors import StoreError
from netplanet.store import SqlStore, open_store
from netplanet.store.postgres import postgres_url

pytestmark = pytest.mark.postgres
T = TypeVar("T")


def in_parallel(url: str, n: int, work: Callable[[SqlStore, int], T]) -> list[T]:
    stores = [open_store(url) for _ in range(n)]
    try:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(work, stores, range(n)))
    finally:
        for s in stores:
            s.close()


def test_plain_postgresql_urls_mean_psycopg() -> None:
    assert postgres_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert postgres_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert postgres_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_plain_url_opens(postgres_url: str) -> None:
    store = open_store(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert store.url.startswith("postgresql+psycopg://")
        assert store.list_sources() == []
    finally:
        store.close()


def test_unreachable_server_is_one_line_without_password() -> None:
    with pytest.raises(StoreError, match="cannot open database") as info:
        open_store("postgresql://netplanet:s3cret@127.0.0.1:9/planet")
    message = str(info.value)
    assert "\n" not in message and "s3cret" not in message


def test_workers_starting_together_migrate_once(postgres_url: str) -> None:
    def start(_: int) -> int:
        store = open_store(postgres_url)  # migrates the empty schema
        try:
            return len(store.list_sources())
        finally:
            store.close()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(start, range(6))) == [0] * 6


def test_concurrent_sealing_never_collides(postgres_url: str) -> None:
    setup = open_store(postgres_url)
    for n in range(1, 5):
        s = setup.add_source(spec(n))
        setup.apply_update(
            plan(s.id, tuple(make_entry(s.id, k, key=f"g:{n}-{k}") for k in range(1, 51)))
        )
    setup.close()

    def seal(store: SqlStore, i: int) -> int:
        return sum(store.seal_pages(NOW - timedelta(hours=h)) for h in (40, 30, 20, 10, 0 - i))

    sealed = in_parallel(postgres_url, 4, seal)
    assert sum(sealed) == 200
    check = open_store(postgres_url)
    try:
        with check.engine.connect() as conn:
            seqs = sorted(s for (s,) in conn.exec_driver_sql("SELECT seq FROM entries").all())
            cat = conn.exec_driver_sql(
                "SELECT count(DISTINCT seq), max(seq) FROM entry_categories"
            ).one()
        assert seqs == list(range(1, 201))
        assert tuple(cat) == (200, 200)
    finally:
        check.close()


def test_concurrent_claims_are_disjoint(postgres_url: str) -> None:
    setup = open_store(postgres_url)
    for n in range(200):
        setup.add_source(spec(n, feed_url=f"https://h{n % 40}.example/feed/{n}"))
    setup.close()

    def claim_all(store: SqlStore, i: int) -> list[int]:
        got: list[int] = []
        while batch := store.claim_due_sources(f"w{i}", NOW, 7, 600, per_host=None):
            got += [s.id for s in batch]
        return got

    claims = in_parallel(postgres_url, 8, claim_all)
    every = [source_id for got in claims for source_id in got]
    assert sorted(every) == list(range(1, 201))  # each source claimed by exactly one worker
    assert sum(1 for got in claims if got) > 1
