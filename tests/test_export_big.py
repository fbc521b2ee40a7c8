"""The static export of a 10,000-post synthetic planet (100 sources, 3 categories, 3 topics,
stored through the store's own write path and sealed): every internal link of the export
finds its file, and a new post touches only the files that show it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from builders import make_entry, plan, spec
from export_support import broken_links, export_files
from netplanet.export import export_site
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store

POSTS_PER_SOURCE = 100
SOURCES = 100
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
WORDS = ("bgp", "evpn", "vxlan", "ospf", "isis", "mpls", "segment", "routing", "telemetry")
WORDS += ("kubernetes", "firewall", "ddos", "peering", "ipv6", "wifi", "sdwan", "anycast", "qos")
SETTINGS = Settings(site_title="big planet")


def _posts(store: SqlStore) -> None:
    rng = random.Random(13)
    store.add_sources(
        [spec(i, category=("Networking", "Security", "Cloud")[i % 3]) for i in range(SOURCES)]
    )
    plans = []
    n = 0
    for source in store.list_sources():
        new = []
        for _ in range(POSTS_PER_SOURCE):
            n += 1
            new.append(
                make_entry(
                    source.id,
                    n,
                    # one post every ~50 minutes over a year, sources interleaved
                    published=NOW - timedelta(minutes=53 * n % 525_600),
                    title=" ".join(rng.sample(WORDS, 5)).capitalize() + f" ({n})",
                    url=f"https://{source.slug}.example.net/{n}/",
                    topics=((rng.choice(("routing", "security", "datacenter")), 0.8),),
                )
            )
        plans.append(plan(source.id, new=tuple(new)))
    results = store.apply_updates(plans)
    assert not [r for r in results if isinstance(r, Exception)]
    store.seal_pages(NOW - timedelta(hours=48))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqlStore, Path]]:
    folder = Path(tmp_path_factory.mktemp("export-big"))
    store = open_store(f"sqlite:///{folder / 'big.db'}")
    try:
        _posts(store)
        yield store, folder / "out"
    finally:
        store.close()


def _export(store: SqlStore, out: Path) -> object:
    return export_site(store, SETTINGS, out, base_url="https://example.org/", clock=lambda: NOW)


def test_a_10000_post_export_has_every_page_and_no_broken_link(
    big: tuple[SqlStore, Path],
) -> None:
    store, out = big
    result = export_site(store, SETTINGS, out, base_url="https://example.org/", clock=lambda: NOW)
    assert result.missing == []
    files = export_files(out)
    posts = [f for f in files if f.startswith("post/")]
    assert len(posts) == SOURCES * POSTS_PER_SOURCE
    assert len([f for f in files if f.startswith("page/")]) >= 300  # the river's pages
    assert len([f for f in files if f.startswith("search/20")]) >= 12
    assert broken_links(out) == []


def test_a_new_post_in_a_big_export_touches_few_files(big: tuple[SqlStore, Path]) -> None:
    store, out = big
    if not out.exists():
        export_site(store, SETTINGS, out, base_url="https://example.org/", clock=lambda: NOW)
    source = store.list_sources()[7]
    entry = make_entry(
        source.id, 99_999, published=NOW - timedelta(minutes=1), title="Fresh news on EVPN"
    )
    store.apply_updates([plan(source.id, new=(entry,))])
    result = export_site(store, SETTINGS, out, base_url="https://example.org/", clock=lambda: NOW)
    assert 5 < len(result.written) < 60, result.written
    assert not [f for f in result.written if "/page/" in f or f.startswith("page/")]
    assert result.rendered < 1_000  # of ~12,000 pages: only those whose key moved
