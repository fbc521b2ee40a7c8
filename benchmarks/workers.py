"""Workers and backends: update-cycle time and ingest throughput, and search latency.

    .venv/bin/python benchmarks/workers.py [--feeds 300] [--entries 20] [--search-entries 100000]

Cycle: a loopback server (in a thread) serves FEEDS feeds of ENTRIES entries each, every
response delayed 20-200 ms (seeded), all on 127.0.0.1. For one process on SQLite and for 1, 2
and 4 processes on PostgreSQL, `netplanet worker --once` processes are started on a fresh
database holding the sources; the time from start to the last exit is the cycle (it includes
~1 s of interpreter start-up), and entries stored / cycle time is the ingest rate.

Search: SEARCH_ENTRIES synthetic entries (120-word texts, mostly long-tail filler words; each
topic word in about one post in ten) are bulk-inserted into each backend (through the
triggers that maintain the index), then a fixed list of queries is timed (median and p95 of
`store.search`, 20 hits, with snippets).

PostgreSQL from NETPLANET_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/
test); each run uses its own schema, dropped afterwards, unless --keep-schema NAME is given:
then the search entries are loaded into schema NAME once (if it is empty or absent) and kept,
so that a 1,000,000-entry search run need not reload them (drop the schema when done).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from aiohttp import web

from netplanet.model import SourceSpec
from netplanet.store import SqlStore, open_store
from netplanet.store.schema import entries, sources

PG = os.environ.get(
    "NETPLANET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORDS = [
    "bgp",
    "ospf",
    "isis",
    "evpn",
    "vxlan",
    "mpls",
    "srv6",
    "segment",
    "routing",
    "route",
    "reflector",
    "firewall",
    "nat",
    "ipv6",
    "telemetry",
    "gnmi",
    "netconf",
    "yang",
    "ansible",
    "automation",
    "latency",
    "jitter",
    "peering",
    "transit",
    "anycast",
    "multicast",
    "qos",
    "buffer",
    "switch",
    "fabric",
    "spine",
    "leaf",
    "clos",
    "datacenter",
    "wan",
    "sdwan",
    "tunnel",
    "ipsec",
    "wireguard",
    "dns",
    "dnssec",
    "rpki",
    "roa",
    "prefix",
    "community",
    "policy",
    "filter",
    "acl",
]
QUERIES = ["bgp", "segment routing", '"route reflector"', "evpn OR vxlan", "rpki -roa", "tele*"]
EXCLUSION_QUERIES = ["-bgp", "-bgp -evpn -vxlan"]


def rss(n: int, count: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {n} post {k}: {WORDS[(n + k) % len(WORDS)]}</title>"
        f"<link>https://feed{n}.example/p/{k}</link><guid>f{n}-{k}</guid>"
        f"<pubDate>Tue, {1 + k % 28:02d} Oct 2026 08:00:00 GMT</pubDate>"
        f"<description>{' '.join(WORDS[(n * k + i) % len(WORDS)] for i in range(60))}"
        "</description></item>"
        for k in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>https://feed{n}.example/</link>{items}</channel></rss>"
    ).encode()


class Server:
    def __init__(self, feeds: int, per_feed: int) -> None:
        rnd = random.Random(42)
        self.bodies = [rss(n, per_feed) for n in range(feeds)]
        self.delays = [rnd.uniform(0.02, 0.2) for _ in range(feeds)]
        self.base = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),)).start()
        self._ready.wait(10)

    async def _feed(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        await asyncio.sleep(self.delays[n])
        return web.Response(body=self.bodies[n], content_type="application/rss+xml")

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", self._feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        self.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def close(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)


class Schema:
    """A fresh PostgreSQL schema (or SQLite file) for one run."""

    def __init__(self, backend: str, tmp: Path, keep: str | None = None) -> None:
        self.backend = backend
        self.keep = keep is not None
        self.name = keep or f"bench_{uuid.uuid4().hex[:12]}"
        self.existed = False
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / (self.name + '.db')}"
        else:
            self.admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
            with self.admin.connect() as conn:
                self.existed = (
                    conn.execute(
                        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": self.name}
                    ).first()
                    is not None
                )
                if not self.existed:
                    conn.exec_driver_sql(f"CREATE SCHEMA {self.name}")
            self.url = f"{PG}?options={quote(f'-csearch_path={self.name}')}"

    def drop(self) -> None:
        if self.keep and self.backend != "sqlite":
            self.admin.dispose()
        elif self.backend != "sqlite":
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {self.name} CASCADE")
            self.admin.dispose()


def cycle(backend: str, workers: int, server: Server, feeds: int, tmp: Path) -> dict[str, float]:
    db = Schema(backend, tmp)
    try:
        store = open_store(db.url)
        for n in range(feeds):
            store.add_source(SourceSpec(feed_url=f"{server.base}/feed/{n}", title=f"Feed {n}"))
        env = {
            **os.environ,
            "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1",
            "NETPLANET_FETCH_PER_HOST": "1000",  # every feed is on 127.0.0.1 here
            "NETPLANET_DATA_DIR": str(tmp),
        }
        cmd = [sys.executable, "-m", "netplanet", "-q", "--database", db.url, "worker"]
        started = time.perf_counter()
        procs = [
            subprocess.Popen([*cmd, "--id", f"w{i}", "--batch", "20", "--once"], env=env)
            for i in range(workers)
        ]
        for proc in procs:
            if proc.wait() != 0:
                raise SystemExit(f"worker failed with {proc.returncode}")
        elapsed = time.perf_counter() - started
        stored = store.count_entries()
        store.close()
        return {"seconds": elapsed, "entries": stored, "rate": stored / elapsed}
    finally:
        db.drop()


def fill(store: SqlStore, count: int) -> None:
    rnd = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        source_ids = [
            conn.execute(
                sa.insert(sources)
                .values(feed_url=f"https://s{n}.example/feed", slug=f"s{n}", title=f"Source {n}")
                .values(created_at=now, enabled=True)
                .returning(sources.c.id)
            ).scalar_one()
            for n in range(200)
        ]

    def word(topic_share: float) -> str:
        # Mostly a long tail of filler words (Zipf-like ranks), sometimes a topic word, so a
        # topic word is in roughly one post in ten, as "bgp" is on a networking planet.
        if rnd.random() < topic_share:
            return rnd.choice(WORDS)
        return f"w{int(20000 ** rnd.random())}"

    batch = []
    for n in range(count):
        title = [word(0.25) for _ in range(8)]
        words = [word(0.05) for _ in range(120)]
        batch.append(
            {
                "source_id": source_ids[n % 200],
                "key": f"g:{n}",
                "url": f"https://x.example/{n}",
                "title_date_hash": f"h{n}",
                "title": " ".join(title),
                "published": now - timedelta(minutes=n),
                "first_seen": now,
                "text": " ".join(words),
                "fingerprint": "v1:x",
            }
        )
        if len(batch) == 5000 or n == count - 1:
            with store.engine.begin() as conn:
                conn.execute(sa.insert(entries), batch)
            batch = []


def _counts(store: SqlStore, backend: str) -> None:
    """--counts: the result count of each query (capped at 1,000, as the search page asks for
    it) and exclusion-only queries (the newest posts without the words), median of 5."""
    cases = [(q, "count") for q in QUERIES]
    cases += [(q, kind) for q in EXCLUSION_QUERIES for kind in ("search", "count")]
    for q, kind in cases:
        ms = []
        for _ in range(5):
            t0 = time.perf_counter()
            n = store.count_matches(q) if kind == "count" else len(store.search(q, limit=20))
            ms.append((time.perf_counter() - t0) * 1000)
        print(f"  {backend} {kind} {q!r} -> {n}: median {statistics.median(ms):.1f} ms")


def search_latency(
    backend: str,
    count: int,
    tmp: Path,
    keep: str | None = None,
    per_query: bool = False,
    counts: bool = False,
) -> dict[str, float]:
    db = Schema(backend, tmp, keep)
    try:
        store = open_store(db.url)
        load_s = 0.0
        held = store.count_entries() if db.existed else 0
        if held == count:
            print(f"({backend}: reusing the {count} entries in schema {db.name})")
        else:
            if held:
                raise SystemExit(f"schema {db.name} holds {held} entries, not {count}")
            started = time.perf_counter()
            fill(store, count)
            load_s = time.perf_counter() - started
            if backend != "sqlite":
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
        timings: list[float] = []
        by_query: dict[str, list[float]] = {q: [] for q in QUERIES}
        for _ in range(5):
            for q in QUERIES:
                t0 = time.perf_counter()
                store.search(q, limit=20)
                elapsed = (time.perf_counter() - t0) * 1000
                timings.append(elapsed)
                by_query[q].append(elapsed)
        if counts:
            _counts(store, backend)
        store.close()
        if per_query:
            for q, ms in by_query.items():
                print(
                    f"  {backend} {q!r}: median {statistics.median(ms):.1f} ms, max {max(ms):.1f}"
                )
        timings.sort()
        return {
            "load_s": load_s,
            "median_ms": statistics.median(timings),
            "p95_ms": timings[int(len(timings) * 0.95) - 1],
        }
    finally:
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--search-entries", type=int, default=100_000)
    parser.add_argument("--skip-cycle", action="store_true")
    parser.add_argument(
        "--search-backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--keep-schema",
        metavar="NAME",
        help="PostgreSQL search: load into schema NAME once and keep it (reused if it exists)",
    )
    parser.add_argument("--per-query", action="store_true", help="print each query's timings")
    parser.add_argument(
        "--counts", action="store_true", help="also time result counts and exclusion-only queries"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_cycle:
            server = Server(args.feeds, args.entries)
            try:
                print(f"update cycle: {args.feeds} feeds x {args.entries} entries, 20-200 ms")
                print("| backend | workers | cycle (s) | entries | entries/s |")
                print("|---|---:|---:|---:|---:|")
                for backend, n in (
                    ("sqlite", 1),
                    ("postgres", 1),
                    ("postgres", 2),
                    ("postgres", 4),
                ):
                    r = cycle(backend, n, server, args.feeds, tmp)
                    print(
                        f"| {backend} | {n} | {r['seconds']:.2f} | {r['entries']:.0f} "
                        f"| {r['rate']:.0f} |"
                    )
            finally:
                server.close()
        if args.search_entries:
            print(f"\nsearch: {args.search_entries} entries, {len(QUERIES)} queries x 5")
            print("| backend | load (s) | median (ms) | p95 (ms) |")
            print("|---|---:|---:|---:|")
            for backend in args.search_backends.split(","):
                keep = args.keep_schema if backend == "postgres" else None
                r = search_latency(
                    backend, args.search_entries, tmp, keep, args.per_query, args.counts
                )
                print(
                    f"| {backend} | {r['load_s']:.1f} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} |"
                )


if __name__ == "__main__":
    main()
