"""CPU of the store's write path for a cold round's posts, with and without search indexing in it.

    .venv/bin/python benchmarks/index_cost.py [--posts 20000] [--repeats 2]
        [--variants before=/tmp/before/src,after=src]

For each repeat, each variant in turn (its PYTHONPATH set to the variant's src, in a process of
its own) gets a fresh SQLite database with 1,000 sources and stores `--posts` posts of ~4.2 KB
of text (600 words from a 5,000-word vocabulary, the size of the farm's posts) through
`apply_updates`, 100 plans of 20 posts per transaction, as the group commit of a cold round
does; then, when the tree has a search queue, indexes every queued post (store/indexing.py,
`catch_up`). Prints the process CPU of the writes and of the indexing, and the wall time of
the indexing (the lag from the writes' end until every post is searchable), per run and as
medians. Isolates the main process's store work from fetching and parsing, so it holds still
on a loaded machine better than a whole round. Writes nothing to docs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load_average, median

_CHILD = r"""
import json, random, sys, time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from netplanet.model import Entry, SourceSpec, SourceUpdate, UpdatePlan
from netplanet.store import open_store

url, posts = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
vocab = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10)))
         for _ in range(5000)]
store = open_store(url)
specs = [SourceSpec(feed_url=f"https://blog{i}.example.net/feed/", title=f"Blog {i}",
                    site_url=f"https://blog{i}.example.net/", category="Networking")
         for i in range(1000)]
sources = store.add_sources(specs)
ids = [s.id for s in (sources if isinstance(sources, list) else store.list_sources())]
now = datetime(2026, 12, 1, tzinfo=UTC)
done = SourceUpdate(last_fetched_at=now, last_status=200, last_error_class="", last_error="",
                    last_bytes=100, last_duration_ms=5, consecutive_failures=0,
                    last_success_at=now)
plans = []
for n in range(posts // 20):
    sid = ids[n % len(ids)]
    entries = []
    for k in range(20):
        i = n * 20 + k
        text = " ".join(rng.choices(vocab, k=600))
        entries.append(Entry(
            source_id=sid, key=f"g:{i}", guid=str(i), url=f"https://b.example.net/{i}/",
            title_date_hash=f"t{i}", title=" ".join(rng.choices(vocab, k=8)), author="A",
            published=now - timedelta(minutes=i), updated=None,
            content_html=f"<p>{text}</p>", excerpt_html="<p>x</p>", text=text,
            categories=("Networking",), fingerprint=f"v1:{i}"))
    plans.append(UpdatePlan(source_id=sid, source=done, new_entries=tuple(entries)))
cpu0 = time.process_time()
for start in range(0, len(plans), 100):
    store.apply_updates(plans[start:start + 100])
writes = time.process_time() - cpu0
index_cpu = index_wall = 0.0
if hasattr(store, "index_pending"):
    from netplanet.store.indexing import catch_up
    cpu0, wall0 = time.process_time(), time.perf_counter()
    catch_up(store)
    index_cpu, index_wall = time.process_time() - cpu0, time.perf_counter() - wall0
with store.engine.connect() as conn:
    from sqlalchemy import text as sql
    indexed = conn.execute(sql("SELECT count(*) FROM entries_fts")).scalar_one()
print(json.dumps({"writes": writes, "index_cpu": index_cpu, "index_wall": index_wall,
                  "indexed": indexed}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default=f"this={ROOT / 'src'}")
    args = ap.parse_args()
    variants = [(n, Path(p)) for n, p in (v.split("=", 1) for v in args.variants.split(","))]
    runs: dict[str, list[dict[str, float]]] = {n: [] for n, _ in variants}
    print(f"load before: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="netplanet-index-") as tmp:
        for rep in range(args.repeats):
            for name, src in variants:
                db = Path(tmp) / f"{name}-{rep}.db"
                env = {**os.environ, "PYTHONPATH": str(src.resolve())}
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, f"sqlite:///{db}", str(args.posts)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                res = json.loads(out.strip().splitlines()[-1])
                runs[name].append(res)
                print(
                    f"rep {rep} {name:8} writes {res['writes']:6.2f} s CPU, indexing "
                    f"{res['index_cpu']:5.2f} s CPU ({res['index_wall']:5.2f} s wall), "
                    f"indexed {res['indexed']} (load {load_average()})",
                    flush=True,
                )
    for name, _ in variants:
        writes = median([r["writes"] for r in runs[name]])
        index_cpu = median([r["index_cpu"] for r in runs[name]])
        index_wall = median([r["index_wall"] for r in runs[name]])
        print(
            f"median {name:8} writes {writes:6.2f} s  indexing {index_cpu:5.2f} s CPU "
            f"({index_wall:5.2f} s wall)  total {writes + index_cpu:6.2f} s CPU"
        )


if __name__ == "__main__":
    main()
