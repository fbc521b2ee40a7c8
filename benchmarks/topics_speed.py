"""Topic classification speed: µs of CPU per post for `classify` next to `enrich_entry`.

    .venv/bin/python benchmarks/topics_speed.py [--feeds N] [--repeat R] [--record]

The same posts as `enrich_speed.py` (parsed with netplanet.parse as an update sees them): every
entry of ../shared/corpus/feeds when the corpus is present, and the first N feeds of the
synthetic loopback farm (`farm.py`, round 0) always. `classify` gets what the update will give
it: the enriched post's title, plain text and tags, and its source's title and category.

Each figure is the best of R passes over all posts, divided by the number of posts; the two
functions are timed in alternating passes so that other load on a shared machine hits both
alike. The target is classify < 10% of enrich_entry per post. `--record` writes the table into
docs/benchmarks.md under "## Topics".
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, machine_line, table, write_section
from enrich_speed import NOW, Item, corpus_items, farm_items

from netplanet.enrich import enrich_entry
from netplanet.enrich.topics import TEXT_WORDS, classify, load_taxonomy

HEADING = "## Topics"
SOURCE = "Example blog Networking"  # a source title and operator category, as the update passes
TARGET = 0.10
NOTE = (
    f"The cost is per word read (the title, tags and the first {TEXT_WORDS} words of the text). "
    f"The farm is the worst case: every post has {TEXT_WORDS} words or more, about one word "
    "in six starts a term (its text is built from networking vocabulary), and its "
    "enrich_entry is cheaper than a real post's. Real posts (the corpus) are shorter on "
    "average and sparser in terms. enrich_entry here is the stage without a taxonomy (its "
    "story signatures and labels included); with one, classify is part of it."
)


def runs(items: list[Item]) -> tuple[Callable[[], None], Callable[[], None]]:
    taxonomy = load_taxonomy()
    entries = [
        enrich_entry(e, source_id=1, source_category="Networking", base_url=b, now=NOW)
        for e, b in items
    ]

    def enrich() -> None:
        for e, b in items:
            enrich_entry(e, source_id=1, source_category="Networking", base_url=b, now=NOW)

    def topics() -> None:
        for entry in entries:
            classify(taxonomy, title=entry.title, text=entry.text, tags=entry.tags, source=SOURCE)

    return enrich, topics


def best_us(
    pair: tuple[Callable[[], None], Callable[[], None]], n: int, repeat: int
) -> list[float]:
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for k, run in enumerate(pair):
            gc.collect()
            start = time.process_time()
            run()
            best[k] = min(best[k], time.process_time() - start)
    return [b / n * 1e6 for b in best]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--feeds", type=int, default=50, help="farm feeds (20 posts each)")
    ap.add_argument("--repeat", type=int, default=7, help="passes per function (best is kept)")
    ap.add_argument("--record", action="store_true", help="write the table to docs/benchmarks.md")
    args = ap.parse_args()

    sets = [("corpus", corpus_items()), ("farm", farm_items(args.feeds))]
    load_before = load_average()
    rows = []
    for name, items in sets:
        if not items:
            continue
        enrich_us, classify_us = best_us(runs(items), len(items), args.repeat)
        ratio = classify_us / enrich_us
        verdict = "met" if ratio < TARGET else "missed"
        rows.append(
            [
                f"{name} ({len(items):,} posts)",
                f"{enrich_us:,.0f}",
                f"{classify_us:,.0f}",
                f"{ratio:.1%} ({verdict})",
            ]
        )
        print(rows[-1], file=sys.stderr)
    lines = table(["inputs", "enrich_entry µs", "classify µs", "classify / enrich"], rows)
    body = "\n".join(
        [
            HEADING,
            "",
            "Command: `.venv/bin/python benchmarks/topics_speed.py --record`  ",
            f"µs of CPU per post, best of {args.repeat} alternating passes; classify reads the "
            f"title, tags, source and the first {TEXT_WORDS} words of the text. "
            f"Target: classify < {TARGET:.0%} of enrich_entry.",
            "",
            f"Machine: {machine_line()}; load average {load_before} at start, "
            f"{load_average()} at the end.",
            "",
            *lines,
            "",
            NOTE,
        ]
    )
    print(body)
    if args.record:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
