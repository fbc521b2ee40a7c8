"""Where netplanet's update CPU goes: pool vs inline CPU, and pyinstrument profiles.

    .venv/bin/python benchmarks/profile_update.py [--feeds 200] [--out DIR]

Over the loopback farm (farm.py, round 0 then round 1), with the same clients and settings
as update.py: `netplanet update` cold and warm, once with the default process pool and once
with NETPLANET_PARSE_WORKERS=0 (parse and enrich inline in one process), CPU of the whole
process tree measured by _tree.py; then the inline cold and warm updates again under
pyinstrument (one process holds all the work then, so the profile covers it), text reports
written to DIR (default /tmp/netplanet-profile). Prints a summary; writes nothing to docs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import farm_opml
from update import NETPLANET, PY, FarmProcess, _free_port

HERE = Path(__file__).resolve().parent
PYINSTRUMENT = PY.with_name("pyinstrument")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("/tmp/netplanet-profile"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-profile-"))
    opml = tmp / "farm.opml"
    opml.write_text(farm_opml(args.feeds, port))
    farm = FarmProcess(args.feeds, port, "20,200", 0.1)
    results: dict[str, dict[str, float]] = {}
    try:
        for label, workers, profile in (
            ("pool", None, False),
            ("inline", "0", False),
            ("inline-profiled", "0", True),
        ):
            db = tmp / f"{label}.db"
            env = {**os.environ, "HOME": str(tmp), "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
            env.pop("NETPLANET_DATABASE_URL", None)
            env.pop("NETPLANET_CONFIG", None)
            if workers is not None:
                env["NETPLANET_PARSE_WORKERS"] = workers
            base = [str(NETPLANET), "--database", f"sqlite:///{db}"]
            init = [*base, "-q", "init", "--no-defaults"]  # only init creates a database
            subprocess.run(init, env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(
                [*base, "-q", "sources", "import", str(opml)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            for rnd, scen in ((0, "cold"), (1, "warm")):
                farm.set_round(rnd)
                cmd = [*base, "update"]
                if profile:
                    report = args.out / f"{scen}.txt"
                    cmd = [str(PYINSTRUMENT), "-r", "text", "-o", str(report), *cmd]
                res_file = tmp / "tree.json"
                subprocess.run(
                    [str(PY), str(HERE / "_tree.py"), "--out", str(res_file), "--", *cmd],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                res = json.loads(res_file.read_text())
                results[f"{label} {scen}"] = res
                print(
                    f"{label:16} {scen}: wall {res['wall']:.2f} s, CPU {res['cpu']:.2f} s, "
                    f"tree RSS {res['tree_rss_mb']:.0f} MiB",
                    flush=True,
                )
    finally:
        farm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"profiles: {args.out}/cold.txt, {args.out}/warm.txt")
    (args.out / "summary.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
