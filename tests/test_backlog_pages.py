"""A newly added source's old posts, arriving after their time range was sealed, are filed at
their dated place in the numbered river (and its categories), never on top of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from builders import NOW, make_entry, plan, spec
from netplanet.store import SqlStore
from test_web_client import (  # noqa: F401 - fixture
    BOTH_BACKENDS,
    PAGE,
    make_planet,
    numbers,
    web_store_fixture,
)


def _positions(store: SqlStore) -> tuple[list[int], dict[str, list[int]]]:
    """Entry ids in river order, and per category, oldest first."""
    with store.engine.connect() as conn:
        river = [r[0] for r in conn.exec_driver_sql("SELECT id FROM entries ORDER BY seq")]
        seqs = conn.exec_driver_sql(
            "SELECT category_slug, entry_id FROM entry_categories ORDER BY category_slug, seq"
        ).all()
    cats: dict[str, list[int]] = {}
    for slug, entry_id in seqs:
        cats.setdefault(slug, []).append(entry_id)
    return river, cats


def _by_date(store: SqlStore) -> list[int]:
    rows = sorted(store.list_entries(limit=1000), key=lambda e: (e.published, e.id))
    return [e.id for e in rows]


def test_a_late_backlog_is_sealed_at_its_dated_place(store: SqlStore) -> None:
    old = store.add_source(spec(1))
    store.apply_update(plan(old.id, tuple(make_entry(old.id, n) for n in range(1, 9))))
    assert store.seal_pages(NOW) == 8
    new = store.add_source(spec(2))
    backlog = [
        make_entry(new.id, 100 + n, published=NOW - timedelta(hours=n) - timedelta(minutes=30))
        for n in (2, 5)
    ] + [make_entry(new.id, 200, published=datetime(2008, 8, 17, tzinfo=UTC))]
    store.apply_update(plan(new.id, tuple(backlog)))
    assert store.seal_pages(NOW) == 3
    river, cats = _positions(store)
    assert river == _by_date(store)  # the 2008 post first, the others between their neighbours
    assert cats == {"networking": river}
    with store.engine.connect() as conn:
        seqs = sorted(r[0] for r in conn.exec_driver_sql("SELECT seq FROM entries"))
    assert seqs == list(range(1, 12))


def test_posts_newer_than_the_sealed_ones_are_still_appended(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(1, 6))))
    store.seal_pages(NOW - timedelta(hours=2, minutes=30))
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, seq FROM entries WHERE seq IS NOT NULL")
        before = dict(rows.all())
    store.seal_pages(NOW)
    with store.engine.connect() as conn:
        after = dict(conn.exec_driver_sql("SELECT id, seq FROM entries").all())
    assert {k: after[k] for k in before} == before


def test_sealing_writes_each_entry_row_once(store: SqlStore) -> None:
    """A post's river and source positions go in one UPDATE of its row: an entries row holds
    the post's HTML and text, and an UPDATE rewrites the row whole (on SQLite its overflow
    pages too), so with one statement per numbering a cold round's sealing wrote every post
    twice and cost twice its content's weight."""
    a, b = store.add_source(spec(1)), store.add_source(spec(2))
    store.apply_update(plan(a.id, tuple(make_entry(a.id, n) for n in range(1, 6))))
    store.apply_update(plan(b.id, tuple(make_entry(b.id, 10 + n) for n in range(1, 4))))
    rows: list[int] = []

    def count(*args: Any) -> None:
        statement, parameters, executemany = args[2], args[3], args[5]
        if statement.lstrip().upper().startswith("UPDATE ENTRIES"):
            rows.append(len(parameters) if executemany else 1)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert store.seal_pages(NOW) == 8
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert sum(rows) == 8
    river, _ = _positions(store)
    assert river == _by_date(store)
    with store.engine.connect() as conn:
        per_source = conn.exec_driver_sql(
            "SELECT source_id, source_seq FROM entries ORDER BY source_id, published, id"
        ).all()
    assert per_source == [(a.id, n) for n in range(1, 6)] + [(b.id, n) for n in range(1, 4)]


@BOTH_BACKENDS
def test_front_page_does_not_show_a_sealed_backlog(web_store: SqlStore) -> None:
    old = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(old.id, *(make_entry(old.id, n) for n in range(1, 13)))
    web_store.seal_pages(NOW)
    new = web_store.add_source(spec(2))
    backlog = [
        make_entry(new.id, 1000 + n, published=datetime(2008, 1, 1, tzinfo=UTC) + timedelta(days=n))
        for n in range(8)
    ]
    planet.add(new.id, *backlog)
    web_store.seal_pages(NOW)
    assert numbers(planet.client.get("/").text) == [1, 2, 3, 4, 5]
    # The backlog fills the oldest numbered pages, newest first on each.
    assert numbers(planet.client.get("/page/1").text) == [1004, 1003, 1002, 1001, 1000]
    assert numbers(planet.client.get("/page/2").text) == [11, 12, 1007, 1006, 1005]
    assert PAGE == 5


def test_front_page_does_not_show_a_backlog_waiting_to_be_sealed(web_store: SqlStore) -> None:
    old = web_store.add_source(spec(1, category="Routing"))
    planet = make_planet(web_store)
    planet.add(old.id, *(make_entry(old.id, n, categories=("Routing",)) for n in range(1, 13)))
    web_store.seal_pages(NOW - timedelta(hours=3, minutes=30))  # posts 1-3 stay unsealed
    new = web_store.add_source(spec(2, category="Routing"))
    planet.add(
        new.id,
        *(
            make_entry(
                new.id,
                1000 + n,
                published=datetime(2008, 1, 1, tzinfo=UTC),
                categories=("Routing",),
            )
            for n in range(8)
        ),
    )
    for front in ("/", "/category/routing/"):
        # The unsealed posts 1-3, then the newest, partial numbered page (posts 7-4): no
        # backlog post until sealing files it at its place (docs/pagination.md).
        assert numbers(planet.client.get(front).text) == [1, 2, 3, 4, 5, 6, 7]
