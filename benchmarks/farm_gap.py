"""Two farms, one client: the cold round over variants of the farm and of the client's knobs.

    .venv/bin/python benchmarks/farm_gap.py --feeds 1000 [--repeats 2] [--save FILE]
        [--variants NAME=TOKENS,...] [--profile DIR] [--stages N]

Each variant is one cold round (farm round 0, an empty database) of `netplanet update` or of
newsboat, timed under _tree.py like update.py's runs: wall, CPU of the whole process tree, the
update process's own CPU (the fetch loop, planning and the store) and the rest of the tree (the
forkserver and its parse workers), the farm process's CPU over the run, entries stored, and
the load average. Variants alternate within each repeat, so they see the same minutes.

A variant is NAME=TOKENS with TOKENS joined by "+", each changing one thing from the
`make bench` farm and netplanet's defaults:

    one          every feed on one host (farm.py --one-host); implies lifted politeness
    light        posts of 200-600 bytes of HTML (one paragraph) instead of 1-8 KB
    bytes=LO-HI  posts of LO-HI bytes of HTML
    lat=LO-HI    farm latency in ms (default 20-200)
    cN           N parallel fetches (fetch_concurrency; newsboat's reload-threads)
    phN          fetch_per_host N      gapS   per_host_gap_s S
    lifted       fetch_per_host = the concurrency, per_host_gap_s 0
    nofts        drop the SQLite full-text triggers before the round (a scratch experiment:
                 what indexing costs on the write path; search finds nothing afterwards)
    inline       NETPLANET_PARSE_WORKERS=0 (parse and enrich in the update process)
    newsboat     run newsboat instead of netplanet (its cache's rss_item count is `stored`)

Every distinct (hosting, post size, latency) gets its own farm process, started once. With
`--profile DIR` each netplanet variant is also run once under py-spy (`record -r 200 -f raw
--subprocesses --threads`, the venv's py-spy), untimed, and a summary of the main thread's and the
workers' samples by stage is printed; raw files stay in DIR. `--stages N` times,
in this process, parse and digest (parse + enrich + classify) per post over the first N feeds
of each post size used. Prints; writes nothing to docs (docs/benchmarks.md, "Two farms: why
the cold round differs", quotes the figures with this command).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, median
from farm import POST_BYTES, farm_opml, feed_url
from update import NETPLANET, PY, FarmProcess, Knobs, _free_port

HERE = Path(__file__).resolve().parent
PYSPY = PY.with_name("py-spy")
LIGHT = (200, 600)
DEFAULT_VARIANTS = (
    "bench=c20,c16=c16,one16=one+c16,one16light=one+c16+light,light=c20+light,"
    "nofts=c20+nofts,one16nofts=one+c16+nofts"
)


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    one_host: bool = False
    post_bytes: tuple[int, int] = POST_BYTES
    latency: str = "20,200"
    knobs: Knobs = field(default_factory=Knobs)
    nofts: bool = False
    inline: bool = False
    client: str = "netplanet"

    @property
    def farm_key(self) -> tuple[bool, tuple[int, int], str]:
        return (self.one_host, self.post_bytes, self.latency)

    @classmethod
    def parse(cls, spec: str) -> Variant:
        name, _, tokens = spec.partition("=")
        one = light = lifted = nofts = inline = False
        size, latency, client = POST_BYTES, "20,200", "netplanet"
        conc: int | None = None
        per_host: int | None = None
        gap: float | None = None
        for tok in filter(None, tokens.split("+")):
            if tok == "one":
                one = True
            elif tok == "light":
                light = True
            elif tok.startswith("bytes="):
                lo, hi = tok[6:].split("-")
                size = (int(lo), int(hi))
            elif tok.startswith("lat="):
                latency = tok[4:].replace("-", ",")
            elif tok.startswith("ph"):
                per_host = int(tok[2:])
            elif tok.startswith("gap"):
                gap = float(tok[3:])
            elif tok.startswith("c") and tok[1:].isdigit():
                conc = int(tok[1:])
            elif tok in ("lifted", "nofts", "inline"):
                lifted, nofts, inline = (
                    lifted or tok == "lifted",
                    nofts or tok == "nofts",
                    inline or tok == "inline",
                )
            elif tok == "newsboat":
                client = "newsboat"
            else:
                raise SystemExit(f"unknown token {tok!r} in variant {spec!r}")
        if light:
            size = LIGHT
        if one or lifted:
            per_host = per_host or conc or 1000
            gap = 0.0 if gap is None else gap
        return cls(name, one, size, latency, Knobs(conc, per_host, gap), nofts, inline, client)


@dataclass(slots=True)
class Result:
    variant: str
    repeat: int
    wall: float
    cpu: float
    own_cpu: float
    workers_cpu: float
    farm_cpu: float
    stored: int
    rc: int
    load: str
    served: dict[str, int] = field(default_factory=dict)


def _lists(tmp: Path, feeds: int, port: int, one: bool) -> tuple[Path, Path]:
    tag = "one" if one else "hosts"
    urls, opml = tmp / f"urls-{tag}-{port}.txt", tmp / f"farm-{tag}-{port}.opml"
    urls.write_text("".join(f"{feed_url(i, port, one)}\n" for i in range(feeds)))
    opml.write_text(farm_opml(feeds, port, one))
    return urls, opml


def _env(v: Variant, work: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(work), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
    for key in ("DATABASE_URL", "CONFIG", "FETCH_CONCURRENCY", "FETCH_PER_HOST"):
        env.pop(f"NETPLANET_{key}", None)
    env.pop("NETPLANET_PER_HOST_GAP_S", None)
    env.pop("NETPLANET_PARSE_WORKERS", None)
    for key, value in (
        ("FETCH_CONCURRENCY", v.knobs.concurrency),
        ("FETCH_PER_HOST", v.knobs.per_host),
        ("PER_HOST_GAP_S", v.knobs.gap_s),
    ):
        if value is not None:
            env[f"NETPLANET_{key}"] = str(value)
    if v.inline:
        env["NETPLANET_PARSE_WORKERS"] = "0"
    return env


def _prepare(v: Variant, work: Path, urls: Path, opml: Path) -> tuple[list[str], Path, str]:
    """Fresh state for one cold round: (command, database, count query)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = _env(v, work)
    if v.client == "newsboat":
        (work / "config").write_text(f"reload-threads {v.knobs.concurrency or 16}\n")
        cache = work / "cache.db"
        cmd = ["newsboat", "-x", "reload", "-u", str(urls), "-c", str(cache)]
        return [*cmd, "-C", str(work / "config")], cache, "SELECT count(*) FROM rss_item"
    db = work / "planet.db"
    base = [str(NETPLANET), "--database", f"sqlite:///{db}"]
    for setup in (["init", "--no-defaults"], ["sources", "import", str(opml)]):
        subprocess.run([*base, "-q", *setup], env=env, check=True, stdout=subprocess.DEVNULL)
    if v.nofts:
        con = sqlite3.connect(db)
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%_fts%'"
        ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.commit()
        con.close()
    return [*base, "update"], db, "SELECT count(*) FROM entries"


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def run_once(v: Variant, rep: int, farm: FarmProcess, work: Path, urls: Path, opml: Path) -> Result:
    cmd, db, query = _prepare(v, work, urls, opml)
    farm.set_round(0)
    out = work / "tree.json"
    farm_before = farm.cpu()
    with (work / "run.log").open("wb") as log:
        subprocess.run(
            [str(PY), str(HERE / "_tree.py"), "--out", str(out), "--", *cmd],
            env=_env(v, work),
            check=True,
            stdout=log,
            stderr=log,
        )
    farm_cpu = farm.cpu() - farm_before
    res = json.loads(out.read_text())
    own = res["own_cpu"] if v.client == "netplanet" else res["cpu"]
    return Result(
        v.name,
        rep,
        res["wall"] or float("nan"),
        res["cpu"],
        own,
        res["cpu"] - own,
        farm_cpu,
        _count(db, query),
        res["rc"] if res["rc"] is not None else -9,
        load_average(),
        farm.stats(),
    )


