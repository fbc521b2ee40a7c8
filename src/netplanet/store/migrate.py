"""Running the Alembic migrations programmatically, on first use and with `netplanet db migrate`.

Every `netplanet` command opens the store, and nearly always the schema is already current.
Importing alembic costs ~0.1 s, so the common case is answered without it: one SELECT of
`alembic_version` compared with HEAD_REVISION. alembic is imported only to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "netplanet.store:migrations"
VERSIONS = Path(__file__).parent / "migrations" / "versions"

HEAD_REVISION = "0005"
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
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):  # no such table: a new database
            return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _head_is_known() -> bool:
    """False when a migration file newer than HEAD_REVISION exists (someone forgot to bump it):
    then alembic decides, so a forgotten bump costs time, never a skipped migration."""
    try:
        prefixes = [p.name.split("_", 1)[0] for p in VERSIONS.glob("[0-9]*_*.py")]
    except OSError:
        return False
    return bool(prefixes) and max(prefixes) == HEAD_REVISION


# pg_advisory_xact_lock key serializing migrations ("np-migr").
_MIGRATE_LOCK_KEY = 0x6E70_6D69_6772


def migrate(engine: Engine) -> bool:
    """Upgrade the database to the newest schema. Returns True when anything was applied."""
    if _head_is_known() and current_revision(engine) == HEAD_REVISION:
        return False
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    if current_revision(engine) == head:
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
