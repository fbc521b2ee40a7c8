"""The process pool that parses and enriches, made on its first job, and its lifeline.

`process_pool` forks workers from a clean forkserver with the parsing modules preloaded;
`PoolOnDemand` makes that pool only when a job comes and makes a new one when a worker died.

The lifeline ties a pool worker's life to the process that made the pool. A
ProcessPoolExecutor worker waits on its task queue forever. If the process that owns the pool
is killed outright (SIGKILL, the OOM killer), nobody tells the workers: they and the forkserver
they came from live on as orphans, holding memory and the parent's stdout/stderr pipes, so a
supervisor or a test reading those pipes waits for ever. `watch_owner` runs in each worker (as
the pool's initializer) and ends the worker as soon as the owner exits.

The forkserver preloads this module; it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import ParamSpec, TypeVar

POLL_S = 1.0

P = ParamSpec("P")
T = TypeVar("T")


class PoolOnDemand(Executor):
    """An executor that makes its process pool on the first submit.

    Most polls of a round never reach the pool (a 304, or a small body of a known source is
    digested inline, see UpdatePipeline._digest); making the pool at once would still spawn
    multiprocessing's resource tracker, a Python process (~25 ms of CPU), on every run.
    """

    def __init__(self, make: Callable[[], Executor]) -> None:
        self._make = make
        self._pool: Executor | None = None

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if self._pool is None:
            self._pool = self._make()
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenExecutor:  # BrokenProcessPool, without importing multiprocessing here
            # A worker died (killed, or a crash in C on some document): the pool refuses every
            # job from then on. The jobs it held failed, each its own poll's error; later jobs
            # get a new pool rather than failing every source for the rest of the process.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._make()
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
            self._pool = None


def process_pool(workers: int) -> Executor:
    """`workers` processes forked from a forkserver that preloaded the parsing modules."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["netplanet.update.digest", "netplanet.update.pool"])
    return ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=watch_owner,  # workers must not outlive a killed planet
        initargs=(os.getpid(),),
    )


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
