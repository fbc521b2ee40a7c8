"""Weekly digest speed: the store reads and the pages over a large SQLite planet.

    .venv/bin/python benchmarks/digest.py [--entries 100000] [--sources 500] [--db PATH]

1. Builds a SQLite database (the store's migrations, Core executemany) with N posts from M
   sources at ~150 a day (about 1,050 a week), each with a primary topic of the bundled
   taxonomy, a ~600-byte HTML excerpt, and every 20th post in a story cluster of three.
2. Times the store's digest reads (the weeks that have posts, one week's posts and clusters,
   freezing a week) and the pages through the ASGI app in process: a finished week's first
   request (freezing it, then rendering), the same page again (the page cache), a
   revalidation (304), the week in progress (rendered live every minute), /digest/ and the
   digest's RSS feed (ten finished weeks).

Writes "## Weekly digest: <N> entries" in docs/benchmarks.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_ms, load_average, machine_line, median, table, write_section

from netplanet.publish.topics import DEFAULT_TOPICS
from netplanet.publish.weekly import Week
from netplanet.settings import Settings
from netplanet.store import open_store
from netplanet.store.schema import entries, sources
from netplanet.web.app import create_app

POSTS_PER_DAY = 150
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday: the week in progress has posts
BATCH = 5000


def build(url: str, n_entries: int, n_sources: int) -> float:
    started = time.perf_counter()
    store = open_store(url)
    rng = random.Random(7)
    topics = [t.slug for t in DEFAULT_TOPICS]
    with store.engine.begin() as conn:
        conn.execute(
            insert(sources),
            [
                {
                    "id": i,
                    "feed_url": f"https://blog{i}.example/feed",
                    "title": f"Blog {i}",
                    "slug": f"blog-{i}",
                    "created_at": NOW - timedelta(days=900),
                }
                for i in range(1, n_sources + 1)
            ],
        )
    step = timedelta(days=1) / POSTS_PER_DAY
    rows: list[dict[str, Any]] = []
    for n in range(1, n_entries + 1):
        published = NOW - step * (n_entries - n)
        clustered = n % 20 in (0, 1, 2) and n > 2
        text = (
            f"<p>Post {n} looks at {rng.choice(topics)} in some depth. It has a second "
            "sentence that adds context. And a third one that the digest leaves out, "
            "with enough words to make the excerpt a realistic size for a planet.</p>" * 2
        )
        rows.append(
            {
                "id": n,
                "source_id": rng.randint(1, n_sources),
                "key": f"g:{n}",
                "url": f"https://blog.example/{n}/",
                "title_date_hash": f"h{n}",
                "title": f"Post number {n}: a title of realistic length",
                "published": published,
                "first_seen": published,
                "excerpt_html": text,
                "fingerprint": f"v1:{n}",
                "topics": json.dumps([[rng.choice(topics), 0.9]]),
                "cluster_id": n - n % 20 if clustered else None,
                "collapsed": clustered and n % 20 != 2,
            }
        )
        if len(rows) == BATCH:
            with store.engine.begin() as conn:
                conn.execute(insert(entries), rows)
            rows = []
    if rows:
        with store.engine.begin() as conn:
            conn.execute(insert(entries), rows)
    store.close()
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return median(times), result


async def _get(
    app: Any, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        reply = await client.get(path, headers=headers or {})
        return reply.status_code, dict(reply.headers), reply.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="np-digest-"))
    path = args.db or folder / "digest.db"
    path.touch()
    url = f"sqlite:///{path}"
    built = build(url, args.entries, args.sources)
    load_before = load_average()
    store = open_store(url)
    app = create_app(store, Settings(site_title="Bench"), clock=lambda: NOW, nav_ttl=60)
    current = Week.of(NOW)
    weeks = [current.previous()]
    for _ in range(11):
        weeks.append(weeks[-1].previous())
    rows: list[list[object]] = []

    def page(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return asyncio.run(_get(app, path, headers))

    t, found = timed(lambda: store.digest_weeks(limit=52), 20)
    rows.append(
        ["store: the 52 newest weeks with posts (`digest_weeks`)", fmt_ms(t), f"{len(found)} weeks"]
    )
    w = weeks[5]
    t, data = timed(lambda: store.week_data(w.label, w.start, w.end), 10)
    rows.append(
        [
            "store: one week's posts and clusters (`week_data`)",
            fmt_ms(t),
            f"{len(data.posts):,} posts",
        ]
    )
    firsts = []
    for w in weeks[1:11]:
        started = time.perf_counter()
        status, _, body = page(w.href)
        firsts.append(time.perf_counter() - started)
        assert status == 200
    rows.append(
        [
            "finished week, first request (freeze + render)",
            fmt_ms(median(firsts)),
            f"{len(body) // 1024} KB",
        ]
    )
    status, headers, body = page(weeks[0].href)
    t, _ = timed(lambda: page(weeks[0].href), 20)
    rows.append(["finished week again (page cache)", fmt_ms(t), f"{len(body) // 1024} KB"])
    etag = headers["etag"]
    t, reply = timed(lambda: page(weeks[0].href, {"If-None-Match": etag}), 20)
    assert reply[0] == 304
    rows.append(["finished week, revalidation (304)", fmt_ms(t), "—"])
    counter = iter(range(10**6))
    t, reply = timed(lambda: page(f"{current.href}?n={next(counter)}"), 10)
    rows.append(["week in progress (live render)", fmt_ms(t), f"{len(reply[2]) // 1024} KB"])
    t, reply = timed(lambda: page(f"/digest/?n={next(counter)}"), 10)
    rows.append(["`/digest/` (52 weeks)", fmt_ms(t), f"{len(reply[2]) // 1024} KB"])
    t, reply = timed(lambda: page(f"/digest/feed.xml?n={next(counter)}"), 1)
    size = f"{len(reply[2]) // 1024} KB"
    rows.append(["`/digest/feed.xml` (10 finished weeks), first build", fmt_ms(t), size])
    t, reply = timed(lambda: page(f"/digest/feed.xml?n={next(counter)}"), 10)
    rows.append(
        ["`/digest/feed.xml` rebuilt (a post arrived; weeks kept rendered)", fmt_ms(t), size]
    )
    store.close()
    body_lines = [
        f"## Weekly digest: {args.entries:,} entries",
        "",
        "Command: `.venv/bin/python benchmarks/digest.py "
        f"--entries {args.entries} --sources {args.sources}`  ",
        f"Machine: {machine_line()}; load average {load_before} before, {load_average()} after.  ",
        f"Database: {args.entries:,} posts from {args.sources:,} sources, {POSTS_PER_DAY} a day "
        f"(~{POSTS_PER_DAY * 7:,} a week), every 20th post in a story of three; "
        f"built in {built:.0f} s.",
        "",
        "Server time in process (the `create_app` ASGI app called through httpx's ASGI "
        "transport, one request at a time), medians:",
        "",
        *table(["what", "median (ms)", "size"], rows),
        "",
        "A week's read is one range of the published index plus its clusters, so it does not "
        "grow with the planet; `digest_weeks` is one index probe per week listed. Freezing "
        "writes the week's list once; after that a finished week's page is rendered once per "
        "process and revalidated from its stamp without rendering; the feeds, rebuilt when posts "
        "arrive, keep each finished week's item rendered.",
    ]
    write_section(f"## Weekly digest: {args.entries:,} entries", "\n".join(body_lines))
    print("\n".join(body_lines))


if __name__ == "__main__":
    main()
