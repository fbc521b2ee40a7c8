"""The SQLite engine's connection settings (store/sqlite.py), as a new connection reports them."""

from __future__ import annotations

from pathlib import Path

from netplanet.store.sqlite import CACHE_KIB, create_sqlite_engine


def test_every_connection_gets_the_planet_settings(tmp_path: Path) -> None:
    engine = create_sqlite_engine(f"sqlite:///{tmp_path / 'planet.db'}")
    try:
        with engine.connect() as conn:

            def pragma(name: str) -> object:
                return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 30000
            assert pragma("synchronous") == 1  # NORMAL: WAL commits without a sync each
            # Negative: KiB, not pages. Larger than SQLite's 2 MiB default (see CACHE_KIB).
            assert pragma("cache_size") == -CACHE_KIB
            assert CACHE_KIB > 2000
    finally:
        engine.dispose()
