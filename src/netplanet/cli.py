"""The `netplanet` command line (Typer + Rich).

Exit codes scripts can rely on:
  0 success · 1 an operation failed · 2 bad argument or configuration · 3 database unreachable
  4 `update` ran but some sources failed.
Every error is one line on stderr, never a traceback (use --verbose to log details).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from netplanet import __version__
from netplanet.errors import NetplanetError, NotFoundError, UsageError
from netplanet.model import Source, SourceSpec
from netplanet.planet import Planet
from netplanet.settings import load_settings
from netplanet.update.pipeline import SourceReport

EXIT_SOME_FAILED = 4

app = typer.Typer(
    name="netplanet",
    help="A fast, self-hosted planet for network engineering blogs and podcasts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
sources_app = typer.Typer(
    help="Add, list, remove, import and export sources.", no_args_is_help=True
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    planet: Planet | None = None
    quiet: bool = False


state = _State()


def _planet() -> Planet:
    assert state.planet is not None
    return state.planet


def _version(value: bool) -> None:
    if value:
        out.print(f"netplanet {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="Database URL (env NETPLANET_DATABASE_URL).", metavar="URL"
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file (env NETPLANET_CONFIG).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (env NETPLANET_DATA_DIR).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if not quiet else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(config, database_url=database, data_dir=data_dir)
    state.planet = Planet(settings)
    state.quiet = quiet


def _say(message: str) -> None:
    if not state.quiet:
        out.print(message)


def _find_source(ref: str) -> Source:
    """A source by id, slug or feed URL."""
    store = _planet().store
    source = None
    if ref.isdigit():
        source = store.get_source(int(ref))
    if source is None:
        source = store.get_source_by_slug(ref) or store.get_source_by_url(ref)
    if source is None:
        raise NotFoundError(f"no source {ref!r}; `netplanet sources list` shows ids and slugs")
    return source


# ---------------------------------------------------------------------------------- init / db


@app.command()
def init(
    defaults: Annotated[
        bool, typer.Option("--defaults/--no-defaults", help="Import the bundled sources.")
    ] = True,
) -> None:
    """Create the database and import the bundled networking sources."""
    from netplanet.sources.defaults import load_default_sources

    store = _planet().store
    _say(f"database ready at {store.url}")
    if defaults and not store.list_sources():
        added, skipped = _import_specs(load_default_sources())
        _say(f"imported {added} bundled sources ({skipped} already present)")


@db_app.command("migrate")
def db_migrate() -> None:
    """Upgrade the database schema to the newest version."""
    from netplanet.store import open_store
    from netplanet.store.migrate import migrate

    store = open_store(_planet().settings.resolved_database_url, auto_migrate=False)
    try:
        applied = migrate(store.engine)
    finally:
        store.close()
    _say("database migrated" if applied else "database schema is up to date")


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration, with secrets masked."""
    for key, value in _planet().settings.masked().items():
        out.print(f"{key} = {value!r}")


# ---------------------------------------------------------------------------------- sources


def _import_specs(specs: Sequence[SourceSpec], *, guard: bool = False) -> tuple[int, int]:
    """Add the specs not stored yet. With `guard`, URLs the SSRF guard's static checks refuse
    are skipped with a message (host names are checked when fetched, at every connection)."""
    from netplanet.errors import BlockedAddressError
    from netplanet.fetch.guard import check_url

    planet = _planet()
    store = planet.store
    known = {s.feed_url for s in store.list_sources()}
    added = skipped = 0
    for spec in specs:
        if spec.feed_url in known:
            skipped += 1
            continue
        if guard:
            try:
                check_url(spec.feed_url, allow_private=planet.settings.allow_private_networks)
            except BlockedAddressError as exc:
                err.print(f"skipped: {exc}")
                skipped += 1
                continue
        store.add_source(spec)
        known.add(spec.feed_url)
        added += 1
    return added, skipped


@sources_app.command("add")
def sources_add(
    url: Annotated[
        str, typer.Argument(help="A feed URL, or a site URL to discover the feed from.")
    ],
    category: Annotated[str, typer.Option("--category", "-c", help="Default category.")] = "",
    title: Annotated[str, typer.Option("--title", "-t", help="Title (default: the feed's).")] = "",
) -> None:
    """Add a source; for an HTML page, discover its feed and say which one was chosen."""
    from netplanet.fetch.guard import check_url_resolves_public
    from netplanet.update.discovery import discover_feed

    planet = _planet()

    async def run() -> SourceSpec:
        # Refuse bad schemes and private addresses before any request; the fetcher checks every
        # resolved address and redirect hop again while discovering the feed.
        await check_url_resolves_public(url, planet.settings.allow_private_networks)
        async with planet.fetcher() as fetcher:
            found = await discover_feed(fetcher, url)
        _say(found.how)
        return SourceSpec(
            feed_url=found.feed_url,
            title=title or found.feed.title,
            site_url=found.feed.link,
            category=category,
        )

    spec = asyncio.run(run())
    source = planet.store.add_source(spec)
    _say(f"added source {source.id} ({source.slug}): {source.display_title} <{source.feed_url}>")


