"""Small builders for records used across tests (imported as `from builders import ...`)."""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netplanet.model import Entry, SourceSpec, SourceUpdate, UpdatePlan

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared"
# The shared corpus of real feeds lives beside the repository, not in it (a fresh clone has
# none). NETPLANET_TEST_CORPUS points the corpus tests elsewhere, e.g. at a missing folder to
# check that CI refuses to run without it (tests/test_corpus_rule.py).
CORPUS = Path(os.environ.get("NETPLANET_TEST_CORPUS") or SHARED / "corpus" / "feeds")


def require_corpus() -> Path:
    """The corpus folder; a missing corpus skips the test, except under CI (env CI set) where
    it fails: a corpus test that silently stopped running protects nothing."""
    if not CORPUS.is_dir():
        message = f"feed corpus not present at {CORPUS}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: corpus tests must run under CI", pytrace=False)
        pytest.skip(message)
    return CORPUS


def make_entry(source_id: int, n: int, **overrides: Any) -> Entry:
    """A plausible enriched entry number n of a source (distinct guid, url, title, date)."""
    published = overrides.pop("published", NOW - timedelta(hours=n))
    values: dict[str, Any] = {
        "source_id": source_id,
        "key": f"g:post-{n}",
        "guid": f"post-{n}",
        "url": f"https://blog.example.net/posts/{n}/",
        "title_date_hash": f"tdh-{n}",
        "title": f"Post number {n} about BGP",
        "author": "Ann Author",
        "published": published,
        "updated": None,
        "content_html": f"<p>Body of post {n} on route reflectors.</p>",
        "excerpt_html": f"<p>Body of post {n}.</p>",
        "text": f"Body of post {n} on route reflectors.",
        "categories": ("Networking",),
        "fingerprint": f"v1:fp-{n}",
    }
    values.update(overrides)
    return Entry(**values)


def success(now: datetime = NOW, **overrides: Any) -> SourceUpdate:
    values: dict[str, Any] = {
        "last_fetched_at": now,
        "last_status": 200,
        "last_error_class": "",
        "last_error": "",
        "last_bytes": 100,
        "last_duration_ms": 5,
        "consecutive_failures": 0,
        "last_success_at": now,
    }
    values.update(overrides)
    return SourceUpdate(**values)


def plan(source_id: int, new: tuple[Entry, ...] = (), **kw: Any) -> UpdatePlan:
    return UpdatePlan(source_id=source_id, source=success(), new_entries=new, **kw)


def spec(n: int = 1, **kw: Any) -> SourceSpec:
    base = SourceSpec(
        feed_url=f"https://blog{n}.example.net/feed/",
        title=f"Example Blog {n}",
        site_url=f"https://blog{n}.example.net/",
        category="Networking",
    )
    return replace(base, **kw)


def free_port() -> int:
    """A loopback port nothing listens on (for a server started in another process; every
    --port is 1-65535, so the CLI cannot be asked to pick one itself)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(path: Path) -> str:
    """The URL of an empty SQLite database at `path`, made as `netplanet init` would: every
    other command refuses a database file that does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return f"sqlite:///{path}"


def cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run the real `netplanet` command line in-process: (exit code, stdout, stderr)."""
    import pytest

    from netplanet.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


def pipelines_over(store: Any, settings: Any = None) -> Any:
    """A PipelineFactory like Planet.pipeline (the settings' excerpt length and policy), over a
    test's own store and without the process pool: what the runtime loops, the admin's "poll
    now" and the demo are handed in tests. Posts are classified with the bundled taxonomy, as
    a planet without `topics_file` does."""
    from netplanet.schedule import Policy
    from netplanet.settings import Settings
    from netplanet.update.pipeline import UpdatePipeline

    chosen = settings if settings is not None else Settings()

    def make(fetcher: Any, /, **overrides: Any) -> UpdatePipeline:
        options: dict[str, Any] = {
            "excerpt_words": chosen.excerpt_words,
            "policy": Policy.from_settings(chosen),
            "taxonomy": bundled_taxonomy,
            **overrides,
        }
        return UpdatePipeline(store, fetcher, **options)

    return make


@functools.cache
def bundled_taxonomy() -> Any:
    """The bundled taxonomy, compiled once for the whole test run."""
    from netplanet.enrich.topics import load_taxonomy

    return load_taxonomy(None)
