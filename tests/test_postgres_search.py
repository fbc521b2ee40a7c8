"""PostgreSQL search: the tsquery builder (pure) and the search features on a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import make_entry, plan, spec
from netplanet.store import SqlStore, open_store
from netplanet.store.fts_query import parse_query, to_tsquery


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bgp", "'bgp'"),
        ("bgp evpn", "'bgp' & 'evpn'"),
        ("route*", "'route':*"),
        ('"segment routing"', "('segment' <-> 'routing')"),
        ("ipv6-only", "('ipv6' <-> 'only')"),
        ("bgp OR ospf", "'bgp' | 'ospf'"),
        ("bgp -ospf", "'bgp' & !'ospf'"),
        ('-"data center" bgp', "!('data' <-> 'center') & 'bgp'"),
        ("-bgp", "'bgp'"),
        ("OR bgp", "'bgp'"),
        ("it's", "('it' <-> 's')"),
        ("", ""),
    ],
)
def test_to_tsquery(query: str, expected: str) -> None:
    assert to_tsquery(parse_query(query)) == expected


def test_to_tsquery_caps_word_length() -> None:
    assert to_tsquery(parse_query("a" * 5000)) == "'" + "a" * 200 + "'"


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