@sources_app.command("list")
def sources_list() -> None:
    """List sources with their health."""
    rows = _planet().store.list_sources()
    table = Table(title=f"{len(rows)} sources", title_justify="left")
    for col in ("id", "title", "category", "status", "last success", "fails", "last error"):
        table.add_column(col, overflow="fold")
    for s in rows:
        last = s.last_success_at.strftime("%Y-%m-%d %H:%M") if s.last_success_at else "never"
        table.add_row(
            str(s.id),
            s.display_title,
            s.category,
            s.status.value,
            last,
            str(s.consecutive_failures),
            s.last_error or s.disabled_reason,
        )
    out.print(table)


@sources_app.command("remove")
def sources_remove(
    ref: Annotated[str, typer.Argument(help="Source id, slug or feed URL.")],
) -> None:
    """Remove a source and its entries."""
    source = _find_source(ref)
    _planet().store.remove_source(source.id)
    _say(f"removed source {source.id}: {source.display_title}")


@sources_app.command("import")
def sources_import(
    file: Annotated[Path, typer.Argument(help="An OPML file.")],
) -> None:
    """Import sources from an OPML file (already known feeds are skipped)."""
    from netplanet.sources.opml import parse_opml

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    specs = parse_opml(data)
    added, skipped = _import_specs(specs, guard=True)
    _say(f"imported {added} sources from {file} ({skipped} already present or refused)")


