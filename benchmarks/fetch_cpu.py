"""CPU of the fetch layer alone per unchanged feed: 304s and re-sent unchanged bodies.

    .venv/bin/python benchmarks/fetch_cpu.py [--feeds 500] [--repeats 3]
        [--variants base=/tmp/base/src,new=src] [--kept]

Over the loopback farm (farm.py, round 1), one child process per variant and repeat (its
PYTHONPATH set to the variant's src, so an old checkout can be compared with the working tree
in the same minutes): the child learns every feed's validators and body hash with one round of
plain GETs, then times two idle rounds (every feed answers 304) and two nocache rounds (the farm
ignores validators and sends the same gzip body again; the fetcher reports UNCHANGED). Each
round is a fresh Fetcher (so a fresh connection per host, as in `netplanet update`); the figure
is the child's own process CPU for the round divided by the feeds. No store, no planning, no
start-up: the fetch stage's share of `netplanet update`'s per-feed cost. Prints medians; writes
nothing to docs.

With --kept, every round of a child goes through one Fetcher that keeps its connections (as
`netplanet run` and `netplanet worker` do), its idle pool sized for every feed: the rounds
after the first then reuse each host's connection, which is what keep-alive saves per poll
(on the internet, when the same host is asked again within its keep-alive time).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from update import PY, FarmProcess, _free_port

SCENARIOS = (("idle", True, "not_modified"), ("nocache", False, "unchanged"))


def _set_round(control: str, validators: bool) -> None:
    req = urllib.request.Request(f"{control}/round/1?validators={int(validators)}", method="POST")
    with urllib.request.urlopen(req, timeout=600) as resp:
        resp.read()


async def _child(
    control: str, port: int, feeds: int, rounds: int, kept: bool
) -> dict[str, list[float]]:
    from contextlib import AsyncExitStack

    from farm import feed_url

    from netplanet.fetch.http import Fetcher
    from netplanet.model import FetchOutcome, FetchRequest, FetchResult
    from netplanet.settings import Settings

    settings = Settings(allow_private_networks=True)
    # An older Fetcher (a --variants checkout) has no idle cap: aiohttp keeps every connection.
    extra: dict[str, int] = {}
    if kept and "max_idle" in inspect.signature(Fetcher).parameters:
        extra["max_idle"] = feeds
    async with AsyncExitStack() as stack:
        shared = await stack.enter_async_context(Fetcher(settings, **extra)) if kept else None

        async def fetch_all(reqs: list[FetchRequest]) -> list[FetchResult]:
            if shared is not None:
                return await asyncio.gather(*(shared.fetch(r) for r in reqs))
            async with Fetcher(settings) as fetcher:
                return await asyncio.gather(*(fetcher.fetch(r) for r in reqs))

        _set_round(control, True)
        first = await fetch_all([FetchRequest(feed_url(i, port)) for i in range(feeds)])
        if any(r.outcome is not FetchOutcome.OK for r in first):
            raise SystemExit(f"first round: {sorted({r.outcome for r in first})}")
        known = [FetchRequest(r.request.url, r.etag, r.last_modified, r.body_hash) for r in first]
        out: dict[str, list[float]] = {name: [] for name, _, _ in SCENARIOS}
        for _ in range(rounds):
            for name, validators, want in SCENARIOS:
                _set_round(control, validators)
                start = time.process_time()
                got = await fetch_all(known)
                out[name].append(time.process_time() - start)
                if any(r.outcome != want for r in got):
                    raise SystemExit(f"{name}: {sorted({r.outcome for r in got})}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="rounds of each kind per child")
    ap.add_argument("--variants", default="current=" + str(Path(__file__).parents[1] / "src"))
    ap.add_argument(
        "--kept", action="store_true", help="one Fetcher for all rounds (connections kept)"
    )
    ap.add_argument("--child", nargs=2, metavar=("CONTROL", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        control, port = args.child
        result = asyncio.run(_child(control, int(port), args.feeds, args.rounds, args.kept))
        print(json.dumps(result))
        return
    variants = dict(v.split("=", 1) for v in args.variants.split(","))
    port = _free_port()
    farm = FarmProcess(args.feeds, port, "20,200", 0.1)
    per: dict[tuple[str, str], list[float]] = {}
    try:
        for rep in range(args.repeats):
            for name, src in variants.items():
                cmd = [str(PY), __file__, "--feeds", str(args.feeds), "--rounds", str(args.rounds)]
                cmd += ["--kept"] if args.kept else []
                run = subprocess.run(
                    [*cmd, "--child", farm.control, str(port)],
                    env={**os.environ, "PYTHONPATH": src},
                    check=True,
                    capture_output=True,
                    text=True,
                )
                got: dict[str, list[float]] = json.loads(run.stdout)
                for scen, cpus in got.items():
                    per.setdefault((name, scen), []).extend(c / args.feeds * 1000 for c in cpus)
                shown = {s: [f"{c / args.feeds * 1000:.3f}" for c in v] for s, v in got.items()}
                print(f"repeat {rep} {name}: ms CPU per feed {shown}", file=sys.stderr)
    finally:
        farm.close()
    for name in variants:
        cells = [
            f"{scen} {statistics.median(per[(name, scen)]):.3f} ms CPU per feed "
            f"(median of {len(per[(name, scen)])})"
            for scen, _, _ in SCENARIOS
        ]
        print(f"{name}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
