"""`netplanet run` as a real subprocess against a loopback feed server, time compressed by
sub-second intervals: posts appear on the site over HTTP, a failing feed shows up with its
diagnosis in /admin/health and `netplanet sources health`, and SIGTERM exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from builders import free_port, sqlite_url
from feedserver import FeedServer, rss

PASSWORD = "e2e admin passphrase"


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        **os.environ,
        "NETPLANET_DATABASE_URL": sqlite_url(tmp_path / "run.db"),
        "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1",
        "NETPLANET_MIN_INTERVAL_S": "0.3",
        "NETPLANET_MAX_INTERVAL_S": "0.6",
        "NETPLANET_BACKOFF_MAX_S": "0.6",
        "NETPLANET_UPDATE_INTERVAL_S": "1",
        "NETPLANET_PER_HOST_GAP_S": "0",
    }
    values.pop("NETPLANET_CONFIG", None)
    return values


def netplanet(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netplanet", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def running(
    env: dict[str, str],
    loopback: FeedServer,
    tmp_path: Path,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    loopback.static("/good.xml", rss([("a", "First post about OSPF", "<p>Areas.</p>")]))
    opml = tmp_path / "s.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        f'<outline text="Good" xmlUrl="{loopback.url("/good.xml")}"/>'
        f'<outline text="Broken" xmlUrl="{loopback.url("/missing.xml")}"/>'
        "</body></opml>"
    )
    assert netplanet(env, "sources", "import", str(opml)).returncode == 0
    assert netplanet(env, "admin", "set-password", "--stdin", stdin=PASSWORD).returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "netplanet", "run", "--port", str(port), "--log-format", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so cleanup can reach the parse pool too
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, what="/healthz")
        yield proc, base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)


def test_run_polls_serves_reports_health_and_stops_on_sigterm(
    running: tuple[subprocess.Popen[str], str],
    loopback: FeedServer,
    env: dict[str, str],
) -> None:
    proc, base = running
    wait_for(lambda: "First post about OSPF" in httpx.get(f"{base}/").text, what="first post")

    # A new post appears within a few compressed cycles, without restarting anything.
    loopback.static(
        "/good.xml",
        rss([("b", "Second post about IS-IS", "<p>Levels.</p>"), ("a", "First post", "<p>x</p>")]),
    )
    wait_for(lambda: "Second post about IS-IS" in httpx.get(f"{base}/").text, what="new post")
    assert loopback.hits["/good.xml"] >= 2

    health = httpx.get(f"{base}/healthz").json()
    assert health["status"] == "ok" and health["sources"] == 2 and health["last_update"]

    # The failing feed, with its diagnosis, in /admin/health after signing in.
    with httpx.Client(base_url=base) as client:
        page = client.get("/admin/login").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/admin/login", data={"csrf": token, "password": PASSWORD})
        assert signed.status_code == 303
        report = client.get("/admin/health?show=failing").text
    assert "failing" in report
    assert f"HTTP 404 Not Found at {loopback.url('/missing.xml')}" in report

    # ... and in the terminal, with the monitoring exit code.
    result = netplanet({**env, "COLUMNS": "300"}, "sources", "health")
    assert result.returncode == 4
    assert "HTTP 404" in result.stdout and "failing" in result.stdout

    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 8
    assert "Traceback" not in err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(r["message"] == "stopping (SIGTERM)" for r in records)
    assert any(r.get("outcome") == "failed" for r in records)
