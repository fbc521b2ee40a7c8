"""Is any source enabled, asked before SQLAlchemy is loaded (store/quick.py), and asked of a
Planet on every backend: the quick answer agrees with the store's or abstains."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from netplanet.model import SourceSpec
from netplanet.planet import Planet
from netplanet.settings import Settings, database_backend, plain_sqlite_file
from netplanet.store import open_store
from netplanet.store.migrate import HEAD_REVISION
from netplanet.store.quick import sqlite_has_enabled_sources

PLAIN = [
    "sqlite:///netplanet.db",
    "sqlite:////var/lib/netplanet/netplanet.db",
    "sqlite+pysqlite:///rel/dir/x.db",
    "sqlite:///a b#c@d:e.db",
    "sqlite:///data/ünïcode.db",
    "sqlite:///file:x.db",
]
NOT_PLAIN = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite:///x.db?timeout=5",
    "sqlite:///file:x.db?mode=ro&uri=true",
    "sqlite:///a%20b.db",
    "sqlite:///~/x.db",
    "SQLITE:///x.db",
    "sqlite://host/x.db",
    "sqlite:///x\n.db",
    "postgresql://u@localhost/db",
    "postgresql+psycopg://u@localhost:5432/sqlite:///x.db",
    "mysql:///x.db",
]


@pytest.mark.parametrize("url", PLAIN)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_opens(url: str) -> None:
    assert plain_sqlite_file(url) == Path(make_url(url).database or "")
    assert database_backend(url) == "sqlite"


@pytest.mark.parametrize("url", NOT_PLAIN)
def test_any_other_url_is_left_to_sqlalchemy(url: str) -> None:
    assert plain_sqlite_file(url) is None


def _migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    open_store(url).close()
    return url


def test_a_migrated_planet_is_answered(tmp_path: Path) -> None:
    url = _migrated(tmp_path / "p.db")
    assert sqlite_has_enabled_sources(url) is False
    store = open_store(url)
    try:
        first = store.add_source(SourceSpec("https://one.example/feed.xml"))
        assert sqlite_has_enabled_sources(url) is True
        store.edit_source(first.id, enabled=False)
        assert sqlite_has_enabled_sources(url) is False
        store.add_source(SourceSpec("https://two.example/feed.xml"))
        assert sqlite_has_enabled_sources(url) is True
    finally:
        store.close()


def test_it_abstains_unless_the_schema_is_current(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert sqlite_has_enabled_sources(f"sqlite:///{missing}") is None
    assert not missing.exists()  # nothing created: that is `init`'s or the store's to do
    empty = tmp_path / "empty.db"
    empty.touch()  # as `netplanet init` leaves a file before it migrates, or a stray file
    assert sqlite_has_enabled_sources(f"sqlite:///{empty}") is None
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("not a database\n" * 200)
    assert sqlite_has_enabled_sources(f"sqlite:///{not_a_db}") is None
    older = _migrated(tmp_path / "older.db")
    with sqlite3.connect(tmp_path / "older.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    assert sqlite_has_enabled_sources(older) is None
    assert sqlite_has_enabled_sources("postgresql://u@localhost/db") is None


def test_a_new_migration_file_not_in_head_revision_makes_it_abstain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _migrated(tmp_path / "p.db")
    newer = str(int(HEAD_REVISION) + 1).zfill(len(HEAD_REVISION))
    monkeypatch.setattr(
        "netplanet.store.quick.known_revisions", lambda: frozenset({HEAD_REVISION, newer})
    )
    assert sqlite_has_enabled_sources(url) is None


def test_planet_answers_on_every_backend_and_migrates_when_it_must(database: str) -> None:
    # `database` is an empty SQLite file (not migrated: the quick path abstains and the store
    # is opened and migrated) or an empty PostgreSQL schema (always the store's answer).
    planet = Planet(Settings(database_url=database), create=False)
    try:
        assert planet.has_enabled_sources() is False
        source = planet.store.add_source(SourceSpec("https://one.example/feed.xml"))
        assert planet.has_enabled_sources() is True
        planet.store.edit_source(source.id, enabled=False)
        assert planet.has_enabled_sources() is False
    finally:
        planet.close()
    again = Planet(Settings(database_url=database), create=False)
    try:
        assert again.has_enabled_sources() is False
        assert again._store is None or database.startswith("postgresql")
    finally:
        again.close()
