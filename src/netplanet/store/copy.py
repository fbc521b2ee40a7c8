"""`netplanet db copy`: move a planet between databases (SQLite <-> PostgreSQL) without loss.

Rows are copied table by table in dependency order, ids, page positions (seq) and first-seen
times included, inside one target transaction (a failed copy leaves the target as it was).
The source is read in one snapshot (one read transaction; REPEATABLE READ on PostgreSQL, a WAL
read transaction on SQLite), copy and verification alike, so `run` or workers may go on writing
while it runs: their later rows are simply not part of the copy.
The search index is built on the target at the end of the same transaction: its triggers queue
every inserted post and the queue is indexed set-wise (store/indexing.py) before the commit.
Afterwards PostgreSQL's id sequences are moved past the copied ids, and both databases are
compared by row counts and a sha256 over a canonical, ordered dump of every copied column.

Worker leases are not copied: they belong to the processes polling the source database. Of
the app settings only the site's base URL and feed-id authority (`PLANET_SETTINGS`) and the
redirects of renamed source pages (`SLUG_MOVED_PREFIX`) are: the admin password, session secret
and login failures stay with the database they were made for. A backup and its restore
(`store/backup.py`, `store/restore.py`) copy every setting (`all_settings=True`): restoring a
planet brings its admin area back as it was; login failures are never copied.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from netplanet.errors import StoreError, UsageError
from netplanet.store.admin import PLANET_SETTINGS
from netplanet.store.base import SLUG_MOVED_PREFIX
from netplanet.store.schema import (
    app_settings,
    categories,
    digest_picks,
    digest_weeks,
    entries,
    entry_categories,
    entry_topics,
    login_failures,
    sources,
    story_keys,
)
from netplanet.store.sql import SqlStore

# Parents before children; each with the columns that order its rows canonically.
_TABLES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (categories, ("slug",)),
    (sources, ("id",)),
    (entries, ("id",)),
    (entry_categories, ("entry_id", "category_slug")),
    (entry_topics, ("entry_id", "topic_slug")),
    (story_keys, ("entry_id", "key")),
    (digest_weeks, ("week",)),
    (digest_picks, ("week", "entry_id")),
)
_NOT_COPIED = frozenset({"lease_owner", "lease_until"})
_CHUNK = 1000

Progress = Callable[[str, int, int], None]
"""Called as (table name, rows copied so far, rows in the table)."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]
    checksum: str


def _columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.c if c.name not in _NOT_COPIED]


def _ordered(conn: Connection, table: Table, order: tuple[str, ...]) -> Generator[Any]:
    query = select(*_columns(table)).order_by(*(table.c[name] for name in order))
    # Closed even when the consumer stops early (a failed copy): PostgreSQL streams through a
    # server-side cursor, which must not be left to the garbage collector.
    with conn.execution_options(stream_results=True, yield_per=_CHUNK).execute(query) as result:
        yield from result


def _canonical(value: Any) -> Any:
    """One spelling per value whatever the backend: SQLite gives 0/1 for booleans, and
    datetimes are compared as UTC instants."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def table_digest(conn: Connection, table: Table, order: tuple[str, ...]) -> tuple[int, str]:
    """(row count, sha256 of the table's copied columns in canonical order)."""
    digest = hashlib.sha256(table.name.encode())
    count = 0
    for row in _ordered(conn, table, order):
        digest.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False).encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def _is_empty(conn: Connection) -> bool:
    return all(
        conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        for table, _ in _TABLES
    )


def copy_database(
    source: SqlStore,
    target: SqlStore,
    *,
    force: bool = False,
    progress: Progress | None = None,
    all_settings: bool = False,
) -> CopyReport:
    """Copy every planet row from `source` to `target` and verify the result, both from one
    snapshot of the source. `all_settings`: every app setting (a backup or a restore), not only
    the planet's (`db copy` between an operator's databases)."""
    check_target(source, target, force=force)
    # psycopg warns "error ignored terminating <Pipeline>: pipeline aborted" when a batch insert
    # fails: a second line repeating the one error this reports.
    psycopg_log = logging.getLogger("psycopg")
    level = psycopg_log.level
    psycopg_log.setLevel(logging.ERROR)
    with snapshot(source) as src:
        try:
            _copy(src, target, force=force, progress=progress, all_settings=all_settings)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"copy failed, the target is unchanged: {reason}") from exc
        finally:
            psycopg_log.setLevel(level)
        with target.engine.connect() as dst:
            return _verify(src, dst, all_settings=all_settings)


