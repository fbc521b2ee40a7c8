"""The background search indexer (store/indexing.py, migration 0011), on both backends.

Storing a post queues it; search finds it once `index_pending` has indexed its batch. An edit
is re-indexed, a deleted post leaves nothing behind, a batch that fails (or a process killed
with SIGKILL inside the batch's transaction) is redone whole by the next indexer, and the
queue's length is what /healthz and `sources health` report. These tests search what is
indexed so far (`search_lag`: conftest's catch-up before each search is off).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from builders import cli, make_entry, plan, spec, sqlite_url
from netplanet.runtime.scheduler import keep_indexed
from netplanet.store import SqlStore, open_store
from netplanet.store.indexing import catch_up
from test_admin import Clock, make_client

pytestmark = pytest.mark.search_lag


def found(store: SqlStore, query: str) -> set[str]:
    return {h.entry.title for h in store.search(query, limit=100)}


def index_rows(store: SqlStore) -> int:
    """Posts the engine's index holds a row (SQLite) or a vector (PostgreSQL) for."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            sql = "SELECT count(*) FROM entries WHERE search_vector IS NOT NULL"
        else:
            sql = "SELECT count(*) FROM entries_fts"
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_stored_posts_are_found_once_indexed_a_batch_at_a_time(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(
        plan(s.id, tuple(make_entry(s.id, n, title=f"Ospf note {n}") for n in range(5)))
    )
    assert store.pending_index() == 5 and found(store, "ospf") == set()
    assert store.index_pending(limit=2) == 2
    assert store.pending_index() == 3 and found(store, "ospf") == {"Ospf note 0", "Ospf note 1"}
    told: list[int] = []
    assert catch_up(store, batch=2, progress=told.append) == 3
    assert told == [2, 3]  # a running total after each batch, for the progress bar
    assert store.pending_index() == 0 and len(found(store, "ospf")) == 5
    assert store.index_pending() == 0  # nothing waits: nothing to do
    assert index_rows(store) == 5


def test_an_edited_post_is_indexed_again(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1, title="Ospf areas", text="stub areas"),)))
    catch_up(store)
    post = store.list_entries()[0].id
    edited = make_entry(s.id, 1, title="Isis levels", text="level two", fingerprint="v1:e")
    store.apply_update(plan(s.id, changed_entries=((post, edited),)))
    assert store.pending_index() == 1
    # Until its batch runs, the post (as it is now) is found by its old words.
    assert found(store, "ospf") == {"Isis levels"} and found(store, "levels") == set()
    catch_up(store)
    assert found(store, "ospf") == set() and found(store, "levels") == {"Isis levels"}
    assert found(store, "stub") == set() and index_rows(store) == 1


