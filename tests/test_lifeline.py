"""Parse-pool workers end when the planet that made them is killed outright."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netplanet.update.pool import _poll_for_exit, _wait_for_exit

OWNER = """
import os, sys, time
from netplanet.planet import Planet
from netplanet.settings import Settings
planet = Planet(Settings(parse_workers=2, database_url="sqlite:///" + sys.argv[1]))
pool = planet.executor()
pids = set()
while len(pids) < 2:  # make sure both workers exist, and report them
    pids.update(f.result() for f in [pool.submit(os.getpid) for _ in range(8)])
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone in every way that matters.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_pool_workers_exit_when_the_owner_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path / "p.db")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2 and proc.pid not in workers
        assert all(_alive(pid) for pid in workers)
        os.kill(proc.pid, signal.SIGKILL)
        # Deliberately not reaped yet: the owner stays a zombie, as when its parent is busy
        # reading the pipes the workers would hold open.
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "pool workers outlived their owner"
        assert proc.stdout.read() == ""  # nobody holds the pipe any more: EOF, not a hang
    finally:
        # The whole group, always: if the workers did outlive the owner, they must not outlive
        # the test as well.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_waiting_on_an_exited_process_returns() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    _wait_for_exit(child.pid)  # reaped: no such process, returns at once
    _poll_for_exit(child.pid)


def test_waiting_on_a_zombie_returns() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        while not Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].startswith(" Z"):
            time.sleep(0.01)
        _wait_for_exit(child.pid)  # exited but not reaped: the pidfd is readable
    finally:
        child.wait()


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux pidfd")
def test_waiting_blocks_while_the_process_lives() -> None:
    import threading

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (_wait_for_exit(child.pid), done.set()), daemon=True)
    waiter.start()
    try:
        assert not done.wait(0.5)
        child.kill()
        assert done.wait(10)
    finally:
        child.kill()
        child.wait()