def profile(v: Variant, farm: FarmProcess, work: Path, urls: Path, opml: Path, out: Path) -> None:
    """One untimed round under py-spy; prints where the main thread and the workers sample."""
    cmd, _, _ = _prepare(v, work, urls, opml)
    farm.set_round(0)
    raw = out / f"{v.name}.txt"
    spy = [str(PYSPY), "record", "-r", "200", "-f", "raw", "--subprocesses", "--threads"]
    spy += ["-o", str(raw)]
    subprocess.run(
        [*spy, "--", *cmd],
        env=_env(v, work),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    summarize(raw, v.name)


def _bucket(stack: list[str]) -> str:
    """A sample's stage: the innermost netplanet frame's module (the store, the batch flush,
    fetch, parse, enrich, the rest of update/), or the event loop when no netplanet code
    is below the loop (aiohttp's and asyncio's own callbacks: connections, transports)."""
    for frame in reversed(stack):
        file = frame.split(" (", 1)[1] if " (" in frame else ""
        if "netplanet/" not in file:
            continue
        mod = file.split("netplanet/", 1)[1]
        if mod.startswith("store/") or mod.startswith("update/batch"):
            return "store (group-commit write)"
        for prefix, label in (
            ("fetch/", "fetch"),
            ("parse/", "parse"),
            ("enrich/", "enrich"),
            ("update/digest", "digest (hash, classify)"),
            ("update/pool", "pool hand-off"),
            ("update/", "update: planning, decide"),
        ):
            if mod.startswith(prefix):
                return label
        if any("asyncio/" in f or "aiohttp/" in f for f in stack):
            return "event loop (aiohttp/asyncio)"
        return "other netplanet (start-up, CLI)"
    if any("multiprocessing/" in f for f in stack):
        return "multiprocessing (pickling, pipes)"
    if any("importlib" in f for f in stack):
        return "imports"
    return "other"


def summarize(raw: Path, name: str) -> None:
    """Samples by stage: the update process's main thread and the parse workers (processes
    below it running update/digest.py)."""
    if not raw.exists():
        print(f"  profile {name}: no output", flush=True)
        return
    main: collections.Counter[str] = collections.Counter()
    workers: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack_s, _, n_s = line.rpartition(" ")
        if not n_s.isdigit():
            continue
        # py-spy raw with --subprocesses --threads: "process PID:CMD;[process ...;]thread
        # (TID): NAME;frames..." (a command line may itself hold ";": such pieces name no
        # netplanet file, so they do not change the bucket)
        head, _, frames = stack_s.partition(";thread (")
        rest = frames.split(";")[1:]
        if head.count("process ") == 1 and rest and frames.split(";")[0].endswith("MainThread"):
            main[_bucket(rest)] += int(n_s)
        elif head.count("process ") > 1 and "update/digest.py" in stack_s:
            workers[_bucket(rest)] += int(n_s)
    for label, counts in (("update main thread", main), ("parse workers", workers)):
        total = sum(counts.values()) or 1
        parts = ", ".join(f"{k} {n / total:.0%}" for k, n in counts.most_common(8))
        print(f"  profile {name} {label} ({total / 200:.1f} s sampled): {parts}", flush=True)


def stages(sizes: list[tuple[int, int]], feeds: int) -> None:
    """CPU per post of parse and of digest (parse + enrich + classify) over the farm's feeds."""
    import random
    from datetime import UTC, datetime

    from _text import build_pool
    from farm import render

    from netplanet.enrich.topics import load_taxonomy
    from netplanet.parse import parse_feed
    from netplanet.update.classifier import Classifier
    from netplanet.update.digest import digest

    classifier = Classifier(load_taxonomy())
    pool = build_pool(random.Random(1))
    for size in sizes:
        bodies = [render(pool, i, 20, size)[0] for i in range(feeds)]
        posts = feeds * 20
        kib = sum(map(len, bodies)) / feeds / 1024
        t0 = time.process_time()
        for i, body in enumerate(bodies):
            parse_feed(body, content_type="", url=feed_url(i, 1))
        t1 = time.process_time()
        for i, body in enumerate(bodies):
            digest(
                body,
                content_type="",
                url=feed_url(i, 1),
                source_id=i,
                source_category="",
                now=datetime.now(UTC),
                excerpt_words=150,
                classifier=classifier,
            )
        t2 = time.process_time()
        print(
            f"stages {size[0]}-{size[1]} B posts ({kib:.0f} KiB a feed): parse "
            f"{(t1 - t0) / posts * 1e6:.0f} µs/post, digest (parse+enrich+classify) "
            f"{(t2 - t1) / posts * 1e6:.0f} µs/post (load {load_average()})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default=DEFAULT_VARIANTS)
    ap.add_argument("--save", type=Path, help="runs as JSON")
    ap.add_argument("--profile", type=Path, help="also profile each variant once into DIR")
    ap.add_argument("--stages", type=int, default=0, help="time parse/enrich over N feeds")
    ap.add_argument("--tmp", type=Path, help="scratch directory (default: a new temp dir)")
    ap.add_argument("--summarize", type=Path, nargs="+", help="only summarize py-spy raw files")
    args = ap.parse_args()
    if args.summarize:
        for raw in args.summarize:
            summarize(raw, raw.stem)
        return
    variants = [Variant.parse(s) for s in args.variants.split(",") if s]
    if args.stages:
        stages(list(dict.fromkeys(v.post_bytes for v in variants)), args.stages)
    if not args.repeats and not args.profile:
        return
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-farmgap-", dir=args.tmp))
    farms: dict[tuple[bool, tuple[int, int], str], tuple[FarmProcess, Path, Path]] = {}
    results: list[Result] = []
    print(f"load before: {load_average()}", flush=True)
    try:
        for v in variants:
            if v.farm_key not in farms:
                port = _free_port()
                farm = FarmProcess(
                    args.feeds, port, v.latency, 0.1, v.one_host, "{},{}".format(*v.post_bytes)
                )
                farms[v.farm_key] = (farm, *_lists(tmp, args.feeds, port, v.one_host))
        for rep in range(args.repeats):
            for v in variants:
                farm, urls, opml = farms[v.farm_key]
                res = run_once(v, rep, farm, tmp / v.name, urls, opml)
                results.append(res)
                print(
                    f"rep {rep} {v.name:12} wall {res.wall:6.2f} s cpu {res.cpu:6.2f} s "
                    f"(main {res.own_cpu:6.2f}, workers {res.workers_cpu:6.2f}) farm "
                    f"{res.farm_cpu:5.2f} s stored {res.stored} rc {res.rc} "
                    f"served {res.served} (load {res.load})",
                    flush=True,
                )
                if args.save:
                    args.save.write_text(json.dumps([asdict(r) for r in results], indent=1))
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for v in variants:
                if v.client == "netplanet":
                    farm, urls, opml = farms[v.farm_key]
                    profile(v, farm, tmp / v.name, urls, opml, args.profile)
    finally:
        for farm, _, _ in farms.values():
            farm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not results:
        return
    print(
        "| variant | wall (s) | CPU tree (s) | CPU main (s) | CPU workers (s) | farm CPU (s) "
        "| stored |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for v in variants:
        mine = [r for r in results if r.variant == v.name and r.rc == 0]
        if not mine:
            print(f"| {v.name} | failed | | | | | |")
            continue

        def med(attr: str, runs: list[Result] = mine) -> float:
            return median([getattr(r, attr) for r in runs])

        print(
            f"| {v.name} | {med('wall'):.2f} | {med('cpu'):.2f} | {med('own_cpu'):.2f} | "
            f"{med('workers_cpu'):.2f} | {med('farm_cpu'):.2f} | {med('stored'):,.0f} |"
        )


if __name__ == "__main__":
    main()
