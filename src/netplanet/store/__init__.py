"""The store stage: one Store interface (base.py) with SQLite and PostgreSQL implementations.

SQLAlchemy and the query modules are loaded when a store is opened (or `SqlStore` is first
named), not when a module merely imports the Protocols in `store.base`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from netplanet.errors import ConfigError, StoreError
from netplanet.lazy import lazy_exports

if TYPE_CHECKING:
    from netplanet.store.base import ApplyResult, Store
    from netplanet.store.sql import SqlStore

_HOME = {"ApplyResult": "base", "SqlStore": "sql", "Store": "base"}


def open_store(url: str, *, auto_migrate: bool = True, must_exist: bool = False) -> SqlStore:
    """Open the database at `url` (sqlite:///… or postgresql[+psycopg]://…), migrating it first.

    `postgresql://` and `postgres://` URLs use psycopg 3. With `must_exist`, a SQLite file that
    does not exist is a ConfigError (exit 2) instead of a new, empty planet, and nothing is
    created on disk: only `init` and the default data directory make new databases.

    A URL that is malformed or names a driver netplanet does not ship with is a ConfigError
    (exit 2: fix the URL), a database that cannot be reached a StoreError (exit 3: retry).
    """
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from netplanet.settings import database_backend
    from netplanet.store.migrate import migrate
    from netplanet.store.sql import SqlStore

    try:
        backend = database_backend(url)
    except ValueError as exc:
        raise ConfigError(f"database URL {_shown(url)}: {exc}") from None
    try:
        if backend == "sqlite":
            if must_exist:
                _check_sqlite_file(url)
            from netplanet.store.sqlite import (
                create_sqlite_engine,
                sqlite_count,
                sqlite_index,
                sqlite_search,
            )

            engine = create_sqlite_engine(url)
            store = SqlStore(engine, search=sqlite_search, count=sqlite_count, index=sqlite_index)
        else:
            from netplanet.store.postgres import (
                create_postgres_engine,
                postgres_count,
                postgres_index,
                postgres_search,
            )

            engine = create_postgres_engine(url)
            store = SqlStore(
                engine, search=postgres_search, count=postgres_count, index=postgres_index
            )
        if auto_migrate:
            migrate(engine)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # The URL passed the syntax check but SQLAlchemy refuses it (an option it does not
        # know, a driver that is not installed): still the URL's fault, not the server's.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"database URL {_shown(url)}: {reason}") from exc
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot open database {_shown(url)}: {reason}") from exc
    except OSError as exc:
        raise StoreError(f"cannot open database {_shown(url)}: {exc}") from exc
    return store


def _check_sqlite_file(url: str) -> None:
    """A ConfigError naming the file when the SQLite database `url` names does not exist."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if database in (None, "", ":memory:") or parsed.query.get("uri"):
        return  # in memory, or a file: URI whose meaning SQLite decides (mode=memory, ...)
    path = Path(database).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"database file {path} does not exist; check the path, or create it with "
            f"`netplanet init --database {_shown(url)}`"
        )


def _shown(url: str) -> str:
    """The URL for messages, with any password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        from netplanet.settings import mask_url

        return mask_url(url)


__getattr__ = lazy_exports(__name__, _HOME)


__all__ = ["ApplyResult", "SqlStore", "Store", "open_store"]
