"""`netplanet serve` (cli_web.register): options reach uvicorn, defaults come from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from netplanet import cli_web
from netplanet.planet import Planet
from netplanet.settings import Settings


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

    def fake_run(app: Any, **kw: Any) -> None:
        seen.update(kw, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(_app(tmp_path), ["serve", *args])
    assert result.exit_code == 0, result.output
    return seen


def test_serve_uses_settings_host_and_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run(tmp_path, monkeypatch)
    assert (seen["host"], seen["port"]) == ("127.0.0.2", 9999)
    assert seen["app"].state.site.settings.port == 9999


def test_serve_options_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run(tmp_path, monkeypatch, "--host", "0.0.0.0", "--port", "8081")
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8081)


def test_serve_leaves_proxy_headers_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn's default would believe X-Forwarded-For/-Proto from 127.0.0.1 whatever
    # trust_proxy_headers says; the app decides instead (web/edge.py).
    seen = _run(tmp_path, monkeypatch)
    assert seen["proxy_headers"] is False
