"""Enrich speed: µs of CPU per entry for `enrich_entry` and for each of its HTML steps.

    .venv/bin/python benchmarks/enrich_speed.py [--feeds N] [--repeat R] [--record LABEL]

Inputs, parsed with netplanet.parse exactly as an update would see them:
- corpus: every entry of ../shared/corpus/feeds (skipped when the corpus is absent);
- farm: the first N feeds of the loopback farm (`farm.py`, round 0: WordPress, Hugo, Jekyll,
  podcast and JSON Feed templates, 20 posts of 1-8 KB HTML each), the documents the update
  benchmark serves.

Each figure is the best of R passes over all entries (the least disturbed by other load on a
shared machine), divided by the number of entries. The steps are timed through their public
functions on their natural inputs (boilerplate on the raw body, the sanitizer on its output,
text and excerpt on the sanitized HTML), so they are comparable across versions of enrich even
when `enrich_entry` no longer calls them one by one.

`--record LABEL` writes the table into docs/benchmarks.md under "## Enrich speed" as the
subsection "### LABEL" (replacing an older one of the same label, keeping the others).
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DOCS, load_average, machine_line, table, write_section
from farm import ENTRIES_PER_FEED, build_pool, feed_url, render

from netplanet.enrich import (
    enrich_entry,
    html_to_text,
    make_excerpt,
    sanitize_html,
    strip_boilerplate,
)
from netplanet.errors import ParseError
from netplanet.model import ParsedEntry
from netplanet.parse import parse_feed

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"
HEADING = "## Enrich speed"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

Item = tuple[ParsedEntry, str]  # (entry, base URL)


def corpus_items() -> list[Item]:
    if not CORPUS.is_dir():
        return []
    items: list[Item] = []
    for path in sorted(CORPUS.iterdir()):
        if path.name == "MANIFEST.tsv":
            continue
        url = f"https://feeds.example.org/{path.name}"
        try:
            feed = parse_feed(path.read_bytes(), url=url)
        except ParseError:
            continue
        items.extend((e, feed.link or url) for e in feed.entries)
    return items


def farm_items(feeds: int) -> list[Item]:
    pool = build_pool(random.Random(7))
    items: list[Item] = []
    for i in range(feeds):
        body, _ = render(pool, i, ENTRIES_PER_FEED)
        url = feed_url(i, 8080)
        feed = parse_feed(body, url=url)
        items.extend((e, feed.link or url) for e in feed.entries)
    return items


def _content_base(entry: ParsedEntry, base: str) -> str:
    link = (entry.link or "").strip()
    return link if link.lower().startswith(("http://", "https://")) else base


def steps(items: list[Item]) -> dict[str, Callable[[], None]]:
    """One callable per measured step, each running over every item."""
    raw = [(e.content_html or e.summary_html, _content_base(e, b)) for e, b in items]
    stripped = [(strip_boilerplate(h), b) for h, b in raw]
    clean = [sanitize_html(h, base_url=b) for h, b in stripped]

    def enrich() -> None:
        for e, b in items:
            enrich_entry(e, source_id=1, source_category="Net", base_url=b, now=NOW)

    def boilerplate() -> None:
        for h, _ in raw:
            strip_boilerplate(h)

    def sanitize() -> None:
        for h, b in stripped:
            sanitize_html(h, base_url=b)

    def text() -> None:
        for h in clean:
            html_to_text(h)

    def excerpt() -> None:
        for h in clean:
            make_excerpt(h)

    return {
        "enrich_entry": enrich,
        "strip_boilerplate": boilerplate,
        "sanitize_html": sanitize,
        "html_to_text": text,
        "make_excerpt": excerpt,
    }


def best_us(run: Callable[[], None], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / n * 1e6


def record(label: str, body: str) -> None:
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    match = re.search(rf"^{re.escape(HEADING)}\n(.*?)(?=^## |\Z)", existing, re.M | re.S)
    old = match.group(1) if match else ""
    intro = (
        "Command: `.venv/bin/python benchmarks/enrich_speed.py --record LABEL`  \n"
        "µs of CPU per entry (best of the passes), steps timed through their public functions "
        "on their natural inputs; see the script's docstring.\n"
    )
    subsections = {
        m.group(1): m.group(0).rstrip() + "\n\n"
        for m in re.finditer(r"^### (.+?)\n.*?(?=^### |\Z)", old, re.M | re.S)
    }
    subsections[label] = f"### {label}\n\n{body.rstrip()}\n\n"
    text = f"{HEADING}\n\n{intro}\n" + "".join(subsections.values())
    write_section(HEADING, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--feeds", type=int, default=50, help="farm feeds (20 entries each)")
    ap.add_argument("--repeat", type=int, default=5, help="passes per step (best is kept)")
    ap.add_argument("--record", metavar="LABEL", help="write the table to docs/benchmarks.md")
    args = ap.parse_args()

    sets = [("corpus", corpus_items()), ("farm", farm_items(args.feeds))]
    sets = [(name, items) for name, items in sets if items]
    load_before = load_average()
    rows = []
    names: list[str] = []
    for name, items in sets:
        runs = steps(items)
        names = list(runs)
        figures = [best_us(run, len(items), args.repeat) for run in runs.values()]
        rows.append([f"{name} ({len(items):,} entries)", *(f"{f:,.0f}" for f in figures)])
        print(rows[-1], file=sys.stderr)
    lines = table(["inputs", *names], rows)
    body = "\n".join(
        [
            f"Machine: {machine_line()}; load average {load_before} at start, "
            f"{load_average()} at the end. Best of {args.repeat} passes.",
            "",
            *lines,
        ]
    )
    print(body)
    if args.record:
        record(args.record, body)


if __name__ == "__main__":
    main()
