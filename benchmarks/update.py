"""Update speed against peers: whole-process polling rounds over the loopback feed farm.

    .venv/bin/python benchmarks/update.py --sizes 200,1000 [--repeats 3] [--report-size 1000]
        [--clients netplanet,reader,newsboat,naive] [--naive-max 200] [--no-write]
        [--round-timeout S] [--save FILE]
        [--one-host] [--post-bytes LO,HI] [--concurrency N] [--lift-politeness]

For every size N and repeat, each client starts from an empty state and runs, as separate
processes timed from start to exit under _tree.py (wall clock; user+sys CPU of the whole
process tree, pool workers included; peak RSS):

1. cold:   the first update of all N feeds (farm round 0: 20 posts per feed);
2. warm:   the next round (farm round 1: 10% of the feeds gained a post; the rest answer 304);
3. idle:   the same round again (every feed answers 304 to a client that sends validators);
4. nocache: the same round with the farm ignoring validators (every body is sent again and
   is unchanged).

Clients: `netplanet update` (project venv; sources imported first with `netplanet sources
import`, untimed; NETPLANET_ALLOW_PRIVATE_NETWORKS=1 and otherwise default settings:
fetch_concurrency 20, fetch_per_host 2), lemon24/reader `update_feeds(scheduled=False,
workers=16)`, newsboat `-x reload` with `reload-threads 16` (Debian package), and a sequential
requests + feedparser loop (only for N <= --naive-max). The farm runs in its own process (see
farm.py), one loopback address per feed. Medians over the repeats are reported with ratios
netplanet/peer, and a PNG of cycle time vs N is drawn with the peers venv's matplotlib.
Every run also records how many posts the farm's feeds held by then (`expected`; newsboat and
the naive loop do not read JSON Feed, so they store 10% fewer) and, for netplanet, the seconds
of the "indexed N posts for search in X s" line `update` prints when it has indexed the round's
posts before exiting (`index_s`, taken from the client's log; NaN without the line) and whether
the store's search_queue is empty afterwards (`queue_empty`). benchmarks/targets.py reads them
from the saved runs (--save, default benchmarks/update-runs-N.json).

The other shape of farm (docs/benchmarks.md, "Two farms"): `--one-host` serves every feed from
127.0.0.1 (connections can be reused; netplanet's per-host limits then cover the whole farm, so
`--lift-politeness`, implied by `--one-host`, sets fetch_per_host to the concurrency and
per_host_gap_s to 0), `--post-bytes` makes posts lighter or heavier than the default 1-8 KB,
`--concurrency N` gives every client N parallel fetches (netplanet's fetch_concurrency,
reader's workers, newsboat's reload-threads). The defaults are what `make bench` measures.

Writes "## Update speed: <N> feeds" for --report-size (and the plot) in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load_average, machine_line, median, run_stamp, table, write_section

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".venv-peers" / "bin" / "python"
PY = Path(sys.executable)
NETPLANET = PY.with_name("netplanet")
SCENARIOS = ("cold", "warm", "idle", "nocache")
SCENARIO_TEXT = {
    "cold": "cold update: first poll of every feed into an empty database (round 0)",
    "warm": "warm update: next round, 10% of the feeds have one new post, the rest answer 304",
    "idle": "idle round: nothing changed, every feed answers 304 to validators",
    "nocache": "no validators: nothing changed, but the farm ignores validators and "
    "sends every body again (unchanged)",
}
CLIENT_TEXT = {
    "netplanet": "netplanet update (defaults: 20 parallel fetches, 2 per host)",
    "reader": "reader 3.26 update_feeds(scheduled=False, workers=16)",
    "newsboat": "newsboat 2.21 -x reload, reload-threads 16",
    "naive": "requests + feedparser, sequential",
}
RUN_TIMEOUT = 1800


@dataclass(frozen=True, slots=True)
class Run:
    client: str
    size: int
    scenario: str
    repeat: int
    wall: float
    cpu: float
    rss_mb: float
    stored: int
    served: dict[str, int]
    rc: int
    tree_rss_mb: float = float("nan")
    expected: int = -1
    """Posts the farm's feeds held in total by this round (every feed's; -1: not recorded)."""
    index_s: float = float("nan")
    """netplanet: seconds of its "indexed N posts for search in X s" line (NaN: no line)."""
    queue_empty: bool | None = None
    """netplanet: the store's search_queue is empty after the run (every post indexed)."""


