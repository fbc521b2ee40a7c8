"""The store stage: one Store interface (base.py) with SQLite and PostgreSQL implementations.

SQLAlchemy and the query modules are loaded when a store is opened (or `SqlStore` is first
named), not when a module merely imports the Protocols in `store.base`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from netplanet.errors import StoreError
from netplanet.lazy import lazy_exports

if TYPE_CHECKING:
    from netplanet.store.base import ApplyResult, Store
    from netplanet.store.sql import SqlStore

_HOME = {"ApplyResult": "base", "SqlStore": "sql", "Store": "base"}


def open_store(url: str, *, auto_migrate: bool = True, must_exist: bool = False) -> SqlStore:
    """Open the database at `url` (sqlite:///… or postgresql[+psycopg]://…), migrating it first.

    `postgresql://` and `postgres://` URLs use psycopg 3. With `must_exist`, a SQLite file that
    does not exist is an error instead of a new, empty planet (for reading from it)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from netplanet.store.migrate import migrate
    from netplanet.store.sql import SqlStore

    try:
        if url.startswith("sqlite"):
            database = make_url(url).database
            if (
                must_exist
                and database not in (None, "", ":memory:")
                and not Path(database).expanduser().is_file()
            ):
                raise StoreError(f"database {database} does not exist; check the path in {url}")
            from netplanet.store.sqlite import create_sqlite_engine, sqlite_search

            engine = create_sqlite_engine(url)
            store = SqlStore(engine, search=sqlite_search)
        elif url.startswith(("postgresql", "postgres://")):
            from netplanet.store.postgres import create_postgres_engine, postgres_search

            engine = create_postgres_engine(url)
            store = SqlStore(engine, search=postgres_search)
        else:
            raise StoreError(
                f"unsupported database URL {url.split('://', 1)[0]}://…; "
                "use sqlite:///PATH or postgresql://USER@HOST/DB"
            )
        if auto_migrate:
            migrate(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot open database {_shown(url)}: {reason}") from exc
    except OSError as exc:
        raise StoreError(f"cannot open database {_shown(url)}: {exc}") from exc
    return store


def _shown(url: str) -> str:
    """The URL for messages, with any password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


__getattr__ = lazy_exports(__name__, _HOME)


__all__ = ["ApplyResult", "SqlStore", "Store", "open_store"]
