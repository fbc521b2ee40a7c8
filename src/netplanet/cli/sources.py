"""The `netplanet sources` group: add (with feed discovery), edit, list, remove, import, export.

`sources health` is in admin.py. cli/__init__.py adds `sources_app` to the main app, so the
global --database/--config/--data-dir options apply.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from netplanet.cli._common import console, find_source, planet, print_import_lines, quiet, say

PROGRESS_FROM = 2_000
"""Imports of fewer sources take well under a second: no progress bar."""

sources_app = typer.Typer(
    help="Add, edit, list, remove, import and export sources.", no_args_is_help=True
)


@sources_app.command("add")
def sources_add(
    url: Annotated[
        str, typer.Argument(help="A feed URL, or a site URL to discover the feed from.")
    ],
    category: Annotated[str, typer.Option("--category", "-c", help="Default category.")] = "",
    title: Annotated[str, typer.Option("--title", "-t", help="Title (default: the feed's).")] = "",
) -> None:
    """Add a source; for an HTML page, discover its feed and say which one was chosen."""
    import asyncio

    from netplanet.operations.sources import add_source

    current = planet()
    store = current.store  # a database that is missing or unreachable, before any request
    added = asyncio.run(
        add_source(store, current.settings, url, title=title, category=category, on_found=say)
    )
    source = added.source
    say(f"added source {source.id} ({source.slug}): {source.display_title} <{source.feed_url}>")


@sources_app.command("edit")
def sources_edit(
    ref: Annotated[str, typer.Argument(help="Source id, slug or feed URL.")],
    url: Annotated[
        str | None,
        typer.Option("--url", "-u", help="A new feed URL (checked like an added one)."),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", "-t", help='A new title ("": the feed\'s).')
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help='A new category ("": none).')
    ] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Poll the source, or stop.")
    ] = None,
) -> None:
    """Change a source: its feed URL, title, category, or whether it is polled.

    A new URL keeps the source's id, page and posts, and the source is polled again soon.
    """
    import asyncio

    from netplanet.errors import UsageError
    from netplanet.operations.sources import edit_source

    if url is None and title is None and category is None and enabled is None:
        raise UsageError("nothing to change; give --url, --title, --category or --enable/--disable")
    current = planet()
    source = find_source(ref)
    done = asyncio.run(
        edit_source(
            current.store,
            source.id,
            allow_private=current.settings.allow_private_networks,
            url=url,
            title=title,
            category=category,
            enabled=enabled,
        )
    )
    edited = done.source
    if not done.changes:
        say(f"source {edited.id} ({edited.slug}): nothing changed")
        return
    current.store.bump_generation()
    for line in done.changes:
        say(f"source {edited.id} ({edited.slug}): {line}")
    if url is not None and any(c.startswith("feed URL") for c in done.changes):
        say("the new feed is polled at the next update (`netplanet update` polls it now)")


@sources_app.command("list")
def sources_list() -> None:
    """List sources with their health."""
    from rich.table import Table
    from rich.text import Text

    rows = planet().store.list_sources()
    table = Table(title=f"{len(rows)} sources", title_justify="left")
    for col in ("id", "title", "category", "status", "last success", "fails", "last error"):
        table.add_column(col, overflow="fold")
    for s in rows:
        last = s.last_success_at.strftime("%Y-%m-%d %H:%M") if s.last_success_at else "never"
        table.add_row(
            str(s.id),
            Text(s.display_title),  # feed data: never read as Rich markup
            Text(s.category),
            s.status.value,
            last,
            str(s.consecutive_failures),
            Text(s.last_error or s.disabled_reason),
        )
    console().print(table)


@sources_app.command("remove")
def sources_remove(
    ref: Annotated[str, typer.Argument(help="Source id, slug or feed URL.")],
) -> None:
    """Remove a source and its entries."""
    source = find_source(ref)
    planet().store.remove_source(source.id)
    say(f"removed source {source.id}: {source.display_title}")


@sources_app.command("import")
def sources_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An OPML file.")],
) -> None:
    """Import sources from an OPML file (known feeds and unusable outlines are skipped).

    At most `opml_max_outlines` feed outlines per file (10,000 by default); a bigger file is
    refused whole.
    """
    from netplanet.operations.imports import import_read, read_opml_file

    current = planet()
    read = read_opml_file(file, current.settings)
    total = len(read.specs)
    if quiet() or total < PROGRESS_FROM:
        report = import_read(current.store, read, current.settings)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress(
            "importing",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(stderr=True),
        )
        with bar:
            task = bar.add_task("import", total=total)
            report = import_read(
                current.store,
                read,
                current.settings,
                progress=lambda done, _: bar.update(task, completed=done),
            )
    print_import_lines(report)
    say(f"{report.summary()} from {file}")


@sources_app.command("export")
def sources_export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to this file, not stdout."),
    ] = None,
) -> None:
    """Export the sources as OPML 2.0."""
    from netplanet.errors import UsageError
    from netplanet.operations.imports import export_sources

    exported = export_sources(planet().store)
    if output is None:
        sys.stdout.buffer.write(exported.opml)
        sys.stdout.flush()
    else:
        try:
            output.write_bytes(exported.opml)
        except OSError as exc:  # a directory that does not exist, no permission, a full disk
            reason = exc.strerror or type(exc).__name__
            raise UsageError(f"cannot write {output}: {reason}; choose another --output") from None
        say(f"wrote {exported.sources} sources to {output}")
