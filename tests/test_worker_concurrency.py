"""Scale-out on PostgreSQL: 4 real `netplanet worker` processes share 500 loopback feeds.

Every source is fetched exactly once per cycle (the server counts hits per path), no entry is
stored twice, and a worker killed with SIGKILL while holding leases loses nothing: the others
complete its sources once its leases expire.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web

from feedserver import rss
from netplanet.model import SourceSpec
from netplanet.store import open_store

pytestmark = pytest.mark.postgres

FEEDS = 500
POSTS = 3


class ManyFeeds:
    """A loopback server for /feed/N (N < FEEDS), in a thread; `slow` paths wait on first hit."""

    def __init__(self, slow: Callable[[int], bool] = lambda n: False, delay: float = 0) -> None:
        self.hits: Counter[str] = Counter()
        self.slow, self.delay = slow, delay
        self.base = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _feed(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        self.hits[request.path] += 1
        if self.slow(n) and self.hits[request.path] == 1:
            await asyncio.sleep(self.delay)
        items = [
            (f"f{n}-p{k}", f"Feed {n} post {k} on BGP", f"<p>Text {k}.</p>") for k in range(POSTS)
        ]
        return web.Response(body=rss(items, title=f"Feed {n}"), content_type="application/rss+xml")

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", self._feed)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    def __enter__(self) -> ManyFeeds:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def workers(url: str, tmp: Path, *args: str, n: int = 4) -> dict[str, subprocess.Popen[str]]:
    env = {
        **os.environ,
        "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1",
        "NETPLANET_FETCH_PER_HOST": "100",  # all 500 feeds share one host here
        "NETPLANET_PER_HOST_GAP_S": "0",
        "NETPLANET_UPDATE_INTERVAL_S": "3600",
        "NETPLANET_TOTAL_TIMEOUT": "10",
        "NETPLANET_DATA_DIR": str(tmp),
    }
    env.pop("NETPLANET_CONFIG", None)
    return {
        f"w{i}": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "netplanet",
                "--database",
                url,
                "worker",
                "--id",
                f"w{i}",
                *args,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so cleanup can reach each worker's parse pool too
        )
        for i in range(n)
    }


def stop_all(procs: dict[str, subprocess.Popen[str]]) -> dict[str, tuple[int, str, str]]:
    results = {}
    for name, proc in procs.items():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=10)
            err += "\n[test: killed after not stopping within 20 s of SIGTERM]"
        results[name] = (proc.returncode, out, err)
    return results


@pytest.fixture
def planet_db(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    yield postgres_url, engine
    engine.dispose()


def add_feeds(url: str, server: ManyFeeds) -> None:
    store = open_store(url)
    try:
        for n in range(FEEDS):
            store.add_source(SourceSpec(feed_url=f"{server.base}/feed/{n}", title=f"Feed {n}"))
    finally:
        store.close()


def check_complete(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        polled, leased = conn.execute(
            sa.text("SELECT count(last_success_at), count(lease_owner) FROM sources WHERE enabled")
        ).one()
        entries = conn.execute(sa.text("SELECT count(*) FROM entries")).scalar_one()
        dupes = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT source_id, url FROM entries "
                "GROUP BY source_id, url HAVING count(*) > 1) AS d"
            )
        ).scalar_one()
    assert (polled, leased) == (FEEDS, 0)
    assert (entries, dupes) == (FEEDS * POSTS, 0)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def test_four_workers_fetch_every_source_exactly_once(
    planet_db: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, engine = planet_db
    with ManyFeeds() as server:
        add_feeds(url, server)
        procs = workers(url, tmp_path, "--batch", "25", "--lease", "60", "--once")
        try:
            for proc in procs.values():
                proc.wait(timeout=45)  # bounded: a deadlock fails here
        finally:
            results = stop_all(procs)
        hits = dict(server.hits)
    for name, (code, _, err) in results.items():
        assert code == 0, f"{name}: {err}"
    assert hits == {f"/feed/{n}": 1 for n in range(FEEDS)}
    polls = [int(out.rsplit("stopped after ", 1)[1].split()[0]) for _, out, _ in results.values()]
    assert sum(polls) == FEEDS
    check_complete(engine)


def test_killed_workers_sources_are_completed_after_its_lease_expires(
    planet_db: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, engine = planet_db
    lease = 4.0
    with ManyFeeds(slow=lambda n: n % 10 == 0, delay=2.0) as server:
        add_feeds(url, server)
        procs = workers(url, tmp_path, "--batch", "25", "--lease", str(lease), "--idle", "0.2")
        try:
            # Wait until some worker is mid-fetch on a slow feed, holding its batch's leases.
            victim: list[str] = []

            def holding_slow() -> bool:
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.text(
                            "SELECT lease_owner, feed_url FROM sources "
                            "WHERE lease_owner IS NOT NULL AND last_fetched_at IS NULL"
                        )
                    ).all()
                for owner, feed_url in rows:
                    path = feed_url.removeprefix(server.base)
                    if int(path.rsplit("/", 1)[1]) % 10 == 0 and server.hits[path] >= 1:
                        victim.append(owner)
                        return True
                return False

            wait_for(holding_slow, 20, "a worker holding a slow feed's lease")
            killed_at = time.monotonic()
            procs[victim[0]].kill()
            procs[victim[0]].wait(5)
            with engine.connect() as conn:
                orphaned = conn.execute(
                    sa.text("SELECT id, feed_url FROM sources WHERE lease_owner = :w"),
                    {"w": victim[0]},
                ).all()
            assert orphaned, "the killed worker held no leases"

            def all_polled() -> bool:
                with engine.connect() as conn:
                    return bool(
                        conn.execute(
                            sa.text(
                                "SELECT count(*) = :n FROM sources "
                                "WHERE last_success_at IS NOT NULL AND lease_owner IS NULL"
                            ),
                            {"n": FEEDS},
                        ).scalar_one()
                    )

            wait_for(all_polled, 30, "the other workers to complete every source")
            completed_after = time.monotonic() - killed_at
        finally:
            results = stop_all(procs)
        hits = dict(server.hits)
    for name, (code, _, err) in results.items():
        if name != victim[0]:
            assert code == 0, f"{name}: {err}"
    # The orphans were refetched only after the lease ran out, by the survivors.
    assert completed_after >= lease * 0.5
    orphan_paths = {feed_url.removeprefix(server.base) for _, feed_url in orphaned}
    for path, count in hits.items():
        # An orphan may have been requested by the killed worker before it died.
        assert count in ((1, 2) if path in orphan_paths else (1,)), path
    assert len(hits) == FEEDS
    check_complete(engine)
