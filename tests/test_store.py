"""The Store contract, run against every backend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from builders import NOW, make_entry, plan, spec, success
from netplanet.errors import ConfigError, DuplicateSourceError, NotFoundError, StoreError
from netplanet.store import SqlStore, open_store


def test_add_source_gives_unique_slugs(store: SqlStore) -> None:
    a = store.add_source(spec(1, title="Packet Life"))
    b = store.add_source(spec(2, title="Packet Life"))
    assert (a.slug, b.slug) == ("packet-life", "packet-life-2")
    assert store.get_source_by_slug("packet-life-2") == b


def test_adding_the_same_feed_twice_is_refused(store: SqlStore) -> None:
    store.add_source(spec(1))
    with pytest.raises(DuplicateSourceError, match="already exists"):
        store.add_source(spec(1, title="Other title"))


def test_untitled_source_gets_slug_from_host(store: SqlStore) -> None:
    s = store.add_source(spec(1, title="", site_url="https://www.rule11.tech/"))
    assert s.slug == "rule11-tech"


def test_edit_and_remove_source(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    edited = store.edit_source(s.id, title="Renamed", category="Security", enabled=False)
    assert (edited.title, edited.category, edited.enabled) == ("Renamed", "Security", False)
    assert edited.disabled_reason
    store.remove_source(s.id)
    assert store.get_source(s.id) is None
    with pytest.raises(NotFoundError):
        store.remove_source(s.id)
    with pytest.raises(NotFoundError):
        store.edit_source(s.id, title="x")


def test_apply_update_stores_entries_and_source_state(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    result = store.apply_update(
        dataclasses.replace(
            plan(s.id, (make_entry(s.id, 1), make_entry(s.id, 2))),
            source=success(etag='"abc"', body_hash="h1"),
        )
    )
    assert (result.new, result.changed) == (2, 0)
    stored = store.get_source(s.id)
    assert stored is not None
    assert (stored.etag, stored.body_hash, stored.last_success_at) == ('"abc"', "h1", NOW)
    assert [e.title for e in store.list_entries()] == [
        "Post number 1 about BGP",
        "Post number 2 about BGP",
    ]
    assert store.list_entries()[0].categories == ("Networking",)


def test_edited_entry_keeps_id_and_first_seen(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    before = store.list_entries()[0]
    edited = make_entry(s.id, 1, title="Post number 1, revised", fingerprint="v1:new")
    store.apply_update(plan(s.id, changed_entries=((before.id, edited),)))
    after = store.get_entry(before.id)
    assert after is not None
    assert after.title == "Post number 1, revised"
    assert (after.id, after.first_seen) == (before.id, before.first_seen)
    assert store.count_entries() == 1


def test_datetimes_come_back_utc_aware(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    entry = store.list_entries()[0]
    assert entry.published == NOW - timedelta(hours=1)
    assert entry.published.utcoffset() == timedelta(0)


def test_existing_entries_matches_any_identity(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(1, 4))))
    found = store.existing_entries(
        s.id,
        keys=["g:post-1"],
        urls=["https://blog.example.net/posts/2/"],
        title_date_hashes=["tdh-3", "tdh-missing"],
    )
    assert sorted(e.key for e in found) == ["g:post-1", "g:post-2", "g:post-3"]
    other = store.add_source(spec(2))
    assert store.existing_entries(other.id, keys=["g:post-1"]) == []


def test_search_ranks_title_matches_and_highlights(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(
        plan(
            s.id,
            (
                make_entry(s.id, 1, title="EVPN multihoming", text="ESI and DF election"),
                make_entry(s.id, 2, title="Lunch", text="we talked about evpn briefly"),
            ),
        )
    )
    hits = store.search("evpn")
    assert [h.entry.title for h in hits] == ["EVPN multihoming", "Lunch"]
    # Snippets come from the body (the title is shown anyway), highlighted where it matches.
    assert hits[0].snippet_html == "ESI and DF election"
    assert "<mark>evpn</mark>" in hits[1].snippet_html


def test_search_snippets_are_escaped(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(
        plan(s.id, (make_entry(s.id, 1, title="x", text="<script>alert(1)</script> ospf"),))
    )
    snippet = store.search("ospf")[0].snippet_html
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


@pytest.mark.parametrize(
    "query",
    ['"', "(", "AND OR NOT", "*", "NEAR(", "-", "title:x", "a" * 5000, "\x00", "bgp OR", "-bgp"],
)
def test_search_never_fails_on_hostile_syntax(store: SqlStore, query: str) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    store.search(query)  # no exception is the assertion


def test_search_filters_by_category_and_source(store: SqlStore) -> None:
    a = store.add_source(spec(1))
    b = store.add_source(spec(2))
    store.apply_update(plan(a.id, (make_entry(a.id, 1, categories=("Security",)),)))
    store.apply_update(plan(b.id, (make_entry(b.id, 2),)))
    assert [h.entry.source_id for h in store.search("reflectors", source_id=b.id)] == [b.id]
    assert [h.entry.id for h in store.search("reflectors", category="Security")] == [1]


def test_search_index_follows_edits_and_deletes(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    entry_id = store.list_entries()[0].id
    edited = make_entry(s.id, 1, title="Segment routing", text="SRv6 uSID", fingerprint="v1:b")
    store.apply_update(plan(s.id, changed_entries=((entry_id, edited),)))
    assert store.search("reflectors") == []
    assert len(store.search("srv6")) == 1
    store.edit_source(s.id, title="Renamed Blog")
    assert len(store.search("renamed")) == 1
    store.remove_source(s.id)
    assert store.search("srv6") == []
    assert store.count_entries() == 0


def test_seal_pages_numbers_old_entries_oldest_first_and_never_renumbers(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(1, 6))))
    assert store.seal_pages(NOW - timedelta(hours=2, minutes=30)) == 3  # posts 3, 4, 5
    sealed = store.seal_pages(NOW)
    assert sealed == 2
    with store.engine.connect() as conn:
        seqs = dict(conn.exec_driver_sql("SELECT id, seq FROM entries").all())
        cat = dict(conn.exec_driver_sql("SELECT entry_id, seq FROM entry_categories").all())
    # Post 5 is the oldest: position 1; posts 1-2 were sealed later and come after 3-5.
    assert seqs == {5: 1, 4: 2, 3: 3, 2: 4, 1: 5}
    assert cat == seqs
    assert store.seal_pages(NOW) == 0


def test_applying_the_same_plan_twice_changes_nothing(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
    first = store.dump()
    store.apply_update(plan(s.id))
    assert store.dump() == first


def test_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open database"):
        open_store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


def test_unsupported_database_url_is_a_config_error() -> None:
    # The URL is wrong, not the server unreachable: exit 2, not 3 (a retry will not help).
    with pytest.raises(ConfigError, match="unsupported database mysql://"):
        open_store("mysql://localhost/x")


def test_editing_a_post_keeps_its_category_page_position(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, (make_entry(s.id, 1), make_entry(s.id, 2))))
    store.seal_pages(NOW)
    first = store.list_entries()[0]

    def positions() -> dict[tuple[int, str], int]:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT entry_id, category_slug, seq FROM entry_categories")
            return {(r[0], r[1]): r[2] for r in rows}

    before = positions()
    edited = make_entry(
        s.id, 1, title="Edited", fingerprint="v1:e", categories=("Networking", "Security")
    )
    store.apply_update(plan(s.id, changed_entries=((first.id, edited),)))
    after = positions()
    assert after[(first.id, "networking")] == before[(first.id, "networking")]
    assert after[(first.id, "security")] is None  # new category: positioned at the next seal
    dropped = make_entry(s.id, 1, title="Edited", fingerprint="v1:f", categories=("Security",))
    store.apply_update(plan(s.id, changed_entries=((first.id, dropped),)))
    assert (first.id, "networking") not in positions()


def test_reading_from_a_missing_sqlite_file_is_an_error_not_a_new_planet(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "planet.db"
    # The path is wrong, not the database down: a ConfigError (exit 2) that says what to do.
    with pytest.raises(ConfigError, match=f"database file {missing} does not exist.*init"):
        open_store(f"sqlite:///{missing}", must_exist=True)
    assert not missing.parent.exists()
    for in_memory in ("sqlite://", "sqlite:///:memory:"):
        open_store(in_memory, must_exist=True).close()
