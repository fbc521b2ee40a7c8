"""Topic archives in the store: positions per topic given by sealing (backlogs filed at their
dated place, as categories), numbered-page reads, and the label and topic filters of lists
and search. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from builders import NOW, make_entry, plan, spec
from netplanet.model import Entry
from netplanet.store import SqlStore
from netplanet.store.base import Labels, Scope

ROUTING = (("routing", 0.9),)
BOTH = (("routing", 0.8), ("security", 0.4))


def _topic_positions(store: SqlStore) -> dict[str, list[int]]:
    """Entry ids per topic, by position (oldest first)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT topic_slug, entry_id FROM entry_topics WHERE seq IS NOT NULL"
            " ORDER BY topic_slug, seq"
        ).all()
    out: dict[str, list[int]] = {}
    for slug, entry_id in rows:
        out.setdefault(slug, []).append(entry_id)
    return out


def _by_date(entries: list[Entry], ids: dict[str, int]) -> list[int]:
    return [ids[e.key] for e in sorted(entries, key=lambda e: (e.published, ids[e.key]))]


def _ids(store: SqlStore) -> dict[str, int]:
    return {e.key: e.id for e in store.list_entries(limit=1000)}


def test_sealing_numbers_each_topic_in_date_order(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    posts = [make_entry(s.id, n, topics=BOTH if n % 2 else ROUTING) for n in range(1, 9)]
    store.apply_update(plan(s.id, tuple(posts)))
    store.seal_pages(NOW)
    ids = _ids(store)
    positions = _topic_positions(store)
    assert positions["routing"] == _by_date(posts, ids)
    assert positions["security"] == _by_date(
        [p for p in posts if dict(p.topics).get("security")], ids
    )
    assert store.max_seq(topic="routing") == 8
    assert store.max_seq(topic="security") == 4
    assert store.max_seq(topic="wireless") == 0
    page = store.sealed_entries(topic="security", low=2, high=4, limit=10)
    assert [r.seq for r in page] == [4, 3]
    assert [r.entry.id for r in page] == positions["security"][3:1:-1]
    assert page[0].entry.topics[0][0] == "routing"  # the post's own topics come along


def test_a_late_backlog_is_filed_at_its_dated_place_in_its_topic(store: SqlStore) -> None:
    old = store.add_source(spec(1))
    first = [make_entry(old.id, n, topics=ROUTING) for n in range(1, 7)]
    store.apply_update(plan(old.id, tuple(first)))
    store.seal_pages(NOW)
    new = store.add_source(spec(2))
    backlog = [
        make_entry(new.id, 100 + n, published=NOW - timedelta(hours=n, minutes=30), topics=ROUTING)
        for n in (2, 4)
    ] + [make_entry(new.id, 200, published=datetime(2008, 8, 17, tzinfo=UTC), topics=ROUTING)]
    store.apply_update(plan(new.id, tuple(backlog)))
    store.seal_pages(NOW)
    ids = _ids(store)
    assert _topic_positions(store)["routing"] == _by_date(first + backlog, ids)
    with store.engine.connect() as conn:
        seqs = sorted(r[0] for r in conn.exec_driver_sql("SELECT seq FROM entry_topics"))
    assert seqs == list(range(1, 10))


def test_keyset_lists_of_a_topic_and_its_unsealed_head(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    posts = [make_entry(s.id, n, topics=BOTH if n <= 3 else ROUTING) for n in range(1, 7)]
    store.apply_update(plan(s.id, tuple(posts)))
    store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # posts 1 and 2 stay unsealed
    ids = _ids(store)
    head = store.keyset_entries(Scope(topic="security", unsealed=True), limit=10)
    assert [e.id for e in head] == [ids["g:post-1"], ids["g:post-2"]]
    whole = store.keyset_entries(Scope(topic="security"), limit=10)
    assert [e.id for e in whole] == [ids[f"g:post-{n}"] for n in (1, 2, 3)]
    assert store.max_seq(topic="security") == 1


def test_labels_leave_podcasts_and_sponsored_posts_out_of_lists(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    posts = [
        make_entry(s.id, 1, topics=ROUTING),
        make_entry(s.id, 2, topics=ROUTING, podcast=True),
        make_entry(s.id, 3, topics=ROUTING, sponsored=True),
        make_entry(s.id, 4, topics=ROUTING),
    ]
    store.apply_update(plan(s.id, tuple(posts)))
    store.seal_pages(NOW)
    ids = _ids(store)
    plain = Labels(podcasts=False, sponsored=False)
    keep = [ids["g:post-1"], ids["g:post-4"]]
    assert [e.id for e in store.keyset_entries(Scope(labels=plain), limit=10)] == keep
    assert [
        e.id for e in store.keyset_entries(Scope(topic="routing", labels=plain), limit=10)
    ] == keep
    sealed = store.sealed_entries(topic="routing", limit=10, labels=plain)
    assert [r.entry.id for r in sealed] == keep
    assert [r.seq for r in sealed] == [4, 1]  # positions are kept: the page shows fewer posts
    no_pods = [e.id for e in store.list_entries(labels=Labels(podcasts=False))]
    assert ids["g:post-2"] not in no_pods and ids["g:post-3"] in no_pods
    no_ads = [e.id for e in store.list_entries(topic="routing", labels=Labels(sponsored=False))]
    assert ids["g:post-3"] not in no_ads and ids["g:post-2"] in no_ads
    assert len(store.list_entries(topic="wireless")) == 0


def test_search_filters_by_topic_and_labels(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    posts = [
        make_entry(s.id, 1, topics=BOTH),
        make_entry(s.id, 2, topics=ROUTING, podcast=True),
        make_entry(s.id, 3, topics=(("security", 0.7),), sponsored=True),
        make_entry(s.id, 4, topics=ROUTING),
    ]
    store.apply_update(plan(s.id, tuple(posts)))
    ids = _ids(store)

    def found(query: str, **kw: object) -> set[int]:
        hits = {h.entry.id for h in store.search(query, limit=10, **kw)}  # type: ignore[arg-type]
        assert store.count_matches(query, **kw) == len(hits)  # type: ignore[arg-type]
        return hits

    for query in ("reflectors", "-nothinglikethis"):  # ranked, and the exclusion-only listing
        assert found(query, topic="security") == {ids["g:post-1"], ids["g:post-3"]}
        assert found(query, topic="wireless") == set()
        assert found(query, labels=Labels(podcasts=False)) == {
            ids[f"g:post-{n}"] for n in (1, 3, 4)
        }
        assert found(query, topic="routing", labels=Labels(podcasts=False, sponsored=False)) == {
            ids["g:post-1"],
            ids["g:post-4"],
        }
