"""Peak memory of `netplanet run --no-web` holding many sources (default 10,000).

    .venv/bin/python benchmarks/memory.py [--sources 10000] [--seconds 180] [--web] [--no-write]

Starts the loopback farm (farm.py) with one feed per source, each on its own loopback
address, builds round 0 (20 posts per feed), imports every farm URL into an empty SQLite
planet with `netplanet sources import` (untimed), then runs `netplanet run --no-web` (or with
the web server, --web) under `_tree.py` for a bounded time and stops it with SIGINT.
Reported: peak RSS of the netplanet process itself (ru_maxrss), peak of the summed RSS of
its whole tree (the forkserver and the parse workers included, sampled every 50 ms), its
CPU (whole tree), and how far the first scheduling round got in that time (polls from the
log, entries and sources with a fetch stored, requests the farm served).

Writes "## Memory: <N> sources" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load_average, machine_line, table, write_section
from farm import farm_opml
from update import NETPLANET, PY, FarmProcess, _count, _free_port

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--web", action="store_true", help="netplanet run with the web server")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    n = args.sources
    load_start = load_average()
    port = _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-memory-"))
    t0 = time.perf_counter()
    farm = FarmProcess(n, port, "20,200", 0.1)
    try:
        farm.set_round(0)
        farm_s = time.perf_counter() - t0
        print(f"farm of {n} feeds ready in {farm_s:.0f} s", file=sys.stderr)
        opml = tmp / "farm.opml"
        opml.write_text(farm_opml(n, port))
        db = tmp / "planet.db"
        env = {**os.environ, "HOME": str(tmp), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
        env.pop("NETPLANET_DATABASE_URL", None)
        env.pop("NETPLANET_CONFIG", None)
        base = [str(NETPLANET), "--database", f"sqlite:///{db}"]
        subprocess.run(  # only init creates a database that is not there yet
            [*base, "-q", "init", "--no-defaults"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        subprocess.run(
            [*base, "-q", "sources", "import", str(opml)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        imported = _count(db, "SELECT count(*) FROM sources")
        farm.stats()  # the counters restart at POST /round only; read the baseline
        before = farm.stats()
        cmd = [*base, "run"]
        if args.web:
            web_port = _free_port()
            cmd += ["--host", "127.0.0.1", "--port", str(web_port)]
        else:
            cmd += ["--no-web"]
        log = tmp / "run.log"
        out_json = tmp / "tree.json"
        with log.open("wb") as out:
            subprocess.run(
                [
                    str(PY),
                    str(HERE / "_tree.py"),
                    "--stop-after",
                    str(args.seconds),
                    "--timeout",
                    str(args.seconds + 120),
                    "--out",
                    str(out_json),
                    "--",
                    *cmd,
                ],
                env=env,
                cwd=tmp,
                stdout=out,
                stderr=out,
                check=True,
            )
        res = json.loads(out_json.read_text())
        served = farm.stats()
        text = log.read_text(errors="replace")
        m = re.search(r"stopped after (\d+) polls", text)
        polls = int(m.group(1)) if m else -1
        entries = _count(db, "SELECT count(*) FROM entries")
        sources_with_entries = _count(db, "SELECT count(DISTINCT source_id) FROM entries")
    finally:
        farm.close()
    load_end = load_average()
    shutil.rmtree(tmp, ignore_errors=True)
    req = {k: served.get(k, 0) - before.get(k, 0) for k in ("200", "304")}
    mode = "netplanet run" + ("" if args.web else " --no-web")
    flags = f"--sources {n} --seconds {args.seconds:g}" + (" --web" if args.web else "")
    heading = f"## Memory: {n:,} sources"
    body = [
        heading,
        "",
        f"Command: `.venv/bin/python benchmarks/memory.py {flags}`  ",
        f"Machine: {machine_line()}; load average (1/5/15 min) {load_start} at start, "
        f"{load_end} at the end.  ",
        f"What was measured: `{mode}` on an SQLite planet holding {imported:,} sources (farm "
        f"URLs, one loopback address each, imported with `netplanet sources import`, "
        f"untimed), started with no entries, so every source is due at once; run for "
        f"{args.seconds:g} s of its first scheduling round and stopped with SIGINT (it had "
        f"not finished the round: see `polls`). The farm (its own process, not counted) "
        f"serves 20 posts per feed with 20-200 ms latency. Measured under `_tree.py`: peak "
        f"RSS of the netplanet process (ru_maxrss), peak of the summed VmRSS of its whole "
        f"process tree (forkserver and parse workers included; sampled every 50 ms, shared "
        f"pages counted per process), CPU of the whole tree.",
        "",
        *table(
            [
                "sources",
                "run (s)",
                "peak RSS, netplanet process (MiB)",
                "peak RSS, process tree (MiB)",
                "CPU (s)",
                "polls",
                "sources with entries",
                "entries stored",
                "farm 200/304",
            ],
            [
                [
                    f"{imported:,}",
                    f"{res['wall']:.0f}",
                    f"{res['rss_mb']:.0f}",
                    f"{res['tree_rss_mb']:.0f}",
                    f"{res['cpu']:.1f}",
                    f"{polls:,}",
                    f"{sources_with_entries:,}",
                    f"{entries:,}",
                    f"{req['200']}/{req['304']}",
                ]
            ],
        ),
        "",
        f"Farm start-up and round build (not part of the figures): {farm_s:.0f} s. "
        f"Exit code {res['rc']}.",
    ]
    out = "\n".join(body)
    print(out)
    if not args.no_write:
        write_section(heading, out)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
