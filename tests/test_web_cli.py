"""`netplanet serve` (cli.web.register): options reach uvicorn, defaults come from settings."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from netplanet import __version__
from netplanet.cli import web as cli_web
from netplanet.model import SourceSpec
from netplanet.planet import Planet
from netplanet.settings import Settings
from netplanet.store import open_store


def _app(tmp_path: Path) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, so `serve` is a subcommand as in the real CLI."""

    settings = Settings(data_dir=tmp_path, host="127.0.0.2", port=9999)
    cli_web.register(app, planet=lambda: Planet(settings))
    return app


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_listen(host: str, port: int) -> socket.socket:
        seen.update(host=host, port=port)
        return socket.socket()  # never bound: nothing listens during the test

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        seen.update(
            app=server.config.app, sockets=sockets, proxy_headers=server.config.proxy_headers
        )

    monkeypatch.setattr(cli_web, "listen_socket", fake_listen)
    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    result = CliRunner().invoke(_app(tmp_path), ["serve", *args])
    assert result.exit_code == 0, result.output
    seen["output"] = result.output
    return seen


def test_serve_uses_settings_host_and_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run(tmp_path, monkeypatch)
    assert (seen["host"], seen["port"]) == ("127.0.0.2", 9999)
    assert seen["app"].state.site.settings.port == 9999


def test_serve_options_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run(tmp_path, monkeypatch, "--host", "0.0.0.0", "--port", "8081")
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8081)


def test_serve_says_where_it_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As `run` does: the one line an operator needs to open the site.
    assert (
        _run(tmp_path, monkeypatch)["output"]
        == f"netplanet {__version__}: http://127.0.0.2:9999/\n"
    )
    seen = _run(tmp_path, monkeypatch, "--host", "::1", "--port", "8081")
    assert seen["output"] == f"netplanet {__version__}: http://[::1]:8081/\n"


def test_serve_leaves_proxy_headers_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn's default would believe X-Forwarded-For/-Proto from 127.0.0.1 whatever
    # trust_proxy_headers says; the app decides instead (web/edge.py).
    seen = _run(tmp_path, monkeypatch)
    assert seen["proxy_headers"] is False


def test_serve_on_an_address_in_use_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from netplanet.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        db = f"sqlite:///{tmp_path / 'x.db'}"
        # One source the SSRF guard refuses, so that `run`, should it ever start, would not
        # import the bundled sources and go out to the internet.
        store = open_store(db)
        store.add_source(SourceSpec(feed_url="http://127.0.0.1:9/feed"))
        store.close()
        for command in (["serve"], ["run"]):
            with pytest.raises(SystemExit) as exit_info:
                main(["--database", db, *command, "--port", str(port)])
            err = capsys.readouterr().err
            assert exit_info.value.code == 2, err
            assert err.startswith(f"error: cannot listen on 127.0.0.1:{port}"), err
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
