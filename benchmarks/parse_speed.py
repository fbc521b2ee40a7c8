"""Parse speed: netplanet's parse_feed against feedparser, fastfeedparser and bare lxml.

    .venv/bin/python benchmarks/parse_speed.py [--synthetic N] [--rounds K] [--repeat R]
        [--no-write] [--save FILE]

Measures feeds/s and MB/s of CPU time (the box is shared: wall time mostly measures the other
processes) on (a) ../shared/corpus/feeds when present and (b) N deterministic
synthetic feeds (WordPress-like RSS 2.0 with content:encoded, Atom, JSON Feed; 20 entries of
1-8 KB HTML each), plus agreement with feedparser on the corpus. Writes the figures to
docs/benchmarks.md under "## Parse speed" (other sections are kept) and saves them to
benchmarks/results-parse.json for benchmarks/targets.py (neither with --no-write, unless
--save names a file).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree

from netplanet.errors import ParseError
from netplanet.parse import parse_feed
from netplanet.untrusted import plain_text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import run_stamp, save_json  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"
DOCS = ROOT / "docs" / "benchmarks.md"
_TOPICS = (
    "bgp ospf route reflector vlan vxlan evpn mpls segment routing netconf yang ansible spine "
    "leaf fabric latency jitter packet loss mtu ipv6 anycast peering transit firewall"
)
WORDS = _TOPICS.split()


# --------------------------------------------------------------------------- inputs


def corpus_docs() -> list[tuple[str, bytes]]:
    if not CORPUS.is_dir():
        return []
    skip = {"MANIFEST.tsv"}
    manifest = CORPUS / "MANIFEST.tsv"
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) > 1 and "not a feed" in cols[1]:
                skip.add(cols[0])
    return [(p.name, p.read_bytes()) for p in sorted(CORPUS.iterdir()) if p.name not in skip]


def _html(rng: random.Random) -> str:
    parts: list[str] = []
    size = rng.randint(1000, 8000)
    while sum(map(len, parts)) < size:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        parts.append(
            f'<p>{words} <a href="/post/{rng.randint(1, 999)}">more</a> &amp; <b>x</b></p>'
        )
    return "\n".join(parts)


def synthetic_docs(n: int) -> list[tuple[str, bytes]]:
    """n deterministic feeds, a third each RSS 2.0 / Atom / JSON Feed, 20 entries of 1-8 KB."""
    rng = random.Random(20240601)
    docs: list[tuple[str, bytes]] = []
    for i in range(n):
        kind = ("rss", "atom", "json")[i % 3]
        items = []
        for j in range(20):
            day = 1 + (j % 28)
            items.append(
                (f"Post {i}-{j} about {rng.choice(WORDS)}", f"https://blog{i}.example.net/{j}/",
                 _html(rng), datetime(2024, 5, day, 8, j, tzinfo=UTC))
            )  # fmt: skip
        if kind == "rss":
            body = "".join(
                f"<item><title>{html.escape(t)}</title><link>{u}</link>"
                f'<guid isPermaLink="false">{u}?p={k}</guid>'
                "<dc:creator><![CDATA[Ada]]></dc:creator>"
                f"<pubDate>{d:%a, %d %b %Y %H:%M:%S} +0000</pubDate><category><![CDATA[BGP]]>"
                f"</category><description><![CDATA[{c[:300]}]]></description>"
                f"<content:encoded><![CDATA[{c}]]></content:encoded></item>"
                for k, (t, u, c, d) in enumerate(items)
            )
            doc = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Blog</title>'
                f"<link>https://blog{i}.example.net/</link><description>d</description>"
                f"{body}</channel></rss>"
            )
        elif kind == "atom":
            body = "".join(
                f"<entry><title>{html.escape(t)}</title><link rel='alternate' href='{u}'/>"
                f"<id>{u}</id><published>{d.isoformat()}</published><updated>{d.isoformat()}"
                f"</updated><author><name>Ada</name></author><category term='BGP'/>"
                f"<content type='html'>{html.escape(c)}</content></entry>"
                for t, u, c, d in items
            )
            doc = (
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Blog</title><link href='https://blog{i}.example.net/'/><id>x</id>"
                f"<updated>2024-05-01T00:00:00Z</updated>{body}</feed>"
            )
        else:
            doc = json.dumps(
                {"version": "https://jsonfeed.org/version/1.1", "title": "Blog",
                 "home_page_url": f"https://blog{i}.example.net/",
                 "items": [{"id": u, "url": u, "title": t, "content_html": c,
                            "date_published": d.isoformat(), "tags": ["BGP"]}
                           for t, u, c, d in items]}
            )  # fmt: skip
        docs.append((f"synthetic-{i}.{kind}", doc.encode()))
    return docs


# --------------------------------------------------------------------------- parsers


def _feedparser(body: bytes) -> Any:
    # A stream, never bytes: feedparser opens a bytes argument as a file name when it can.
    return feedparser.parse(io.BytesIO(body))


def _fastfeedparser(body: bytes) -> Any:
    import fastfeedparser

    return fastfeedparser.parse(body)


_FLOOR_PARSER = etree.XMLParser(resolve_entities=False, recover=True)


def _lxml_floor(body: bytes) -> Any:
    """The floor: only building the tree (json.loads for JSON Feed), no field extraction."""
    body = body.lstrip()
    if body[:1] == b"{":
        return json.loads(body)
    return etree.fromstring(body, _FLOOR_PARSER)


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "netplanet parse_feed": lambda b: parse_feed(b),
    "feedparser": _feedparser,
    "fastfeedparser": _fastfeedparser,
    "lxml.etree.fromstring (floor)": _lxml_floor,
}


def _one_pass(
    fn: Callable[[bytes], Any], docs: list[tuple[str, bytes]], best: list[float]
) -> tuple[float, int]:
    """One pass over `docs`: total CPU seconds and failures; `best[i]` keeps file i's fastest."""
    failures = 0
    clock = time.process_time
    start = clock()
    for i, (_, body) in enumerate(docs):
        before = clock()
        try:
            fn(body)
        except Exception:  # a parser failing on a feed is a result, not a crash
            failures += 1
        spent = clock() - before
        if spent < best[i]:
            best[i] = spent
    return clock() - start, failures


