"""Ties a pool worker's life to the process that made the pool.

A ProcessPoolExecutor worker waits on its task queue forever. If the process that owns the pool
is killed outright (SIGKILL, the OOM killer), nobody tells the workers: they and the forkserver
they came from live on as orphans, holding memory and the parent's stdout/stderr pipes, so a
supervisor or a test reading those pipes waits for ever. `watch_owner` runs in each worker (as
the pool's initializer) and ends the worker as soon as the owner exits.
"""

from __future__ import annotations

import os
import select
import threading
import time

POLL_S = 1.0


def watch_owner(owner_pid: int) -> None:
    """Start a daemon thread that exits this process when `owner_pid` has exited."""
    threading.Thread(
        target=_wait_then_exit, args=(owner_pid,), name="lifeline", daemon=True
    ).start()


def _wait_then_exit(owner_pid: int) -> None:
    _wait_for_exit(owner_pid)
    os._exit(0)  # no cleanup: the owner that would collect our results is gone


def _wait_for_exit(pid: int) -> None:
    try:
        # A pidfd becomes readable when the process exits, even while it is an unreaped zombie
        # (its parent may be blocked reading the very pipes we hold open).
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # not Linux >= 5.3: poll instead
        _poll_for_exit(pid)
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def _poll_for_exit(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass  # exists, owned by someone else: cannot happen for our own parent, keep waiting
        time.sleep(POLL_S)
