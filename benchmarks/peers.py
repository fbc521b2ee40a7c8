"""Peer feed readers driven by the update benchmark; runs in the peers virtualenv.

    benchmarks/.venv-peers/bin/python benchmarks/peers.py reader-add --db DB --urls FILE
    benchmarks/.venv-peers/bin/python benchmarks/peers.py reader --db DB [--workers 16]
    benchmarks/.venv-peers/bin/python benchmarks/peers.py naive --dir DIR --urls FILE
    benchmarks/.venv-peers/bin/python benchmarks/peers.py count-reader --db DB

`reader` is lemon24/reader (`pip install reader`): one `update_feeds(scheduled=False,
workers=N)` call, i.e. every feed now, N threads retrieving (reader parses with feedparser and
stores in SQLite). `naive` is the floor of effort: a sequential loop of requests.get (with
If-None-Match / If-Modified-Since kept in a JSON file) and feedparser.parse, storing each
entry's id, title, link, date and content in SQLite. Each prints one JSON line with counts.
The peers venv is separate from the project's: `make bench` creates it
(benchmarks/requirements-peers.txt); nothing here is a netplanet dependency.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any


def reader_add(db: str, urls: Path) -> dict[str, Any]:
    from reader import make_reader

    r = make_reader(db)
    added = 0
    for url in urls.read_text().split():
        r.add_feed(url, exist_ok=True)
        added += 1
    r.close()
    return {"added": added}


def reader_update(db: str, workers: int) -> dict[str, Any]:
    from reader import make_reader

    r = make_reader(db)
    r.update_feeds(scheduled=False, workers=workers)
    feeds = list(r.get_feeds())
    broken = sum(1 for f in feeds if f.last_exception is not None)
    entries = r.get_entry_counts().total
    r.close()
    return {"feeds": len(feeds), "broken": broken, "entries": entries}


def naive(folder: Path, urls: Path) -> dict[str, Any]:
    import feedparser
    import requests

    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "state.json"
    state: dict[str, dict[str, str]] = (
        json.loads(state_file.read_text()) if state_file.exists() else {}
    )
    db = sqlite3.connect(folder / "naive.db")
    db.execute(
        "CREATE TABLE IF NOT EXISTS entries (feed TEXT, id TEXT, title TEXT, link TEXT, "
        "published TEXT, content TEXT, PRIMARY KEY (feed, id))"
    )
    session = requests.Session()
    counts = {"200": 0, "304": 0, "errors": 0}
    for url in urls.read_text().split():
        headers = {}
        seen = state.get(url, {})
        if "etag" in seen:
            headers["If-None-Match"] = seen["etag"]
        if "modified" in seen:
            headers["If-Modified-Since"] = seen["modified"]
        try:
            resp = session.get(url, headers=headers, timeout=30)
        except requests.RequestException:
            counts["errors"] += 1
            continue
        if resp.status_code == 304:
            counts["304"] += 1
            continue
        counts["200"] += 1
        parsed = feedparser.parse(resp.content, response_headers=dict(resp.headers))
        rows = []
        for e in parsed.entries:
            content = e.get("content", [{}])[0].get("value") or e.get("summary", "")
            rows.append(
                (
                    url,
                    e.get("id") or e.get("link"),
                    e.get("title", ""),
                    e.get("link", ""),
                    e.get("published", ""),
                    content,
                )
            )
        db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.commit()
        state[url] = {
            k: v
            for k, v in (
                ("etag", resp.headers.get("ETag")),
                ("modified", resp.headers.get("Last-Modified")),
            )
            if v
        }
    state_file.write_text(json.dumps(state))
    counts["entries"] = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    db.close()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("reader-add")
    p.add_argument("--db", required=True)
    p.add_argument("--urls", type=Path, required=True)
    p = sub.add_parser("reader")
    p.add_argument("--db", required=True)
    p.add_argument("--workers", type=int, default=16)
    p = sub.add_parser("naive")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--urls", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "reader-add":
        out = reader_add(args.db, args.urls)
    elif args.cmd == "reader":
        out = reader_update(args.db, args.workers)
    else:
        out = naive(args.dir, args.urls)
    print(json.dumps(out), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
