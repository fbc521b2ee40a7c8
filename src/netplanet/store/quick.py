"""Answering "is any source enabled?" for a SQLite planet without loading SQLAlchemy.

`netplanet update` runs from cron, often on a planet with nothing to poll yet; importing
SQLAlchemy and the query modules costs more than the rest of the command's start-up together
(docs/benchmarks.md, "Start-up"). A plain SQLite file whose schema is already at the newest
revision is read here with the standard library's sqlite3, two SELECTs on a read-write
connection that creates nothing. Anything else (PostgreSQL, a URL with options, a file that
does not exist, an older or unknown schema, any error) is "cannot tell": the caller opens the
store as usual, which migrates it and reports errors the usual way.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from netplanet.settings import plain_sqlite_file
from netplanet.store.migrate import HEAD_REVISION, known_revisions


def sqlite_has_enabled_sources(url: str) -> bool | None:
    """Whether the SQLite planet at `url` has an enabled source; None when this cannot be
    answered without opening the store (see the module docstring)."""
    path = plain_sqlite_file(url)
    if path is None or not path.is_file():
        return None
    # mode=rw: never creates the file (a database that vanished is the full path's to report).
    uri = f"file:{quote(str(path.absolute()))}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        # The same test as migrate(): at HEAD_REVISION and no newer migration file shipped.
        if versions != [(HEAD_REVISION,)] or max(known_revisions(), default="") != HEAD_REVISION:
            return None
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM sources WHERE enabled)").fetchone()
        return bool(row[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()