def measure_all(
    parsers: dict[str, Callable[[bytes], Any]],
    docs: list[tuple[str, bytes]],
    rounds: int,
    repeat: int,
) -> dict[str, dict[str, float]]:
    """Each round times every parser in turn (feedparser one pass, the others `repeat`
    passes, for the timer's sake); a parser's figure is its median round. Interleaving makes
    a change of load on the shared box hit every parser alike, so the ratios hold.

    `median_ms` is the typical file rather than the total: each file's best time over all
    rounds and passes, then the median over files (milliseconds of CPU time)."""
    total_bytes = sum(len(b) for _, b in docs)
    per_feed: dict[str, list[float]] = {name: [] for name in parsers}
    failures: dict[str, int] = dict.fromkeys(parsers, 0)
    best: dict[str, list[float]] = {name: [float("inf")] * len(docs) for name in parsers}
    for _ in range(rounds):
        for name, fn in parsers.items():
            passes = 1 if name == "feedparser" else repeat
            elapsed = 0.0
            for _ in range(passes):
                spent, failed = _one_pass(fn, docs, best[name])
                elapsed += spent
                failures[name] = failed
            per_feed[name].append(elapsed / (passes * len(docs)))
    out: dict[str, dict[str, float]] = {}
    for name, values in per_feed.items():
        seconds = statistics.median(values)
        out[name] = {
            "feeds_s": 1 / seconds,
            "mb_s": total_bytes / len(docs) / seconds / 1e6,
            "failures": failures[name],
            "median_ms": statistics.median(best[name]) * 1e3,
        }
    return out


# --------------------------------------------------------------------------- agreement


def _minute(value: datetime | None) -> datetime | None:
    return value.replace(second=0, microsecond=0) if value else None


