"""SiteStore.coverage: the other posts of an entry's story cluster, copies told apart."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from builders import NOW, make_entry, plan, spec
from netplanet.store.schema import entries
from netplanet.store.sql import SqlStore


def _cluster(store: SqlStore, cluster: int, members: dict[int, int | None]) -> None:
    """Put the entries (id -> id of the post they copy) in one cluster, as stories.py would."""
    with store.engine.begin() as conn:
        for entry_id, copy_of in members.items():
            conn.execute(
                sa.update(entries)
                .where(entries.c.id == entry_id)
                .values(cluster_id=cluster, duplicate_of=copy_of)
            )


def test_coverage_lists_the_other_posts_newest_first_and_marks_copies(store: SqlStore) -> None:
    one, two, three = (store.add_source(spec(n, title=f"Blog {n}")) for n in (1, 2, 3))
    ids = []
    for src, n, hours in ((one, 1, 5), (two, 2, 3), (three, 3, 1), (one, 4, 2)):
        entry = make_entry(src.id, n, published=NOW - timedelta(hours=hours))
        store.apply_update(plan(src.id, (entry,)))
        ids.append(store.list_entries(source_id=src.id, limit=1)[0].id)
    first, copy, other, alone = ids
    _cluster(store, first, {first: None, copy: first, other: None})

    found = store.coverage([first, copy, other, alone, 2**31 - 1, 10**12])

    assert set(found) == {first, copy, other}  # alone, and unknown ids, are left out
    assert [(c.entry_id, c.same_post) for c in found[first]] == [(other, False), (copy, True)]
    assert [(c.entry_id, c.same_post) for c in found[copy]] == [(other, False), (first, True)]
    assert [(c.entry_id, c.same_post) for c in found[other]] == [(copy, False), (first, False)]
    assert found[first][0].source_title == "Blog 3" and found[first][0].source_slug
    assert found[first][0].published == NOW - timedelta(hours=1)
    assert store.coverage([]) == {}
