"""`netplanet update` (one round over the sources, with a progress bar and a summary) and
`netplanet run` (website and scheduler in one process).

cli/__init__.py calls `register(app)`. `update` is the command run most often, from cron, so Rich is
loaded only when a progress bar or table is drawn (not with -q), and the service and web
modules only by `run`.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import (
    console,
    find_source,
    listen_socket,
    planet,
    port_option,
    quiet,
    say,
    site_address,
    stage_bars,
    warn,
)
from netplanet.settings import RANGES

if TYPE_CHECKING:
    from netplanet.model import Source
    from netplanet.planet import Planet
    from netplanet.update.pipeline import SourceReport

EXIT_SOME_FAILED = 4


def register(app: typer.Typer) -> None:
    """Add `update` and `run` to `app`."""
    app.command()(update)
    app.command("run")(run_command)


def update(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-j",
            metavar="N",
            min=RANGES["fetch_concurrency"].lo,
            max=RANGES["fetch_concurrency"].hi,
            help="Parallel fetches.",
        ),
    ] = None,
) -> None:
    """Poll the enabled sources once and store new and edited posts."""
    current = planet()
    if source is not None:
        targets = [find_source(source)]
    elif current.has_enabled_sources():
        targets = [s for s in current.store.list_sources() if s.enabled]
    else:
        targets = []
    if not targets:
        say("no enabled sources; add some with `netplanet sources add URL` or `init`")
        return
    import asyncio

    reports = asyncio.run(_run_update(current, targets, concurrency))
    _print_summary(reports)
    _index_for_search(current)
    if any(r.failed for r in reports):
        raise typer.Exit(EXIT_SOME_FAILED)


async def _run_update(
    current: Planet, targets: list[Source], concurrency: int | None
) -> list[SourceReport]:
    _freeze_startup_objects()
    if quiet():
        async with current.fetcher(concurrency=concurrency) as fetcher:
            return await current.pipeline(fetcher).update_many(targets, None)

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("updating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", style="dim", markup=False),  # a feed's title
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=False,
    )
    with progress:
        task = progress.add_task("update", total=len(targets), last="")

        def done(report: SourceReport) -> None:
            progress.update(task, advance=1, last=report.title[:40])

        async with current.fetcher(concurrency=concurrency) as fetcher:
            return await current.pipeline(fetcher).update_many(targets, done)


def _index_for_search(current: Planet) -> None:
    """Index what the round stored (and anything an earlier process left queued) before
    exiting, so a one-shot update leaves a searchable planet (store/indexing.py)."""
    import time

    from netplanet.store.indexing import catch_up

    waiting = current.store.pending_index()
    if not waiting:
        return
    started = time.perf_counter()
    with stage_bars(quiet()) as advance:
        done = catch_up(
            current.store,
            progress=lambda n: advance("indexing for search", n, max(n, waiting)),
        )
    if done:
        say(f"indexed {done} posts for search in {time.perf_counter() - started:.1f} s")


def _freeze_startup_objects() -> None:
    """Move what start-up allocated (modules, the store's metadata, the taxonomy) out of the
    garbage collector's reach: it lives as long as the process, and every full collection of
    a round or of `run` would walk it again (two of them cost ~0.1 s of a 1,000-feed idle
    round, one cheap one after this)."""
    import gc

    gc.freeze()


def _print_summary(reports: list[SourceReport]) -> None:
    if quiet():
        for r in reports:
            if r.failed:
                warn(f"{r.title}: {r.error}")
        return
    from rich.table import Table
    from rich.text import Text

    from netplanet.model import PollOutcome

    out = console()
    counts = Counter(r.outcome for r in reports)
    table = Table(title="update summary", title_justify="left")
    for col in ("sources", "updated", "not modified (304)", "unchanged", "failed", "new posts"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(reports)),
        str(counts[PollOutcome.UPDATED]),
        str(counts[PollOutcome.NOT_MODIFIED]),
        str(counts[PollOutcome.UNCHANGED]),
        str(counts[PollOutcome.FAILED] + counts[PollOutcome.GONE]),
        f"{sum(r.new for r in reports)} (+{sum(r.changed for r in reports)} edited)",
    )
    out.print(table)
    failed = [r for r in reports if r.failed]
    if failed:
        by_class = Counter(r.error_class for r in failed)
        errors = Table(title="top errors", title_justify="left")
        errors.add_column("count", justify="right")
        errors.add_column("kind")
        errors.add_column("example")
        for kind, n in by_class.most_common(5):
            example = next(r for r in failed if r.error_class == kind)
            errors.add_row(str(n), kind, Text(f"{example.title}: {example.error}"))
        out.print(errors)
    for r in reports:
        if r.moved_to:
            say(f"{r.title}: feed moved permanently to {r.moved_to} (URL updated)")


def run_command(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, port_option("Port to listen on (default 8080).")] = None,
    no_web: Annotated[bool, typer.Option("--no-web", help="Only run the updates.")] = False,
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            min=RANGES["update_interval_s"].lo,
            max=RANGES["update_interval_s"].hi,
            help="Poll interval of sources with no history yet (seconds).",
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text (default) or json (one object a line).")
    ] = "text",
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="DIR",
            help="Keep a static export of the site in DIR current (see `netplanet export`).",
        ),
    ] = None,
    base_url: Annotated[
        str,
        typer.Option("--base-url", metavar="URL", help="Where the --export is served from."),
    ] = "",
) -> None:
    """Serve the planet and keep it updated (imports the bundled sources on first start)."""
    from netplanet.cli._logging import configure_logging
    from netplanet.errors import UsageError

    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not {log_format!r}")
    configure_logging(log_format, level=logging.ERROR if quiet() else logging.INFO)
    import asyncio

    from netplanet import __version__
    from netplanet.cli._common import import_specs
    from netplanet.runtime.service import run_service
    from netplanet.settings import with_options
    from netplanet.sources.defaults import load_default_sources

    current = planet()
    settings = with_options(
        current.settings,
        {
            "host": ("--host", host),
            "port": ("--port", port),
            "update_interval_s": ("--interval", interval),
        },
    )
    # The planet builds every pipeline from its settings: with the options applied, `run`
    # schedules with --interval (the options change nothing the store or the pool depends on).
    current.settings = settings
    if not no_web:
        # The address is checked before anything starts (the server binds it again a moment
        # later): in use or not local is a one-line error, not a traceback and exit 3.
        listen_socket(settings.host, settings.port).close()
    current.taxonomy()  # a bad topics_file is a one-line error before anything starts
    after_change = None
    if base_url and export is None:
        raise UsageError("--base-url is the address of an --export; give --export DIR too")
    if export is not None:
        from netplanet.export import ExportStep
        from netplanet.export.files import ExportDir
        from netplanet.export.run import check_base_url

        if base_url:
            check_base_url(base_url)
        with ExportDir(export):  # not a directory, not writable, not an export: say so now
            pass
        after_change = ExportStep(current.store, settings, export, base_url=base_url)
    if not current.store.list_sources():
        report = import_specs(load_default_sources())
        say(f"first start: imported {report.added} bundled sources")

    sources = len(current.store.list_sources())
    if not no_web:
        say(f"netplanet {__version__}: {site_address(settings.host, settings.port)}")
    say(
        f"{sources} sources in {current.store.url}; polling each every "
        f"{settings.min_interval_s:g}-{settings.max_interval_s:g} s as it posts (Ctrl-C to stop)"
    )
    if export is not None:
        say(f"keeping a static export in {export} current")

    async def serve() -> None:
        _freeze_startup_objects()
        async with current.fetcher() as fetcher:
            await run_service(
                current.store,
                settings,
                current.pipeline,
                fetcher,
                web=not no_web,
                taxonomy=current.taxonomy,
                after_change=after_change,
            )

    asyncio.run(serve())
