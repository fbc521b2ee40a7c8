"""`netplanet export --out DIR [--base-url URL]`: the public site written as static files.

A progress bar on a terminal (nothing with -q or when not a terminal), then one line:
"wrote N, unchanged M, removed K files in T s". A directory that cannot be an export (a
file, not writable, holding other files) or a bad --base-url is a one-line error (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import console, quiet, say

if TYPE_CHECKING:
    from netplanet.planet import Planet

BASE_URL_HELP = (
    "Where the export will be served from (a sub-path too), for its feeds and canonical "
    "links; default: site_url, else the site's stored address, else the directory's file:// URL."
)


def register(app: typer.Typer, *, planet: Callable[[], Planet]) -> None:
    @app.command("export")
    def export(
        out: Annotated[
            Path,
            typer.Option(
                "--out", "-o", metavar="DIR", help="Directory to write (kept up to date)."
            ),
        ],
        base_url: Annotated[
            str, typer.Option("--base-url", metavar="URL", help=BASE_URL_HELP)
        ] = "",
    ) -> None:
        """Write the whole public site as static files into DIR; run again to update only
        the files that changed."""
        from netplanet.export import export_site
        from netplanet.export.run import check_base_url

        if base_url:
            check_base_url(base_url)  # before any work
        current = planet()
        current.taxonomy()  # a bad topics_file is a one-line error before any work
        if quiet() or not sys.stderr.isatty():
            result = export_site(current.store, current.settings, out, base_url=base_url)
        else:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            bar = Progress(
                TextColumn("exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            )
            with bar:
                task = bar.add_task("export", total=None)

                def step(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = export_site(
                    current.store,
                    current.settings,
                    out,
                    base_url=base_url,
                    progress=step,
                )
        say(f"{result.summary()} ({out}, for {result.base_url}/)")
