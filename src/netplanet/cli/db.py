"""The scale-out commands: `netplanet worker` and `netplanet db copy`.

`cli/__init__.py` calls `register(app, db_app, planet=...)` so the global --database/--config/
--data-dir options apply. The worker loop itself is `netplanet.runtime.worker`; copying is
`netplanet.store.copy`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import stage_bars

if TYPE_CHECKING:
    from netplanet.planet import Planet
    from netplanet.update.pipeline import SourceReport


def _line(message: str) -> None:
    """A line on stdout; callers check the injected `quiet`."""
    print(message, flush=True)


def register(
    app: typer.Typer,
    db_app: typer.Typer,
    *,
    planet: Callable[[], Planet],
    quiet: Callable[[], bool] = lambda: False,
) -> None:
    """Add `worker` to `app` and `copy` to `db_app`."""

    @app.command()
    def worker(
        worker_id: Annotated[
            str | None, typer.Option("--id", help="Worker name (default HOST-PID).")
        ] = None,
        batch: Annotated[
            int | None,
            typer.Option(
                "--batch", metavar="N", min=1, max=10000, help="Sources claimed at a time."
            ),
        ] = None,
        lease: Annotated[
            float | None,
            typer.Option(
                "--lease",
                metavar="SECONDS",
                min=1,
                max=86400,
                help="Seconds a claim holds (default 4x timeout).",
            ),
        ] = None,
        once: Annotated[bool, typer.Option("--once", help="Exit when no source is due.")] = False,
        idle: Annotated[
            float,
            typer.Option(
                "--idle",
                metavar="SECONDS",
                min=0.05,
                max=3600,
                help="Seconds to wait when nothing is due.",
            ),
        ] = 5.0,
    ) -> None:
        """Poll due sources, sharing the work with other workers through the database."""
        import asyncio
        import os
        import socket

        from netplanet.runtime.worker import WorkerConfig, run_worker, worker_signals

        current = planet()
        config = WorkerConfig.from_settings(
            current.settings,
            worker_id or f"{socket.gethostname()}-{os.getpid()}",
            batch=batch,
            lease_s=lease,
            idle_s=idle,
            once=once,
        )
        store = current.store

        def report(reports: list[SourceReport]) -> None:
            if not quiet():
                failed = sum(1 for r in reports if r.failed)
                new = sum(r.new for r in reports)
                _line(f"{config.worker_id}: polled {len(reports)}, {new} new, {failed} failed")

        async def main() -> None:
            stop = asyncio.Event()
            async with current.fetcher() as fetcher:
                task = asyncio.ensure_future(
                    run_worker(
                        store,
                        fetcher,
                        config,
                        pipelines=current.pipeline,
                        stop=stop,
                        on_batch=report,
                    )
                )
                with worker_signals(stop, task):
                    stats = await task
            if not quiet():
                _line(
                    f"{config.worker_id}: stopped after {stats.polled} polls "
                    f"({stats.new} new posts, {stats.failed} failed)"
                )

        if not quiet():
            _line(
                f"worker {config.worker_id} on {store.url}: batches of {config.batch}, "
                f"lease {config.lease_s:g} s, polls every {config.policy.min_interval_s:g}-"
                f"{config.policy.max_interval_s:g} s per source (adaptive)"
            )
        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            raise typer.Exit(130) from None

    @db_app.command("copy")
    def db_copy(
        source_url: Annotated[
            str, typer.Option("--from", metavar="URL", help="Database to copy from.")
        ],
        target_url: Annotated[
            str, typer.Option("--to", metavar="URL", help="Database to copy into.")
        ],
        force: Annotated[
            bool, typer.Option("--force", help="Replace the target's contents if it has any.")
        ] = False,
    ) -> None:
        """Copy a planet between databases (SQLite <-> PostgreSQL) and verify the copy."""
        from netplanet.store import open_store
        from netplanet.store.copy import check_target, copy_database

        source = open_store(source_url, must_exist=True)
        try:
            target = open_store(target_url)
            try:
                check_target(source, target, force=force)  # before the progress bar starts
                with stage_bars(quiet()) as advance:
                    result = copy_database(source, target, force=force, progress=advance)
            finally:
                target.close()
        finally:
            source.close()
        if not quiet():
            counts = ", ".join(f"{n} {t}" for t, n in result.rows.items())
            _line(f"copied {counts}; verified (sha256 {result.checksum[:16]})")
