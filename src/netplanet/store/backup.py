"""`netplanet db backup`: one file holding a consistent snapshot of the planet, verified.

The file is a gzip-compressed tar of two members, `manifest.json` first and `netplanet.db`, a
plain SQLite database (`tar -xzf` and `sqlite3` open it without netplanet). The snapshot:

- SQLite: SQLite's online backup API, copying pages in steps (for the progress bar) while this
  connection holds one read transaction. In WAL mode that transaction sees the database as of
  its first read and never blocks `run` or workers, and since the pages are read through it, a
  write made meanwhile neither restarts the backup nor tears the snapshot.
- PostgreSQL: `db copy` (store/copy.py) into a new SQLite file, reading one REPEATABLE READ
  snapshot and verifying the copy by row counts and checksums. A `pg_dump` file would only
  restore into PostgreSQL; this one restores into either backend, is checked the same way, and
  needs no client tools matching the server's version.

The manifest names the format, the schema revision, the row count of every table and the size
and sha256 of the database file. Everything is written under a work directory next to the
final name and renamed onto it only after the written archive has been read back and matched
the manifest, so an interrupted backup (even `kill -9`) leaves any previous file of that name
as it was; work directories left by killed backups are removed by the next backup there.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from netplanet import __version__
from netplanet.errors import ConfigError, StoreError, UsageError
from netplanet.store.migrate import check_known, current_revision, known_revisions
from netplanet.store.schema import metadata
from netplanet.store.sql import SqlStore

FORMAT = "netplanet-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "netplanet.db"
_WORK_PREFIX = ".netplanet-backup-work."
_PAGES = 1024  # pages per backup step: ~4 MB between progress updates
_BLOCK = 1 << 20
_LEVEL = 1  # gzip level 1: 4x the speed of 6 for 15% more bytes (docs/benchmarks.md, Backup)

Progress = Callable[[str, int, int], None]
"""Called as (stage, done, total): stages are "snapshot" (pages, or a table's rows from
PostgreSQL), "checksum", "compress" and "verify" (bytes)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    format_version: int
    netplanet: str
    created_at: str
    origin: str
    """The backend backed up: "sqlite" or "postgresql"."""
    schema: str
    """The Alembic revision of the database in the file."""
    rows: dict[str, int]
    database_bytes: int
    database_sha256: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    manifest: Manifest
    size: int
    """Bytes of the compressed file."""


