"""The `netplanet` command line (Typer; Rich for tables and progress bars).

Exit codes scripts can rely on:
  0 success · 1 an operation failed · 2 bad argument or configuration (a database file that
  does not exist too) · 3 database unreachable · 4 `update` ran but some sources failed, or
  `sources health` found failing ones · 130 interrupted.
Every error is one line on stderr, never a traceback (use --verbose to log details).

This module holds the app, the global options, `init`, `config show`, `db migrate` and the
error mapping in `main()`; the other commands live in this package's modules, one per command
group (sources, update, read, topics, digest, export, web, demo, db, backup, service,
admin), which share _common and never import each other. Every command imports what it needs
when it runs (see _common.py for why), so that `netplanet update` does not pay for the web
server and `netplanet sources list` not for the fetcher.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from netplanet import __version__
from netplanet.cli import (
    admin,
    backup,
    db,
    demo,
    digest,
    export,
    read,
    service,
    topics,
    update,
    web,
)
from netplanet.cli._common import import_specs, planet, say, state, warn
from netplanet.cli.sources import sources_app
from netplanet.cli.update import EXIT_SOME_FAILED
from netplanet.errors import NetplanetError

__all__ = ["EXIT_SOME_FAILED", "app", "main"]

app = typer.Typer(
    name="netplanet",
    help="A fast, self-hosted planet for network engineering blogs and podcasts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")


def _version(value: bool) -> None:
    if value:
        print(f"netplanet {__version__}", flush=True)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="Database URL (env NETPLANET_DATABASE_URL).", metavar="URL"
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="TOML config file (env NETPLANET_CONFIG)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", metavar="DIR", help="Data directory (env NETPLANET_DATA_DIR)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    from netplanet.planet import Planet
    from netplanet.settings import load_settings

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if not quiet else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(
        config,
        options={"database_url": ("--database", database), "data_dir": ("--data-dir", data_dir)},
    )
    # A new database is made by `init`, or in the data directory (the default, which `run` on a
    # fresh clone fills); a database URL given explicitly must name one that exists, so that a
    # mistyped path is an error, not an empty planet and new directories.
    create = ctx.invoked_subcommand == "init" or not settings.database_url
    state.planet = Planet(settings, create=create)
    state.quiet = quiet


@app.command()
def init(
    defaults: Annotated[
        bool, typer.Option("--defaults/--no-defaults", help="Import the bundled sources.")
    ] = True,
    site_url: Annotated[
        str | None,
        typer.Option(
            "--site-url",
            metavar="URL",
            help="The planet's public URL, stored as its base URL (default: the site_url "
            "option; without either, only local names and allowed_hosts are answered).",
        ),
    ] = None,
) -> None:
    """Create the database and import the bundled networking sources."""
    from dataclasses import replace

    from netplanet.settings import validate
    from netplanet.sources.defaults import load_default_sources
    from netplanet.web.origin import store_base_url

    settings = planet().settings
    if site_url is not None:
        validate(replace(settings, site_url=site_url))
    store = planet().store
    say(f"database ready at {store.url}")
    base = site_url or settings.site_url
    if base:
        stored = store_base_url(store, base, replace=site_url is not None)
        say(f"site base URL: {stored}")
    if defaults and not store.list_sources():
        report = import_specs(load_default_sources())
        say(f"imported {report.added} bundled sources ({report.present} already present)")


@db_app.command("migrate")
def db_migrate() -> None:
    """Upgrade the database schema to the newest version."""
    from netplanet.store import open_store
    from netplanet.store.migrate import migrate

    current = planet()
    store = open_store(
        current.settings.resolved_database_url, auto_migrate=False, must_exist=not current.create
    )
    try:
        applied = migrate(store.engine)
    finally:
        store.close()
    say("database migrated" if applied else "database schema is up to date")


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration, with secrets masked, and what the database fixed."""
    settings = planet().settings
    for key, value in settings.masked().items():
        print(f"{key} = {value!r}", flush=True)
    for line in _stored_origin(settings.resolved_database_url, settings.site_url):
        print(line, flush=True)


def _stored_origin(url: str, site_url: str) -> list[str]:
    """The base URL and feed-id authority stored in the database (web/origin.py), explained."""
    from sqlalchemy.exc import SQLAlchemyError

    from netplanet.errors import NetplanetError
    from netplanet.store import open_store
    from netplanet.store.admin import BASE_URL_KEY, ID_AUTHORITY_KEY

    try:
        store = open_store(url, auto_migrate=False, must_exist=True)
    except NetplanetError:
        return ["site_base_url = (none: no database yet)"]
    try:
        base = store.get_setting(BASE_URL_KEY)
        authority = store.get_setting(ID_AUTHORITY_KEY)
    except (NetplanetError, SQLAlchemyError):  # an older schema, a server down: show the rest
        return ["site_base_url = (cannot be read from the database)"]
    finally:
        store.close()
    use = "unused while site_url is set" if site_url else "the base of every link"
    how = "set site_url, or run `netplanet init --site-url URL`, and restart"
    if base:
        lines = [f"site_base_url = {base!r}  # stored; {use}; to change it {how}"]
    elif site_url:
        lines = ["site_base_url = (none yet: site_url is stored when the site first starts)"]
    else:
        lines = [
            "site_base_url = (none: only loopback names, allowed_hosts and the server's own "
            "address are answered, each with its own links; set site_url to serve a public name)"
        ]
    if authority:
        lines.append(f"feed_id_authority = {authority!r}  # stored; output-feed ids, never change")
    return lines


# The order of registration is the order of `netplanet --help`. Modules that register commands
# on the same app share the global --database/--config/--data-dir options.
update.register(app)
read.register(app)
topics.register(app)
digest.register(app)
export.register(app, planet=planet)
web.register(app, planet=planet)
admin.register(app, sources_app, planet=planet, quiet=lambda: state.quiet)
demo.register(app, planet=planet)
db.register(app, db_app, planet=planet, quiet=lambda: state.quiet)
backup.register(db_app, planet=planet, quiet=lambda: state.quiet)
service.register(app, planet=planet)


def one_line(message: str) -> str:
    """`message` on one line: line breaks and other control characters (from a value the
    operator gave, or a driver's multi-line message) are shown escaped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in message.strip()
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI, turning every expected error into one line and an exit code."""
    from netplanet.cli._build import lazy_command
    from netplanet.cli._params import plain_metavars, speed_up

    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    code = 0
    try:
        command = lazy_command(app, lambda built: plain_metavars(speed_up(built)))
        result = command(args=args, prog_name="netplanet", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Abort:
        warn("aborted")
        code = 130
    except typer.TyperException as exc:  # bad arguments and options
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        warn(f"error: {one_line(message)} (see netplanet --help)")
        code = int(getattr(exc, "exit_code", 2))
    except NetplanetError as exc:
        warn(f"error: {one_line(str(exc))}")
        code = exc.exit_code
    except KeyboardInterrupt:
        warn("interrupted")
        code = 130
    except Exception as exc:  # a bug: still one line, the traceback only with --verbose
        logging.getLogger("netplanet").debug("unexpected error", exc_info=True)
        warn(
            f"error: unexpected {type(exc).__name__}: {one_line(str(exc))} "
            "(this is a bug; run with --verbose for the traceback and report it)"
        )
        code = 1
    finally:
        if state.planet is not None:
            state.planet.close()
    sys.exit(code)
