"""CPU of starting `netplanet`: an `update` with nothing to poll, `--help`, one 304.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--src DIR] [--write]

Every run is a whole `netplanet` process started under `_tree.py` (a child subreaper), and its
figure is user+sys CPU of the whole process tree (the parse pool's forkserver included if one
were started); the table gives the median and the range of `--runs` runs per case:

- `update`, no sources: `netplanet update` on an existing, migrated SQLite planet in a data
  directory (`NETPLANET_DATA_DIR`, made by one `update` first), and the same with
  `-q --database sqlite:///FILE` (the form cron jobs and benchmarks/update.py use);
- `update`, first run: the same on a new data directory each run (creates and migrates it);
- `--help`;
- `update`, one source answering 304: a planet with one enabled source, a feed served on
  loopback by this script (its CPU is not counted), polled once first so that every timed
  poll sends its ETag and gets 304 Not Modified.

Each case runs twice: with PYTHONDONTWRITEBYTECODE=1 and netplanet's `__pycache__`
directories removed first (netplanet's own modules, in an editable install, compiled again in
every run: what a developer's shell with that variable set measures), then with the bytecode
cache (as an installed netplanet: the `.pyc` files are written by a discarded first run).

`--src DIR` runs another tree's `src/` (PYTHONPATH; an older commit:
`git archive COMMIT src | tar -x -C /tmp/old`; `--label COMMIT` names it in the saved figures).
`--load FILE` shows saved figures without measuring. `--write` writes the `## Start-up` section of
docs/benchmarks.md (the table, or with `--before FILE` the saved figures of another tree's run
beside it; `--save FILE` keeps this run's figures as JSON: commit, date, load, runs and every
run's CPU by mode and case). `make bench` and `make bench-quick` run it with `--write --save
benchmarks/results-startup.json`; benchmarks/targets.py reads the first case's median with the
bytecode cache for the start-up target (issue 17: ≤ 0.25 s CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load_average, machine_line, src_commit, table, write_section

HERE = Path(__file__).resolve().parent
PY = Path(sys.executable)
NETPLANET = PY.with_name("netplanet")
HEADING = "## Start-up"
ETAG = '"startup-v1"'
FEED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    "<title>Start-up bench</title><link>http://127.0.0.1/</link><description>d</description>"
    + "".join(
        f"<item><title>Post {i}</title><link>http://127.0.0.1/p/{i}</link>"
        f"<guid>startup-{i}</guid><pubDate>Mon, 0{i} Jun 2026 10:00:00 +0000</pubDate>"
        f"<description>Paragraph {i} about BGP and OSPF timers.</description></item>"
        for i in range(1, 6)
    )
    + "</channel></rss>\n"
).encode()


class _Feed(BaseHTTPRequestHandler):
    answered: ClassVar[dict[int, int]] = {200: 0, 304: 0}

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match") == ETAG:
            self.answered[304] += 1
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self.answered[200] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", ETAG)
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def feed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def tree_cpu(cmd: list[str], env: dict[str, str], scratch: Path) -> float:
    """user+sys CPU of `cmd`'s whole process tree (benchmarks/_tree.py); exit 0 required."""
    out = scratch / "tree.json"
    subprocess.run(
        [str(PY), str(HERE / "_tree.py"), "--timeout", "120", "--out", str(out), "--", *cmd],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    res = json.loads(out.read_text())
    if res["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {res['rc']}")
    return float(res["cpu"])


def base_env(scratch: Path, *, bytecode: bool, src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETPLANET_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if src is not None:
        env["PYTHONPATH"] = str(src)
    env["NETPLANET_ALLOW_PRIVATE_NETWORKS"] = "1"
    env["NETPLANET_DATA_DIR"] = str(scratch / "data")
    return env


def run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")


def measure(
    runs: int, bytecode: bool, feed_url: str, scratch: Path, src: Path | None
) -> dict[str, list[float]]:
    np = str(NETPLANET)
    env = base_env(scratch, bytecode=bytecode, src=src)
    run([np, "update"], env)  # makes and migrates the data directory's planet
    empty = f"sqlite:///{scratch / 'empty.db'}"
    run([np, "--database", empty, "init", "--no-defaults"], env)
    one = f"sqlite:///{scratch / 'one.db'}"
    run([np, "--database", one, "init", "--no-defaults"], env)
    run([np, "--database", one, "sources", "add", feed_url], env)
    run([np, "--database", one, "-q", "update"], env)  # stores the posts and the ETag
    cases = {name: [np, *args] for name, args in CASES.items()}
    cases = {
        name: [a.replace("EMPTY", empty).replace("ONE", one) for a in cmd]
        for name, cmd in cases.items()
    }
    out: dict[str, list[float]] = {name: [] for name in cases}
    warm = scratch / "warm"
    for cmd in cases.values():  # one discarded run each: writes the .pyc files
        run(cmd, base_env(warm, bytecode=bytecode, src=src))
        shutil.rmtree(warm, ignore_errors=True)
    before = _Feed.answered[304]
    for _ in range(runs):  # the cases alternate, so a burst of load spreads over all of them
        for name, cmd in cases.items():
            case_env = env
            if name == FIRST_RUN:
                fresh = Path(tempfile.mkdtemp(prefix="fresh-", dir=scratch))
                case_env = {**env, "NETPLANET_DATA_DIR": str(fresh / "data")}
            out[name].append(tree_cpu(cmd, case_env, scratch))
    if _Feed.answered[304] - before != runs:  # every timed poll was a 304, not a refetch
        raise SystemExit(f"{runs} polls, {_Feed.answered[304] - before} answered 304")
    return out


FIRST_RUN = "`netplanet update`, first run: new data directory (creates and migrates)"
CASES = {
    "`netplanet update`, no sources (data directory)": ["update"],
    "`netplanet -q --database sqlite:///FILE update`, no sources": [
        "-q",
        "--database",
        "EMPTY",
        "update",
    ],
    FIRST_RUN: ["update"],
    "`netplanet --help`": ["--help"],
    "`netplanet update`, one source answering 304": ["--database", "ONE", "update"],
}


def cell(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.2f}-{max(values):.2f})"


def measure_all(
    args: argparse.Namespace,
) -> tuple[dict[str, str], dict[str, dict[str, list[float]]]]:
    """Both bytecode modes of every case: the run's stamp and {mode: {case: [CPU s]}}."""
    label = args.label or ("--src " + str(args.src) if args.src else src_commit())
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    stamp = {"commit": label, "date": date, "load_start": load_average()}
    results: dict[str, dict[str, list[float]]] = {}
    with feed_server() as url, tempfile.TemporaryDirectory(prefix="netplanet-startup-") as tmp:
        for mode, bytecode in (("nopyc", False), ("pyc", True)):
            scratch = Path(tmp) / mode
            scratch.mkdir()
            if not bytecode:  # PYTHONDONTWRITEBYTECODE still reads .pyc files left before
                package = (args.src or ROOT / "src") / "netplanet"
                for cache in package.rglob("__pycache__"):
                    shutil.rmtree(cache)
            results[mode] = measure(args.runs, bytecode, url, scratch, args.src)
    stamp["load_end"] = load_average()
    return stamp, results


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--src", type=Path, help="run this src/ tree (PYTHONPATH)")
    ap.add_argument("--save", type=Path, help="save the figures as JSON")
    ap.add_argument("--before", type=Path, help="figures saved by --save, shown beside")
    ap.add_argument("--label", help="what --src is, for the saved figures (e.g. a commit)")
    ap.add_argument("--load", type=Path, help="show figures saved by --save; measure nothing")
    ap.add_argument("--write", action="store_true", help="write docs/benchmarks.md's section")
    args = ap.parse_args()
    if args.load:
        saved = json.loads(args.load.read_text())
        stamp = {k: saved[k] for k in ("commit", "date", "load_start", "load_end") if k in saved}
        args.runs, results = saved["runs"], saved["cpu"]
    else:
        stamp, results = measure_all(args)
    if args.save:
        args.save.write_text(json.dumps({**stamp, "runs": args.runs, "cpu": results}, indent=1))
    before = json.loads(args.before.read_text()) if args.before else None
    header = ["case", "CPU, bytecode cached", "CPU, PYTHONDONTWRITEBYTECODE=1"]
    if before:
        header[1:] = [f"{h} ({when})" for h in header[1:] for when in ("before", "after")]
    rows = []
    for name in CASES:
        row = [name]
        for mode in ("pyc", "nopyc"):
            if before:
                row.append(cell(before["cpu"][mode][name]) if name in before["cpu"][mode] else "")
            row.append(cell(results[mode][name]))
        rows.append(row)
    lines = table(header, rows)
    print("\n".join(lines))
    if not args.write:
        return
    compared = (
        f"; before: src/ at `{before['commit']}`, load {before['load_start']} to "
        f"{before['load_end']}, {before['runs']} runs"
        if before
        else ""
    )
    text = "\n".join(
        [
            HEADING,
            "",
            "Command: `.venv/bin/python benchmarks/startup.py --runs "
            f"{args.runs} --write{' --before FILE' if before else ''}` (src/ at "
            f"`{stamp['commit']}`{compared}; FILE saved by `--save FILE` on the older tree, "
            "see the docstring)  ",
            f"Machine: {machine_line()}; load average (1/5/15 min) {stamp['load_start']} at "
            f"start, {stamp['load_end']} at the end.  ",
            f"Each figure is the median (and range) of {args.runs} runs of user+sys CPU of the "
            "whole process tree (`benchmarks/_tree.py`); the script's docstring describes the "
            "cases. Target (issue 17): `netplanet update` with no sources ≤ 0.25 s CPU.",
            "",
            *lines,
            "",
        ]
    )
    write_section(HEADING, text)


if __name__ == "__main__":
    main()
