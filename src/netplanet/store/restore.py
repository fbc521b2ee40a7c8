"""`netplanet db restore`: a backup file (store/backup.py) back into SQLite or PostgreSQL.

In this order, so that a bad file never touches the target:
1. the whole file is read and checked (manifest, checksum, gzip CRC, SQLite's quick_check,
   row counts) while its database is written to a scratch directory;
2. a backup of an older schema is migrated forward there, with the same migrations every
   database gets (to the Alembic head, whatever it is);
3. only then is the target opened (created and migrated if new) and refused if it already
   holds a planet unless `force`. Every app setting comes back (admin password, session
   secret, base URL); worker leases and login failures do not.
4. PostgreSQL (or a SQLite database of another page size) is filled by `db copy`
   (store/copy.py) in one transaction, verified by row counts and checksums; the search index
   is built at the end of that transaction, and the id sequences are moved past the restored
   ids. A SQLite file gets the checked scratch database's pages through SQLite's backup API in
   one step, which is one write transaction on the target: five times faster than
   re-inserting (docs/benchmarks.md), and the search index comes with the rows (posts the
   backed-up planet had not indexed yet are indexed in the scratch copy first); it is then
   checked by FTS5's own integrity-check and the row counts.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netplanet.errors import StoreError
from netplanet.store import open_store
from netplanet.store.backup import Manifest, describe_database, read_backup
from netplanet.store.copy import CopyReport, check_target, copy_database
from netplanet.store.migrate import current_revision
from netplanet.store.sql import SqlStore

Progress = Callable[[str, int, int], None]
"""Called as (stage, done, total): "read" (bytes of the database), then each table's rows."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: Manifest
    schema: str
    """The schema the restored planet has (the backup's, migrated forward if older)."""
    copy: CopyReport
    verified: str
    """How the restored rows were checked, for the report."""


def restore_backup(
    path: Path, target_url: str, *, force: bool = False, progress: Progress | None = None
) -> RestoreReport:
    report = progress or (lambda _stage, _done, _total: None)
    scratch = Path(tempfile.mkdtemp(prefix="netplanet-restore."))
    try:
        database = scratch / "netplanet.db"
        manifest = read_backup(
            path, extract_to=database, progress=lambda done, total: report("read", done, total)
        )
        # Migrated forward here when older: the target only ever sees the current schema.
        source = open_store(f"sqlite:///{database}")
        try:
            schema = current_revision(source.engine) or manifest.schema
            target = open_store(target_url)
            try:
                check_target(source, target, force=force)
                pages = _sqlite_file(target)
                if pages is not None and _page_size(database) == _page_size(pages):
                    with source.engine.begin() as conn:
                        source.index_queued(conn)
                    source.close()
                    target.close()
                    rows = _copy_pages(database, pages, report)
                    copied = CopyReport(rows=rows, checksum="")
                    verified = "row counts and the search index's integrity-check"
                else:
                    copied = copy_database(
                        source, target, force=force, all_settings=True, progress=report
                    )
                    verified = f"sha256 {copied.checksum[:16]}"
            finally:
                target.close()
        finally:
            source.close()
        return RestoreReport(manifest=manifest, schema=schema, copy=copied, verified=verified)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sqlite_file(store: SqlStore) -> Path | None:
    """The target's file when it is a plain SQLite file (not in memory, not a URI)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _page_size(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def _copy_pages(scratch: Path, target: Path, report: Progress) -> dict[str, int]:
    """The scratch database (checked, migrated) onto `target` in one step of the backup API:
    one write transaction on the target. Returns the row counts, checked on the target."""
    try:
        with contextlib.closing(sqlite3.connect(scratch, isolation_level=None)) as src:
            # What belongs to the processes and clients of the database backed up.
            src.execute("BEGIN")
            src.execute("UPDATE sources SET lease_owner = NULL, lease_until = NULL")
            src.execute("DELETE FROM login_failures")
            src.execute("COMMIT")
            _, expected = describe_database(scratch)
            with contextlib.closing(
                sqlite3.connect(target, timeout=30, isolation_level=None)
            ) as dst:
                src.backup(
                    dst,
                    pages=-1,
                    progress=lambda _s, remaining, total: report(
                        "restore", total - remaining, total
                    ),
                )
                dst.execute("INSERT INTO entries_fts(entries_fts) VALUES ('integrity-check')")
                indexed = dst.execute("SELECT count(*) FROM entries_fts").fetchone()[0]
        _, rows = describe_database(target)
    except sqlite3.Error as exc:
        raise StoreError(f"restore into {target} failed: {exc}") from exc
    if rows != expected or indexed != rows.get("entries"):
        raise StoreError(
            f"restore verification failed: {target} has {sum(rows.values())} rows and "
            f"{indexed} indexed posts, the backup {sum(expected.values())} rows"
        )
    return rows
