"""`netplanet worker` and the admin's "poll now" parse in the planet's process pool, as
`netplanet update` and `netplanet run` do: every poller gets its pipeline from Planet.pipeline
(issue 10; before, both built their own pipeline, which parsed inline in the event loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from builders import cli, free_port, spec, sqlite_url
from netplanet.model import PollOutcome, Source
from netplanet.store import open_store
from netplanet.update.pipeline import SourceReport, UpdatePipeline
from netplanet.update.pool import PoolOnDemand
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, signed_in


def _database(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "planet.db")
    store = open_store(url)
    try:
        store.add_source(spec(1, feed_url="https://blog.example.net/feed", title="Blog"))
        store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    finally:
        store.close()
    return url


def test_worker_parses_in_the_process_pool(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    async def record(self: UpdatePipeline, sources: Any, on_report: Any = None) -> Any:
        seen.append(self.executor)
        return []  # nothing is fetched: only which pipeline the worker polls with matters

    monkeypatch.setattr(UpdatePipeline, "update_many", record)
    monkeypatch.setenv("NETPLANET_PARSE_WORKERS", "1")
    database = _database(tmp_path)
    code, _out, err = cli(capsys, "--database", database, "worker", "--once", "--id", "w1")
    assert code == 0, err
    assert len(seen) == 1
    assert isinstance(seen[0], PoolOnDemand)  # the planet's pool, made on its first job


def test_admin_poll_now_parses_in_the_process_pool(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through `netplanet serve` as shipped: the app it serves polls with the planet's pool."""
    seen: list[object] = []
    pages: list[str] = []

    async def record(self: UpdatePipeline, source: Source) -> SourceReport:
        seen.append(self.executor)
        return SourceReport(source.id, source.title or "", PollOutcome.NOT_MODIFIED)

    def serve(self: uvicorn.Server, sockets: Any = None) -> None:
        with AdminClient(self.config.app) as client:
            csrf = signed_in(client)
            page = client.post("/admin/sources/1", data={"csrf": csrf, "action": "poll"})
            pages.append(page.text)

    monkeypatch.setattr(UpdatePipeline, "update_source", record)
    monkeypatch.setattr(uvicorn.Server, "run", serve)
    monkeypatch.setenv("NETPLANET_PARSE_WORKERS", "1")
    database = _database(tmp_path)
    code, _out, err = cli(capsys, "--database", database, "serve", "--port", str(free_port()))
    assert code == 0, err
    assert len(pages) == 1 and "Polled: not modified, 0 new posts." in pages[0]
    assert len(seen) == 1
    assert isinstance(seen[0], PoolOnDemand)


def test_run_polls_with_the_interval_given_on_its_command_line(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run --interval N` is the poll interval of sources whose posting rate is not known yet:
    the pipelines `run` polls with schedule with it, not with the value from before the option."""
    from netplanet.runtime import service

    policies: list[float] = []

    async def record(store: Any, settings: Any, pipelines: Any, fetcher: Any, **_: Any) -> None:
        policies.append(pipelines(fetcher).policy.default_interval_s)

    monkeypatch.setattr(service, "run_service", record)
    monkeypatch.setenv("NETPLANET_UPDATE_INTERVAL_S", "1800")
    database = _database(tmp_path)
    code, _out, err = cli(capsys, "--database", database, "run", "--no-web", "--interval", "3600")
    assert code == 0, err
    assert policies == [3600.0]
