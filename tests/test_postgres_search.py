"""PostgreSQL search: the tsquery builder (pure) and the search features on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import NOW, make_entry, plan, spec
from netplanet.store import SqlStore, open_store
from netplanet.store.fts_query import parse_query, to_tsquery


@pytest.mark.postgres
def test_every_translated_query_is_valid_on_the_server(pg: SqlStore) -> None:
    from test_fts_query import CASES

    with pg.engine.connect() as conn:
        for query, _, tsquery in CASES:
            if tsquery:
                conn.execute(sa.text("SELECT to_tsquery('english', :q)"), {"q": tsquery})
            assert isinstance(pg.search(query), list), query


# ------------------------------------------------------------------------ on a real server


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStore]:
    store = open_store(postgres_url)
    s = store.add_source(spec(1, title="Packet Pushers"))
    t = store.add_source(spec(2, title="Ops Diary", category="Security"))
    store.apply_update(
        plan(
            s.id,
            (
                make_entry(s.id, 1, title="Segment routing in practice", text="SRv6 and MPLS"),
                make_entry(s.id, 2, title="Routing loops", text="a segment of the routing table"),
                make_entry(s.id, 3, title="BGP communities", text="large communities, RFC 8092"),
            ),
        )
    )
    store.apply_update(
        plan(
            t.id,
            (
                make_entry(
                    t.id,
                    4,
                    key="g:t4",
                    title="Firewall rules",
                    text="nftables",
                    categories=("Security",),
                ),
            ),
        )
    )
    yield store
    store.close()


def titles(store: SqlStore, query: str, **kw: object) -> list[str]:
    return [h.entry.title for h in store.search(query, **kw)]  # type: ignore[arg-type]


@pytest.mark.postgres
def test_phrases_prefixes_or_and_exclusions(pg: SqlStore) -> None:
    assert titles(pg, '"segment routing"') == ["Segment routing in practice"]
    assert set(titles(pg, "segment routing")) == {
        "Segment routing in practice",
        "Routing loops",
    }
    assert titles(pg, "communit*") == ["BGP communities"]
    assert set(titles(pg, "srv6 OR nftables")) == {"Segment routing in practice", "Firewall rules"}
    assert titles(pg, "routing -srv6") == ["Routing loops"]


@pytest.mark.postgres
def test_stemming_and_title_weight(pg: SqlStore) -> None:
    # "routes" and "routing" share the stem; the title match outranks the text-only one.
    hits = pg.search("routes")
    assert [h.entry.title for h in hits][:2] == ["Routing loops", "Segment routing in practice"]
    assert hits[0].rank <= hits[1].rank  # lower is better, as with SQLite's bm25


@pytest.mark.postgres
def test_source_title_is_searchable_and_follows_renames(pg: SqlStore) -> None:
    assert len(pg.search("pushers")) == 3
    source = pg.get_source_by_slug("packet-pushers")
    assert source is not None
    pg.edit_source(source.id, title="Renamed")
    assert pg.search("pushers") == []
    assert len(pg.search("renamed")) == 3


@pytest.mark.postgres
def test_limit_offset_and_filters(pg: SqlStore) -> None:
    everything = titles(pg, "routing OR communities OR firewall", limit=10)
    assert len(everything) == 4
    assert titles(pg, "routing OR communities OR firewall", limit=2, offset=2) == everything[2:]
    assert titles(pg, "routing OR firewall", category="Security") == ["Firewall rules"]


@pytest.mark.postgres
def test_snippet_marks_are_the_only_markup(pg: SqlStore) -> None:
    src = pg.add_source(spec(3))
    body = "<b>bold</b> &amp; \x02fake mark\x03 then the word ospf"
    pg.apply_update(plan(src.id, (make_entry(src.id, 9, key="g:x", title="x", text=body),)))
    (hit,) = pg.search("ospf")
    assert hit.snippet_html.count("<mark>") == 1 == hit.snippet_html.count("</mark>")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;amp;" in hit.snippet_html
    assert "<mark>ospf</mark>" in hit.snippet_html


@pytest.mark.postgres
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_any_input_is_a_valid_query(pg: SqlStore, query: str) -> None:
    pg.search(query)  # no exception is the assertion


# ------------------------------------------------------------- the newest-matches pool


def _words(i: int) -> str:
    """Matches spread unevenly over time: "recent" only in the newest posts, "old" only in
    the oldest, "rare" in one post in thirteen."""
    words = ["common"]
    words += ["half"] * (i % 2) + ["rare"] * (i % 13 == 0)
    words += ["recent"] * (i >= 70) + ["old"] * (i < 12) + ["third"] * (i % 3 == 0)
    return " ".join(words + [f"filler{i % 7}"] * (i % 4))


@pytest.fixture(params=[1.25, 0.1], ids=["estimated", "widened"])
def pooled(
    pg: SqlStore, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> SqlStore:
    """90 more posts over two sources, searched with a pool of 7. With a margin of 0.1 the
    first id range is ten times too narrow, so the widening is what finds the pool."""
    import netplanet.store.postgres as pgsearch

    monkeypatch.setattr(pgsearch, "RANK_POOL", 7)
    monkeypatch.setattr(pgsearch, "_MARGIN", request.param)
    a = pg.add_source(spec(5, title="Alpha"))
    b = pg.add_source(spec(6, title="Beta", category="Security"))
    for i in range(90):
        src = a if i % 3 else b
        entry = make_entry(
            src.id,
            100 + i,
            key=f"g:p{i}",
            title=f"Post {i} " + ("third" if i % 5 == 0 else ""),
            text=_words(i),
            published=NOW - timedelta(hours=i // 4),  # ties, broken by id
            categories=("Security",) if i % 2 else (),
        )
        pg.apply_update(plan(src.id, (entry,)))
    while pg.index_pending():  # the vectors, before the statistics are taken from them
        pass
    with pg.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # the range is sized from the planner's estimate
    return pg


def _reference(store: SqlStore, query: str, limit: int, offset: int, **kw: object) -> list[int]:
    """The definition, the slow way: every match, newest POOL kept, ranked, one page."""
    import netplanet.store.postgres as pgsearch

    filters, params = "", {"tsq": to_tsquery(parse_query(query))}
    if "source_id" in kw:
        filters += " AND e.source_id = :sid"
        params["sid"] = kw["source_id"]  # type: ignore[assignment]
    if "category" in kw:
        filters += " AND e.id IN (SELECT entry_id FROM entry_categories WHERE category_slug = :c)"
        params["c"] = str(kw["category"]).lower()
    with store.engine.connect() as conn:
        matches = conn.execute(
            sa.text(
                "SELECT e.id, e.published, ts_rank_cd(:w, e.search_vector, q) AS rank"
                " FROM entries AS e, to_tsquery('english', :tsq) AS q"
                f" WHERE e.search_vector @@ q{filters}"
            ),
            {**params, "w": pgsearch._WEIGHTS},
        ).all()
    newest = sorted(matches, key=lambda m: -m.id)[: pgsearch.RANK_POOL]
    ranked = sorted(newest, key=lambda m: (-m.rank, -m.published.timestamp(), -m.id))
    return [m.id for m in ranked[offset : offset + limit]]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query", ["common", "half", "rare", "recent", "old", "third", "half -rare", "old OR recent"]
)
def test_pool_is_the_newest_matches_however_they_are_spread(pooled: SqlStore, query: str) -> None:
    for kw in ({}, {"source_id": pooled.get_source_by_slug("beta").id}, {"category": "Security"}):  # type: ignore[union-attr]
        for limit, offset in ((20, 0), (3, 0), (3, 3), (4, 5), (5, 20)):
            got = [h.entry.id for h in pooled.search(query, limit=limit, offset=offset, **kw)]  # type: ignore[arg-type]
            assert got == _reference(pooled, query, limit, offset, **kw), (kw, limit, offset)


@pytest.mark.postgres
def test_common_words_search_the_newest_ids_rare_ones_the_whole_table(pooled: SqlStore) -> None:
    searches: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "ts_headline" in statement:
            searches.append(statement)

    sa.event.listen(pooled.engine, "before_cursor_execute", record)
    try:
        assert len(pooled.search("common")) == 7
        assert "e.id > " in searches[-1]  # the last, successful attempt: a range of ids
        assert len(pooled.search("rare")) == 7  # 7 matches in 94 posts: the whole table
        assert "e.id > " not in searches[-1]
    finally:
        sa.event.remove(pooled.engine, "before_cursor_execute", record)
