"""store/migrate.py: the cheap "already current?" check and when alembic gets imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from netplanet.store import open_store
from netplanet.store.migrate import HEAD_REVISION, current_revision, head_revision, migrate


def test_head_constant_is_alembics_head() -> None:
    # A new migration must bump HEAD_REVISION (migrate() would fall back to alembic otherwise).
    assert head_revision() == HEAD_REVISION


def _check_migrate(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        assert current_revision(engine) is None  # no alembic_version table yet
        assert migrate(engine) is True
        assert current_revision(engine) == HEAD_REVISION
        assert migrate(engine) is False
    finally:
        engine.dispose()


def test_migrate_sqlite(tmp_path: Path) -> None:
    _check_migrate(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrate_postgres(postgres_url: str) -> None:
    _check_migrate(postgres_url)


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    open_store(url).close()
    code = (
        "import sys; from netplanet.store import open_store; "
        f"open_store({url!r}).close(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_0006_marks_undated_posts_of_a_first_fetch_date_unknown(database: str) -> None:
    from alembic import command

    from netplanet.store.migrate import _config

    engine = sa.create_engine(database, poolclass=sa.NullPool)
    first, later = "2026-11-01 10:00:00", "2026-11-02 10:00:00"
    try:
        with engine.begin() as conn:
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
            conn.exec_driver_sql(
                "INSERT INTO sources (id, feed_url, title, site_url, category, slug, created_at)"
                " VALUES (1, 'https://a.example/feed', 'A', '', '', 'a', '2026-11-01 09:00:00')"
            )
            rows = [  # (id, first seen, dated by the feed?)
                (1, first, True),
                (2, first, False),  # undated, first fetch: its date was made up
                (3, later, False),  # undated, a later poll: first seen is honest
            ]
            for eid, seen, dated in rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO entries (id, source_id, key, url, title_date_hash, title,"
                        " published, first_seen, fingerprint, date_from_feed) VALUES (:id, 1,"
                        " :key, 'https://a.example/', 'h', 't', :seen, :seen, 'f', :dated)"
                    ),
                    {"id": eid, "key": f"g:{eid}", "seen": seen, "dated": dated},
                )
        assert migrate(engine) is True
        with engine.connect() as conn:
            known = conn.exec_driver_sql("SELECT id, date_known FROM entries ORDER BY id").all()
        assert [(i, bool(k)) for i, k in known] == [(1, True), (2, False), (3, True)]
    finally:
        engine.dispose()


def test_0007_gives_sealed_entries_source_positions_in_river_order(database: str) -> None:
    from datetime import timedelta

    from alembic import command

    from builders import NOW, make_entry, plan, spec
    from netplanet.store.migrate import _config

    store = open_store(database)
    try:
        one, two = store.add_source(spec(1)), store.add_source(spec(2))
        for src, numbers in ((one, range(1, 12, 2)), (two, range(2, 12, 2))):
            store.apply_update(plan(src.id, tuple(make_entry(src.id, n) for n in numbers)))
        store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # all but posts 1 and 2
        expected = {(s.id, r.seq): r.entry.id for s in (one, two) for r in
                    store.sealed_entries(source_id=s.id, limit=50)}  # fmt: skip
        assert len(expected) == 9
        cfg = _config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
            command.upgrade(cfg, "head")  # the store reads the later columns too
        again = {(s.id, r.seq): r.entry.id for s in (one, two) for r in
                 store.sealed_entries(source_id=s.id, limit=50)}  # fmt: skip
        assert again == expected
        assert store.max_seq(source_id=one.id) == 5  # posts 11, 9, 7, 5, 3
        store.seal_pages(NOW)  # new positions continue after the migrated ones
        assert store.max_seq(source_id=one.id) == 6
    finally:
        store.close()