def default_name(now: datetime | None = None) -> str:
    """`netplanet-backup-20261203T072800Z.tar.gz`: sorts by time, one a second."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"netplanet-backup-{moment:%Y%m%dT%H%M%SZ}.tar.gz"


def write_backup(store: SqlStore, dest: Path, *, progress: Progress | None = None) -> BackupReport:
    """Snapshot `store` into the compressed file `dest` (replaced only once complete)."""
    report = progress or (lambda _stage, _done, _total: None)
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        raise ConfigError(f"{dest} is a directory; name the backup file, e.g. {default_name()}")
    if not dest.parent.is_dir():
        raise ConfigError(f"directory {dest.parent} does not exist; create it first")
    sweep_work_dirs(dest.parent)
    try:
        work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}.", dir=dest.parent))
    except OSError as exc:
        raise ConfigError(f"cannot write in {dest.parent}: {exc.strerror or exc}") from exc
    try:
        database = work / DATABASE
        if store.engine.dialect.name == "sqlite":
            _snapshot_sqlite(store, database, report)
            origin = "sqlite"
        else:
            _snapshot_postgres(store, database, report)
            origin = "postgresql"
        manifest = _manifest(database, origin, report)
        archive = work / "backup.tar.gz"
        _write_archive(archive, manifest, database, report)
        try:
            read_backup(archive, progress=lambda done, total: report("verify", done, total))
        except UsageError as exc:  # written wrong (a failing disk?): never renamed into place
            raise StoreError(
                f"backup failed, {dest} is unchanged: the written file did not read back ({exc})"
            ) from exc
        os.replace(archive, dest)
        _fsync_dir(dest.parent)
        return BackupReport(path=dest, manifest=manifest, size=dest.stat().st_size)
    except OSError as exc:
        raise StoreError(f"backup failed, {dest} is unchanged: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sweep_work_dirs(directory: Path) -> None:
    """Remove work directories of backups whose process is gone (killed mid-way)."""
    try:
        found = list(directory.glob(f"{_WORK_PREFIX}*"))
    except OSError:
        return
    for work in found:
        pid = work.name[len(_WORK_PREFIX) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _snapshot_sqlite(store: SqlStore, database: Path, report: Progress) -> None:
    path = store.engine.url.database
    if not path or path == ":memory:":
        raise ConfigError("an in-memory database cannot be backed up")
    check_known(current_revision(store.engine))
    source = sqlite3.connect(path, timeout=30, isolation_level=None)
    target = sqlite3.connect(database, isolation_level=None)
    try:
        # One read transaction for the whole copy: the snapshot (see the module docstring).
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()

        def step(_status: int, remaining: int, total: int) -> None:
            report("snapshot", total - remaining, total)

        source.backup(target, pages=_PAGES, progress=step)
        source.execute("COMMIT")
        # A self-contained file: no -wal beside it when it is opened again.
        target.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"backup failed while reading {path}: {exc}") from exc
    finally:
        target.close()
        source.close()


def _snapshot_postgres(store: SqlStore, database: Path, report: Progress) -> None:
    from netplanet.store import open_store
    from netplanet.store.copy import copy_database
    from netplanet.store.migrate import head_revision

    current = current_revision(store.engine)
    check_known(current)
    if current != head_revision():
        raise ConfigError(
            f"the database is at schema {current}, older than this netplanet's; run "
            "`netplanet db migrate` first, or back it up with the netplanet that wrote it"
        )
    target = open_store(f"sqlite:///{database}")
    try:
        copy_database(
            store,
            target,
            all_settings=True,
            progress=lambda table, done, total: report(f"snapshot {table}", done, total),
        )
    finally:
        target.close()
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()


def _manifest(database: Path, origin: str, report: Progress) -> Manifest:
    schema, rows = describe_database(database)
    digest = hashlib.sha256()
    size = database.stat().st_size
    done = 0
    with database.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
            done += len(block)
            report("checksum", done, size)
    return Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        netplanet=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        origin=origin,
        schema=schema,
        rows=rows,
        database_bytes=database.stat().st_size,
        database_sha256=digest.hexdigest(),
    )


def describe_database(database: Path) -> tuple[str, dict[str, int]]:
    """(schema revision, row count of every netplanet table in the file) of a SQLite file of
    any netplanet schema: tables a revision does not have yet are left out."""
    uri = f"{database.absolute().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as conn:
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in present:
            raise StoreError("the database has no schema revision (alembic_version)")
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        if len(versions) != 1:
            raise StoreError(f"the database has {len(versions)} schema revisions, not one")
        rows = {
            table.name: int(conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])
            for table in metadata.sorted_tables
            if table.name in present
        }
    return str(versions[0]), rows


class _Reading(io.RawIOBase):
    """A file read for the archive, reporting bytes read."""

    def __init__(self, raw: IO[bytes], total: int, report: Progress) -> None:
        self._raw, self._total, self._report, self._done = raw, total, report, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._done += len(data)
        self._report("compress", self._done, self._total)
        return len(data)


def _write_archive(archive: Path, manifest: Manifest, database: Path, report: Progress) -> None:
    body = manifest.to_json()
    # Owner-only: the file holds the admin password's hash and the session secret.
    with os.fdopen(os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
        with (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=_LEVEL, mtime=0) as zipped,
            tarfile.open(fileobj=zipped, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            tar.addfile(_member(MANIFEST, len(body)), io.BytesIO(body))
            with database.open("rb") as f:
                reading = io.BufferedReader(_Reading(f, manifest.database_bytes, report), _BLOCK)
                tar.addfile(_member(DATABASE, manifest.database_bytes), reading)
        raw.flush()
        os.fsync(raw.fileno())


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    return info


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_MANIFEST_MAX = 1 << 20


def read_backup(
    path: Path,
    *,
    extract_to: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Check the backup file `path` end to end and return its manifest; with `extract_to`, the
    database is written there and checked too (schema, row counts, SQLite's quick_check).

    Every way a file can fail (missing, not a backup, truncated, damaged, a schema newer than
    this netplanet's) is a UsageError of one line; nothing outside `extract_to` is touched."""
    if not path.is_file():
        raise UsageError(f"backup file {path} does not exist")
    try:
        with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as zipped:
            manifest = _read_members(path, zipped, extract_to, progress)
            # The tar's end and the gzip trailer (its CRC and length) are checked too.
            while zipped.read(_BLOCK):
                pass
    except (EOFError, tarfile.ReadError) as exc:
        raise UsageError(
            f"backup {path} is truncated or damaged ({_reason(exc)}); nothing was restored"
        ) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise UsageError(
            f"{path} is not a netplanet backup, or it is damaged ({_reason(exc)})"
        ) from exc
    except OSError as exc:
        raise UsageError(f"cannot read backup {path}: {exc.strerror or exc}") from exc
    if extract_to is not None:
        _check_database(path, extract_to, manifest)
    return manifest


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_members(
    path: Path,
    zipped: gzip.GzipFile,
    extract_to: Path | None,
    progress: Callable[[int, int], None] | None,
) -> Manifest:
    with tarfile.open(fileobj=zipped, mode="r|") as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not 0 < first.size <= _MANIFEST_MAX:
            raise UsageError(f"{path} is not a netplanet backup (no {MANIFEST} at its start)")
        body = tar.extractfile(first)
        assert body is not None
        manifest = parse_manifest(path, body.read())
        second = tar.next()
        if second is None or second.name != DATABASE or not second.isfile():
            raise UsageError(f"backup {path} is truncated or damaged (no {DATABASE})")
        if second.size != manifest.database_bytes:
            raise UsageError(
                f"backup {path} is damaged: its database has {second.size} bytes, the "
                f"manifest says {manifest.database_bytes}; nothing was restored"
            )
        data = tar.extractfile(second)
        assert data is not None
        digest = hashlib.sha256()
        done = 0
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(extract_to.open("wb")) if extract_to else None
            while block := data.read(_BLOCK):
                digest.update(block)
                if out is not None:
                    out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, second.size)
        if digest.hexdigest() != manifest.database_sha256:
            raise UsageError(
                f"backup {path} is damaged: checksum mismatch (sha256 {digest.hexdigest()[:12]}, "
                f"the manifest says {manifest.database_sha256[:12]}); nothing was restored"
            )
        if tar.next() is not None:
            raise UsageError(f"{path} is not a netplanet backup (unexpected members)")
    return manifest


