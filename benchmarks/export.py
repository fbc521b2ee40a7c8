"""Static export speed: a full export of a large planet, a re-export with nothing changed, and
a re-export after one update round that stored 10 new posts (which files it touched, and why).

    nice .venv/bin/python benchmarks/export.py --entries 100000 --sources 1000 [--db PATH]
        [--reuse] [--keep] [--new 10] [--no-write]

1. Builds the planet of benchmarks/site.py (same generator: realistic titles and bodies, a
   dozen categories, ~150 posts a day, sealed 48 hours back) in a SQLite file.
2. `export_site` into an empty directory (every page rendered and written), then again with
   nothing changed (pages whose render key did not move are not even rendered), then after
   storing `--new` posts from as many sources through the store's write path and sealing, as
   an update round does: the files written are counted by kind.

Writes "## Static export: <N> entries" in docs/benchmarks.md (other sections are kept) and
benchmarks/results-export-N.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_line, run_stamp, save_json, table, write_section

from netplanet.export import export_site
from netplanet.model import Entry, SourceUpdate, UpdatePlan
from netplanet.settings import Settings
from netplanet.store import open_store


def _site_benchmark() -> Any:
    """benchmarks/site.py, whose planet generator this benchmark shares (the module name
    `site` is the standard library's, so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location("bench_site", Path(__file__).parent / "site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_site"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BENCH_SITE = _site_benchmark()
SEAL_HORIZON = BENCH_SITE.SEAL_HORIZON
build_db = BENCH_SITE.build_db


def kind_of(path: str) -> str:
    """What a written file is, for the report: "post page", "source front", ..."""
    parts = path.split("/")
    if parts[0] == "post":
        return "post page"
    if parts[0] == "search":
        return "search index"
    if parts[0] in ("source", "category", "topic"):
        rest = parts[2:]
        what = "feed" if rest and "." in rest[-1] and rest[-1] != "index.html" else "page"
        if rest and rest[0] == "page":
            what = "numbered page"
        elif rest and rest[0] == "more":
            what = "older page (more/N)"
        elif what == "page":
            what = "front"
        return f"{parts[0]} {what}"
    if parts[0] == "archive":
        return "month archive"
    if parts[0] == "page":
        return "river numbered page"
    if parts[0] == "digest":
        return "digest"
    if parts[0] == "more":
        return "river older page (more/N)"
    if len(parts) == 1:
        return "river front" if path == "index.html" else f"site-wide ({path})"
    return parts[0]


def new_posts(db: Path, count: int) -> None:
    """`count` new posts from `count` sources, stored and sealed as an update round does."""
    store = open_store(f"sqlite:///{db}")
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        sources = store.list_sources()[:: max(1, len(store.list_sources()) // count)][:count]
        plans = []
        for k, source in enumerate(sources):
            entry = Entry(
                source_id=source.id,
                key=f"g:bench-new-{k}-{now.timestamp()}",
                guid=f"bench-new-{k}-{now.timestamp()}",
                url=f"{source.site_url.rstrip('/') or 'https://example.net'}/new-{k}/",
                title_date_hash=f"bench-new-{k}-{now.timestamp()}",
                title=f"New post {k}: EVPN multihoming on a budget",
                author="Bench",
                published=now - timedelta(minutes=k + 1),
                updated=None,
                content_html=f"<p>Fresh text {k} about EVPN.</p>",
                excerpt_html=f"<p>Fresh text {k} about EVPN.</p>",
                text=f"Fresh text {k} about EVPN.",
                categories=(source.category,) if source.category else (),
                fingerprint=f"v1:bench-new-{k}",
                topics=(("datacenter", 0.8),),
            )
            ok = SourceUpdate(
                last_fetched_at=now,
                last_status=200,
                last_error_class="",
                last_error="",
                last_bytes=1000,
                last_duration_ms=50,
                consecutive_failures=0,
                last_success_at=now,
            )
            plans.append(UpdatePlan(source_id=source.id, source=ok, new_entries=(entry,)))
        store.apply_updates(plans)
        store.seal_pages(now - SEAL_HORIZON)
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--new", type=int, default=10, help="new posts in the update round")
    ap.add_argument("--db", type=Path, help="database file (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true", help="use --db as it is when it exists")
    ap.add_argument("--keep", action="store_true", help="keep the database and the export")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    stamp = run_stamp()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-export-"))  # private: nothing else uses it
    db = args.db or tmp / "planet.db"
    out = tmp / "site"
    try:
        if not (args.reuse and db.exists()):
            print(
                f"building {args.entries:,} entries from {args.sources:,} sources", file=sys.stderr
            )
            build_db(db, args.entries, args.sources)
        settings = Settings(site_title="benchmark planet")
        base = "https://planet.example.net/"
        runs = []
        store = open_store(f"sqlite:///{db}")
        try:

            def tick(done: int, total: int) -> None:
                if done % 10_000 < 50 or done == total:
                    print(f"  {done:,}/{total:,} pages", file=sys.stderr)

            for label in ("full export (empty directory)", "again, nothing changed"):
                print(label, file=sys.stderr)
                result = export_site(store, settings, out, base_url=base, progress=tick)
                runs.append((label, result))
                print(f"  {result.summary()}", file=sys.stderr)
        finally:
            store.close()
        new_posts(db, args.new)
        store = open_store(f"sqlite:///{db}")
        try:
            label = f"after an update round with {args.new} new posts"
            print(label, file=sys.stderr)
            result = export_site(store, settings, out, base_url=base, progress=tick)
            runs.append((label, result))
            print(f"  {result.summary()}", file=sys.stderr)
        finally:
            store.close()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)

    rows = [
        [
            label,
            f"{r.seconds:.1f}",
            f"{r.files:,}",
            f"{r.rendered:,}",
            f"{len(r.written):,}",
            f"{len(r.removed):,}",
        ]
        for label, r in runs
    ]
    changed = runs[-1][1]
    kinds = Counter(kind_of(p) for p in changed.written)
    lines = [
        f"## Static export: {args.entries:,} entries",
        "",
        f"`nice .venv/bin/python benchmarks/export.py --entries {args.entries} "
        f"--sources {args.sources} --new {args.new}` ({stamp['date']}, commit "
        f"{stamp['commit']}; {machine_line()}; load average at start {stamp['load']}).",
        "",
        *table(
            ["export", "seconds", "files", "pages rendered", "files written", "removed"],
            rows,
            "lrrrrr",
        ),
        "",
        f"Files written after the update round with {args.new} new posts, by kind:",
        "",
        *table(["kind", "files"], sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])), "lr"),
        "",
        "Numbered pages (sealed) and other posts' pages are never among them: a page is rendered "
        "again only when the stamps of what it shows move (export/pages.py), and written only "
        "when its bytes changed (export/files.py).",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_section(f"## Static export: {args.entries:,} entries", report)
        save_json(
            ROOT / "benchmarks" / f"results-export-{args.entries}.json",
            {
                **stamp,
                "runs": [
                    {
                        "label": label,
                        "seconds": round(r.seconds, 2),
                        "files": r.files,
                        "rendered": r.rendered,
                        "written": len(r.written),
                        "removed": len(r.removed),
                    }
                    for label, r in runs
                ],
                "written_after_update": sorted(changed.written),
            },
        )


if __name__ == "__main__":
    main()