@dataclass(frozen=True, slots=True)
class Knobs:
    """How the clients are configured: None keeps each client's own default."""

    concurrency: int | None = None
    """Parallel fetches of every client."""
    per_host: int | None = None
    """netplanet's fetch_per_host."""
    gap_s: float | None = None
    """netplanet's per_host_gap_s."""

    @classmethod
    def of(cls, args: argparse.Namespace) -> Knobs:
        if not (args.lift_politeness or args.one_host):
            return cls(args.concurrency)
        return cls(args.concurrency, args.concurrency or 1000, 0.0)


class FarmProcess:
    def __init__(
        self,
        feeds: int,
        port: int,
        latency: str,
        fraction: float,
        one_host: bool = False,
        post_bytes: str = "",
    ) -> None:
        self.fraction = fraction
        self.tmp = Path(tempfile.mkdtemp(prefix="netplanet-farm-"))
        ready = self.tmp / "ready.json"
        extra = (["--one-host"] if one_host else []) + (
            ["--post-bytes", post_bytes] if post_bytes else []
        )
        self.proc = subprocess.Popen(
            [
                str(PY),
                str(HERE / "farm.py"),
                "--feeds",
                str(feeds),
                "--port",
                str(port),
                "--latency",
                latency,
                "--fraction",
                str(fraction),
                "--ready-file",
                str(ready),
                "--max-seconds",
                "10800",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the feed farm did not start")
            time.sleep(0.2)
        time.sleep(0.1)
        self.control = json.loads(ready.read_text())["control"]

    def call(self, path: str, method: str = "GET") -> bytes:
        req = urllib.request.Request(self.control + path, method=method)
        with urllib.request.urlopen(req, timeout=600) as resp:
            body: bytes = resp.read()
            return body

    def set_round(self, r: int, validators: bool = True) -> None:
        self.call(f"/round/{r}?validators={int(validators)}", "POST")

    def stats(self) -> dict[str, int]:
        out: dict[str, int] = json.loads(self.call("/stats"))
        return out

    def cpu(self) -> float:
        """User+sys CPU seconds the farm process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def timed(
    cmd: list[str], env: dict[str, str], cwd: Path, log: Path
) -> tuple[float, float, float, int]:
    """Run `cmd` to completion: (wall s, user+sys CPU s of its whole tree, peak RSS MiB, rc).

    The command runs under _tree.py, a child subreaper: netplanet's parse pool lives in a
    forkserver that netplanet never waits for, so wait4 on netplanet alone would miss the
    workers' CPU. Peak RSS is the command's own process (ru_maxrss); the tree's summed RSS
    is logged beside it.
    """
    out_json = cwd / "tree.json"
    out_json.unlink(missing_ok=True)
    with log.open("ab") as out:
        subprocess.run(
            [
                str(PY),
                str(HERE / "_tree.py"),
                "--timeout",
                str(RUN_TIMEOUT),
                "--out",
                str(out_json),
                "--",
                *cmd,
            ],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=out,
            check=True,
        )
    res = json.loads(out_json.read_text())
    TREE_RSS.append(res["tree_rss_mb"])
    if res["wall"] is None or res["rc"] is None:  # killed by _tree.py at RUN_TIMEOUT
        return RUN_TIMEOUT, res["cpu"], res["rss_mb"], -9
    return res["wall"], res["cpu"], res["rss_mb"], res["rc"]


TREE_RSS: list[float] = []


class Client:
    name = ""

    def __init__(self, work: Path, urls: Path, opml: Path, knobs: Knobs | None = None) -> None:
        self.work = work
        self.urls = urls
        self.opml = opml
        self.knobs = knobs or Knobs()
        self.log = work / "client.log"
        self.env = {**os.environ, "HOME": str(work), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
        self.env.pop("NETPLANET_DATABASE_URL", None)
        self.env.pop("NETPLANET_CONFIG", None)
        for key, value in (
            ("FETCH_CONCURRENCY", self.knobs.concurrency),
            ("FETCH_PER_HOST", self.knobs.per_host),
            ("PER_HOST_GAP_S", self.knobs.gap_s),
        ):
            self.env.pop(f"NETPLANET_{key}", None)
            if value is not None:
                self.env[f"NETPLANET_{key}"] = str(value)

    def setup(self) -> None: ...

    def command(self) -> list[str]:
        raise NotImplementedError

    def stored(self) -> int:
        raise NotImplementedError

    def search_state(self, log: str) -> tuple[float, bool | None]:
        """(seconds the run spent indexing for search, search queue empty) from the run's log."""
        return float("nan"), None


INDEXED = re.compile(r"^indexed \d+ posts for search in ([0-9.]+) s$", re.M)


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


class NetplanetClient(Client):
    name = "netplanet"

    @property
    def db(self) -> Path:
        return self.work / "planet.db"

    def _base(self) -> list[str]:
        return [str(NETPLANET), "--database", f"sqlite:///{self.db}"]

    def setup(self) -> None:
        init = [*self._base(), "-q", "init", "--no-defaults"]  # only init creates a database
        subprocess.run(init, env=self.env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [*self._base(), "-q", "sources", "import", str(self.opml)],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def command(self) -> list[str]:
        return [*self._base(), "update"]

    def stored(self) -> int:
        return _count(self.db, "SELECT count(*) FROM entries")

    def search_state(self, log: str) -> tuple[float, bool | None]:
        # `update` indexes the round's posts before it exits (src/netplanet/cli/update.py) and
        # says how long that took; the queue left behind is what was not indexed.
        said = INDEXED.findall(log)
        seconds = float(said[-1]) if said else float("nan")
        try:
            queued = _count(self.db, "SELECT count(*) FROM search_queue")
        except sqlite3.OperationalError:  # a schema from before the search queue
            return seconds, None
        return seconds, queued == 0


class ReaderClient(Client):
    name = "reader"

    @property
    def db(self) -> Path:
        return self.work / "reader.sqlite"

    def setup(self) -> None:
        subprocess.run(
            [
                str(PEERS_PY),
                str(HERE / "peers.py"),
                "reader-add",
                "--db",
                str(self.db),
                "--urls",
                str(self.urls),
            ],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def command(self) -> list[str]:
        workers = ["--workers", str(self.knobs.concurrency)] if self.knobs.concurrency else []
        return [str(PEERS_PY), str(HERE / "peers.py"), "reader", "--db", str(self.db), *workers]

    def stored(self) -> int:
        return _count(self.db, "SELECT count(*) FROM entries")


class NewsboatClient(Client):
    name = "newsboat"

    def setup(self) -> None:
        (self.work / "config").write_text(f"reload-threads {self.knobs.concurrency or 16}\n")

    def command(self) -> list[str]:
        return [
            "newsboat",
            "-x",
            "reload",
            "-u",
            str(self.urls),
            "-c",
            str(self.work / "cache.db"),
            "-C",
            str(self.work / "config"),
        ]

    def stored(self) -> int:
        return _count(self.work / "cache.db", "SELECT count(*) FROM rss_item")


class NaiveClient(Client):
    name = "naive"

    def command(self) -> list[str]:
        return [
            str(PEERS_PY),
            str(HERE / "peers.py"),
            "naive",
            "--dir",
            str(self.work),
            "--urls",
            str(self.urls),
        ]

    def stored(self) -> int:
        return _count(self.work / "naive.db", "SELECT count(*) FROM entries")


CLIENTS: dict[str, type[Client]] = {
    c.name: c for c in (NetplanetClient, ReaderClient, NewsboatClient, NaiveClient)
}


def baseline_cpu(tmp: Path) -> tuple[float, float]:
    """netplanet's fixed cost: `update` on a database without sources (imports + store open)."""
    db = tmp / "empty.db"
    env = {**os.environ, "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
    cmd = [str(NETPLANET), "--database", f"sqlite:///{db}", "update"]
    init = [*cmd[:-1], "init", "--no-defaults"]
    subprocess.run(init, env=env, check=True, capture_output=True)  # creates the schema
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    runs = [timed(cmd, env, tmp, tmp / "baseline.log") for _ in range(3)]
    return median([r[0] for r in runs]), median([r[1] for r in runs])


def run_size(
    farm: FarmProcess,
    size: int,
    port: int,
    clients: list[str],
    repeats: int,
    scenarios: tuple[str, ...],
    tmp: Path,
    saved: Path,
    naive_repeats: int = 99,
    knobs: Knobs | None = None,
    one_host: bool = False,
) -> list[Run]:
    sys.path.insert(0, str(HERE))
    from farm import farm_opml, feed_url, post_count

    urls = tmp / f"urls-{size}.txt"
    urls.write_text("".join(f"{feed_url(i, port, one_host)}\n" for i in range(size)))
    opml = tmp / f"farm-{size}.opml"
    opml.write_text(farm_opml(size, port, one_host))
    out: list[Run] = []
    for rep in range(repeats):
        for name in clients:
            if name == "naive" and rep >= naive_repeats:
                continue
            work = tmp / f"{name}-{size}-{rep}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            client = CLIENTS[name](work, urls, opml, knobs)
            client.setup()
            for scenario in scenarios:
                rnd = 0 if scenario == "cold" else 1
                farm.set_round(rnd, validators=scenario != "nocache")
                logged = client.log.stat().st_size if client.log.exists() else 0
                wall, cpu, rss, rc = timed(client.command(), client.env, work, client.log)
                served = farm.stats()
                with client.log.open("rb") as f:
                    f.seek(logged)
                    index_s, queue_empty = client.search_state(f.read().decode(errors="replace"))
                run = Run(
                    name,
                    size,
                    scenario,
                    rep,
                    wall,
                    cpu,
                    rss,
                    client.stored(),
                    served,
                    rc,
                    TREE_RSS[-1],
                    sum(post_count(i, rnd, farm.fraction) for i in range(size)),
                    index_s,
                    queue_empty,
                )
                print(
                    f"  N={size} rep {rep} {name:9} {scenario:8} wall {wall:7.2f} s "
                    f"cpu {cpu:7.2f} s rss {rss:6.0f} MiB stored {run.stored:6} "
                    f"served {served} rc {rc} tree rss {TREE_RSS[-1]:.0f} MiB "
                    f"expected {run.expected}"
                    + (
                        f" indexed in {index_s:.1f} s, queue empty {queue_empty}"
                        if name == "netplanet"
                        else ""
                    )
                    + f" (load {load_average()})",
                    file=sys.stderr,
                )
                out.append(run)
                if rc != 0 and wall >= RUN_TIMEOUT:
                    print(f"  {name}: not finished within {RUN_TIMEOUT:.0f} s", file=sys.stderr)
                    break  # later rounds would start from a partial state
                # Saved as it goes: a broken run (say, a shared working tree mid-edit) keeps
                # the runs so far, which --from-json can report.
                saved.with_suffix(".partial.json").write_text(
                    json.dumps([asdict(r) for r in out], indent=1)
                )
            if rep < repeats - 1:
                shutil.rmtree(work, ignore_errors=True)
    return out


def _med(runs: list[Run], client: str, size: int, scenario: str, field: str) -> float:
    vals = [
        getattr(r, field)
        for r in runs
        if r.client == client and r.size == size and r.scenario == scenario and r.rc == 0
    ]
    return median(vals) if vals else float("nan")


def _reps(runs: list[Run], size: int) -> str:
    per = {
        c: len({r.repeat for r in runs if r.size == size and r.client == c})
        for c in dict.fromkeys(r.client for r in runs)
    }
    per = {c: n for c, n in per.items() if n}
    counts = set(per.values())
    if len(counts) == 1:
        n = counts.pop()
        return "1 run" if n == 1 else f"{n} runs"
    return "runs: " + ", ".join(f"{c} {n}" for c, n in per.items())


def _ratio(a: float, b: float) -> str:
    if b != b or a != a or not b:
        return "n/a"
    return f"{a / b:.2f}"


def _hosting(args: argparse.Namespace, size: int) -> str:
    if getattr(args, "one_host", False):
        return f"{size:,} feeds on one loopback host (127.0.0.1, one port, a path per feed)"
    return f"{size:,} feeds on {size:,} loopback addresses (127.0.1.1, 127.0.1.2, …)"


def _weight(args: argparse.Namespace) -> str:
    post_bytes = getattr(args, "post_bytes", "")
    if not post_bytes:
        return "1-8 KB of HTML per post (~110 KB a feed)"
    lo, hi = post_bytes.split(",")
    return f"{lo}-{hi} bytes of HTML per post (at least one ~420-byte paragraph)"


def _client_text(client: str, args: argparse.Namespace) -> str:
    knobs = Knobs.of(args) if hasattr(args, "one_host") else Knobs()
    if knobs == Knobs():
        return CLIENT_TEXT[client]
    n = knobs.concurrency
    if client == "netplanet":
        limits = [f"fetch_concurrency {n or 20}"]
        if knobs.per_host is not None:
            limits.append(f"fetch_per_host {knobs.per_host}, per_host_gap_s {knobs.gap_s:g}")
        return "netplanet update (" + ", ".join(limits) + ")"
    if client == "reader" and n:
        return f"reader 3.26 update_feeds(scheduled=False, workers={n})"
    if client == "newsboat" and n:
        return f"newsboat 2.21 -x reload, reload-threads {n}"
    return CLIENT_TEXT[client]


def search_line(runs: list[Run], size: int) -> str:
    """netplanet's cold rounds: how long `update` indexed for search before exiting, whether
    it left the search queue empty and stored every post the farm served."""
    cold = [
        r
        for r in runs
        if (r.client, r.size, r.scenario, r.rc) == ("netplanet", size, "cold", 0)
        and r.queue_empty is not None
    ]
    if not cold:
        return ""
    said = [r.index_s for r in cold if r.index_s == r.index_s]
    seconds = f"{median(said):.1f} s (median)" if said else "no indexing line logged"
    empty = sum(bool(r.queue_empty) for r in cold)
    complete = sum(r.stored == r.expected for r in cold)
    return (
        f"Search, netplanet's cold rounds: `update` indexed the round's posts for search in "
        f"{seconds} before exiting; the search queue was empty afterwards in {empty} of "
        f"{len(cold)} runs, and {complete} of {len(cold)} stored every post served "
        f"({cold[0].expected:,})."
    )


def report(
    runs: list[Run],
    size: int,
    clients: list[str],
    base: tuple[float, float],
    command: str,
    loads: tuple[str, str],
    plot: Path | None,
    args: argparse.Namespace,
) -> tuple[str, str]:
    heading = f"## Update speed: {size:,} feeds"
    if max((r.repeat for r in runs if r.size == size), default=0) == 0:
        heading += " (1 repeat)"
    out = [
        heading,
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine_line()}; load average (1/5/15 min) {loads[0]} at start, "
        f"{loads[1]} at the end (the farm and the client share the 2 cores).  ",
        f"Farm: {_hosting(args, size)}, "
        f"20 posts each, {_weight(args)}, templates: WordPress RSS "
        f"with content:encoded 50%, Hugo Atom 20%, Jekyll Atom 10%, podcast RSS 10%, JSON "
        f"Feed 10%; ETag + Last-Modified, gzip, latency uniform {args.latency.replace(',', '-')}"
        f" ms per request, {args.fraction:.0%} of the feeds gain a post per round.  ",
        (
            "Each figure is from a single run (no repeats, no median)"
            if _reps(runs, size) == "1 run"
            else f"Each figure is the median of {_reps(runs, size)}"
        )
        + "; every run is a whole process "
        "started under `benchmarks/_tree.py` (a child subreaper): wall clock from start to the "
        "client's exit; CPU = user+sys of the client's whole process tree, netplanet's "
        "forkserver and parse workers included (RUSAGE_CHILDREN once every descendant is "
        "reaped); peak RSS = the client's own process (ru_maxrss); tree RSS = peak of the "
        "summed VmRSS of all its processes, sampled every 50 ms (shared pages counted per "
        "process). `stored` is what the client's database holds afterwards. newsboat "
        "2.21 and feedparser 6 do not read JSON Feed, so they store 10% fewer posts.  ",
        f"netplanet's fixed cost (an `update` with no sources: interpreter, imports, opening "
        f"the store) is {base[1]:.2f} s CPU, {base[0]:.2f} s wall.",
        "",
        "Clients: " + "; ".join(f"**{c}**: {_client_text(c, args)}" for c in clients) + ".",
        "",
    ]
    for scenario in SCENARIOS:
        if not any(r.scenario == scenario and r.size == size for r in runs):
            continue
        np_wall = _med(runs, "netplanet", size, scenario, "wall")
        np_cpu = _med(runs, "netplanet", size, scenario, "cpu")
        rows = []
        for c in clients:
            if not any(r.client == c and r.size == size for r in runs):
                continue
            wall = _med(runs, c, size, scenario, "wall")
            cpu = _med(runs, c, size, scenario, "cpu")
            mine = [r for r in runs if r.client == c and r.size == size and r.scenario == scenario]
            if not mine:
                continue
            served = mine[0].served
            if any(r.rc != 0 for r in mine):
                limit = f"{args.round_timeout:.0f}" if "round_timeout" in args else "?"
                rows.append(
                    [c, f"not finished within {limit} s (killed; rc {mine[0].rc})"]
                    + ["—"] * 4
                    + [f"{served.get('200', 0)}/{served.get('304', 0)}", "n/a", "n/a"]
                )
                continue
            rows.append(
                [
                    c,
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    f"{_med(runs, c, size, scenario, 'rss_mb'):.0f}",
                    f"{_med(runs, c, size, scenario, 'tree_rss_mb'):.0f}",
                    f"{_med(runs, c, size, scenario, 'stored'):,.0f}",
                    f"{served.get('200', 0)}/{served.get('304', 0)}",
                    "1" if c == "netplanet" else _ratio(np_wall, wall),
                    "1" if c == "netplanet" else _ratio(np_cpu, cpu),
                ]
            )
        out += [
            f"### {scenario}: {SCENARIO_TEXT[scenario]}",
            "",
            *table(
                [
                    "client",
                    "wall (s)",
                    "CPU (s)",
                    "peak RSS (MiB)",
                    "tree RSS (MiB)",
                    "stored",
                    "200/304 served",
                    "netplanet/peer wall",
                    "netplanet/peer CPU",
                ],
                rows,
            ),
            "",
        ]
    killed = [r for r in runs if r.size == size and r.rc != 0]
    if killed:
        out += [
            "Killed at `--round-timeout`: "
            + "; ".join(
                f"{r.client} {r.scenario} (not finished within {r.wall:.0f} s, "
                f"{r.served.get('200', 0) + r.served.get('304', 0)} responses served by then)"
                for r in killed
            )
            + ". A client's later rounds are not run after a kill.",
            "",
        ]
    missing = [s for s in SCENARIOS if not any(r.scenario == s and r.size == size for r in runs)]
    if missing:
        out += ["Not run (time box): " + ", ".join(missing) + " rounds.", ""]
    if "netplanet" in clients:
        per: list[str] = []
        for scenario in ("idle", "nocache"):
            cpu = _med(runs, "netplanet", size, scenario, "cpu")
            if cpu == cpu:
                per.append(
                    f"{scenario}: ({cpu:.2f} - {base[1]:.2f}) s / {size:,} feeds = "
                    f"{(cpu - base[1]) / size * 1000:.2f} ms CPU per feed"
                )
        if per:
            out += ["CPU per unchanged feed for netplanet, fixed cost removed: " + "; ".join(per)]
            out += [""]
        search = search_line(runs, size)
        if search:
            out += [search, ""]
    if plot is not None:
        rel = os.path.relpath(plot, ROOT / "docs")
        out += [f"![update cycle time vs feeds, cold and warm]({rel})"]
    return heading, "\n".join(out)


def draw(runs: list[Run], clients: list[str], png: Path) -> None:
    data = {
        "runs": [asdict(r) for r in runs],
        "clients": clients,
    }
    script = r"""
import json, statistics, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
d = json.load(open(sys.argv[1]))
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, scen in zip(axes, ("cold", "warm")):
    for c in d["clients"]:
        sizes = sorted({r["size"] for r in d["runs"] if r["client"] == c and r["scenario"] == scen})
        if not sizes:
            continue
        sizes = [n for n in sizes if any(r["client"] == c and r["scenario"] == scen
                 and r["size"] == n and r["rc"] == 0 for r in d["runs"])]
        ys = [statistics.median([r["wall"] for r in d["runs"] if r["client"] == c
              and r["scenario"] == scen and r["size"] == n and r["rc"] == 0]) for n in sizes]
        ax.plot(sizes, ys, marker="o", label=c)
    ax.set_xscale("log"); ax.set_yscale("log")
    ticks = sorted({r["size"] for r in d["runs"]})
    ax.set_xticks(ticks, [f"{n:,}" for n in ticks]); ax.set_xticks([], minor=True)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("feeds"); ax.set_ylabel("update cycle wall time (s)")
    ax.set_title(scen + " update"); ax.grid(True, which="both", alpha=0.3); ax.legend()
fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
"""
    with tempfile.TemporaryDirectory() as t:
        (Path(t) / "d.json").write_text(json.dumps(data))
        (Path(t) / "p.py").write_text(script)
        subprocess.run(
            [str(PEERS_PY), str(Path(t) / "p.py"), str(Path(t) / "d.json"), str(png)], check=True
        )
    print(f"plot written to {png.relative_to(ROOT)}", file=sys.stderr)


def plot_section(args: argparse.Namespace, runs: list[Run], clients: list[str]) -> None:
    """Draw cycle time vs N from saved runs and write "## Update cycle time vs feeds"."""
    clients = [c for c in clients if any(r.client == c for r in runs)]
    draw(runs, clients, args.plot)
    sizes = sorted({r.size for r in runs})
    rows = []
    for c in clients:
        row: list[str] = [c]
        for scen in ("cold", "warm"):
            for n in sizes:
                w = _med(runs, c, n, scen, "wall")
                killed = [
                    r.wall
                    for r in runs
                    if (r.client, r.size, r.scenario) == (c, n, scen) and r.rc != 0
                ]
                if w != w and killed:
                    row.append(f"not finished in {max(killed):.0f}")
                else:
                    row.append("—" if w != w else f"{w:.2f}")
        rows.append(row)
    header = ["client"] + [f"{s} {n:,} (s)" for s in ("cold", "warm") for n in sizes]
    files = " ".join(str(f) for f in args.from_json)
    rel = os.path.relpath(args.plot, ROOT / "docs")
    body = [
        "## Update cycle time vs feeds",
        "",
        f"Command: `.venv/bin/python benchmarks/update.py --from-json {files} --plot-only`, "
        "drawing the runs saved by the update sections' commands (median wall time of a whole "
        "update process; log-log axes).",
        "",
        *table(header, rows),
        "",
        f"![update cycle time vs feeds, cold and warm]({rel})",
    ]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        write_section(body[0], text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.1.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    global RUN_TIMEOUT
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--report-size", type=int, help="size whose tables go to the docs (max)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clients", default="netplanet,reader,newsboat,naive")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--naive-max", type=int, default=200)
    ap.add_argument("--naive-repeats", type=int, default=99, help="cap the naive loop's repeats")
    ap.add_argument("--latency", default="20,200")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument(
        "--round-timeout",
        type=float,
        default=RUN_TIMEOUT,
        help="kill a round after this many seconds; reported as not finished",
    )
    ap.add_argument(
        "--one-host",
        action="store_true",
        help="every feed on 127.0.0.1 (implies --lift-politeness); default one address a feed",
    )
    ap.add_argument("--post-bytes", default="", help="post HTML size range LO,HI (farm.py)")
    ap.add_argument(
        "--concurrency", type=int, help="parallel fetches of every client (default: their own)"
    )
    ap.add_argument(
        "--lift-politeness",
        action="store_true",
        help="netplanet: fetch_per_host = the concurrency, per_host_gap_s = 0",
    )
    ap.add_argument("--plot", type=Path, default=HERE / "update-cycle.png")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--save",
        type=Path,
        help="where the runs JSON goes (default benchmarks/update-runs-<report size>.json)",
    )
    ap.add_argument(
        "--from-json", type=Path, nargs="+", help="report saved runs instead of running"
    )
    ap.add_argument(
        "--plot-only",
        action="store_true",
        help="with --from-json: only draw the plot and write its section (cycle time vs N)",
    )
    args = ap.parse_args()
    RUN_TIMEOUT = args.round_timeout
    sizes = [int(s) for s in args.sizes.split(",")]
    report_size = args.report_size or max(sizes)
    clients = [c for c in args.clients.split(",") if c]
    if "newsboat" in clients and not shutil.which("newsboat"):
        print("newsboat not installed (apt-get install newsboat): skipped", file=sys.stderr)
        clients.remove("newsboat")
    # The peers' venv runs reader, the naive loop and matplotlib; netplanet alone needs none.
    # --no-write draws no plot either: a netplanet-only A/B run needs no peers' venv.
    plotting = args.plot_only or (len(sizes) > 1 and not args.no_write)
    if not PEERS_PY.exists() and ({"reader", "naive"} & set(clients) or plotting):
        sys.exit(f"{PEERS_PY} missing: run `make bench-peers` first (or use --clients netplanet)")
    scenarios = tuple(s for s in SCENARIOS if s in args.scenarios.split(","))
    saved = args.save or HERE / f"update-runs-{report_size}.json"
    if args.from_json:
        runs_in = [Run(**r) for f in args.from_json for r in json.loads(f.read_text())]
        if args.plot_only:
            plot_section(args, runs_in, clients)
            return
        finish(args, runs_in, sizes, report_size, clients, saved)
        return
    port = _free_port()
    load_start = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-update-"))
    farm = FarmProcess(
        max(sizes), port, args.latency, args.fraction, args.one_host, args.post_bytes
    )
    runs: list[Run] = []
    try:
        base = baseline_cpu(tmp)
        print(f"netplanet fixed cost: {base[1]:.2f} s CPU, {base[0]:.2f} s wall", file=sys.stderr)
        for size in sizes:
            for_size = [c for c in clients if c != "naive" or size <= args.naive_max]
            runs += run_size(
                farm,
                size,
                port,
                for_size,
                args.repeats,
                scenarios,
                tmp,
                saved,
                args.naive_repeats,
                Knobs.of(args),
                args.one_host,
            )
    finally:
        farm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    finish(args, runs, sizes, report_size, clients, saved, base, load_start)


def finish(
    args: argparse.Namespace,
    runs: list[Run],
    sizes: list[int],
    report_size: int,
    clients: list[str],
    saved: Path,
    base: tuple[float, float] | None = None,
    load_start: str = "",
) -> None:
    load_end = load_average()
    meta = (
        json.loads(args.from_json[0].with_suffix(".meta.json").read_text())
        if args.from_json
        else {}
    )
    base = base or tuple(meta.get("base", (float("nan"), float("nan"))))  # type: ignore[assignment]
    load_start = load_start or meta.get("load_start", "?")
    load_end = meta.get("load_end", load_end) if args.from_json else load_end
    assert base is not None
    argv = sys.argv[1:]
    if "--from-json" in argv:  # the command that produced the runs, not the re-report
        at = argv.index("--from-json")
        end = at + 1
        while end < len(argv) and not argv[end].startswith("--"):
            end += 1
        argv = argv[:at] + argv[end:]
    command = ".venv/bin/python benchmarks/update.py " + shlex.join(
        a for a in argv if a != "--no-write"
    )
    if not args.from_json and (args.save or not args.no_write):
        # benchmarks/targets.py reads these (the runs, the fixed cost, the commit measured).
        saved.write_text(json.dumps([asdict(r) for r in runs], indent=1))
        stamp = run_stamp()
        meta_out = {
            "base": list(base),
            "load_start": load_start,
            "load_end": load_end,
            "date": stamp["date"],
            "commit": stamp["commit"],
            "command": command,
        }
        saved.with_suffix(".meta.json").write_text(json.dumps(meta_out))
    plot = None
    if len(sizes) > 1 and args.plot and not args.no_write:
        draw(runs, clients, args.plot)
        plot = args.plot
    heading, body = report(
        runs, report_size, clients, base, command, (load_start, load_end), plot, args
    )
    print(body)
    if not args.no_write:
        write_section(heading, body)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
