"""The reader's query, parsed once and written for each engine (pure: no database)."""

from __future__ import annotations

import pytest

from netplanet.store.fts_query import parse_query, to_fts5, to_tsquery

# (reader input, FTS5 MATCH, PostgreSQL to_tsquery). An empty FTS5 form with a tsquery means
# "only exclusions" (run as NOT IN the excluded words' matches); both empty means no words.
CASES = [
    ("bgp", '"bgp"', "'bgp'"),
    ("BGP evpn", '"bgp" AND "evpn"', "'bgp' & 'evpn'"),
    ("route*", '"route"*', "'route':*"),
    ('"segment routing"', '"segment routing"', "('segment' <-> 'routing')"),
    ('"Segment  Routing', '"segment" AND "routing"', "'segment' & 'routing'"),  # unbalanced
    ('"route type 5" evpn', '"route type 5" AND "evpn"', "('route' <-> 'type' <-> '5') & 'evpn'"),
    ("ipv6-only", '"ipv6 only"', "('ipv6' <-> 'only')"),
    ("it's", '"it s"', "('it' <-> 's')"),
    ("bgp OR ospf", '("bgp" OR "ospf")', "('bgp' | 'ospf')"),
    ("evpn vxlan OR geneve", '"evpn" AND ("vxlan" OR "geneve")', "'evpn' & ('vxlan' | 'geneve')"),
    ("a OR b OR c", '("a" OR "b" OR "c")', "('a' | 'b' | 'c')"),
    ("OR bgp", '"bgp"', "'bgp'"),
    ("bgp OR", '"bgp"', "'bgp'"),
    ("bgp or ospf", '"bgp" AND "or" AND "ospf"', "'bgp' & 'or' & 'ospf'"),  # only OR is OR
    ("bgp -ospf", '"bgp" NOT "ospf"', "'bgp' & !'ospf'"),
    ("bgp --ospf", '"bgp" NOT "ospf"', "'bgp' & !'ospf'"),
    ("bgp NOT ospf", '"bgp" NOT "ospf"', "'bgp' & !'ospf'"),
    ("bgp AND ospf", '"bgp" AND "ospf"', "'bgp' & 'ospf'"),
    ('-"data center" bgp', '"bgp" NOT "data center"', "'bgp' & !('data' <-> 'center')"),
    (
        "evpn OR bgp -vxlan -geneve",
        '("evpn" OR "bgp") NOT ("vxlan" OR "geneve")',
        "('evpn' | 'bgp') & !'vxlan' & !'geneve'",
    ),
    ("a b -c", '("a" AND "b") NOT "c"', "'a' & 'b' & !'c'"),
    ("a OR -b OR c", '("a" OR "c") NOT "b"', "('a' | 'c') & !'b'"),
    ("-vxlan", "", "!'vxlan'"),
    ("-vxlan -geneve*", "", "!'vxlan' & !'geneve':*"),
    ("NOT vxlan", "", "!'vxlan'"),
    ("", "", ""),
    ("-", "", ""),
    ("--", "", ""),
    ('"', "", ""),
    ('""', "", ""),
    ("( ) ^ * + :", "", ""),
    ("OR AND NOT", "", ""),
    ("NEAR(bgp ospf)", '"near" AND "bgp" AND "ospf"', "'near' & 'bgp' & 'ospf'"),
    ("title:bgp", '"title" AND "bgp"', "'title' & 'bgp'"),
    ("bgp^2 {x}", '"bgp" AND "2" AND "x"', "'bgp' & '2' & 'x'"),
    ('say "hi"there', '"say" AND "hi" AND "there"', "'say' & 'hi' & 'there'"),
    ("Zürich ÉCOLE", '"zürich" AND "école"', "'zürich' & 'école'"),
    ("東京 -🙂", '"東京"', "'東京'"),
    ("o'brien", '"o brien"', "('o' <-> 'brien')"),
    ("x\\y", '"x" AND "y"', "'x' & 'y'"),
]


@pytest.mark.parametrize(("query", "fts5", "tsquery"), CASES, ids=[c[0] for c in CASES])
def test_translation(query: str, fts5: str, tsquery: str) -> None:
    parsed = parse_query(query)
    assert to_fts5(parsed) == fts5
    assert to_tsquery(parsed) == tsquery
    assert parsed.empty == (tsquery == "")
    assert parsed.only_exclusions == (fts5 == "" and tsquery != "")


def test_exclusion_only_queries_match_the_excluded_words_for_not_in() -> None:
    parsed = parse_query('-vxlan -"data center"')
    assert to_fts5(parsed.any_excluded()) == '("vxlan" OR "data center")'
    assert to_tsquery(parsed.any_excluded()) == "('vxlan' | ('data' <-> 'center'))"
    # Nothing excluded: nothing to leave out (not one empty group, which is not empty).
    assert parse_query("evpn").any_excluded().empty


def test_highlighting_uses_only_the_positive_part() -> None:
    parsed = parse_query('evpn -"data center"')
    assert to_fts5(parsed.positive()) == '"evpn"'
    assert to_tsquery(parsed.positive()) == "'evpn'"


def test_words_are_capped() -> None:
    assert to_tsquery(parse_query("a" * 5000)) == "'" + "a" * 200 + "'"
    assert to_fts5(parse_query(" ".join(f"w{n}" for n in range(40)))).count("AND") == 15
