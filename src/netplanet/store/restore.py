"""`netplanet db restore`: a backup file (store/backup.py) back into SQLite or PostgreSQL.

In this order, so that a bad file never touches the target:
1. the whole file is read and checked (manifest, checksum, gzip CRC, SQLite's quick_check,
   row counts) while its database is written to a scratch directory;
2. a backup of an older schema is migrated forward there, with the same migrations every
   database gets (to the Alembic head, whatever it is);
3. only then is the target opened (created and migrated if new), refused if it already holds a
   planet unless `force`, and filled by `db copy` (store/copy.py) in one transaction, verified
   by row counts and checksums. Every app setting comes back (admin password, session secret,
   base URL); the search index is built by the target's own triggers as rows arrive, and
   PostgreSQL's id sequences are moved past the restored ids.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netplanet.store import open_store
from netplanet.store.backup import Manifest, read_backup
from netplanet.store.copy import CopyReport, check_target, copy_database
from netplanet.store.migrate import current_revision

Progress = Callable[[str, int, int], None]
"""Called as (stage, done, total): "read" (bytes of the database), then each table's rows."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: Manifest
    schema: str
    """The schema the restored planet has (the backup's, migrated forward if older)."""
    copy: CopyReport


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
                copied = copy_database(
                    source, target, force=force, all_settings=True, progress=report
                )
            finally:
                target.close()
        finally:
            source.close()
        return RestoreReport(manifest=manifest, schema=schema, copy=copied)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
