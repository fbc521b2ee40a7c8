"""`netplanet db backup` and `netplanet db restore` (store/backup.py, store/restore.py).

`cli/__init__.py` calls `register(db_app, planet=..., quiet=...)` so the global --database/
--config/--data-dir options choose the planet backed up, or restored into without --to.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import stage_bars

if TYPE_CHECKING:
    from netplanet.planet import Planet


def _line(message: str) -> None:
    print(message, flush=True)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _counts(rows: dict[str, int]) -> str:
    names = {"entries": "posts", "sources": "sources", "categories": "categories"}
    return ", ".join(f"{rows.get(table, 0)} {name}" for table, name in names.items())


def register(
    db_app: typer.Typer,
    *,
    planet: Callable[[], Planet],
    quiet: Callable[[], bool] = lambda: False,
) -> None:
    """Add `backup` and `restore` to `db_app`."""

    @db_app.command("backup")
    def db_backup(
        to: Annotated[
            Path | None,
            typer.Option(
                "--to",
                metavar="FILE",
                help="Backup file to write (default: netplanet-backup-<UTC time>.tar.gz in "
                "the data directory).",
            ),
        ] = None,
    ) -> None:
        """Write a compressed, verified snapshot of the planet; safe while it runs."""
        from netplanet.store import open_store
        from netplanet.store.backup import default_name, write_backup

        current = planet()
        dest = to if to is not None else current.settings.data_dir / default_name()
        # Never migrated or created: a backup leaves the database exactly as it found it.
        store = open_store(
            current.settings.resolved_database_url, auto_migrate=False, must_exist=True
        )
        try:
            with stage_bars(quiet()) as progress:
                result = write_backup(store, dest, progress=progress)
        finally:
            store.close()
        if not quiet():
            m = result.manifest
            _line(
                f"backed up {_counts(m.rows)} (schema {m.schema}) to {result.path} "
                f"({_size(result.size)}); verified (sha256 {m.database_sha256[:16]})"
            )

    @db_app.command("restore")
    def db_restore(
        file: Annotated[Path, typer.Argument(metavar="FILE", help="A `db backup` file.")],
        to: Annotated[
            str | None,
            typer.Option(
                "--to", metavar="URL", help="Database to restore into (default: the planet's)."
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace the target's contents if it has any.")
        ] = False,
    ) -> None:
        """Check a backup file, then restore it (migrated forward if older) in one transaction."""
        from netplanet.settings import mask_url as _shown
        from netplanet.store.restore import restore_backup

        target = to or planet().settings.resolved_database_url
        with stage_bars(quiet()) as progress:
            result = restore_backup(file, target, force=force, progress=progress)
        if not quiet():
            m = result.manifest
            migrated = f", migrated to {result.schema}" if result.schema != m.schema else ""
            settings = result.copy.rows.get("app_settings", 0)
            _line(
                f"restored {_counts(result.copy.rows)} and {settings} settings from {file} "
                f"(made {m.created_at} from {m.origin}, schema {m.schema}{migrated}) into "
                f"{_shown(target)}; verified ({result.verified})"
            )