@contextmanager
def snapshot(store: SqlStore) -> Iterator[Connection]:
    """A connection reading one consistent state of `store` while others write: a read-only
    REPEATABLE READ transaction on PostgreSQL, a read transaction on SQLite (in WAL mode it
    sees the database as of its first read and never blocks the writer)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def _identity(store: SqlStore) -> tuple[object, ...]:
    """What the database is, whatever its URL's spelling: a SQLite file (the device and inode
    of the file SQLite opened), or a PostgreSQL server, database and schema (tables live in
    the first schema of the search_path, so two schemas are two planets)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            path = next((row[2] for row in conn.exec_driver_sql("PRAGMA database_list")), "")
            if not path:  # in memory: a database of its own
                return ("sqlite", id(store))
            found = os.stat(path)
            return ("sqlite", found.st_dev, found.st_ino)
        try:
            with conn.begin_nested():
                server: object = conn.exec_driver_sql(
                    "SELECT system_identifier FROM pg_control_system()"
                ).scalar_one()
        except DBAPIError:  # a server that does not let everyone read its control data
            server = tuple(
                conn.exec_driver_sql("SELECT inet_server_addr(), inet_server_port()").one()
            )
        where = conn.exec_driver_sql("SELECT current_database(), current_schema()").one()
        return ("postgresql", server, *where)


def check_target(source: SqlStore, target: SqlStore, *, force: bool) -> None:
    """Refuse copying a database onto itself, or into a planet unless `force`."""
    if source.url == target.url or _identity(source) == _identity(target):
        raise UsageError("--from and --to are the same database")
    with target.engine.connect() as conn:
        if not force and not _is_empty(conn):
            raise UsageError(
                f"{target.url} already holds a planet; use --force to replace its contents"
            )


def _copy(
    src: Connection,
    target: SqlStore,
    *,
    force: bool,
    progress: Progress | None,
    all_settings: bool,
) -> None:
    totals: dict[str, int] = {}
    for table, _ in _TABLES:
        totals[table.name] = src.execute(select(func.count()).select_from(table)).scalar_one()
    with target.engine.begin() as dst:
        if force:  # check_target refused a non-empty target without it
            for table, _ in reversed(_TABLES):
                dst.execute(delete(table))
        if all_settings:  # the copied planet's settings replace the target's, all of them
            dst.execute(delete(app_settings))
            dst.execute(delete(login_failures))
        for table, order in _TABLES:
            _copy_table(src, dst, table, order, totals[table.name], progress)
        # A copied planet is searchable as soon as it is there, as the source was.
        target.index_queued(dst)
        # The planet's settings and the redirects of renamed source pages; the admin password,
        # session secret and the rest only with all_settings; never login failures.
        query = select(app_settings.c.key, app_settings.c.value)
        if not all_settings:
            query = query.where(
                app_settings.c.key.in_(PLANET_SETTINGS)
                | app_settings.c.key.startswith(SLUG_MOVED_PREFIX, autoescape=True)
            )
        for key, value in src.execute(query).all():
            dst.execute(delete(app_settings).where(app_settings.c.key == key))
            dst.execute(insert(app_settings).values(key=key, value=value))
        if dst.dialect.name == "postgresql":
            for table in (sources, entries):
                dst.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table.name}"
                    )
                )


def _copy_table(
    src: Connection,
    dst: Connection,
    table: Table,
    order: tuple[str, ...],
    total: int,
    progress: Progress | None,
) -> None:
    names = [c.name for c in _columns(table)]
    done = 0
    chunk: list[dict[str, Any]] = []
    rows = _ordered(src, table, order)
    try:
        for row in rows:
            chunk.append(dict(zip(names, row, strict=True)))
            if len(chunk) >= _CHUNK:
                dst.execute(insert(table), chunk)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(table.name, done, total)
    finally:
        rows.close()  # the source's cursor, now rather than whenever the generator is collected
    if chunk:
        dst.execute(insert(table), chunk)
        done += len(chunk)
    if progress is not None:
        progress(table.name, done, total)


def verify_copy(source: SqlStore, target: SqlStore) -> CopyReport:
    """Compare row counts and checksums; raises StoreError naming the first difference."""
    with source.engine.connect() as src, target.engine.connect() as dst:
        return _verify(src, dst, all_settings=False)


def _verify(src: Connection, dst: Connection, *, all_settings: bool) -> CopyReport:
    rows: dict[str, int] = {}
    overall = hashlib.sha256()
    tables = _TABLES + (((app_settings, ("key",)),) if all_settings else ())
    for table, order in tables:
        n_src, h_src = table_digest(src, table, order)
        n_dst, h_dst = table_digest(dst, table, order)
        if n_src != n_dst:
            raise StoreError(
                f"copy verification failed: {table.name} has {n_src} rows in the source "
                f"and {n_dst} in the target"
            )
        if h_src != h_dst:
            raise StoreError(
                f"copy verification failed: {table.name} differs between source and "
                f"target (sha256 {h_src[:12]} vs {h_dst[:12]})"
            )
        rows[table.name] = n_src
        overall.update(h_src.encode())
    return CopyReport(rows=rows, checksum=overall.hexdigest())
