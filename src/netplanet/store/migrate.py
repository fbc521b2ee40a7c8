"""Running the Alembic migrations programmatically, on first use and with `netplanet db migrate`.

Every `netplanet` command opens the store, and nearly always the schema is already current.
Importing alembic costs ~0.1 s, so the common case is answered without it: one SELECT of
`alembic_version` compared with HEAD_REVISION. alembic is imported only to migrate, and
SQLAlchemy only by the functions that take an engine: store/quick.py reads HEAD_REVISION and
known_revisions() before SQLAlchemy is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from netplanet.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

SCRIPT_LOCATION = "netplanet.store:migrations"
VERSIONS = Path(__file__).parent / "migrations" / "versions"

HEAD_REVISION = "0012"
"""The newest revision under migrations/versions. Bump it with every new migration
(tests/test_store_migrate.py checks it against alembic's own head)."""


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head_revision() -> str | None:
    """The head as alembic computes it (imports alembic and reads every migration)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision, None for a database never migrated (or several heads)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):  # no such table: a new database
            return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _head_is_known() -> bool:
    """False when a migration file newer than HEAD_REVISION exists (someone forgot to bump it):
    then alembic decides, so a forgotten bump costs time, never a skipped migration."""
    prefixes = known_revisions()
    return bool(prefixes) and max(prefixes) == HEAD_REVISION


# pg_advisory_xact_lock key serializing migrations ("np-migr").
_MIGRATE_LOCK_KEY = 0x6E70_6D69_6772


def known_revisions() -> frozenset[str]:
    """The revisions this netplanet has migrations for (from the file names: no alembic)."""
    try:
        return frozenset(p.name.split("_", 1)[0] for p in VERSIONS.glob("[0-9]*_*.py"))
    except OSError:
        return frozenset()


def check_known(current: str | None) -> None:
    """ConfigError when the database's schema is not one this netplanet knows: written by a
    newer netplanet (which must not be "downgraded" by guesswork), or not netplanet's at all.

    Exit code 2 rather than 3: the database is reachable, and retrying will not help; the
    operator has to run the matching netplanet or point it at the right database."""
    if current is None:
        return
    known = known_revisions()
    if not known or current in known:
        return
    newest = max(known)
    if current.isdigit() and len(current) == len(newest) and current > newest:
        raise ConfigError(
            f"database schema {current} is newer than this netplanet (knows up to {newest}); "
            "upgrade netplanet"
        )
    raise ConfigError(
        f"database schema revision {current!r} is not one of netplanet's (0001 to {newest}); "
        "is this database another application's?"
    )


def migrate(engine: Engine) -> bool:
    """Upgrade the database to the newest schema. Returns True when anything was applied."""
    current = current_revision(engine)
    if _head_is_known() and current == HEAD_REVISION:
        return False
    check_known(current)
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import text

    head = head_revision()
    if current == head:
        return False
    cfg = _config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several workers starting together on a new database must not all create the
            # tables: the first migrates, the others wait here and then find the head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY})
            if MigrationContext.configure(conn).get_current_revision() == head:
                return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True
