"""`netplanet db copy`: SQLite -> PostgreSQL -> SQLite without loss, verified."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from builders import NOW, cli, make_entry, plan, spec
from netplanet.errors import StoreError
from netplanet.model import Enclosure
from netplanet.publish.weekly import Week
from netplanet.store import SqlStore, open_store
from netplanet.store.copy import verify_copy


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database copied into: PostgreSQL, and another SQLite file (the copy is the same
    code whatever the backends; SQLite alone is the quick run)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'target.db'}"


QUERIES = ["bgp", "route reflectors", "evpn OR ospf", "reflect*", '"post number 3"', "bgp -evpn"]


def build_planet(url: str) -> None:
    """A small planet exercising every column: categories, enclosures, flags, edits, seals,
    a disabled source, a source title change, and a deleted source (gaps in the ids)."""
    store = open_store(url)
    try:
        gone = store.add_source(spec(9, title="Removed later"))
        store.apply_update(plan(gone.id, (make_entry(gone.id, 99),)))
        a = store.add_source(spec(1, title="Routing Notes"))
        b = store.add_source(spec(2, title="Sec Blog", category="Security"))
        c = store.add_source(spec(3, title="Quiet"))
        store.apply_update(
            plan(
                a.id,
                (
                    *(make_entry(a.id, n, categories=("Networking", "Security")) for n in range(6)),
                    make_entry(
                        a.id,
                        7,
                        title="EVPN podcast",
                        text="evpn, ospf and bgp <together>",  # "bgp -evpn" drops it
                        enclosure=Enclosure("https://x.example/ep.mp3", "audio/mpeg", 123),
                        duration_s=3600,
                        sponsored=True,
                        tags=("evpn", "ünïcode"),
                        date_from_feed=False,
                        updated=NOW,
                    ),
                ),
            )
        )
        store.apply_update(
            plan(b.id, tuple(make_entry(b.id, n, key=f"g:b{n}") for n in range(10, 14)))
        )
        newest = store.list_entries(source_id=a.id)[0]
        store.apply_update(
            plan(a.id, changed_entries=((newest.id, make_entry(a.id, 0, title="Edited BGP")),))
        )
        store.seal_pages(NOW - timedelta(hours=3))
        store.edit_source(c.id, enabled=False)
        store.edit_source(b.id, title="Security Blog")
        store.remove_source(gone.id)
        # The weekly digest: an operator's pick, and a frozen week (migration 0009).
        week = Week.of(NOW)
        store.set_digest_pick(week.label, store.list_entries(source_id=b.id)[0].id, "pin")
        store.freeze_week(week.label, week.start, week.end)
    finally:
        store.close()


def same_views(one: SqlStore, two: SqlStore) -> None:
    assert one.dump() == two.dump()
    week = Week.of(NOW)
    frozen = one.frozen_week(week.label)
    assert frozen is not None and frozen.picks and frozen == two.frozen_week(week.label)
    assert one.week_data(week.label, week.start, week.end).picks == frozen.picks
    assert one.list_entries(limit=100) == two.list_entries(limit=100)
    assert one.list_entries(category="Security") == two.list_entries(category="Security")
    assert one.list_sources() == two.list_sources()
    assert one.max_seq() == two.max_seq() > 0
    assert one.sealed_entries(limit=100) == two.sealed_entries(limit=100)
    assert one.sealed_entries(category="security", limit=100) == two.sealed_entries(
        category="security", limit=100
    )
    for query in QUERIES:
        hits_one = {h.entry.id: h.entry for h in one.search(query, limit=100)}
        hits_two = {h.entry.id: h.entry for h in two.search(query, limit=100)}
        assert hits_one == hits_two, query
        assert hits_one, query
    # The exclusion removes a post that matches "bgp", and nothing else.
    with one.engine.connect() as conn:
        posts = conn.execute(sa.text("SELECT id, lower(title || ' ' || text) FROM entries")).all()
    bgp = {i for i, words in posts if "bgp" in words}
    evpn = {i for i, words in posts if "evpn" in words}
    assert bgp & evpn and bgp - evpn
    for store in (one, two):
        assert {h.entry.id for h in store.search("bgp", limit=100)} == bgp
        assert {h.entry.id for h in store.search("bgp -evpn", limit=100)} == bgp - evpn


def test_copy_round_trip_there_and_back(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target_url: str
) -> None:
    lite = f"sqlite:///{tmp_path / 'a.db'}"
    back = f"sqlite:///{tmp_path / 'b.db'}"
    build_planet(lite)
    code, out, err = cli(capsys, "db", "copy", "--from", lite, "--to", target_url)
    assert code == 0, err
    assert "verified" in out and "11 entries" in out
    code, _, err = cli(capsys, "db", "copy", "--from", target_url, "--to", back)
    assert code == 0, err
    stores = [open_store(u) for u in (lite, target_url, back)]
    try:
        same_views(stores[0], stores[1])
        same_views(stores[0], stores[2])
        # The PostgreSQL sequences continue after the copied ids.
        top = max(s.id for s in stores[1].list_sources())
        assert stores[1].add_source(spec(50)).id == top + 1
    finally:
        for s in stores:
            s.close()


def test_copy_refuses_a_non_empty_target_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target_url: str
) -> None:
    lite = f"sqlite:///{tmp_path / 'a.db'}"
    build_planet(lite)
    build_planet(target_url)
    code, _, err = cli(capsys, "db", "copy", "--from", lite, "--to", target_url)
    assert code == 2
    assert err.count("\n") == 1 and "--force" in err, err
    code, _, err = cli(capsys, "db", "copy", "--from", lite, "--to", target_url, "--force")
    assert code == 0, err
    one, two = open_store(lite), open_store(target_url)
    try:
        assert one.dump() == two.dump()
    finally:
        one.close()
        two.close()


def test_verification_catches_a_difference(tmp_path: Path, target_url: str) -> None:
    lite = f"sqlite:///{tmp_path / 'a.db'}"
    build_planet(lite)
    one, two = open_store(lite), open_store(target_url)
    try:
        from netplanet.store.copy import copy_database

        copy_database(one, two)
        with two.engine.begin() as conn:
            conn.execute(sa.text("UPDATE entries SET title = 'tampered' WHERE id = 2"))
        with pytest.raises(StoreError, match="entries differs"):
            verify_copy(one, two)
        original = one.get_entry(2)
        assert original is not None
        with two.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE entries SET title = :t WHERE id = 2"), {"t": original.title}
            )
            conn.execute(sa.text("DELETE FROM entry_categories WHERE entry_id = 2"))
        with pytest.raises(StoreError, match=r"entry_categories has \d+ rows in the source"):
            verify_copy(one, two)
    finally:
        one.close()
        two.close()


def test_copy_keeps_the_base_url_and_the_feed_id_authority(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target_url: str
) -> None:
    """Output-feed ids must survive a move to PostgreSQL (readers would see every post anew)."""
    from netplanet.store.admin import BASE_URL_KEY, ID_AUTHORITY_KEY

    lite = f"sqlite:///{tmp_path / 'a.db'}"
    build_planet(lite)
    one = open_store(lite)
    try:
        one.set_setting(BASE_URL_KEY, "http://203.0.113.7:8080")
        one.set_setting(ID_AUTHORITY_KEY, "203.0.113.7,2024")
        one.set_setting("admin_password", "scrypt$not-copied")
        # A source renamed from its host keeps redirecting its old page (/source/<old>/).
        renamed = one.list_sources()[0]
        one.set_setting("source_slug_moved:127-0-0-1-72", renamed.slug)
    finally:
        one.close()
    code, _, err = cli(capsys, "db", "copy", "--from", lite, "--to", target_url)
    assert code == 0, err
    two = open_store(target_url)
    try:
        moved = two.get_source_by_old_slug("127-0-0-1-72")
        assert moved is not None and moved.slug == renamed.slug
        assert two.get_setting(BASE_URL_KEY) == "http://203.0.113.7:8080"
        assert two.get_setting(ID_AUTHORITY_KEY) == "203.0.113.7,2024"
        assert two.get_setting("admin_password") is None  # secrets stay where they were
    finally:
        two.close()
