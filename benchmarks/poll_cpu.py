"""CPU of a poll's bookkeeping alone: planning and storing a 304 or an unchanged body, no network.

    .venv/bin/python benchmarks/poll_cpu.py [--feeds 1000] [--repeats 3]
        [--variants base=/tmp/base/src,new=src]

Builds a real planet over the loopback farm (farm.py): `netplanet update` round 0 (cold) and
round 1 (warm), as update.py does. Then, one child process per variant and repeat (its
PYTHONPATH set to the variant's src), on a fresh copy of that database: the pipeline that
`netplanet update` builds (Planet.pipeline) polls every source through a fetcher that answers
at once, without a socket, with a 304 (the validators sent) or an unchanged body (the hash
stored). The figure is the child's process CPU for the round (update_many: planning, the
group-commit writes, the round's sealing) divided by the sources. Together with
benchmarks/fetch_cpu.py (the fetch stage alone) it splits update.py's marginal cost of a poll.
Prints medians; writes nothing to docs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import farm_opml
from update import NETPLANET, PY, FarmProcess, _free_port

KINDS = ("304", "unchanged")


def _child(db: str, kind: str) -> float:
    from netplanet.model import FetchOutcome, FetchRequest, FetchResult
    from netplanet.planet import Planet
    from netplanet.settings import Settings

    class Answering:
        """A fetcher that answers every feed at once, as the farm would in that round."""

        async def fetch(self, req: FetchRequest) -> FetchResult:
            await asyncio.sleep(0)  # a real fetch yields to the loop at least once
            headers = {"etag": req.etag or "", "content-type": "application/rss+xml"}
            if kind == "304":
                outcome, status = FetchOutcome.NOT_MODIFIED, 304
            else:
                outcome, status = FetchOutcome.UNCHANGED, 200
            return FetchResult(
                request=req,
                outcome=outcome,
                final_url=req.url,
                status=status,
                headers=headers,
                content_type=headers["content-type"],
                etag=req.etag,
                last_modified=req.last_modified,
                body_hash=req.body_hash,
            )

    planet = Planet(Settings(database_url=f"sqlite:///{db}"))
    sources = [s for s in planet.store.list_sources() if s.enabled]
    pipeline = planet.pipeline(Answering())  # type: ignore[arg-type]
    start = time.process_time()
    reports = asyncio.run(pipeline.update_many(sources))
    spent = time.process_time() - start
    want = "not_modified" if kind == "304" else "unchanged"
    if any(r.outcome != want for r in reports):
        raise SystemExit(f"{kind}: {sorted({str(r.outcome) for r in reports})}")
    return spent / len(reports)


def _build(feeds: int, tmp: Path) -> Path:
    port = _free_port()
    opml = tmp / "farm.opml"
    opml.write_text(farm_opml(feeds, port))
    db = tmp / "planet.db"
    env = {**os.environ, "HOME": str(tmp), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
    env.pop("NETPLANET_DATABASE_URL", None)
    env.pop("NETPLANET_CONFIG", None)
    base = [str(NETPLANET), "--database", f"sqlite:///{db}", "-q"]
    farm = FarmProcess(feeds, port, "20,200", 0.1)
    try:
        subprocess.run([*base, "init", "--no-defaults"], env=env, check=True)
        subprocess.run([*base, "sources", "import", str(opml)], env=env, check=True)
        for rnd in (0, 1):
            farm.set_round(rnd)
            # Exit 4 (some feeds failed) is fine: those sources are polled all the same.
            subprocess.run([*base, "update"], env=env, check=False)
    finally:
        farm.close()
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", default="current=" + str(Path(__file__).parents[1] / "src"))
    ap.add_argument("--child", nargs=2, metavar=("DB", "KIND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    variants = dict(v.split("=", 1) for v in args.variants.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-pollcpu-"))
    per: dict[tuple[str, str], list[float]] = {}
    try:
        db = _build(args.feeds, tmp)
        for rep in range(args.repeats):
            for name, src in variants.items():
                for kind in KINDS:
                    work = tmp / "work.db"
                    shutil.copy(db, work)
                    run = subprocess.run(
                        [str(PY), __file__, "--child", str(work), kind],
                        env={**os.environ, "PYTHONPATH": src},
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    ms = json.loads(run.stdout) * 1000
                    per.setdefault((name, kind), []).append(ms)
                    print(f"repeat {rep} {name} {kind}: {ms:.3f} ms CPU per poll", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in variants:
        cells = [
            f"{kind} {statistics.median(per[(name, kind)]):.3f} ms CPU per poll "
            f"(median of {len(per[(name, kind)])})"
            for kind in KINDS
        ]
        print(f"{name}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
