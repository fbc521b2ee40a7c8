"""`netplanet run --export DIR` keeps a static export current: the real command polling a
loopback feed exports at start and again after a poll stored a new post; and the runtime's
after-change hook runs when the site's version moves, not otherwise.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builders import sqlite_url
from export_support import broken_links
from feedserver import FeedServer, rss
from netplanet.runtime.service import keep_current
from netplanet.store.base import SiteVersion

BASE = ("--base-url", "https://planet.example.net/sub/")


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def test_run_export_keeps_the_export_current(loopback: FeedServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NETPLANET_DATABASE_URL": sqlite_url(tmp_path / "run.db"),
        "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1",
        "NETPLANET_MIN_INTERVAL_S": "0.3",
        "NETPLANET_MAX_INTERVAL_S": "0.6",
        "NETPLANET_UPDATE_INTERVAL_S": "1",
        "NETPLANET_PER_HOST_GAP_S": "0",
    }
    env.pop("NETPLANET_CONFIG", None)
    loopback.static("/good.xml", rss([("a", "First post about OSPF", "<p>Areas.</p>")]))
    add = subprocess.run(
        [sys.executable, "-m", "netplanet", "sources", "add", loopback.url("/good.xml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    out = tmp_path / "site"
    proc = subprocess.Popen(
        [sys.executable, "-m", "netplanet", "run", "--no-web", "--export", str(out), *BASE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: "First post about OSPF" in _text(out / "index.html"), what="export")
        loopback.static(
            "/good.xml",
            rss([("b", "Second post about IS-IS", "<p>Levels.</p>"), ("a", "First", "<p>x</p>")]),
        )
        wait_for(lambda: "Second post about IS-IS" in _text(out / "index.html"), what="update")
        assert "https://planet.example.net/sub/feed.xml" in _text(out / "feed.xml")
        proc.send_signal(signal.SIGTERM)
        stdout, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert f"keeping a static export in {out} current" in stdout
    assert "Traceback" not in err
    assert broken_links(out) == []


class _Versions:
    def __init__(self) -> None:
        self.token = "a"

    def site_version(self) -> SiteVersion:
        return SiteVersion(token=self.token, changed_at=datetime.now(UTC))


def test_the_after_change_hook_runs_when_the_site_changed() -> None:
    store = _Versions()
    calls: list[bool] = []

    def hook(halted: Callable[[], bool]) -> None:
        calls.append(halted())

    async def main() -> None:
        stop = asyncio.Event()
        halt = threading.Event()
        task = asyncio.ensure_future(
            keep_current(store, hook, stop, halt, every_s=0.02)  # type: ignore[arg-type]
        )
        await asyncio.sleep(0.15)
        assert calls == [False]  # at start, then nothing changed
        store.token = "b"
        await asyncio.sleep(0.15)
        assert calls == [False, False]
        halt.set()
        store.token = "c"
        await asyncio.sleep(0.15)
        stop.set()
        await task
        assert calls == [False, False, True]  # told to stop: the run is stopping

    asyncio.run(main())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "https://x.example/"], "give --export DIR too"),
        (["--export", "EXPORT", "--base-url", "nope"], "not an absolute http(s) URL"),
    ],
)
def test_run_export_options_are_checked_first(
    tmp_path: Path, args: list[str], message: str
) -> None:
    env = {**os.environ, "NETPLANET_DATABASE_URL": sqlite_url(tmp_path / "run.db")}
    env.pop("NETPLANET_CONFIG", None)
    args = [str(tmp_path / "out") if a == "EXPORT" else a for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "netplanet", "run", "--no-web", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
