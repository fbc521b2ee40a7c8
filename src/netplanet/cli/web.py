"""The `netplanet serve` command: the public website alone, under uvicorn.

`cli/__init__.py` calls `register(app, planet=...)` so the global --database/--config/--data-dir
options apply; without `planet`, settings come from the config file and NETPLANET_* variables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from netplanet.cli._common import listen_socket, port_option, say, site_address

if TYPE_CHECKING:
    from netplanet.planet import Planet


def register(app: typer.Typer, *, planet: Callable[[], Planet] | None = None) -> None:
    """Add the `serve` command to `app`."""

    @app.command()
    def serve(
        host: Annotated[
            str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
        ] = None,
        port: Annotated[int | None, port_option("Port to listen on (default 8080).")] = None,
    ) -> None:
        """Serve the website (no updates; `netplanet run` also polls the sources)."""
        import uvicorn

        from netplanet import __version__
        from netplanet.planet import Planet
        from netplanet.settings import load_settings, with_options
        from netplanet.web.app import UVICORN_OPTIONS, create_app

        own = planet is None  # a planet handed to us belongs to the caller, who closes it
        current = Planet(load_settings()) if planet is None else planet()
        try:
            settings = with_options(
                current.settings, {"host": ("--host", host), "port": ("--port", port)}
            )
            # The database first: a missing or unreachable one is reported before the address is
            # taken, not after the URL was printed.
            store = current.store
            sock = listen_socket(settings.host, settings.port)
            try:
                config = uvicorn.Config(
                    create_app(store, settings, pipelines=current.pipeline),
                    log_level="warning",
                    lifespan="off",
                    **UVICORN_OPTIONS,
                )
                say(f"netplanet {__version__}: {site_address(settings.host, settings.port)}")
                uvicorn.Server(config).run(sockets=[sock])
            finally:
                sock.close()
        finally:
            if own:
                current.close()