def test_an_edit_that_keeps_title_and_text_queues_nothing(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    catch_up(store)
    post = store.list_entries()[0].id
    moved = make_entry(s.id, 1, fingerprint="v1:other", author="Someone Else")
    store.apply_update(plan(s.id, changed_entries=((post, moved),)))
    assert store.pending_index() == 0


def test_deleted_posts_leave_no_index_row_and_no_queued_id(store: SqlStore) -> None:
    a = store.add_source(spec(1))
    b = store.add_source(spec(2))
    store.apply_update(plan(a.id, (make_entry(a.id, 1, title="Indexed mpls post"),)))
    catch_up(store)
    store.apply_update(plan(a.id, (make_entry(a.id, 2, title="Queued mpls post"),)))
    store.apply_update(plan(b.id, (make_entry(b.id, 3, title="Kept mpls post"),)))
    assert store.pending_index() == 2
    store.remove_source(a.id)  # its posts go with it, indexed or not
    assert store.pending_index() == 1
    assert index_rows(store) == 0
    catch_up(store)
    assert found(store, "mpls") == {"Kept mpls post"} and index_rows(store) == 1


def test_a_reused_id_never_finds_the_deleted_posts_words(tmp_path: Path) -> None:
    """SQLite gives the next post the id of a deleted newest post: its FTS row went with it."""
    store = open_store(sqlite_url(tmp_path / "reuse.db"))
    try:
        a = store.add_source(spec(1))
        b = store.add_source(spec(2))
        store.apply_update(plan(a.id, (make_entry(a.id, 1, title="Vxlan post"),)))
        catch_up(store)
        gone = store.list_entries()[0].id
        store.remove_source(a.id)
        store.apply_update(plan(b.id, (make_entry(b.id, 2, title="Evpn post", text="other"),)))
        assert store.list_entries()[0].id == gone  # the same rowid again
        assert found(store, "vxlan") == set()
        catch_up(store)
        assert found(store, "vxlan") == set() and found(store, "evpn") == {"Evpn post"}
    finally:
        store.close()


def test_a_failed_batch_changes_nothing_and_is_redone(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(4))))
    real = store._index

    def fails_after_indexing(conn: Any, ids: Any) -> None:
        real(conn, ids)  # the index rows are written, then the batch fails before its commit
        raise RuntimeError("the indexer died here")

    monkeypatch.setattr(store, "_index", fails_after_indexing)
    with pytest.raises(RuntimeError):
        store.index_pending()
    assert store.pending_index() == 4 and index_rows(store) == 0
    monkeypatch.setattr(store, "_index", real)
    assert catch_up(store) == 4
    assert len(found(store, "reflectors")) == 4 and index_rows(store) == 4


def test_indexing_a_post_twice_keeps_one_index_row(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1), make_entry(s.id, 2))))
    catch_up(store)
    ids = [e.id for e in store.list_entries()]
    with store.engine.begin() as conn:  # a batch redone after its index rows were committed
        store._index(conn, ids)
    assert index_rows(store) == 2 and len(found(store, "reflectors")) == 2


def test_only_a_prefix_of_a_very_long_post_is_indexed(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import netplanet.store.postgres as pg
    import netplanet.store.sqlite as lite

    for module in (lite, pg):
        monkeypatch.setattr(module, "INDEX_TEXT_CHARS", 100)
    s = store.add_source(spec(1))
    text = "bgp " * 20 + "filler " * 200 + "vxlan"
    store.apply_update(plan(s.id, (make_entry(s.id, 1, title="Long", text=text),)))
    catch_up(store)
    assert found(store, "bgp") == {"Long"} and found(store, "vxlan") == set()


def test_db_copy_indexes_what_the_source_had_not(
    store: SqlStore, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1, title="Indexed ospf"),)))
    catch_up(store)
    store.apply_update(plan(s.id, (make_entry(s.id, 2, title="Queued ospf"),)))
    target = sqlite_url(tmp_path / "copy.db")
    code, _, err = cli(capsys, "db", "copy", "--from", database, "--to", target)
    assert code == 0, err
    copied = open_store(target)
    try:
        assert copied.pending_index() == 0
        assert found(copied, "ospf") == {"Indexed ospf", "Queued ospf"}
    finally:
        copied.close()


