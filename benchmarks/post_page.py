"""Post page cost: CPU time of `get_entry` and of a whole post page, on each backend.

    nice .venv/bin/python benchmarks/post_page.py [--posts 2000] [--rounds 3]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Stores `--posts` posts (20 sources) through the store's write path in a fresh SQLite file (and,
with `--postgres`, in a fresh schema of that database, dropped afterwards), then reads every
post `--rounds` times: `store.get_entry(id)`, and the post page as the static export renders it
(the `/post/<id>/` handler of an app made with `static=True`, called in-process: no page cache,
no HTTP). Prints the median over rounds of the CPU time (process time, so other load on the
machine barely moves it) per call, in ms. The static export renders one such page per post.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from netplanet.export.render import Renderer
from netplanet.model import Entry, SourceSpec, SourceUpdate, UpdatePlan
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store
from netplanet.web.app import create_app

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SOURCES = 20


def fill(store: SqlStore, posts: int) -> list[int]:
    store.add_sources(
        [
            SourceSpec(
                feed_url=f"https://blog{i}.example.net/feed/",
                title=f"Example Blog {i}",
                site_url=f"https://blog{i}.example.net/",
                category=("Networking", "Security", "Cloud")[i % 3],
            )
            for i in range(SOURCES)
        ]
    )
    fetched = SourceUpdate(
        last_fetched_at=NOW,
        last_status=200,
        last_error_class="",
        last_error="",
        last_bytes=100,
        last_duration_ms=5,
        consecutive_failures=0,
    )
    plans = []
    for k, source in enumerate(store.list_sources()):
        new = tuple(
            Entry(
                source_id=source.id,
                key=f"g:post-{n}",
                guid=f"post-{n}",
                url=f"https://{source.slug}.example.net/{n}/",
                title_date_hash=f"tdh-{n}",
                title=f"Post {n} on EVPN route reflectors",
                author="Ann Author",
                published=NOW - timedelta(minutes=53 * n),
                updated=None,
                content_html=f"<p>Body of post {n} on route reflectors.</p>" * 20,
                excerpt_html=f"<p>Body of post {n}.</p>",
                text=f"Body of post {n} on route reflectors." * 20,
                categories=("Networking",),
                fingerprint=f"v1:fp-{n}",
            )
            for n in range(k, posts, SOURCES)
        )
        plans.append(UpdatePlan(source_id=source.id, source=fetched, new_entries=new))
    store.apply_updates(plans)
    store.seal_pages(NOW - timedelta(hours=48))
    return [e.id for e in store.list_entries(limit=posts)]


def cpu_ms(call: Callable[[int], object], ids: list[int], rounds: int) -> float:
    per_round = []
    for _ in range(rounds):
        start = time.process_time()
        for entry_id in ids:
            call(entry_id)
        per_round.append((time.process_time() - start) / len(ids) * 1000)
    return statistics.median(per_round)


def measure(name: str, url: str, posts: int, rounds: int) -> None:
    store = open_store(url)
    try:
        ids = fill(store, posts)
        app = create_app(store, Settings(site_title="bench"), static=True, clock=lambda: NOW)
        renderer = Renderer(app, "https://example.org/")

        def page(entry_id: int) -> object:
            assert renderer.get(f"/post/{entry_id}/").status == 200
            return None

        page(ids[0])  # templates compiled, statements cached
        got = cpu_ms(store.get_entry, ids, rounds)
        whole = cpu_ms(page, ids, rounds)
        print(f"{name}: {len(ids):,} posts, get_entry {got:.3f} ms CPU, post page {whole:.3f} ms")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL; the posts go into a new schema")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netplanet-post-page-") as folder:
        path = Path(folder) / "planet.db"
        path.touch()
        measure("sqlite", f"sqlite:///{path}", args.posts, args.rounds)
    if args.postgres:
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in args.postgres else "?"
        try:
            url = f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}"
            measure("postgresql", url, args.posts, args.rounds)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


if __name__ == "__main__":
    main()
