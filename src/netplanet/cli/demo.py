"""The `netplanet demo` command: a populated planet, offline, in one process.

It starts the demo feed server (netplanet.demo.server) on a loopback port, creates a planet with
a temporary SQLite database, imports the bundled demo sources, runs the real update pipeline over
them (the fetcher talks HTTP to the loopback server, which is why this planet's settings allow
private networks), seals the archive pages, prints a summary and serves the website until Ctrl-C.
A background task re-updates every few minutes, so the site behaves as a live planet. The feeds
are rendered once per run (re-rendering would only shift their dates, which the store keeps from
the first sight of each post), so re-updates are conditional GETs answered with 304.

The user's own database and configuration are never touched: the demo copies only presentation
settings (title, excerpt length) from the current settings.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import listen_socket, port_option

if TYPE_CHECKING:
    import socket

    from netplanet.planet import Planet
    from netplanet.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_REFRESH_MIN = 5.0


def demo_settings(base: Settings, data_dir: Path, host: str, port: int) -> Settings:
    """Settings for the demo planet: its own database, loopback fetching allowed."""
    return replace(
        base,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        allow_private_networks=True,  # the demo fetcher only ever talks to our loopback server
        per_host_gap_s=0.0,  # ... which serves every demo feed from one host
        host=host,
        port=port,
        site_url="",  # derive links from the request, whatever port was picked
        site_title=base.site_title if base.site_title != "netplanet" else "netplanet demo",
    )


async def run_demo(
    settings: Settings,
    sock: socket.socket,
    *,
    refresh_s: float = DEFAULT_REFRESH_MIN * 60,
    say: Callable[[str], None] = typer.echo,
) -> None:
    """Ingest the demo through the real pipeline, then serve the site on `sock` until stopped."""
    import asyncio
    from datetime import UTC, datetime

    import uvicorn

    from netplanet.demo.ingest import add_demo_sources, update_demo
    from netplanet.demo.server import DemoFeedServer
    from netplanet.planet import Planet
    from netplanet.web.app import UVICORN_OPTIONS, create_app

    planet = Planet(settings)
    try:
        async with DemoFeedServer() as feeds:
            store = planet.store
            add_demo_sources(store, feeds.base_url)
            say(f"demo feeds served at {feeds.base_url}/ ; database {store.url}")

            async def update_once() -> None:
                async with planet.fetcher() as fetcher:
                    summary = await update_demo(
                        planet.pipeline(fetcher), store, feeds.base_url, now=datetime.now(UTC)
                    )
                for line in summary.lines():
                    say(line)

            await update_once()
            total = store.count_entries()
            say(f"{total} posts from {len(store.list_sources())} sources stored")

            async def refresh_forever() -> None:
                while True:
                    await asyncio.sleep(refresh_s)
                    try:
                        await update_once()
                    except Exception:  # keep serving; the next round retries
                        log.exception("demo re-update failed")

            refresher = asyncio.create_task(refresh_forever())
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            say(f"netplanet demo running at http://{shown}:{port}/ (Ctrl-C to stop)")
            config = uvicorn.Config(
                create_app(store, settings, pipelines=planet.pipeline),
                log_level="warning",
                access_log=False,
                lifespan="off",
                **UVICORN_OPTIONS,
            )
            try:
                await uvicorn.Server(config).serve(sockets=[sock])
            finally:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
    finally:
        planet.close()


def register(app: typer.Typer, *, planet: Callable[[], Planet] | None = None) -> None:
    """Add the `demo` command to `app`. `planet` (optional) supplies the current settings,
    from which the demo copies only presentation options."""

    @app.command()
    def demo(
        port: Annotated[int, port_option("Web port.")] = 8080,
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        refresh: Annotated[
            float,
            typer.Option(
                "--refresh",
                metavar="MINUTES",
                min=0.1,
                max=24 * 60,
                help="Minutes between re-updates of the demo.",
            ),
        ] = DEFAULT_REFRESH_MIN,
    ) -> None:
        """Run an offline demo: sample feeds, the real pipeline, and the website."""
        import asyncio
        import tempfile

        from netplanet.settings import load_settings

        base = planet().settings if planet is not None else load_settings()
        sock = listen_socket(host, port)
        with tempfile.TemporaryDirectory(prefix="netplanet-demo-") as tmp:
            settings = demo_settings(base, Path(tmp), host, port)
            try:
                # uvicorn turns Ctrl-C into a graceful return; a second one interrupts.
                with contextlib.suppress(KeyboardInterrupt):
                    asyncio.run(run_demo(settings, sock, refresh_s=refresh * 60))
            finally:
                sock.close()
        typer.echo("demo stopped")