def test_a_backup_of_a_planet_with_queued_posts_restores_searchable(
    store: SqlStore, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup keeps the queue as it was (SQLite) or indexes it on the way (PostgreSQL,
    through db copy); either restore leaves nothing queued and every post found."""
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1, title="Indexed ospf"),)))
    catch_up(store)
    store.apply_update(plan(s.id, (make_entry(s.id, 2, title="Queued ospf"),)))
    backup = tmp_path / "planet.tar.gz"
    code, _, err = cli(capsys, "--database", database, "db", "backup", "--to", str(backup))
    assert code == 0, err
    target = sqlite_url(tmp_path / "restored.db")
    code, _, err = cli(capsys, "db", "restore", str(backup), "--to", target)
    assert code == 0, err
    restored = open_store(target)
    try:
        assert restored.pending_index() == 0 and index_rows(restored) == 2
        assert found(restored, "ospf") == {"Indexed ospf", "Queued ospf"}
    finally:
        restored.close()


def test_healthz_and_sources_health_say_how_many_posts_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    db = sqlite_url(tmp_path / "health.db")
    store = open_store(db)
    try:
        s = store.add_source(spec(1, title="Healthy Blog"))
        store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(3))))
        with make_client(store, Clock()) as c:
            body = c.get("/healthz").json()
            assert body["indexing"] == 3 and body["status"] == "ok"
            _, out, _ = cli(capsys, "--database", db, "sources", "health")
            assert "indexing 3 posts" in out
            catch_up(store)
            assert c.get("/healthz").json()["indexing"] == 0
            _, out, _ = cli(capsys, "--database", db, "sources", "health")
            assert "indexing" not in out and "Healthy Blog" in out
    finally:
        store.close()


def test_the_background_indexer_catches_up_at_start_and_waits_for_writes(
    store: SqlStore,
) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))  # left by a crash, say
    busy = True

    async def scenario() -> None:
        nonlocal busy
        stop, halt = asyncio.Event(), threading.Event()
        task = asyncio.ensure_future(
            keep_indexed(store, stop, halt, busy=lambda: busy, every_s=0.02, max_lag_s=60)
        )
        await wait(lambda: store.pending_index() == 0)  # at start, busy or not
        store.apply_update(plan(s.id, (make_entry(s.id, 2),)))
        await asyncio.sleep(0.2)
        assert store.pending_index() == 1  # polls are writing: it waits (up to max_lag_s)
        busy = False
        await wait(lambda: store.pending_index() == 0)
        stop.set()
        await task

    asyncio.run(scenario())
    assert index_rows(store) == 2


async def wait(condition: Any) -> None:
    """Until `condition()` (a read of the database) holds, for up to 10 s."""
    for _ in range(500):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


# A process indexing one big batch, which stops inside the batch's transaction once every
# post's index rows are written (before the commit), and says so by creating a file.
_INDEXER = """
import sys, time
from pathlib import Path
from netplanet.store import open_store

store = open_store(sys.argv[1])
real = store._index
done = 0

def index_then_pause(conn, ids):
    global done
    real(conn, ids)
    done += len(ids)
    if done == int(sys.argv[3]):
        Path(sys.argv[2]).write_text(str(done))
        time.sleep(600)

store._index = index_then_pause
store.index_pending(limit=100_000)
"""

POSTS = 2000


def test_kill_9_inside_an_indexing_batch_then_a_full_search_finds_every_post(
    database: str, tmp_path: Path
) -> None:
    store = open_store(database)
    try:
        s = store.add_source(spec(1))
        words = " ".join(f"word{n}" for n in range(300))
        store.apply_update(
            plan(
                s.id,
                tuple(
                    make_entry(s.id, n, title=f"Crash post {n}", text=f"peering {words}")
                    for n in range(POSTS)
                ),
            )
        )
        assert store.pending_index() == POSTS
        inside = tmp_path / "inside"
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_INDEXER), database, str(inside), str(POSTS)],
            env={**os.environ},
        )
        try:
            deadline = time.monotonic() + 120
            while not inside.exists():
                assert child.poll() is None, "the indexer ended before its batch"
                assert time.monotonic() < deadline, "the indexer never reached its batch"
                time.sleep(0.05)
            assert inside.read_text() == str(POSTS)  # the whole queue, in one transaction
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
        assert child.returncode == -signal.SIGKILL
        assert store.pending_index() == POSTS and index_rows(store) == 0
        assert store.count_matches("peering", cap=POSTS) == 0
        # The killed session's locks go when the server notices (PostgreSQL): until then its
        # batch is skipped, as a live indexer's would be.
        deadline = time.monotonic() + 30
        while store.pending_index():
            catch_up(store)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert store.count_matches("peering", cap=POSTS) == POSTS
        hits = store.search("peering", limit=POSTS)
        assert {h.entry.title for h in hits} == {f"Crash post {n}" for n in range(POSTS)}
        assert index_rows(store) == POSTS
    finally:
        store.close()
