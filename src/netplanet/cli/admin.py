"""`netplanet sources health` (feed health for monitoring) and `netplanet admin set-password`.

`cli/__init__.py` calls `register(app, sources_app, planet=...)` so the global options apply.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import console, warn
from netplanet.errors import UsageError

if TYPE_CHECKING:
    from netplanet.planet import Planet

EXIT_UNHEALTHY = 4
MIN_PASSWORD = 10

_STYLE = {"ok": "green", "slow": "yellow", "failing": "red", "dead": "bold red", "new": "cyan"}


def register(
    app: typer.Typer,
    sources_app: typer.Typer,
    *,
    planet: Callable[[], Planet],
    quiet: Callable[[], bool] = lambda: False,
) -> None:
    admin_app = typer.Typer(help="The admin area (/admin/).", no_args_is_help=True)
    app.add_typer(admin_app, name="admin")

    @sources_app.command("health")
    def sources_health(
        sort: Annotated[
            str, typer.Option("--sort", help="status, title, failures, response, size, rate, next")
        ] = "status",
        failing: Annotated[
            bool, typer.Option("--failing", help="Only failing, dead and disabled sources.")
        ] = False,
    ) -> None:
        """Every source's health; exits 4 when any enabled source is failing or dead."""
        from netplanet.model import SourceStatus
        from netplanet.publish.health import SORT_KEYS, health_rows

        if sort not in SORT_KEYS:
            raise UsageError(f"--sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
        current = planet()
        sources = current.store.list_sources()
        now = datetime.now(UTC)
        rows = health_rows(
            sources, now, current.settings.slow_response_ms, sort=sort, problems_only=failing
        )
        bad = [r for r in rows if r.status in (SourceStatus.FAILING, SourceStatus.DEAD)]
        # Posts stored but not yet searchable (the background indexer's queue): said only
        # while there are some.
        pending = current.store.pending_index()
        indexing = f", indexing {pending} posts" if pending else ""
        if not quiet():
            from rich.table import Table
            from rich.text import Text

            table = Table(
                title=f"{len(sources)} sources, {len(bad)} failing or dead{indexing}",
                title_justify="left",
            )
            for col in ("id", "source", "status", "fails", "last success", "avg time",
                        "avg size", "posts", "next poll", "diagnosis"):  # fmt: skip
                table.add_column(col, overflow="fold")
            for r in rows:
                table.add_row(
                    str(r.source.id),
                    Text(r.source.display_title),  # feed data: never read as Rich markup
                    f"[{_STYLE.get(r.status.value, '')}]{r.status.value}[/]",
                    str(r.source.consecutive_failures),
                    r.last_success,
                    r.response,
                    r.size,
                    r.rate,
                    r.next_poll,
                    Text(r.diagnosis),
                )
            console().print(table)
        else:
            for r in bad:
                warn(f"{r.source.display_title}: {r.status.value}: {r.diagnosis}")
        if bad:
            raise typer.Exit(EXIT_UNHEALTHY)

    @admin_app.command("set-password")
    def set_password(
        stdin: Annotated[
            bool, typer.Option("--stdin", help="Read the password from standard input.")
        ] = False,
    ) -> None:
        """Set the admin password (enables /admin/); existing admin sessions end."""
        from netplanet.web.auth import set_admin_password

        if stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("new admin password", hide_input=True)
            again = typer.prompt("repeat it", hide_input=True)
            if password != again:
                raise UsageError("the two passwords differ; nothing was changed")
        if len(password) < MIN_PASSWORD:
            raise UsageError(f"the password needs at least {MIN_PASSWORD} characters")
        set_admin_password(planet().store, password)  # and ends every admin session
        if not quiet():
            print("admin password set; sign in at /admin/", flush=True)
