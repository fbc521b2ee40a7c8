"""Writes and reads of stored posts' topics (store/topics.py), on both backends: counts, the
topic filter and copies of `list_entries`, re-classification's reads and writes, an
operator's override and how it survives edits and re-classification."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from builders import make_entry, plan, spec
from netplanet.errors import NotFoundError
from netplanet.store.schema import entries, entry_topics
from netplanet.store.sql import SqlStore

ROUTING = (("routing", 0.8), ("security", 0.3))


def _rows(store: SqlStore, entry_id: int) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        return [
            (r.topic_slug, r.rank)
            for r in conn.execute(
                sa.select(entry_topics.c.topic_slug, entry_topics.c.rank)
                .where(entry_topics.c.entry_id == entry_id)
                .order_by(entry_topics.c.rank)
            )
        ]


def _store_posts(store: SqlStore, n: int = 3) -> list[int]:
    src = store.add_source(spec(1))
    posts = tuple(
        make_entry(src.id, i, topics=ROUTING if i % 2 else (("wireless", 0.5),))
        for i in range(1, n + 1)
    )
    store.apply_update(plan(src.id, posts))
    return sorted(e.id for e in store.list_entries(limit=100))


def test_counts_and_the_topic_filter(store: SqlStore) -> None:
    ids = _store_posts(store, 3)
    assert store.topic_counts() == {"routing": 2, "security": 2, "wireless": 1}
    routing = store.list_entries(topic="routing")
    assert sorted(e.id for e in routing) == [ids[0], ids[2]]
    assert routing[0].topics == ROUTING and routing[0].topic_slugs == ("routing", "security")
    assert store.list_entries(topic="no-such-topic") == []
    assert store.last_entry_id() == ids[-1]


def test_copies_are_left_out_on_request(store: SqlStore) -> None:
    first, copy, _ = _store_posts(store, 3)
    with store.engine.begin() as conn:
        conn.execute(sa.update(entries).where(entries.c.id == copy).values(duplicate_of=first))
    assert copy in {e.id for e in store.list_entries()}
    assert copy not in {e.id for e in store.list_entries(copies=False)}


def test_entries_to_classify_walks_by_id_skipping_manual_posts(store: SqlStore) -> None:
    ids = _store_posts(store, 4)
    store.set_topics(ids[1], (("wireless", 1.0),), manual=True)
    first = store.entries_to_classify(after_id=0, limit=2, text_chars=5)
    assert [r.id for r in first] == [ids[0], ids[2]]
    assert all(len(r.text) <= 5 for r in first)
    assert first[0].source_title == "Example Blog 1" and first[0].category == "Networking"
    assert first[0].topics == ROUTING
    rest = store.entries_to_classify(after_id=first[-1].id, limit=2, text_chars=5)
    assert [r.id for r in rest] == [ids[3]]
    every = store.entries_to_classify(after_id=ids[0], limit=1, text_chars=100, manual=True)
    assert [r.id for r in every] == [ids[1]]


def test_rewrite_topics_updates_both_tables_and_keeps_manual_posts(store: SqlStore) -> None:
    a, b, _ = _store_posts(store, 3)
    store.set_topics(b, (("wireless", 1.0),), manual=True)
    changed = store.rewrite_topics([(a, (("cloud", 0.6), ("routing", 0.4))), (b, ROUTING)])
    assert changed == 1
    post = store.get_entry(a)
    assert post is not None and post.topics == (("cloud", 0.6), ("routing", 0.4))
    assert not post.topics_manual
    assert _rows(store, a) == [("cloud", 0), ("routing", 1)]
    kept = store.get_entry(b)
    assert kept is not None and kept.topics == (("wireless", 1.0),) and kept.topics_manual
    assert _rows(store, b) == [("wireless", 0)]
    assert store.rewrite_topics([]) == 0


def test_an_override_survives_edits_and_can_be_handed_back(store: SqlStore) -> None:
    src = store.add_source(spec(1))
    post = make_entry(src.id, 1, topics=ROUTING)
    store.apply_update(plan(src.id, (post,)))
    entry_id = store.list_entries()[0].id

    store.set_topics(entry_id, (("wireless", 1.0), ("cloud", 1.0)), manual=True)
    edited = dataclasses.replace(post, title="Edited title", topics=(("dns", 0.9),))
    store.apply_update(plan(src.id, changed_entries=((entry_id, edited),)))
    after = store.get_entry(entry_id)
    assert after is not None and after.title == "Edited title"
    assert after.topics == (("wireless", 1.0), ("cloud", 1.0)) and after.topics_manual
    assert _rows(store, entry_id) == [("wireless", 0), ("cloud", 1)]

    store.set_topics(entry_id, (("dns", 0.9),), manual=False)
    back = store.get_entry(entry_id)
    assert back is not None and back.topics == (("dns", 0.9),) and not back.topics_manual
    assert _rows(store, entry_id) == [("dns", 0)]


def test_set_topics_of_a_missing_post(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.set_topics(12345, (("dns", 1.0),), manual=True)
    with pytest.raises(NotFoundError):
        store.set_topics(2**70, (("dns", 1.0),), manual=True)
