"""Backup and restore time over a large planet: `db backup`, then `db restore` into SQLite
(and PostgreSQL with --postgres).

    .venv/bin/python benchmarks/backup.py [--entries 100000] [--sources 1000] [--db PATH]
        [--reuse] [--postgres URL] [--no-write]

1. Builds the SQLite planet of benchmarks/site.py (the store's migrations, realistic 1-8 KB
   posts, FTS index, sealed pages), or reuses --db.
2. Times `write_backup` (store/backup.py) with a clock per stage: the snapshot (online backup
   API), the manifest (row counts and the database's sha256), compression, and the read-back
   verification; then `restore_backup` into a new SQLite file (reading and checking the file,
   then the copy with its triggers and verification), and with --postgres into a new schema of
   that database (dropped afterwards).

Writes "## Backup and restore: <N> entries" in docs/benchmarks.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, machine_line, table, write_section

from netplanet.store import open_store
from netplanet.store.backup import write_backup
from netplanet.store.restore import restore_backup


def _site_module() -> Any:
    """benchmarks/site.py (its name hides behind the standard library's `site`)."""
    spec = importlib.util.spec_from_file_location("bench_site", Path(__file__).parent / "site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_site"] = module
    spec.loader.exec_module(module)
    return module


class Stages:
    """Seconds spent in each stage a progress callback names, in order of first appearance."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._current: str | None = None
        self._since = time.perf_counter()

    def __call__(self, stage: str, _done: int, _total: int) -> None:
        name = stage.split()[0] if stage.startswith("snapshot") else stage
        if name != self._current:
            self.mark(name)

    def mark(self, name: str | None) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.seconds[self._current] = self.seconds.get(self._current, 0) + now - self._since
        self._current, self._since = name, now


def timed(run: Callable[[Stages], Any]) -> tuple[float, Stages, Any]:
    stages = Stages()
    t0 = time.perf_counter()
    result = run(stages)
    stages.mark(None)
    return time.perf_counter() - t0, stages, result


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--db", type=Path, help="database file (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true", help="use --db as it is when it exists")
    ap.add_argument("--postgres", metavar="URL", help="also restore into a new schema there")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="netplanet-backup-bench-"))
    db = args.db or work / "planet.db"
    try:
        if not (args.reuse and db.exists()):
            print(f"building {args.entries:,} entries in {db}", file=sys.stderr)
            _site_module().build_db(db, args.entries, args.sources)
        store = open_store(f"sqlite:///{db}", auto_migrate=False)
        load_before = load_average()
        try:
            backup_s, backup_stages, made = timed(
                lambda stages: write_backup(store, work / "planet.tar.gz", progress=stages)
            )
        finally:
            store.close()
        print(f"backup {backup_s:.1f} s {backup_stages.seconds}", file=sys.stderr)
        rows: list[list[object]] = [
            [
                "`db backup` (SQLite planet)",
                f"{backup_s:.1f}",
                ", ".join(f"{k} {v:.1f}" for k, v in backup_stages.seconds.items()),
            ]
        ]
        targets = [("`db restore` into a new SQLite file", f"sqlite:///{work / 'restored.db'}")]
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        if args.postgres:
            import sqlalchemy as sa

            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            sep = "&" if "?" in args.postgres else "?"
            pg = f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}"
            targets.append(("`db restore` into a new PostgreSQL schema", pg))
        try:
            for label, url in targets:
                restore_s, restore_stages, _ = timed(
                    lambda stages, url=url: restore_backup(made.path, url, progress=stages)
                )
                read = restore_stages.seconds.pop("read", 0.0)
                copy = sum(restore_stages.seconds.values())
                print(f"{label} {restore_s:.1f} s", file=sys.stderr)
                rows.append(
                    [
                        label,
                        f"{restore_s:.1f}",
                        f"read and check {read:.1f}, migrate+copy+verify {copy:.1f}, "
                        f"open and other {restore_s - read - copy:.1f}",
                    ]
                )
        finally:
            if args.postgres:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
        load_after = load_average()
        posts = made.manifest.rows.get("entries", 0)
        command = ".venv/bin/python benchmarks/backup.py " + " ".join(
            a for a in sys.argv[1:] if a not in ("--no-write", "--reuse")
        )
        body = "\n".join(
            [
                f"## Backup and restore: {args.entries:,} entries",
                "",
                f"Command: `{command}`  ",
                f"Machine: {machine_line()}; load average {load_before} before, "
                f"{load_after} after.  ",
                f"Planet: {posts:,} posts from {made.manifest.rows.get('sources', 0):,} sources "
                f"(benchmarks/site.py's), database {mib(made.manifest.database_bytes)}; "
                f"backup file {mib(made.size)} (gzip level 1).",
                "",
                *table(["what", "seconds", "stages (s)"], rows, "lrl"),
                "",
            ]
        )
        print(body)
        if not args.no_write:
            write_section(f"## Backup and restore: {args.entries:,} entries", body)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