@sources_app.command("export")
def sources_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Export the sources as OPML 2.0."""
    from netplanet.sources.opml import to_opml

    specs = [
        SourceSpec(feed_url=s.feed_url, title=s.title, site_url=s.site_url, category=s.category)
        for s in _planet().store.list_sources()
    ]
    data = to_opml(specs)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        _say(f"wrote {len(specs)} sources to {output}")


# ---------------------------------------------------------------------------------- update


@app.command()
def update(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-j", min=1, max=1000, help="Parallel fetches.")
    ] = None,
) -> None:
    """Poll the enabled sources once and store new and edited posts."""
    planet = _planet()
    if source is not None:
        targets = [_find_source(source)]
    else:
        targets = [s for s in planet.store.list_sources() if s.enabled]
    if not targets:
        _say("no enabled sources; add some with `netplanet sources add URL` or `init`")
        return
    reports = asyncio.run(_run_update(planet, targets, concurrency))
    _print_summary(reports)
    if any(r.outcome in ("failed", "gone") for r in reports):
        raise typer.Exit(EXIT_SOME_FAILED)


async def _run_update(
    planet: Planet, targets: list[Source], concurrency: int | None
) -> list[SourceReport]:
    progress = Progress(
        TextColumn("updating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", style="dim"),
        TimeElapsedColumn(),
        console=err,
        disable=state.quiet,
        transient=False,
    )
    with progress:
        task = progress.add_task("update", total=len(targets), last="")

        def done(report: SourceReport) -> None:
            progress.update(task, advance=1, last=report.title[:40])

        async with planet.fetcher(concurrency=concurrency) as fetcher:
            return await planet.pipeline(fetcher).update_many(targets, done)


def _print_summary(reports: list[SourceReport]) -> None:
    if state.quiet:
        for r in reports:
            if r.outcome in ("failed", "gone"):
                err.print(f"{r.title}: {r.error}")
        return
    counts = Counter(r.outcome for r in reports)
    table = Table(title="update summary", title_justify="left")
    for col in ("sources", "updated", "not modified (304)", "unchanged", "failed", "new posts"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(reports)),
        str(counts["updated"]),
        str(counts["not_modified"]),
        str(counts["unchanged"]),
        str(counts["failed"] + counts["gone"]),
        f"{sum(r.new for r in reports)} (+{sum(r.changed for r in reports)} edited)",
    )
    out.print(table)
    failed = [r for r in reports if r.outcome in ("failed", "gone")]
    if failed:
        by_class = Counter(r.error_class for r in failed)
        errors = Table(title="top errors", title_justify="left")
        errors.add_column("count", justify="right")
        errors.add_column("kind")
        errors.add_column("example")
        for kind, n in by_class.most_common(5):
            example = next(r for r in failed if r.error_class == kind)
            errors.add_row(str(n), kind, f"{example.title}: {example.error}")
        out.print(errors)
    for r in reports:
        if r.moved_to:
            out.print(f"{r.title}: feed moved permanently to {r.moved_to} (URL updated)")


# ---------------------------------------------------------------------------------- run


@app.command("run")
def run_command(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = None,
    no_web: Annotated[bool, typer.Option("--no-web", help="Only run the updates.")] = False,
    interval: Annotated[
        int | None,
        typer.Option("--interval", min=10, help="Poll interval of sources with no history yet."),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text (default) or json (one object a line).")
    ] = "text",
) -> None:
    """Serve the planet and keep it updated (imports the bundled sources on first start)."""
    from netplanet.logfmt import configure_logging

    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not {log_format!r}")
    configure_logging(log_format, level=logging.ERROR if state.quiet else logging.INFO)
    from contextlib import asynccontextmanager
    from dataclasses import replace

    from netplanet.service import run_service
    from netplanet.sources.defaults import load_default_sources
    from netplanet.update.pipeline import UpdatePipeline

    planet = _planet()
    if not planet.store.list_sources():
        added, _ = _import_specs(load_default_sources())
        _say(f"first start: imported {added} bundled sources")
    settings = replace(
        planet.settings,
        host=host or planet.settings.host,
        port=port or planet.settings.port,
        update_interval_s=interval or planet.settings.update_interval_s,
    )

    @asynccontextmanager
    async def pipelines() -> AsyncIterator[UpdatePipeline]:
        async with planet.fetcher() as fetcher:
            yield planet.pipeline(fetcher)

    sources = len(planet.store.list_sources())
    if not no_web:
        _say(f"netplanet {__version__}: http://{settings.host}:{settings.port}/")
    _say(
        f"{sources} sources in {planet.store.url}; polling each every "
        f"{settings.min_interval_s:g}-{settings.max_interval_s:g} s as it posts (Ctrl-C to stop)"
    )
    asyncio.run(run_service(planet.store, settings, pipelines, web=not no_web))


# ---------------------------------------------------------------------------------- read


@app.command()
def entries(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (id, slug or URL).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
) -> None:
    """List the newest posts."""
    store = _planet().store
    source_id = _find_source(source).id if source else None
    rows = store.list_entries(source_id=source_id, limit=limit)
    table = Table(title=f"{len(rows)} newest posts", title_justify="left")
    for col in ("id", "published", "source", "title", "url"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(
            str(e.id), e.published.strftime("%Y-%m-%d %H:%M"), e.source_title, e.title, e.url
        )
    out.print(table)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", prefix*, OR, -exclude.')],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
) -> None:
    """Full-text search over titles, text and source names."""
    from rich.text import Text

    hits = _planet().store.search(query, limit=limit, category=category)
    if not hits:
        _say(f"no posts match {query!r}")
        return
    for hit in hits:
        e = hit.entry
        out.print(Text(f"[{e.id}] {e.title}", style="bold"))
        out.print(Text(f"    {e.source_title} · {e.published:%Y-%m-%d} · {e.url}", style="dim"))
        snippet = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
        out.print(Text("    " + _unescape(snippet)))


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


# ---------------------------------------------------------------------------------- more commands

# Commands that live in their own modules register themselves on the same app, so the global
# --database/--config/--data-dir options apply to them too.
from netplanet import cli_admin, cli_db, cli_demo, cli_web  # noqa: E402

cli_web.register(app, planet=_planet)
cli_admin.register(app, sources_app, planet=_planet, quiet=lambda: state.quiet)
cli_demo.register(app, planet=_planet)
cli_db.register(app, db_app, planet=_planet, quiet=lambda: state.quiet)


# ---------------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI, turning every expected error into one line and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    code = 0
    try:
        result = app(args=args, prog_name="netplanet", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Abort:
        err.print("aborted")
        code = 130
    except typer.TyperException as exc:  # bad arguments and options
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err.print(f"error: {message} (see netplanet --help)")
        code = int(getattr(exc, "exit_code", 2))
    except NetplanetError as exc:
        err.print(f"error: {exc}")
        code = exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    except Exception as exc:  # a bug: still one line, the traceback only with --verbose
        logging.getLogger("netplanet").debug("unexpected error", exc_info=True)
        err.print(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(this is a bug; run with --verbose for the traceback and report it)"
        )
        code = 1
    finally:
        if state.planet is not None:
            state.planet.close()
    sys.exit(code)
