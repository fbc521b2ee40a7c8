"""Run the benchmark suite and regenerate its sections of docs/benchmarks.md.

    .venv/bin/python benchmarks/run.py --quick   # make bench-quick: 100k entries, 200 feeds,
                                                 # parse, start-up (5 runs)
    .venv/bin/python benchmarks/run.py --full    # make bench: 100k + 1M entries, 200/1000/5000
                                                 # feeds (+ plot), parse, start-up (15 runs),
                                                 # memory of 10,000 sources

Both end with benchmarks/targets.py, which rebuilds the "## Targets" table from the figures the
scripts saved (a target whose figures are missing, e.g. the 1M site in --quick, says so).
Every client of the update rounds gets the same 16 parallel fetches (`--concurrency 16`, issue
17). benchmarks/startup.py (~1 min at 5 runs, ~2 min at 15) writes "## Start-up" and saves
benchmarks/results-startup.json for the start-up target; `--skip-startup` leaves it out.

Setup first: the peers (lemon24/reader, feedparser, requests, matplotlib) go into their own
virtualenv, benchmarks/.venv-peers, from benchmarks/requirements-peers.txt, never into the
project's; `wrk` and `newsboat` are Debian packages, installed with apt-get when missing and
running as root (otherwise the load test falls back to an aiohttp loop and newsboat is skipped).
Everything is bounded: fixed request counts with a time budget per page, fixed-duration load
tests, a fixed number of update rounds; all traffic stays on 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".venv-peers"
PY = sys.executable
# Issue 17 compares the clients at the same concurrency: 16 parallel fetches each (reader's
# workers and newsboat's reload-threads as before; netplanet's fetch_concurrency, 20 by
# default). Every size uses it, so the marginal cost per feed compares like with like.
CONCURRENCY = ["--concurrency", "16"]
UPDATE_200 = [
    "benchmarks/update.py",
    "--sizes",
    "200",
    "--repeats",
    "3",
    "--naive-repeats",
    "1",
    "--plot",
    "",
    *CONCURRENCY,
]
UPDATE_1000 = ["benchmarks/update.py", "--sizes", "1000", "--repeats", "3", "--plot", ""]
UPDATE_1000 += CONCURRENCY

# Cold and warm only, one repeat: a 5,000-feed round takes minutes per client, and newsboat's
# warm round does not finish in 360 s (it is killed and reported as such).
UPDATE_5000 = [
    "benchmarks/update.py",
    "--sizes",
    "5000",
    "--repeats",
    "1",
    "--clients",
    "netplanet,reader,newsboat",
    "--scenarios",
    "cold,warm",
    "--plot",
    "",
    "--round-timeout",
    "360",
    *CONCURRENCY,
]


def startup(runs: int) -> list[str]:
    """benchmarks/startup.py: its docs section, and the figures the start-up target reads."""
    save = ["--save", "benchmarks/results-startup.json"]
    return ["benchmarks/startup.py", "--runs", str(runs), "--write", *save]


def setup() -> None:
    if not (PEERS / "bin" / "python").exists():
        print("creating benchmarks/.venv-peers", file=sys.stderr)
        venv.create(PEERS, with_pip=True)
    stamp = PEERS / ".installed"
    reqs = HERE / "requirements-peers.txt"
    if not stamp.exists() or stamp.stat().st_mtime < reqs.stat().st_mtime:
        subprocess.run(
            [str(PEERS / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(reqs)],
            check=True,
        )
        stamp.touch()
    missing = [p for p in ("wrk", "newsboat") if shutil.which(p) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing {' '.join(missing)} with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False)


def run(args: list[str]) -> None:
    print("+ " + " ".join(args), file=sys.stderr, flush=True)
    subprocess.run([PY, *args], check=True, cwd=ROOT)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    mode.add_argument("--setup-only", action="store_true")
    ap.add_argument("--skip-site", action="store_true")
    ap.add_argument("--skip-update", action="store_true")
    ap.add_argument("--skip-parse", action="store_true")
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--skip-memory", action="store_true", help="full run: skip 10,000 sources")
    ap.add_argument("--no-huge", action="store_true", help="full run: skip 5,000 feeds")
    # 5,000 feeds used to be opt-in; the flag is kept so old command lines still work.
    ap.add_argument("--huge", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    setup()
    if args.setup_only:
        return
    if args.quick:
        if not args.skip_site:
            run(
                [
                    "benchmarks/site.py",
                    "--entries",
                    "100000",
                    "--sources",
                    "1000",
                    "--requests",
                    "100",
                    "--load-seconds",
                    "5",
                ]
            )
        if not args.skip_update:
            run(UPDATE_200)
        if not args.skip_parse:
            run(["benchmarks/parse_speed.py", "--repeat", "3"])
        if not args.skip_startup:
            run(startup(5))
        run(["benchmarks/targets.py"])
        return
    if not args.skip_site:
        run(["benchmarks/site.py", "--entries", "100000", "--sources", "1000"])
        run(["benchmarks/site.py", "--entries", "1000000", "--sources", "1000"])
    if not args.skip_update:
        # One command per size, each writing its own section and saving its runs
        # (benchmarks/update-runs-N.json); then the plot over all of them.
        run(UPDATE_200)
        run(UPDATE_1000)
        saved = ["benchmarks/update-runs-200.json", "benchmarks/update-runs-1000.json"]
        if not args.no_huge:
            run(UPDATE_5000)
            saved.append("benchmarks/update-runs-5000.json")
        run(["benchmarks/update.py", "--from-json", *saved, "--plot-only"])
    if not args.skip_parse:
        run(["benchmarks/parse_speed.py"])
    if not args.skip_startup:
        run(startup(15))
    if not args.skip_memory:
        run(["benchmarks/memory.py", "--sources", "10000"])
    run(["benchmarks/targets.py"])  # last: it reads what the others saved


if __name__ == "__main__":
    main()
