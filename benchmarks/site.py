"""Site speed: server time of the public pages over a large SQLite planet, and requests/s.

    .venv/bin/python benchmarks/site.py --entries 100000 --sources 1000 [--requests 200]
        [--db PATH] [--keep] [--load-seconds 10] [--connections 32] [--no-write]

1. Builds a SQLite database (through the store's own migrations and tables) with N entries from
   M sources: realistic titles, 1-8 KB HTML bodies with their plain text and excerpt, a dozen
   categories of very different sizes, a posting rate of ~150 posts a day, then seals the stable
   pages with `SqlStore.seal_pages(now - 48 h)` like `netplanet run` does. Rows are inserted with
   SQLAlchemy Core executemany in batches; every row indexed for search as the indexer would.
2. Calls the ASGI app from `create_app` directly (no HTTP, no client library) and reports the
   median and p95 server time of each page in three states: "render" (a cache-busting query
   argument, so the page is built from the database), "cached" (the same URL again: the
   validator query plus the in-memory page cache) and "304" (If-None-Match with the page's ETag).
3. Starts `netplanet serve` (uvicorn) on 127.0.0.1 and drives `/` and `/feed.xml` with `wrk`
   (Debian package) for a bounded time, or with a bounded aiohttp load loop when wrk is missing.

Writes "## Site speed: <N> entries" in docs/benchmarks.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
    fmt_ms,
    load_average,
    machine_line,
    median,
    percentile,
    run_stamp,
    save_json,
    table,
    write_section,
)
from _text import TECH, TextPool, build_pool, title_for  # noqa: F401

from netplanet.settings import Settings
from netplanet.sources.slug import slugify
from netplanet.store import SqlStore, open_store
from netplanet.store.indexing import INDEX_TEXT_CHARS
from netplanet.store.schema import categories, entries, entry_categories, sources
from netplanet.web.app import create_app

POSTS_PER_DAY = 150
SEAL_HORIZON = timedelta(hours=48)
BATCH = 5000
RARE_WORD = "zeroizable"
COMMON_WORD = "network"
PAGE_SIZE = 30

# (name, share of sources) — very different sizes, like a real planet.
CATEGORIES = (
    ("Networking", 0.34),
    ("Security", 0.12),
    ("Cloud", 0.10),
    ("Automation", 0.09),
    ("Routing", 0.07),
    ("Data Center", 0.06),
    ("Wireless", 0.05),
    ("Podcasts", 0.05),
    ("Vendors", 0.04),
    ("IPv6", 0.03),
    ("SD-WAN", 0.03),
    ("Career", 0.02),
)


@dataclass(frozen=True, slots=True)
class BuildInfo:
    entries: int
    sources: int
    seconds_insert: float
    seconds_seal: float
    sealed: int
    db_bytes: int
    biggest_category: str
    rare_hits: int


def _source_rows(rng: random.Random, m: int, now: datetime) -> list[dict[str, Any]]:
    names = [c for c, _ in CATEGORIES]
    shares = [s for _, s in CATEGORIES]
    rows = []
    adjectives = [
        "Packet",
        "Route",
        "Fabric",
        "Edge",
        "Core",
        "Spine",
        "Leaf",
        "Layer",
        "Wire",
        "Byte",
        "Flow",
        "Frame",
    ]
    nouns = [
        "Notes",
        "Journal",
        "Diaries",
        "Lab",
        "Log",
        "Blog",
        "Weekly",
        "Radio",
        "Field",
        "Bench",
        "Thoughts",
        "Corner",
    ]
    for i in range(1, m + 1):
        title = f"{rng.choice(adjectives)} {rng.choice(nouns)} {i}"
        rows.append(
            {
                "id": i,
                "feed_url": f"https://blog{i}.example.net/feed/",
                "title": title,
                "site_url": f"https://blog{i}.example.net/",
                "category": rng.choices(names, shares)[0],
                "slug": slugify(title),
                "enabled": True,
                "created_at": now - timedelta(days=3000),
                "last_fetched_at": now - timedelta(minutes=20),
                "last_success_at": now - timedelta(minutes=20),
                "last_status": 200,
                "etag": f'"{i:x}"',
                "next_poll_at": now + timedelta(minutes=10),
            }
        )
    return rows


def build_db(path: Path, n: int, m: int, seed: int = 7) -> BuildInfo:
    """Create the planet at `path` (removed first) and seal its pages."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rng = random.Random(seed)
    pool = build_pool(rng)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=n / POSTS_PER_DAY)
    step = (now - timedelta(hours=1) - start) / n
    store = open_store(f"sqlite:///{path}")
    t0 = time.perf_counter()
    src_rows = _source_rows(rng, m, now)
    # Zipf-like posting frequency: a few prolific sources, a long tail of occasional ones.
    src_weights = [1.0 / (1 + k) ** 0.8 for k in range(m)]
    rng.shuffle(src_weights)
    src_cum = [sum(src_weights[: k + 1]) for k in range(m)] if m <= 2000 else None
    cat_of = {r["id"]: r["category"] for r in src_rows}
    podcast = {r["id"] for r in src_rows if r["category"] == "Podcasts"}
    rare_every = 10_000
    rare_hits = 0
    with store.engine.begin() as conn:
        conn.execute(insert(sources), src_rows)
        for pos, (name, _) in enumerate(CATEGORIES):
            conn.execute(insert(categories).values(slug=slugify(name), name=name, position=pos))
    src_ids = [r["id"] for r in src_rows]
    # Storing a post queues it for the search indexer (search_queue's insert trigger); here
    # the trigger is dropped during the load, the rows are indexed in one INSERT ... SELECT
    # (the indexer's statement, set-wise) and the trigger is recreated from its stored SQL:
    # the planet is as the indexer leaves it once caught up (everything indexed, queue empty).
    with store.engine.begin() as conn:
        trigger_sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type='trigger' AND name='search_queue_ai'")
        ).scalar_one()
        conn.execute(text("DROP TRIGGER search_queue_ai"))
    entry_id = 0
    for batch_start in range(0, n, BATCH):
        e_rows: list[dict[str, Any]] = []
        c_rows: list[dict[str, Any]] = []
        k_batch = min(BATCH, n - batch_start)
        picks = (
            rng.choices(src_ids, cum_weights=src_cum, k=k_batch)
            if src_cum
            else rng.choices(src_ids, src_weights, k=k_batch)
        )
        for k, sid in enumerate(picks):
            i = batch_start + k
            entry_id += 1
            published = start + step * i + timedelta(seconds=rng.randint(0, 59))
            title = title_for(rng)
            target = rng.randint(1024, 8192)
            parts_h: list[str] = []
            parts_p: list[str] = []
            size = 0
            while size < target:
                j = rng.randrange(len(pool.html))
                parts_h.append(pool.html[j])
                parts_p.append(pool.plain[j])
                size += len(pool.html[j])
            if i % rare_every == rare_every // 2:
                parts_h.append(f"<p>The keys are {RARE_WORD} on demand.</p>")
                parts_p.append(f"The keys are {RARE_WORD} on demand.")
                rare_hits += 1
            plain = "\n\n".join(parts_p)
            excerpt = " ".join(plain.split(" ", 76)[:75])
            url = f"https://blog{sid}.example.net/{published:%Y/%m}/{slugify(title)}-{i}/"
            category = cat_of[sid]
            enclosure = sid in podcast
            e_rows.append(
                {
                    "id": entry_id,
                    "source_id": sid,
                    "key": f"g:{url}",
                    "guid": url,
                    "url": url,
                    "title_date_hash": hashlib.blake2b(
                        f"{title}|{published:%Y-%m-%d}".encode(), digest_size=16
                    ).hexdigest(),
                    "title": title,
                    "author": f"Author {sid % 97}",
                    "published": published,
                    "updated": None,
                    "first_seen": published + timedelta(minutes=rng.randint(1, 30)),
                    "content_html": "".join(parts_h),
                    "excerpt_html": f"<p>{excerpt}…</p>",
                    "text": plain,
                    "categories": json.dumps([category]),
                    "tags": json.dumps(rng.sample(TECH, 3)),
                    "enclosure_url": f"https://cdn{sid}.example.net/ep{i}.mp3"
                    if enclosure
                    else None,
                    "enclosure_type": "audio/mpeg" if enclosure else None,
                    "enclosure_length": 40_000_000 if enclosure else None,
                    "duration_s": 3600 if enclosure else None,
                    "sponsored": False,
                    "date_from_feed": True,
                    "fingerprint": f"v1:{i:032x}",
                    "seq": None,
                }
            )
            c_rows.append(
                {"entry_id": entry_id, "category_slug": slugify(category), "published": published}
            )
        with store.engine.begin() as conn:
            conn.execute(insert(entries), e_rows)
            conn.execute(insert(entry_categories), c_rows)
        done = batch_start + len(picks)
        if done % (BATCH * 20) == 0 or done == n:
            rate = done / (time.perf_counter() - t0)
            print(f"  inserted {done:,}/{n:,} entries ({rate:,.0f}/s)", file=sys.stderr)
    t_rows = time.perf_counter() - t0
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entries_fts(rowid, title, text, source) "
                f"SELECT e.id, e.title, substr(e.text, 1, {INDEX_TEXT_CHARS}), s.title "
                "FROM entries e JOIN sources s ON s.id = e.source_id ORDER BY e.id"
            )
        )
        conn.execute(text(trigger_sql))
    t_insert = time.perf_counter() - t0
    print(f"  rows {t_rows:.0f} s, FTS5 index {t_insert - t_rows:.0f} s", file=sys.stderr)
    t1 = time.perf_counter()
    sealed = store.seal_pages(now - SEAL_HORIZON)
    t_seal = time.perf_counter() - t1
    with store.engine.connect() as conn:
        biggest = conn.execute(
            text(
                "SELECT category_slug FROM entry_categories GROUP BY category_slug "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    raw = store.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    store.close()
    return BuildInfo(
        entries=n,
        sources=m,
        seconds_insert=t_insert,
        seconds_seal=t_seal,
        sealed=sealed,
        db_bytes=path.stat().st_size,
        biggest_category=biggest,
        rare_hits=rare_hits,
    )


# --------------------------------------------------------------------------- in-process timing


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


async def asgi_get(app: Any, target: str, headers: dict[str, str] | None = None) -> Answer:
    """One GET straight through the ASGI callable: no sockets, no HTTP client."""
    path, _, query = target.partition("?")
    raw_headers = [(b"host", b"planet.example")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    status = 0
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                out_headers[k.decode().lower()] = v.decode()
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    started = time.perf_counter()
    await app(scope, receive, send)
    return Answer(status, out_headers, b"".join(chunks), time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    target: str


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    target: str
    mode: str
    status: int
    samples: int
    median: float
    p95: float
    body_bytes: int


def _bust(target: str, i: int) -> str:
    return f"{target}{'&' if '?' in target else '?'}_bench={i}"


async def time_cases(
    app: Any, cases: list[Case], mode: str, requests: int, budget_s: float, counter: Iterator[int]
) -> list[Timing]:
    """Median/p95 of up to `requests` GETs per case, interleaved round-robin so that load
    changes on the (shared) machine hit every case alike; a case that has used `budget_s`
    seconds leaves the rotation once it has 10 samples."""
    headers: dict[str, dict[str, str]] = {}
    status: dict[str, int] = {}
    size: dict[str, int] = {}
    for case in cases:
        first = await asgi_get(app, case.target)
        if first.status != 200:
            # A refused request costs microseconds: timing it would report a fast site.
            raise SystemExit(
                f"error: {case.target} answered {first.status}, not 200; nothing was timed"
            )
        status[case.target] = first.status
        size[case.target] = len(first.body)
        headers[case.target] = (
            {"If-None-Match": first.headers.get("etag", "")} if mode == "304" else {}
        )
        for _ in range(3):  # warm-up
            target = _bust(case.target, next(counter)) if mode == "render" else case.target
            await asgi_get(app, target, headers[case.target])
    times: dict[str, list[float]] = {c.target: [] for c in cases}
    active = list(cases)
    for _ in range(requests):
        for case in list(active):
            target = _bust(case.target, next(counter)) if mode == "render" else case.target
            ans = await asgi_get(app, target, headers[case.target])
            status[case.target] = ans.status
            got = times[case.target]
            got.append(ans.seconds)
            if len(got) >= 10 and sum(got) > budget_s:
                active.remove(case)
    return [
        Timing(
            c.label,
            c.target,
            mode,
            status[c.target],
            len(times[c.target]),
            median(times[c.target]),
            percentile(times[c.target], 95),
            size[c.target] if mode != "304" else 0,
        )
        for c in cases
    ]


def page_cases(store: SqlStore, biggest: str) -> list[Case]:
    river_last = math.ceil(store.max_seq() / PAGE_SIZE)
    # The newest full page: a partial one redirects to the front page (docs/pagination.md).
    cat_last = max(1, store.max_seq(category=biggest) // PAGE_SIZE)
    deep = max(1, cat_last - 1000)
    return [
        Case("home", "/"),
        Case("category front", f"/category/{biggest}/"),
        Case("category newest numbered page", f"/category/{biggest}/page/{cat_last}"),
        Case(
            f"category {cat_last - deep} pages deep",
            f"/category/{biggest}/page/{deep}",
        ),
        Case("category page 1 (oldest)", f"/category/{biggest}/page/1"),
        Case("river page 1 (oldest)", "/page/1"),
        Case(f"river page {river_last - 1} (last-1)", f"/page/{river_last - 1}"),
        Case("search, common word", f"/search?q={COMMON_WORD}"),
        Case("search, rare word", f"/search?q={RARE_WORD}"),
        Case("feed.xml", "/feed.xml"),
    ]


async def measure_pages(
    db: Path, biggest: str, requests: int, budget_s: float
) -> tuple[list[Timing], int, int]:
    store = open_store(f"sqlite:///{db}")
    app = create_app(
        store,
        Settings(site_title="Bench Planet", site_url="https://planet.example/"),
        page_size=PAGE_SIZE,
    )
    cases = page_cases(store, biggest)
    counter = iter(range(10**9))
    out: list[Timing] = []
    for mode in ("render", "cached", "304"):
        for t in await time_cases(app, cases, mode, requests, budget_s, counter):
            print(
                f"  {t.target:45} {mode:7} {t.status} median {fmt_ms(t.median)} ms "
                f"p95 {fmt_ms(t.p95)} ms (n={t.samples})",
                file=sys.stderr,
            )
            out.append(t)
    river_pages = math.ceil(store.max_seq() / PAGE_SIZE)
    cat_pages = math.ceil(store.max_seq(category=biggest) / PAGE_SIZE)
    store.close()
    return out, river_pages, cat_pages


# --------------------------------------------------------------------------- load generator


@dataclass(frozen=True, slots=True)
class LoadResult:
    path: str
    tool: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def _wrk(url: str, seconds: int, connections: int) -> LoadResult:
    proc = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    out = proc.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def lat(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return LoadResult(url.split("/", 3)[3], "wrk", rps, lat("50"), lat("99"), errors)


async def _py_load(url: str, seconds: int, connections: int) -> LoadResult:
    import aiohttp

    times: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            t = time.perf_counter()
            async with session.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
            times.append(time.perf_counter() - t)

    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:
        started = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.monotonic() - started
    return LoadResult(
        "/" + url.split("/", 3)[3],
        "aiohttp loop",
        len(times) / elapsed,
        median(times) * 1000,
        percentile(times, 99) * 1000,
        errors,
    )


def load_test(db: Path, seconds: int, connections: int) -> list[LoadResult]:
    port = _free_port()
    netplanet = Path(sys.executable).with_name("netplanet")
    env = {**os.environ, "NETPLANET_SITE_TITLE": "Bench Planet"}
    server = subprocess.Popen(
        [str(netplanet), "--database", f"sqlite:///{db}", "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    results: list[LoadResult] = []
    try:
        _wait_port(port)
        for path in ("/", "/feed.xml"):
            url = f"http://127.0.0.1:{port}{path}"
            subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=False, timeout=60)
            if shutil.which("wrk"):
                r = _wrk(url, seconds, connections)
                r = LoadResult(path, r.tool, r.rps, r.p50_ms, r.p99_ms, r.errors)
            else:
                r = asyncio.run(_py_load(url, seconds, connections))
            print(
                f"  load {path}: {r.rps:,.0f} req/s p50 {r.p50_ms:.1f} ms p99 {r.p99_ms:.1f} ms",
                file=sys.stderr,
            )
            results.append(r)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    return results


# --------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(
    info: BuildInfo,
    timings: list[Timing],
    loads: list[LoadResult],
    river_pages: int,
    cat_pages: int,
    command: str,
    load_before: str,
    load_after: str,
    connections: int,
    seconds: int,
) -> tuple[str, str]:
    heading = f"## Site speed: {info.entries:,} entries"
    by = {(t.label, t.mode): t for t in timings}
    labels = list(dict.fromkeys(t.label for t in timings))
    rows = []
    for label in labels:
        r, c, n = by[(label, "render")], by[(label, "cached")], by[(label, "304")]
        rows.append(
            [
                f"{label} `{r.target}`",
                r.status,
                fmt_ms(r.median),
                fmt_ms(r.p95),
                fmt_ms(c.median),
                fmt_ms(n.median),
                f"{r.body_bytes / 1024:.0f} KB",
                r.samples,
            ]
        )
    home = by[("home", "render")]
    deep = next(t for t in timings if "pages deep" in t.label and t.mode == "render")
    first = by[("category page 1 (oldest)", "render")]
    front = by[("category front", "render")]
    newest = by[("category newest numbered page", "render")]
    out = [
        heading,
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line()}, SQLite {__import__('sqlite3').sqlite_version}; "
        f"load average (1/5/15 min) {load_before} before, {load_after} after the timings.  ",
        f"Database: {info.entries:,} entries from {info.sources:,} sources, "
        f"{len(CATEGORIES)} categories (biggest: `{info.biggest_category}`, "
        f"{cat_pages:,} pages of {PAGE_SIZE}), {river_pages:,} river pages, "
        f"{info.db_bytes / 2**30:.2f} GiB; built in {info.seconds_insert:.0f} s "
        f"(Core executemany in batches of {BATCH:,}; the FTS5 index filled by one INSERT … SELECT "
        "with the search indexer's statement, the queue trigger dropped during the load), "
        f"`seal_pages` of {info.sealed:,} entries in {info.seconds_seal:.1f} s.",
        "",
        "Server time in process: the `create_app` ASGI callable called directly (no socket, no "
        "client), one request at a time. *render*: a cache-busting query argument, so the page "
        "is built from the database; *cached*: the same URL again (validator query + in-memory "
        "page cache); *304*: `If-None-Match` with the page's ETag. Times in ms.",
        "",
        *table(
            [
                "page",
                "status",
                "render median",
                "render p95",
                "cached median",
                "304 median",
                "body",
                "n",
            ],
            rows,
        ),
        "",
        "Ratios (render medians):",
        "",
        f"- category page {cat_pages - int(deep.target.rsplit('/', 1)[1])} pages deep vs "
        f"the category's newest numbered page: {_ratio(deep.median, newest.median)}; "
        f"vs the category front page: {_ratio(deep.median, front.median)}; "
        f"vs page 1 (the oldest): {_ratio(deep.median, first.median)} "
        f"(target: within 20%, i.e. at most 1.20x)",
        f"- home: {fmt_ms(home.median)} ms median render "
        f"(target at 1,000,000 entries: under 10 ms)",
    ]
    if loads:
        out += [
            "",
            f"Load: `netplanet serve` (uvicorn, one process) on 127.0.0.1, "
            f"{loads[0].tool} with 2 threads, {connections} connections, {seconds} s per URL, "
            "plain GETs (no validators, so every answer is a 200 from the page cache after the "
            "first).",
            "",
            *table(
                ["URL", "requests/s", "latency p50 (ms)", "latency p99 (ms)", "errors"],
                [
                    [f"`{r.path}`", f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", r.errors]
                    for r in loads
                ],
            ),
        ]
    return heading, "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200, help="requests per page and mode")
    ap.add_argument("--budget", type=float, default=20.0, help="max seconds per page and mode")
    ap.add_argument("--db", type=Path, help="database file (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true", help="use --db as it is when it exists")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--load-seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--no-load", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--save",
        type=Path,
        help="where the figures go for benchmarks/targets.py "
        "(default benchmarks/results-site-N.json, not with --no-write; a given FILE is "
        "written always)",
    )
    args = ap.parse_args()
    stamp = run_stamp()  # the commit measured is the one at the start

    tmp = None
    if args.db is None:
        tmp = Path(tempfile.mkdtemp(prefix="netplanet-site-"))
        args.db = tmp / "planet.db"
    try:
        if args.reuse and args.db.exists():
            store = open_store(f"sqlite:///{args.db}")
            with store.engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM entries")).scalar_one()
                m = conn.execute(text("SELECT count(*) FROM sources")).scalar_one()
                biggest = conn.execute(
                    text(
                        "SELECT category_slug FROM entry_categories GROUP BY category_slug "
                        "ORDER BY count(*) DESC LIMIT 1"
                    )
                ).scalar_one()
            store.close()
            sidecar = Path(str(args.db) + ".build.json")
            if sidecar.exists():  # the figures of the run that built this database
                info = BuildInfo(**json.loads(sidecar.read_text()))
            else:
                info = BuildInfo(
                    n, m, float("nan"), float("nan"), 0, args.db.stat().st_size, biggest, 0
                )
        else:
            print(
                f"building {args.entries:,} entries from {args.sources:,} sources in {args.db}",
                file=sys.stderr,
            )
            info = build_db(args.db, args.entries, args.sources)
            Path(str(args.db) + ".build.json").write_text(json.dumps(dataclasses.asdict(info)))
        print(
            f"built in {info.seconds_insert:.0f} s + seal {info.seconds_seal:.1f} s, "
            f"{info.db_bytes / 2**20:,.0f} MiB",
            file=sys.stderr,
        )
        load_before = load_average()
        timings, river_pages, cat_pages = asyncio.run(
            measure_pages(args.db, info.biggest_category, args.requests, args.budget)
        )
        loads = [] if args.no_load else load_test(args.db, args.load_seconds, args.connections)
        load_after = load_average()
        command = ".venv/bin/python benchmarks/site.py " + " ".join(
            a for a in sys.argv[1:] if a not in ("--no-write", "--keep", "--reuse")
        )
        heading, body = report(
            info,
            timings,
            loads,
            river_pages,
            cat_pages,
            command,
            load_before,
            load_after,
            args.connections,
            args.load_seconds,
        )
        print(body)
        if not args.no_write:
            write_section(heading, body)
        if args.save or not args.no_write:
            save = args.save or ROOT / "benchmarks" / f"results-site-{info.entries}.json"
            figures = {
                **stamp,
                "load": load_before,
                "command": command,
                "build": dataclasses.asdict(info),
                "river_pages": river_pages,
                "category_pages": cat_pages,
                "timings": [dataclasses.asdict(t) for t in timings],
            }
            save_json(save, figures)
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
