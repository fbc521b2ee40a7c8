"""The composition root: builds the Store, the Fetcher and the update pipeline from Settings.

Nothing imports this module except the command line and the service entry points. It imports
the store, fetch and update layers when a planet first needs them, not at import time: a
command that only reads the database never loads aiohttp or the parsers, and none loads the
process-pool machinery unless it parses.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from netplanet.settings import Settings

if TYPE_CHECKING:
    from netplanet.enrich.topics import Taxonomy
    from netplanet.fetch.http import Fetcher
    from netplanet.store import SqlStore
    from netplanet.store.base import PlanetStore
    from netplanet.update.pipeline import UpdatePipeline

log = logging.getLogger(__name__)


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
        self._taxonomy: Taxonomy | None = None
        self._taxonomy_key = ""
        self._taxonomy_checked = 0.0

    @property
    def store(self) -> PlanetStore:
        if self._store is None:
            from netplanet.store import open_store

            self._store = open_store(
                self.settings.resolved_database_url, must_exist=not self.create
            )
        return self._store

    def has_enabled_sources(self) -> bool:
        """Whether any source is enabled. Before the store is opened, a SQLite planet at the
        newest schema is asked with the standard library alone (store/quick.py), so that an
        `update` with nothing to poll never loads SQLAlchemy; PostgreSQL, and a new or older
        database, open the store as always (which creates or migrates it)."""
        if self._store is None:
            from netplanet.store.quick import sqlite_has_enabled_sources

            known = sqlite_has_enabled_sources(self.settings.resolved_database_url)
            if known is not None:
                return known
        return any(s.enabled for s in self.store.list_sources())

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
                from netplanet.update.pool import PoolOnDemand, process_pool

                self._executor = PoolOnDemand(lambda: process_pool(workers))
        return self._executor

    def taxonomy(self) -> Taxonomy:
        """The taxonomy posts are classified with (operations/topics.py says which). Read on
        first use: an unreadable or invalid one is a ConfigError naming it. Then looked at
        again at most every TAXONOMY_CHECK_S, so that a long-running planet classifies with
        a taxonomy an operator saved meanwhile; a changed one that cannot be used is logged
        and the one in use is kept."""
        from netplanet.operations.topics import TAXONOMY_CHECK_S, planet_taxonomy, taxonomy_key

        now = time.monotonic()
        if self._taxonomy is None:
            self._taxonomy_key = taxonomy_key(self.settings, self.store)
            self._taxonomy = planet_taxonomy(self.settings, self.store)
            self._taxonomy_checked = now
        elif now - self._taxonomy_checked >= TAXONOMY_CHECK_S:
            self._taxonomy_checked = now
            try:
                key = taxonomy_key(self.settings, self.store)
                if key != self._taxonomy_key:
                    self._taxonomy_key = key
                    self._taxonomy = planet_taxonomy(self.settings, self.store)
                    log.info("the taxonomy changed: now version %s", self._taxonomy.version)
            except Exception as exc:  # a file half-edited by hand, a database gone away
                log.error(
                    "the taxonomy changed but cannot be used (%s); still classifying with "
                    "version %s",
                    exc,
                    self._taxonomy.version,
                )
        return self._taxonomy

    def pipeline(self, fetcher: Fetcher, /, **overrides: Any) -> UpdatePipeline:
        """The update pipeline over `fetcher`, with the planet's store, process pool, excerpt
        length, taxonomy and scheduling policy; `overrides` (a clock, a policy, a sealing
        cadence) go to UpdatePipeline as they are. This is the one place that builds one:
        every poller (`update`, `run`, `worker`, the admin's "poll now", the demo) is handed
        this method as its PipelineFactory (update/factory.py)."""
        from netplanet.operations.weekly import freeze_due
        from netplanet.schedule import Policy
        from netplanet.update.pipeline import UpdatePipeline

        self.taxonomy()  # read now: a bad taxonomy is an error before any poll, not in one
        options: dict[str, Any] = {
            "executor": self.executor(),
            "excerpt_words": self.settings.excerpt_words,
            "policy": Policy.from_settings(self.settings),
            "taxonomy": self.taxonomy,
            # The sealing timer also freezes the weekly digest of the week that just ended.
            "after_seal": lambda now: freeze_due(self.store, now),
            **overrides,
        }
        return UpdatePipeline(self.store, fetcher, **options)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._store is not None:
            self._store.close()
            self._store = None