def parse_manifest(path: Path, body: bytes) -> Manifest:
    """The manifest, checked: a netplanet backup, of a format and schema this netplanet reads."""
    try:
        fields = json.loads(body)
        manifest = Manifest(**fields)
        valid = (
            isinstance(manifest.format_version, int)
            and isinstance(manifest.schema, str)
            and isinstance(manifest.rows, dict)
            and all(isinstance(n, int) for n in manifest.rows.values())
            and isinstance(manifest.database_bytes, int)
            and isinstance(manifest.database_sha256, str)
        )
    except (ValueError, TypeError):
        valid = False
    if not valid or manifest.format != FORMAT:
        raise UsageError(f"{path} is not a netplanet backup (its {MANIFEST} is not one)")
    if manifest.format_version > FORMAT_VERSION:
        raise UsageError(
            f"backup {path} has format {manifest.format_version}, newer than this netplanet "
            f"reads ({FORMAT_VERSION}); restore it with netplanet {manifest.netplanet} or newer"
        )
    known = known_revisions()
    if manifest.schema not in known:
        newest = max(known)
        if manifest.schema.isdigit() and manifest.schema > newest:
            raise UsageError(
                f"backup {path} holds schema {manifest.schema}, newer than this netplanet "
                f"supports (up to {newest}); restore it with netplanet {manifest.netplanet} "
                "or newer"
            )
        raise UsageError(
            f"backup {path} holds schema {manifest.schema!r}, not one of netplanet's "
            f"(0001 to {newest})"
        )
    return manifest


def _check_database(path: Path, database: Path, manifest: Manifest) -> None:
    try:
        schema, rows = describe_database(database)
        uri = f"{database.absolute().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as conn:
            health = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except (sqlite3.Error, StoreError) as exc:
        raise UsageError(f"backup {path} is damaged: {_reason(exc)}; nothing was restored") from exc
    if health != ["ok"]:
        raise UsageError(
            f"backup {path} is damaged: SQLite's check says {health[0]}; nothing was restored"
        )
    if schema != manifest.schema or rows != manifest.rows:
        raise UsageError(
            f"backup {path} is damaged: its database does not match its manifest (schema "
            f"{schema}, {sum(rows.values())} rows; manifest: {manifest.schema}, "
            f"{sum(manifest.rows.values())} rows); nothing was restored"
        )
