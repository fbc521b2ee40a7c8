"""Per-module mutation score from mutmut's results (`make mutation`; docs/testing.md).

mutmut 3 keeps one `mutants/<path>.meta` JSON file per mutated module, with the exit code of
the test run of each mutant. This prints, per module: mutants, killed, the others (survived,
no covering test, not run), how many survivors docs/testing.md judges equivalent (listed
there by name, with why), and the score

    killed / (mutants - equivalent)

Timeouts and type-check rejections count as killed (the mutant was caught); mutants with no
covering test, or not run yet, count as not killed. Survivors not judged equivalent are listed
by name (`mutmut show NAME` prints one). Exits 1 when a module scores under --min.

    .venv/bin/python scripts/mutation_report.py [--min 90] [MUTANT_GLOB ...]

Globs (as given to `mutmut run`) limit the count to those mutants, e.g. the redirect
functions of a module whose other functions are not in scope.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
DOC = ROOT / "docs" / "testing.md"
EQUIVALENT_HEADING = "### Surviving mutants judged equivalent"
MUTANT_NAME = re.compile(r"`(netplanet\.[^`\s]+__mutmut_\d+)`")

# mutmut's own exit-code meanings (mutmut/stats.py), folded into what a score needs.
KILLED_CODES = {1, 3, 24, -24, 36, 37, 152, 255}
SURVIVED_CODES = {0}
NOT_RUN = {None, 2}


def equivalent_names(doc: Path | None = None) -> set[str]:
    """Mutant names listed under the equivalent-mutants heading of docs/testing.md."""
    doc = doc or DOC
    if not doc.is_file():
        return set()
    text = doc.read_text("utf-8")
    start = text.find(EQUIVALENT_HEADING)
    if start < 0:
        return set()
    end = text.find("\n#", start + len(EQUIVALENT_HEADING))  # the next heading
    return set(MUTANT_NAME.findall(text[start : end if end >= 0 else None]))


def classify(code: int | None) -> str:
    if code in KILLED_CODES:
        return "killed"
    if code in SURVIVED_CODES:
        return "survived"
    if code in NOT_RUN:
        return "not run"
    return "no tests" if code in (5, 33) else "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.0, help="fail under this score (percent)")
    parser.add_argument("scope", nargs="*", help="mutant-name globs to count (default: all)")
    parser.add_argument(
        "--detail", action="append", default=[], help="also a row for the mutants matching a glob"
    )
    args = parser.parse_args()

    metas = sorted(MUTANTS.rglob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {MUTANTS}: run `make mutation` first", file=sys.stderr)
        return 2
    equivalent = equivalent_names()
    seen_equivalent: set[str] = set()
    unexplained: list[str] = []
    failing: list[str] = []
    header = f"{'module':36} {'mutants':>7} {'killed':>7} {'other':>6} {'equiv.':>6} {'score':>7}"
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for meta in metas:
        module = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        if args.scope:
            codes = {k: v for k, v in codes.items() if _in_scope(k, args.scope)}
        if not codes:
            continue
        counts: Counter[str] = Counter()
        for name, code in sorted(codes.items()):
            status = classify(code)
            counts[status] += 1
            if status in ("killed", "not run"):
                continue
            if status == "survived" and name in equivalent:
                counts["equivalent"] += 1
                seen_equivalent.add(name)
            else:
                unexplained.append(f"{name}: {status}")
        counts["mutants"] = len(codes)
        totals.update(counts)
        line, score = _row(module, counts)
        print(line)
        if score < args.min:
            failing.append(f"{module} ({score:.1f}%)")
    print("-" * len(header))
    print(_row("all", totals)[0])
    for glob in args.detail:
        print(_row(glob, _count(metas, [glob], equivalent))[0])
    if totals["not run"]:
        print(f"\n{totals['not run']} not run yet (the run is going on, or was stopped)")
    if unexplained:
        print(f"\nnot killed, not judged equivalent ({len(unexplained)}):")
        for line in unexplained:
            print(f"  {line}")
    stale = sorted(equivalent - seen_equivalent)
    if stale:
        print(f"\nlisted as equivalent in {DOC.name} but not surviving now ({len(stale)}):")
        for name in stale:
            print(f"  {name}")
    if failing:
        print(f"\nunder {args.min:g}%: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


def _count(metas: list[Path], globs: list[str], equivalent: set[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        for name, code in codes.items():
            if _in_scope(name, globs):
                counts["mutants"] += 1
                status = classify(code)
                counts[status] += 1
                counts["equivalent"] += status == "survived" and name in equivalent
    return counts


def _in_scope(name: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, glob) for glob in globs)


def _row(module: str, counts: Counter[str]) -> tuple[str, float]:
    judged = counts["mutants"] - counts["equivalent"]
    score = 100.0 * counts["killed"] / judged if judged else 100.0
    survived = counts["mutants"] - counts["killed"]
    line = (
        f"{module:36} {counts['mutants']:7} {counts['killed']:7} {survived:6} "
        f"{counts['equivalent']:6} {score:6.1f}%"
    )
    return line, score


if __name__ == "__main__":
    sys.exit(main())
