"""The composition root: builds the Store, the Fetcher and the update pipeline from Settings.

Nothing imports this module except the command line and the service entry points. It imports
the store, fetch and update layers when a planet first needs them, not at import time: a
command that only reads the database never loads aiohttp or the parsers, and none loads the
process-pool machinery unless it parses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from netplanet.update.pool import watch_owner
from netplanet.settings import Settings

if TYPE_CHECKING:
    from netplanet.fetch.http import Fetcher
    from netplanet.store import SqlStore
    from netplanet.store.base import PlanetStore
    from netplanet.update.pipeline import UpdatePipeline


P = ParamSpec("P")
T = TypeVar("T")


class _PoolOnDemand(Executor):
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


class Planet:
    """One configured planet: lazily opens its store; hands out fetchers and pipelines."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        """`create=False`: a SQLite file that does not exist is an error naming it, not a new,
        empty planet made (with its directories) wherever a mistyped path points."""
        self.settings = settings
        self.create = create
        self._store: SqlStore | None = None
        self._executor: Executor | None = None
        self._executor_made = False

    @property
    def store(self) -> PlanetStore:
        if self._store is None:
            from netplanet.store import open_store

            self._store = open_store(
                self.settings.resolved_database_url, must_exist=not self.create
            )
        return self._store

    def fetcher(self, *, concurrency: int | None = None) -> Fetcher:
        from netplanet.fetch.http import Fetcher

        settings = self.settings
        if concurrency is not None:
            from dataclasses import replace

            settings = replace(settings, fetch_concurrency=concurrency)
        return Fetcher(settings)

    def executor(self) -> Executor | None:
        """The process pool that parses and enriches, started on its first job (None: inline).

        Parsing and enriching are pure CPU work; in the event loop they would stall every
        fetch in flight, and one process uses one core. The pool forks from a clean server
        process with the parsing modules preloaded, so workers start in milliseconds and
        inherit no threads or database connections.
        """
        if not self._executor_made:
            self._executor_made = True
            workers = self.settings.parse_workers
            if workers < 0:
                workers = os.cpu_count() or 1
                workers = 0 if workers < 2 else min(workers, 8)
            if workers > 0:
                self._executor = _PoolOnDemand(lambda: _process_pool(workers))
        return self._executor

    def pipeline(self, fetcher: Fetcher) -> UpdatePipeline:
        from netplanet.schedule import Policy
        from netplanet.update.pipeline import UpdatePipeline

        return UpdatePipeline(
            self.store,
            fetcher,
            executor=self.executor(),
            excerpt_words=self.settings.excerpt_words,
            policy=Policy.from_settings(self.settings),
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._store is not None:
            self._store.close()
            self._store = None


def _process_pool(workers: int) -> Executor:
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
