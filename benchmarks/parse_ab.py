"""Parse A/B: two source trees' parse_feed on the corpus, interleaved file by file in one process.

    .venv/bin/python benchmarks/parse_ab.py BASE_SRC [NEW_SRC] [--repeat R]

BASE_SRC and NEW_SRC are `src` directories (NEW_SRC defaults to this checkout's), e.g. a copy of
main made with `git archive main src | tar -x -C /tmp/base`. Both packages are imported side by
side (each keeps its own modules), and for every corpus file the two and fastfeedparser run in
turn, R times; each file's figure is its best CPU time. A change of load on the shared box then
hits all three alike, which parse_speed.py's whole-corpus passes cannot promise for a change of
a few percent. Prints the median file of each, their ratios, and the spread of per-file new/base
ratios. Nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from parse_speed import corpus_docs  # noqa: E402


def load(src: Path) -> Callable[[bytes], Any]:
    """parse_feed from the netplanet package under `src`, imported beside any other copy."""
    for name in [n for n in sys.modules if n == "netplanet" or n.startswith("netplanet.")]:
        del sys.modules[name]
    sys.path.insert(0, str(src))
    try:
        module = importlib.import_module("netplanet.parse")
    finally:
        sys.path.remove(str(src))
    if not str(module.__file__).startswith(str(src)):
        raise SystemExit(f"netplanet.parse came from {module.__file__}, not {src}")
    return module.parse_feed  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("base", type=Path, help="src directory of the tree to compare against")
    ap.add_argument("new", type=Path, nargs="?", default=ROOT / "src", help="src directory")
    ap.add_argument("--repeat", type=int, default=9, help="runs per file and parser")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # fastfeedparser warns on broken corpus feeds
    docs = corpus_docs()
    if not docs:
        raise SystemExit("no corpus at ../shared/corpus/feeds")
    import fastfeedparser

    parsers: dict[str, Callable[[bytes], Any]] = {
        "base": load(args.base.resolve()),
        "new": load(args.new.resolve()),
        "fastfeedparser": fastfeedparser.parse,
    }
    best = {name: [float("inf")] * len(docs) for name in parsers}
    clock = time.process_time
    for _ in range(args.repeat):
        for i, (_, body) in enumerate(docs):
            for name, fn in parsers.items():
                start = clock()
                # A parser failing on a feed is a result, not a crash.
                with contextlib.suppress(Exception):
                    fn(body)
                spent = clock() - start
                if spent < best[name][i]:
                    best[name][i] = spent
    median = {name: statistics.median(times) * 1e3 for name, times in best.items()}
    total = {name: sum(times) * 1e3 for name, times in best.items()}
    fast = median["fastfeedparser"]
    print(f"{len(docs)} corpus files, best of {args.repeat} each (CPU ms)")
    for name in parsers:
        print(
            f"  {name:15s} median {median[name]:.3f} ({median[name] / fast:.2f}x fastfeedparser)"
            f"  total {total[name]:.1f}"
        )
    ratios = sorted(n / b for b, n in zip(best["base"], best["new"], strict=True))
    print(
        f"  per-file new/base: median {statistics.median(ratios):.3f}, "
        f"p10 {ratios[len(ratios) // 10]:.3f}, p90 {ratios[9 * len(ratios) // 10]:.3f}"
    )


if __name__ == "__main__":
    main()
