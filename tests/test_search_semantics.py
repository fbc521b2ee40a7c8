"""What a reader's query means, checked on every backend with the same cases.

Words are ANDed, "phrases" match in order, OR joins the two terms beside it, -word (or NOT
word) excludes posts containing it whatever the rest of the query, and a query of only
exclusions lists the newest posts without those words. Highlights never mark excluded words.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from builders import NOW, make_entry, plan, spec
from netplanet.store import SqlStore

# (title, text, category); published one hour apart, the first the newest.
POSTS = [
    ("EVPN with VXLAN", "an evpn control plane for a vxlan overlay", "Networking"),
    ("EVPN route type 5", 'evpn "route type 5" carries ip prefixes over mpls', "Networking"),
    ("Fabric notes", "evpn in the data hall, and the rack at the center", "Networking"),
    ("BGP communities", "large communities in bgp, RFC 8092", "Networking"),
    ("Geneve encapsulation", "geneve compared with vxlan headers", "Networking"),
    ("Meetup in Zürich", "naïve café talk about ospf timers", "Security"),
]
ALL = [t for t, _, _ in POSTS]


@pytest.fixture
def corpus(store: SqlStore) -> SqlStore:
    s = store.add_source(spec(1, title="Example Planet Blog"))
    entries = tuple(
        make_entry(
            s.id,
            n,
            title=title,
            text=text,
            content_html=f"<p>{text}</p>",
            categories=(category,),
            published=NOW - timedelta(hours=n),
        )
        for n, (title, text, category) in enumerate(POSTS)
    )
    store.apply_update(plan(s.id, entries))
    return store


def _without(*titles: str) -> list[str]:
    return [t for t in ALL if t not in titles]


# (query, expected titles). A list is an exact order (the exclusion-only listings are newest
# first); a set is matched regardless of rank.
CASES: list[tuple[str, list[str] | set[str]]] = [
    ("evpn", {"EVPN with VXLAN", "EVPN route type 5", "Fabric notes"}),
    ("-vxlan", _without("EVPN with VXLAN", "Geneve encapsulation")),
    ("--vxlan", _without("EVPN with VXLAN", "Geneve encapsulation")),
    ("-vxlan -evpn", ["BGP communities", "Meetup in Zürich"]),
    ('-"route type 5"', _without("EVPN route type 5")),
    ("-vxl*", _without("EVPN with VXLAN", "Geneve encapsulation")),
    ("evpn -vxlan", {"EVPN route type 5", "Fabric notes"}),
    ("evpn NOT vxlan", {"EVPN route type 5", "Fabric notes"}),
    ('evpn "route type 5" -vxlan', {"EVPN route type 5"}),
    ('"route type', {"EVPN route type 5"}),  # an unbalanced quote: plain words
    ("vxlan OR bgp", {"EVPN with VXLAN", "BGP communities", "Geneve encapsulation"}),
    # OR joins its neighbours only: evpn AND (vxlan OR geneve).
    ("evpn vxlan OR geneve", {"EVPN with VXLAN"}),
    # An exclusion applies to the whole query, OR included.
    ("evpn OR bgp -vxlan", {"EVPN route type 5", "Fabric notes", "BGP communities"}),
    ('evpn -"data center"', {"EVPN with VXLAN", "EVPN route type 5", "Fabric notes"}),
    ("encap*", {"Geneve encapsulation"}),
    ("bgp AND communities", {"BGP communities"}),
    ("café", {"Meetup in Zürich"}),
    ("ZÜRICH", {"Meetup in Zürich"}),
    ("title:geneve", set()),  # no column filters: "title" is a word like any other
    ("geneve:headers", {"Geneve encapsulation"}),
    ("NEAR(evpn vxlan)", set()),  # no NEAR operator: "near" is a word
    ("vxlan*", {"EVPN with VXLAN", "Geneve encapsulation"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_query_semantics(corpus: SqlStore, query: str, expected: list[str] | set[str]) -> None:
    found = [h.entry.title for h in corpus.search(query, limit=50)]
    if isinstance(expected, set):
        assert set(found) == expected and len(found) == len(expected)
    else:
        assert found == expected
    assert corpus.count_matches(query) == len(expected)


@pytest.mark.parametrize("query", ["", " ", "-", "--", '"', '""', "()", "*", "OR", "- -", "+"])
def test_queries_without_words_find_nothing(corpus: SqlStore, query: str) -> None:
    assert corpus.search(query) == []
    assert corpus.count_matches(query) == 0


def test_excluded_words_are_never_highlighted(corpus: SqlStore) -> None:
    for query, excluded in (
        ('evpn -"data center"', ("data", "center")),
        ("evpn OR bgp -vxlan", ("vxlan",)),
        ("-vxlan", ("vxlan",)),
    ):
        for hit in corpus.search(query, limit=50):
            marked = hit.snippet_html.lower()
            assert not any(f"<mark>{w}" in marked for w in excluded), (query, hit.snippet_html)
    fabric = corpus.search('evpn -"data center"', limit=50)
    assert any("<mark>evpn</mark>" in h.snippet_html.lower() for h in fabric)


def test_exclusion_only_listing_has_plain_snippets_and_filters(corpus: SqlStore) -> None:
    hits = corpus.search("-vxlan", limit=2, offset=1)
    assert [h.entry.title for h in hits] == ["Fabric notes", "BGP communities"]
    assert all("<mark>" not in h.snippet_html and h.snippet_html for h in hits)
    assert [h.entry.title for h in corpus.search("-ospf", category="Security")] == []
    assert [h.entry.title for h in corpus.search("-evpn", category="Security")] == [
        "Meetup in Zürich"
    ]
    source = corpus.get_source_by_slug("example-planet-blog")
    assert source is not None
    assert len(corpus.search("-vxlan", source_id=source.id, limit=50)) == 4
    assert corpus.count_matches("-vxlan", category="Networking") == 3


def test_count_is_capped(corpus: SqlStore) -> None:
    assert corpus.count_matches("evpn", cap=2) == 3  # "more than 2"
    assert corpus.count_matches("evpn", cap=3) == 3
    assert corpus.count_matches("-vxlan", cap=1) == 2
    assert corpus.count_matches("evpn", category="Security") == 0