def _fp_date(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or dict.get(entry, "updated_parsed")
    return datetime(*parsed[:5], tzinfo=UTC) if parsed else None


def agreement(docs: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Compare with feedparser on the corpus's XML feeds (feedparser 6 does not read JSON Feed).

    Entries are paired by GUID when both sides have one, else by position. feedparser's
    feedburner_origlink is used as its link when present, because preferring it is our rule.
    """
    files = equal_counts = equal_after_dedup = 0
    totals = {"titles": 0, "links": 0, "dates": 0}
    compared = 0
    mismatched_files: list[str] = []
    for name, body in docs:
        if body.lstrip()[:1] == b"{":
            continue
        try:
            ours = parse_feed(body)
        except ParseError:
            ours = None
        theirs = _feedparser(body)
        files += 1
        ours_entries = ours.entries if ours else ()
        fp_ids = [e.get("id") for e in theirs.entries]
        if len(ours_entries) == len(theirs.entries):
            equal_counts += 1
        else:
            mismatched_files.append(f"{name} ({len(ours_entries)} vs {len(theirs.entries)})")
        unique_fp = len({i for i in fp_ids if i}) + sum(1 for i in fp_ids if not i)
        equal_after_dedup += len(ours_entries) == unique_fp
        site = ours.link if ours else ""
        by_guid = {e.guid: e for e in ours_entries if e.guid}
        for index, fp in enumerate(theirs.entries):
            mine = by_guid.get(fp.get("id") or "")
            if mine is None and index < len(ours_entries) and not fp.get("id"):
                mine = ours_entries[index]
            if mine is None:
                continue
            compared += 1
            totals["titles"] += mine.title == plain_text(fp.get("title", ""))
            fp_link = fp.get("feedburner_origlink") or fp.get("link") or None
            if fp_link and not fp_link.startswith(("http://", "https://")) and site:
                fp_link = urljoin(site, fp_link)  # feedparser leaves links relative without a URL
            totals["links"] += mine.link == fp_link
            totals["dates"] += _minute(mine.published) == _minute(_fp_date(fp))
    pct = {k: 100.0 * v / max(compared, 1) for k, v in totals.items()}
    return {
        "files": files,
        "equal_counts_pct": 100.0 * equal_counts / max(files, 1),
        "equal_after_dedup_pct": 100.0 * equal_after_dedup / max(files, 1),
        "entries": compared,
        **pct,
        "count_mismatches": mismatched_files,
    }


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"lxml {'.'.join(map(str, etree.LXML_VERSION[:3]))}, feedparser {feedparser.__version__}"
    )


def table(results: dict[str, dict[str, float]], n_docs: int) -> list[str]:
    base = results["feedparser"]["feeds_s"]
    fast = results.get("fastfeedparser", {}).get("median_ms")
    lines = [
        "| parser | feeds/s | MB/s | vs feedparser | median ms/file | vs fastfeedparser "
        "| failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['feeds_s']:,.0f} | {r['mb_s']:.1f} | {r['feeds_s'] / base:.1f}x "
            f"| {r['median_ms']:.3f} | "
            + (f"{r['median_ms'] / fast:.2f}x" if fast else "n/a")
            + f" | {r['failures']:.0f}/{n_docs} |"
        )
    return lines


def write_section(text: str) -> None:
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Parse speed\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: text, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(updated, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--synthetic", type=int, default=60, help="number of synthetic feeds")
    ap.add_argument("--repeat", type=int, default=3, help="passes per round, fast parsers")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (median reported)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs alone")
    ap.add_argument(
        "--save",
        type=Path,
        help="where the figures go for benchmarks/targets.py (default "
        "benchmarks/results-parse.json, not with --no-write; a given FILE is written always)",
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # third-party parsers warn on broken corpus feeds

    sets = {"synthetic": synthetic_docs(args.synthetic)}
    corpus = corpus_docs()
    if corpus:
        sets = {"corpus": corpus, **sets}
    else:
        print(f"corpus not found at {CORPUS}: synthetic feeds only", file=sys.stderr)

    command = "python benchmarks/parse_speed.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a != "--no-write"
    )
    saved: dict[str, Any] = {**run_stamp(), "command": f".venv/bin/{command}", "sets": {}}
    out = [
        "## Parse speed",
        "",
        f"Command: `.venv/bin/{command}`  ",
        f"Machine: {machine()}, single thread, CPU time (process_time), load average "
        f"{os.getloadavg()[0]:.1f} at start (a shared box: absolute figures move with load, the "
        "ratios much less).  ",
        f"{args.rounds} rounds; each round times every parser in turn (feedparser 1 pass, the "
        f"others {args.repeat} passes) and each figure is the parser's median round, so a change "
        "of load hits every parser alike. *median ms/file*: each file's best time over every "
        "round and pass, then the median over the files (the typical feed, where feeds/s is "
        "dominated by the largest and the slowest); *vs fastfeedparser* divides those medians.",
        "",
    ]
    for label, docs in sets.items():
        size = sum(len(b) for _, b in docs) / 1e6
        print(f"== {label}: {len(docs)} feeds, {size:.1f} MB", file=sys.stderr)
        for fn in PARSERS.values():
            fn(docs[0][1])  # warm up imports and caches
        results = measure_all(PARSERS, docs, args.rounds, args.repeat)
        for name, res in results.items():
            print(f"   {name}: {res['feeds_s']:,.0f} feeds/s", file=sys.stderr)
        where = "../shared/corpus/feeds, non-feeds skipped" if label == "corpus" else "generated"
        out += [f"### {label.capitalize()}: {len(docs)} feeds, {size:.1f} MB ({where})", ""]
        saved["sets"][label] = {"feeds": len(docs), "mb": size, "results": results}
        out += [*table(results, len(docs)), ""]
    if corpus:
        a = agreement(corpus)
        saved["agreement"] = a
        out += [
            "### Agreement with feedparser (corpus)",
            "",
            f"- XML feeds compared: {a['files']} (feedparser 6 does not read JSON Feed)",
            f"- files with equal entry counts: {a['equal_counts_pct']:.1f}%; "
            f"{a['equal_after_dedup_pct']:.1f}% once feedparser's entries are de-duplicated by "
            "GUID as parse_feed does on purpose",
            f"- entries compared (paired by GUID, else by position): {a['entries']}",
            f"- equal titles: {a['titles']:.1f}% (feedparser's title through the same "
            "plain-text step)",
            f"- equal links: {a['links']:.1f}% (feedparser's feedburner_origlink counts as its "
            "link; a relative feedparser link is resolved against the feed's site link first)",
            f"- equal published dates, to the minute: {a['dates']:.1f}%",
            "- entry-count differences: " + ("; ".join(a["count_mismatches"]) or "none"),
            "",
        ]
    text = "\n".join(out) + "\n"
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"written to {DOCS.relative_to(ROOT)}", file=sys.stderr)
    if args.save or not args.no_write:
        save_json(args.save or ROOT / "benchmarks" / "results-parse.json", saved)


if __name__ == "__main__":
    main()
