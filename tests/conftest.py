"""Shared fixtures: a store per backend (SQLite, and PostgreSQL when a server is reachable).

PostgreSQL tests run in a fresh schema per test (put first on the connection's search_path),
which is much faster than a database per test and is dropped afterwards. The server comes
from NETPLANET_TEST_POSTGRES_URL; without one they skip with the reason, except under CI
(env CI set), where an unreachable server is a failure. Under pytest-xdist (`make test` runs
two workers) each worker makes a database of its own on that server for its schemas, dropped
when it ends: advisory locks (migrations, sealing, logins) are per database, so workers never
wait on each other's, and no test can see another worker's schemas (docs/testing.md).
The same rule holds for tests marked `corpus` (the shared corpus of real feeds,
../shared/corpus/feeds): they skip when it is absent, fail under CI (the autouse
`_corpus_rule` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from builders import require_corpus, sqlite_url
from feedserver import FeedServer, feed_server
from netplanet.store import SqlStore, open_store

POSTGRES_URL = os.environ.get(
    "NETPLANET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under mutation testing (`make mutation`), empty the package's functools caches first.

    mutmut forks every mutant's test run from a process that already ran the tests, so a
    cached result of the unmutated code (sanitize's nh3 Cleaners) would hide the mutant."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    for name, module in list(sys.modules.items()):
        if name.startswith("netplanet"):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def backend_urls(tmp_path: Path) -> dict[str, str]:
    """An empty database of each backend that needs no server (the file exists, as after
    `netplanet init`; like the PostgreSQL schema, it has no tables yet)."""
    return {"sqlite": sqlite_url(tmp_path / "netplanet.db")}


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus of real feeds (builders.require_corpus: skip when absent, fail in CI)."""
    return require_corpus()


@pytest.fixture(autouse=True)
def _corpus_rule(request: pytest.FixtureRequest) -> None:
    """Every test marked `corpus` goes through corpus_dir, so none can skip silently in CI."""
    if request.node.get_closest_marker("corpus") is not None:
        request.getfixturevalue("corpus_dir")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available ({reason}); set NETPLANET_TEST_POSTGRES_URL")


@pytest.fixture
def loopback() -> Iterator[FeedServer]:
    """A feed server on its own event loop in a thread, since the CLI runs asyncio itself."""
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: dict[str, FeedServer] = {}
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with feed_server() as server:
            holder["server"] = server
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder["server"]
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


@pytest.fixture(autouse=True)
def _no_per_host_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test feed server is 127.0.0.1: the politeness gap between requests to one host
    (1 s by default) would only slow the suite. Tests of the gap set it explicitly."""
    monkeypatch.setenv("NETPLANET_PER_HOST_GAP_S", "0")


@pytest.fixture(autouse=True)
def _search_caught_up(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Search lags storing by the background indexer's delay (store/indexing.py). Tests of what
    search finds read it caught up, as after `netplanet update`: in-process stores index what
    is queued before each search. Tests of the lag itself are marked `search_lag`."""
    if request.node.get_closest_marker("search_lag"):
        return

    def caught_up(method: Any) -> Any:
        def read(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
            while self.index_pending():
                pass
            return method(self, *args, **kwargs)

        return read

    for name in ("search", "count_matches"):
        monkeypatch.setattr(SqlStore, name, caught_up(getattr(SqlStore, name)))


def _xdist_worker(config: pytest.Config) -> str | None:
    """This process's pytest-xdist worker id ("gw0"), or None when pytest runs alone. Read from
    the config, not PYTEST_XDIST_WORKER: a pytest started by a test inherits that variable."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


def _connect(url: str | sa.URL) -> sa.Engine:
    """An AUTOCOMMIT engine on `url`, checked with a query; an unreachable server skips (fails
    under CI)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        shown = engine.url.render_as_string(hide_password=True)
        _unavailable(f"{shown}: {reason}")
    return engine


@pytest.fixture(scope="session")
def postgres_admin(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """An AUTOCOMMIT engine on the test database, for creating and dropping schemas: under
    pytest-xdist, on a database of this worker's own (random name: other runs may share the
    server), created on the same server and dropped at the end of the session."""
    engine = _connect(POSTGRES_URL)
    worker = _xdist_worker(request.config)
    if worker is None:
        yield engine
        engine.dispose()
        return
    name = f"{engine.url.database}_{worker}_{uuid.uuid4().hex[:8]}"
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError:
        # A role without CREATEDB: the schemas go into the shared database as without xdist
        # (still one per test; only the advisory locks are then shared between workers).
        yield engine
        engine.dispose()
        return
    own = _connect(engine.url.set(database=name))
    try:
        yield own
    finally:
        own.dispose()
        with engine.connect() as conn:
            # FORCE: a connection a failed test leaked must not keep the database alive.
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@contextlib.contextmanager
def postgres_schema(postgres_admin: sa.Engine) -> Iterator[str]:
    """The URL of an empty schema of its own (in postgres_admin's database), dropped
    afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    base = postgres_admin.url.render_as_string(hide_password=False)
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """The URL of an empty schema of its own, dropped after the test."""
    with postgres_schema(postgres_admin) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each backend (for tests that open it themselves, as the
    command line does)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return backend_urls(tmp_path)[request.param]


@pytest.fixture
def store(database: str) -> Iterator[SqlStore]:
    """The same tests run against every backend."""
    s = open_store(database)
    yield s
    s.close()
