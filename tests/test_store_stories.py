"""store/stories.py: copies of one post and story clusters, kept as posts are stored.

Both backends. Posts are signed as enrich signs them (enrich/story.py); all text is our own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from builders import NOW, make_entry, plan, spec
from netplanet.enrich.story import story_signature
from netplanet.model import Entry
from netplanet.store.base import Scope
from netplanet.store.schema import entries, story_keys
from netplanet.store.sql import SqlStore
from test_story import GENERIC_POSTS, INCIDENT

_SERIAL = iter(range(1000, 10**6))


def signed(source_id: int, title: str, text: str, *, url: str = "", hours: float = 0) -> Entry:
    """An enriched post as enrich_entry would give it: with its SimHash and story keys."""
    n = next(_SERIAL)
    url = url or f"https://blog{source_id}.example.net/{n}/"
    value, keys = story_signature(title=title, text=text, url=url)
    return make_entry(
        source_id,
        n,
        url=url,
        title=title,
        text=text,
        excerpt_html=f"<p>{text[:80]}</p>",
        published=NOW - timedelta(days=3) + timedelta(hours=hours),
        simhash=value,
        story_keys=keys,
    )


def store_one(store: SqlStore, entry: Entry) -> int:
    store.apply_update(plan(entry.source_id, (entry,)))
    return _id_of(store, entry)


def _id_of(store: SqlStore, entry: Entry) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(entries.c.id).where(
                    entries.c.source_id == entry.source_id, entries.c.key == entry.key
                )
            ).scalar_one()
        )


def state(store: SqlStore) -> dict[int, tuple[Any, Any, bool]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                entries.c.id, entries.c.cluster_id, entries.c.duplicate_of, entries.c.collapsed
            )
        )
        return {r.id: (r.cluster_id, r.duplicate_of, bool(r.collapsed)) for r in rows}


def river_ids(store: SqlStore) -> list[int]:
    return [e.id for e in store.keyset_entries(Scope(), limit=100)]


def test_a_blog_read_through_two_feeds_shows_each_post_once(store: SqlStore) -> None:
    main = store.add_source(spec(1, title="Origin Blog"))
    tag = store.add_source(spec(2, title="Origin Blog: security tag"))
    posts = [
        (INCIDENT[0][0], INCIDENT[0][1], "https://gk.example.net/a/"),
        ("A quiet week in our lab", "We rebuilt the lab rack and relabelled every cable.", ""),
    ]
    originals = []
    for title, text, url in posts:
        url = url or "https://gk.example.net/lab/"
        originals.append(store_one(store, signed(main.id, title, text, url=url)))
    copies = []
    for title, text, url in posts:
        url = url or "https://gk.example.net/lab/"
        copies.append(store_one(store, signed(tag.id, title, text, url=url, hours=1)))

    got = state(store)
    for original, copy in zip(originals, copies, strict=True):
        assert got[original] == (original, None, False)
        assert got[copy] == (original, original, True)
    assert sorted(river_ids(store)) == sorted(originals)
    feeds = store.list_entries(collapsed=False, limit=50)  # what the output feeds list
    assert sorted(e.id for e in feeds) == sorted(originals)
    assert len(store.list_entries(limit=50)) == 4  # the admin and `entries` see every row
    assert [h.entry.id for h in store.search("gatekeeper")] == [originals[0]]
    assert store.count_matches("gatekeeper") == 1
    assert [h.entry.id for h in store.search("-nothing")] == sorted(originals, reverse=True)
    # The tag feed's own page still lists its posts.
    assert len(store.keyset_entries(Scope(source_id=tag.id), limit=10)) == 2
    assert len(store.search("gatekeeper", source_id=tag.id)) == 1
    also = store.coverage([originals[0]])[originals[0]]
    assert [(c.entry_id, c.same_post, c.source_title) for c in also] == [
        (copies[0], True, "Origin Blog: security tag")
    ]


def test_a_syndicated_copy_on_another_site_is_also_on(store: SqlStore) -> None:
    blog = store.add_source(spec(1, title="Origin Blog"))
    aggregator = store.add_source(spec(2, title="Syndication Hub"))
    title, _ = INCIDENT[1]
    body = " ".join(text for _, text in INCIDENT)
    original = store_one(store, signed(blog.id, title, body, url="https://origin.example/p/"))
    copy = store_one(
        store, signed(aggregator.id, title, body, url="https://hub.example/r/77", hours=5)
    )
    assert state(store)[copy] == (original, original, True)
    assert river_ids(store) == [original]
    assert [(c.entry_id, c.same_post) for c in store.coverage([original])[original]] == [
        (copy, True)
    ]


def test_posts_about_one_incident_cluster_and_show_once_at_the_newest(store: SqlStore) -> None:
    sources = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    ids = [
        store_one(store, signed(s.id, title, text, hours=6 * n))
        for n, (s, (title, text)) in enumerate(zip(sources, INCIDENT, strict=True))
    ]
    got = state(store)
    assert {got[i][0] for i in ids} == {ids[0]}
    assert [got[i][2] for i in ids] == [True, True, True, False]  # the newest leads
    assert all(got[i][1] is None for i in ids)
    assert river_ids(store) == [ids[-1]]
    others = store.coverage([ids[-1]])[ids[-1]]
    assert [c.entry_id for c in others] == ids[2::-1] and not any(c.same_post for c in others)


def test_a_backlog_arriving_in_one_batch_clusters_too(store: SqlStore) -> None:
    sources = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    posts = [
        signed(s.id, title, text, hours=6 * n)
        for n, (s, (title, text)) in enumerate(zip(sources, INCIDENT, strict=True))
    ]
    # Newest first, as a cold round may store them; one transaction for all.
    results = store.apply_updates([plan(p.source_id, (p,)) for p in reversed(posts)])
    assert all(not isinstance(r, Exception) for r in results)
    ids = [_id_of(store, p) for p in posts]
    got = state(store)
    assert len({got[i][0] for i in ids}) == 1 and got[ids[0]][0] == min(ids)
    assert [got[i][2] for i in ids] == [True, True, True, False]


def test_posts_sharing_only_generic_terms_do_not_cluster(store: SqlStore) -> None:
    sources = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    ids = [
        store_one(store, signed(s.id, title, text, hours=n))
        for n, (s, (title, text)) in enumerate(zip(sources, GENERIC_POSTS, strict=True))
    ]
    assert all(state(store)[i] == (None, None, False) for i in ids)
    assert sorted(river_ids(store)) == sorted(ids)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(story_keys)).scalar_one() > 0


def test_a_newer_member_takes_the_lead(store: SqlStore) -> None:
    one, two, three = (store.add_source(spec(n, title=f"Blog {n}")) for n in (1, 2, 3))
    first = store_one(store, signed(one.id, *INCIDENT[0], hours=0))
    second = store_one(store, signed(two.id, *INCIDENT[1], hours=4))
    assert river_ids(store) == [second]
    third = store_one(store, signed(three.id, *INCIDENT[2], hours=9))
    got = state(store)
    assert got[third] == (first, None, False)
    assert got[second] == (first, None, True) and got[first] == (first, None, True)
    assert river_ids(store) == [third]
    # An older post arriving late joins without taking the lead.
    late = store_one(store, signed(store.add_source(spec(4)).id, *INCIDENT[3], hours=-3))
    assert state(store)[late] == (first, None, True)
    assert river_ids(store) == [third]


def test_removing_the_leads_source_re_elects_a_lead(store: SqlStore) -> None:
    one, two, three = (store.add_source(spec(n, title=f"Blog {n}")) for n in (1, 2, 3))
    first = store_one(store, signed(one.id, *INCIDENT[0], hours=0))
    second = store_one(store, signed(two.id, *INCIDENT[1], hours=4))
    lead = store_one(store, signed(three.id, *INCIDENT[2], hours=9))
    store.remove_source(three.id)
    assert lead not in state(store)
    assert state(store)[second] == (first, None, False)
    assert river_ids(store) == [second]
    store.remove_source(one.id)  # the cluster's first post goes: one post left, on its own
    assert state(store) == {second: (None, None, False)}


def test_removing_the_original_makes_its_copy_the_post(store: SqlStore) -> None:
    blog, hub, mirror = (store.add_source(spec(n, title=f"Blog {n}")) for n in (1, 2, 3))
    url = "https://origin.example/p/"
    original = store_one(store, signed(blog.id, *INCIDENT[0], url=url))
    copy = store_one(store, signed(hub.id, *INCIDENT[0], url=url, hours=1))
    other = store_one(store, signed(mirror.id, *INCIDENT[0], url=url, hours=2))
    assert state(store)[other] == (original, original, True)
    store.remove_source(blog.id)
    assert state(store) == {copy: (copy, None, False), other: (copy, copy, True)}
    assert river_ids(store) == [copy]


def test_a_copy_never_makes_a_sources_own_post_a_copy(store: SqlStore) -> None:
    blog, hub = (store.add_source(spec(n, title=f"Blog {n}")) for n in (1, 2))
    title, text = INCIDENT[0]
    original = store_one(store, signed(blog.id, title, text, url="https://origin.example/1/"))
    store_one(store, signed(hub.id, title, text, url="https://hub.example/1/", hours=1))
    # The blog posts again under the same title (a follow-up): never a copy of its own post.
    again = store_one(store, signed(blog.id, title, "Update: the fixed release is out.", hours=30))
    assert state(store)[again][1] is None
    assert original in state(store)


def test_edited_posts_get_their_new_keys(store: SqlStore) -> None:
    blog = store.add_source(spec(1))
    entry = signed(blog.id, "A quiet week in our lab", "Nothing to see.")
    entry_id = store_one(store, entry)
    edited = replace(entry, text=INCIDENT[0][1], story_keys=("c:cve-2026-40411",))
    store.apply_update(plan(blog.id, changed_entries=((entry_id, edited),)))
    with store.engine.connect() as conn:
        keys = conn.execute(
            sa.select(story_keys.c.key).where(story_keys.c.entry_id == entry_id)
        ).scalars()
        assert list(keys) == ["c:cve-2026-40411"]


def test_entries_without_keys_are_left_alone(store: SqlStore) -> None:
    blog, hub = (store.add_source(spec(n)) for n in (1, 2))
    one = store_one(store, make_entry(blog.id, 1))
    two = store_one(store, make_entry(hub.id, 1))
    assert state(store) == {one: (None, None, False), two: (None, None, False)}


def test_names_are_looked_up_near_the_posts_that_hold_them(store: SqlStore) -> None:
    """A name (a CVE id, a figure) counts only between posts within the story window, so a
    transaction spanning months does not read the posts that share names across them, and
    posts within the window still cluster by them."""
    names = "Acme EdgeGuard and the Zeta Gatekeeper appliance"
    sources = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 6)]
    old = signed(sources[0].id, f"{names} take a new firmware", "A first look at them today.")
    old_id = store_one(store, old)
    read: list[Any] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def spy(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "simhash" in statement and statement.lstrip().upper().startswith("SELECT"):
            read.extend(params if isinstance(params, (list, tuple)) else params.values())

    # One transaction spanning three months: a post of the old one's day with other words,
    # and one three months on that names the same two things.
    same_day = signed(sources[1].id, "Weekly OSPF lab notes", "Areas, timers, LSAs.", hours=2)
    later = signed(
        sources[2].id, f"{names} meet again", "Another test of both, much later.", hours=24 * 90
    )
    results = store.apply_updates([plan(p.source_id, (p,)) for p in (same_day, later)])
    sa.event.remove(store.engine, "before_cursor_execute", spy)
    assert all(not isinstance(r, Exception) for r in results)
    assert old_id not in read  # never a candidate: months from the post naming them too
    assert state(store)[_id_of(store, later)][0] is None
    near = signed(sources[3].id, f"{names} in the lab", "Our own bench test of them.", hours=30)
    near_id = store_one(store, near)
    got = state(store)
    assert got[near_id][0] == got[old_id][0] == old_id  # within the window: one story
