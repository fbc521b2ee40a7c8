"""SQLite search specifics: ranking is bounded to the most recently stored matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import make_entry, plan, spec
from netplanet.store import open_store
from netplanet.store import sqlite as sqlite_backend


def test_common_words_are_ranked_among_the_newest_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        s = store.add_source(spec(1))
        # Entry 1 mentions the word most often (the best bm25 score) but is stored first.
        first = make_entry(s.id, 1, title="ospf ospf ospf", text="ospf ospf ospf ospf")
        later = tuple(make_entry(s.id, n, title=f"note {n}", text="ospf once") for n in range(2, 6))
        store.apply_update(plan(s.id, (first,)))
        store.apply_update(plan(s.id, later))
        assert store.search("ospf")[0].entry.title == "ospf ospf ospf"
        monkeypatch.setattr(sqlite_backend, "RANK_POOL", 3)
        hits = store.search("ospf")
        assert len(hits) == 3
        assert "ospf ospf ospf" not in {h.entry.title for h in hits}
    finally:
        store.close()


def test_every_translated_query_is_valid_fts5() -> None:
    import sqlite3

    from netplanet.store.fts_query import parse_query, to_fts5
    from test_fts_query import CASES

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(t, tokenize='porter unicode61')")
    conn.execute("INSERT INTO f VALUES ('bgp evpn vxlan data center')")
    for query, fts5, _ in CASES:
        parsed = parse_query(query)
        for match in (fts5, to_fts5(parsed.any_excluded()), to_fts5(parsed.positive())):
            if match:
                conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (match,)).fetchall()
    conn.close()
