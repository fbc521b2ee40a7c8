"""CPU of netplanet's cold round for several `src/` trees, alternated in the same minutes.

    .venv/bin/python benchmarks/cold_cost.py --feeds 1000 [--repeats 2]
        [--variants before=/tmp/before/src,after=src] [--inline]

One loopback farm (farm.py, round 0: 20 posts a feed) serves every run. For each repeat, each
variant in turn (its PYTHONPATH set to the variant's src, so an old checkout is measured with
the same interpreter, packages and farm) gets a fresh SQLite database, the farm's sources
imported (untimed), and one `netplanet update` timed under _tree.py: CPU of the whole process
tree (parse workers included), the update process's own CPU (the pipeline and the store), their
difference (the forkserver and its parse workers), and wall time. The update indexes what it
stored for search before it exits (store/indexing.py): the time it says that took ("indexed N
posts for search in X s") is the lag from the round's end until every post is searchable, and
the round itself is the wall time less that; every post is checked to be in the search index
at the exit (trees from before the indexer left the write path index in the write: 0 s).
`--inline` sets NETPLANET_PARSE_WORKERS=0 (no pool). Prints each run and the medians with each
variant's ratio to the first; writes nothing to docs (docs/benchmarks.md records the figures by
hand, with this command).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load_average, median
from farm import farm_opml
from update import NETPLANET, PY, FarmProcess, _free_port

HERE = Path(__file__).resolve().parent


def _opml(path: Path, feeds: int, port: int) -> None:
    path.write_text(farm_opml(feeds, port))


def _run(src: Path, work: Path, opml: Path, inline: bool) -> dict[str, float]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "HOME": str(work), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
    env["PYTHONPATH"] = str(src.resolve())
    env.pop("NETPLANET_DATABASE_URL", None)
    env.pop("NETPLANET_CONFIG", None)
    if inline:
        env["NETPLANET_PARSE_WORKERS"] = "0"
    db = work / "planet.db"
    base = [str(NETPLANET), "--database", f"sqlite:///{db}"]
    for setup in (["init", "--no-defaults"], ["sources", "import", str(opml)]):
        subprocess.run([*base, "-q", *setup], env=env, check=True, stdout=subprocess.DEVNULL)
    out = work / "tree.json"
    with (work / "update.log").open("wb") as log:
        subprocess.run(
            [str(PY), str(HERE / "_tree.py"), "--out", str(out), "--", *base, "update"],
            env=env,
            check=True,
            stdout=log,
            stderr=log,
        )
    res: dict[str, float] = json.loads(out.read_text())
    if res["rc"] != 0:  # say why before the work directory goes
        lines = (work / "update.log").read_text(errors="replace").splitlines()
        print("\n".join(["update failed; its log ends:", *lines[-15:]]), flush=True)
    con = sqlite3.connect(db)
    try:
        res["stored"] = con.execute("SELECT count(*) FROM entries").fetchone()[0]
        res["searchable"] = con.execute("SELECT count(*) FROM entries_fts").fetchone()[0]
    finally:
        con.close()
    said = _INDEXED.search((work / "update.log").read_text(errors="replace"))
    res["index_s"] = float(said.group(1)) if said else 0.0
    return res


_INDEXED = re.compile(r"indexed \d+ posts for search in ([\d.]+) s")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default=f"this={ROOT / 'src'}")
    ap.add_argument("--inline", action="store_true", help="NETPLANET_PARSE_WORKERS=0")
    args = ap.parse_args()
    variants = [(n, Path(p)) for n, p in (v.split("=", 1) for v in args.variants.split(","))]
    port = _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-cold-"))
    opml = tmp / "farm.opml"
    _opml(opml, args.feeds, port)
    print(f"load before: {load_average()}", flush=True)
    farm = FarmProcess(args.feeds, port, "20,200", 0.1)
    runs: dict[str, list[dict[str, float]]] = {n: [] for n, _ in variants}
    try:
        farm.set_round(0)
        for rep in range(args.repeats):
            for name, src in variants:
                res = _run(src, tmp / name, opml, args.inline)
                runs[name].append(res)
                print(
                    f"rep {rep} {name:10} cpu {res['cpu']:6.2f} s (own {res['own_cpu']:6.2f}, "
                    f"workers {res['cpu'] - res['own_cpu']:6.2f}) wall {res['wall']:6.2f} s "
                    f"(round {res['wall'] - res['index_s']:6.2f} s + indexing "
                    f"{res['index_s']:5.1f} s) "
                    f"stored {res['stored']:.0f} searchable {res['searchable']:.0f} "
                    f"rc {res['rc']} (load {load_average()})",
                    flush=True,
                )
    finally:
        farm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    first = median([r["cpu"] for r in runs[variants[0][0]]])
    for name, _ in variants:
        cpu = median([r["cpu"] for r in runs[name]])
        own = median([r["own_cpu"] for r in runs[name]])
        wall = median([r["wall"] for r in runs[name]])
        index_s = median([r["index_s"] for r in runs[name]])
        print(
            f"median {name:10} cpu {cpu:6.2f} s  own {own:6.2f} s  workers {cpu - own:6.2f} s  "
            f"wall {wall:6.2f} s (indexing {index_s:5.1f} s)  x{cpu / first:.3f} of "
            f"{variants[0][0]}"
        )


if __name__ == "__main__":
    main()
