"""Fuzz `netplanet update` end to end: mutated feeds on one loopback server, few rounds.

Every mutant (tests/fuzzing.py; seeded, so each run sees the same ones) is a source of its
own. Each round is one `netplanet update` over all of them, through the real fetcher,
parse pool, enrich and store: the round must complete (exit 0 or 4, never "this is a
bug"), every source must end the round recorded, either ok or with its own one-line error,
and none of those errors may be an internal one (a bug in netplanet rather than a bad feed).
Round two serves new mutants at the same URLs, so stored entries meet edited ones.

The project's own fixture feeds always run; the shared corpus of real feeds runs when
../shared/corpus is present (skipped otherwise, but a failure under CI).
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from builders import require_corpus, sqlite_url
from fuzzing import Response, mutant
from netplanet.cli import EXIT_SOME_FAILED, main
from netplanet.model import SourceSpec
from netplanet.store import open_store

FIXTURES = Path(__file__).parent / "data" / "feeds"
ROUNDS = 2
# Mutants per round. CI runs every combination: 2 x 600 = 1,200 mutants. For a longer hunt,
# NETPLANET_FUZZ_SCALE multiplies these and NETPLANET_FUZZ_SEED picks other mutants.
PER_ROUND = {
    ("fixtures", "sqlite"): 150,
    ("fixtures", "postgres"): 100,
    ("corpus", "sqlite"): 250,
    ("corpus", "postgres"): 100,
}
SCALE = float(os.environ.get("NETPLANET_FUZZ_SCALE", "1"))
SEED = os.environ.get("NETPLANET_FUZZ_SEED", "netplanet-fuzz")
MAX_BYTES = 48 * 1024
CONTENT_TYPES = {".json": b"application/feed+json", ".html": b"text/html"}


class _Handler(BaseHTTPRequestHandler):
    responses: ClassVar[dict[str, Response]] = {}

    def do_GET(self) -> None:
        response = self.responses.get(self.path)
        if response is None:
            self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        else:
            self.wfile.write(response.raw())  # raw bytes: headers need not be valid UTF-8
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Response]]]:
    responses: dict[str, Response] = {}
    handler = type("Handler", (_Handler,), {"responses": responses})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", responses
    httpd.shutdown()
    httpd.server_close()


def seeds(kind: str) -> list[tuple[bytes, bytes]]:
    """(document, content type) of every seed feed of the set, in a stable order."""
    folder = FIXTURES if kind == "fixtures" else require_corpus()
    suffixes = (".xml", ".rdf", ".json", ".html")
    files = sorted(
        p for p in folder.iterdir() if p.suffix in suffixes and ".expected." not in p.name
    )
    return [(p.read_bytes(), CONTENT_TYPES.get(p.suffix, b"application/xml")) for p in files]


def run_update(capsys: pytest.CaptureFixture[str], db: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(["--database", db, "--quiet", "update"])
    _, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), err


@pytest.mark.parametrize(
    ("kind", "backend"),
    [
        ("fixtures", "sqlite"),
        pytest.param("fixtures", "postgres", marks=pytest.mark.postgres),
        pytest.param("corpus", "sqlite", marks=pytest.mark.corpus),
        pytest.param("corpus", "postgres", marks=[pytest.mark.corpus, pytest.mark.postgres]),
    ],
)
def test_every_mutant_ends_ok_or_with_its_own_error(
    kind: str,
    backend: str,
    server: tuple[str, dict[str, Response]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    base, responses = server
    documents = seeds(kind)
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("NETPLANET_FETCH_PER_HOST", "20")  # every mutant is on 127.0.0.1
    monkeypatch.setenv("NETPLANET_TOTAL_TIMEOUT", "20")
    if backend == "postgres":
        db = str(request.getfixturevalue("postgres_url"))
    else:
        db = sqlite_url(tmp_path / "fuzz.db")
    count = max(1, round(PER_ROUND[kind, backend] * SCALE))
    store = open_store(db)
    try:
        for n in range(count):
            store.add_source(SourceSpec(feed_url=f"{base}/m/{n}", title=f"mutant {n}"))
    finally:
        store.close()

    previous: dict[int, datetime | None] = {}
    for round_no in range(ROUNDS):
        rnd = random.Random(f"{SEED}-{kind}-{backend}-{round_no}")
        for n in range(count):
            document, content_type = documents[rnd.randrange(len(documents))]
            responses[f"/m/{n}"] = mutant(rnd, document, content_type, max_bytes=MAX_BYTES)

        code, err = run_update(capsys, db)
        assert code in (0, EXIT_SOME_FAILED), err
        assert "this is a bug" not in err and "Traceback" not in err, err

        store = open_store(db)
        try:
            sources = store.list_sources()
            ok = 0
            for s in sources:
                where = f"round {round_no}, {s.feed_url}: {s.last_error_class} {s.last_error!r}"
                if not s.enabled and previous.get(s.id) == s.last_fetched_at:
                    continue  # disabled by a 410 in an earlier round: not polled again
                assert s.last_fetched_at is not None, where
                assert s.last_fetched_at != previous.get(s.id), f"not recorded: {where}"
                previous[s.id] = s.last_fetched_at
                if s.last_error_class:
                    assert s.last_error and "\n" not in s.last_error, where
                    assert s.last_error_class != "internal", where
                    assert "internal parser error" not in s.last_error, where
                else:
                    assert s.last_success_at == s.last_fetched_at, where
                    ok += 1
            # Not a test of the harness alone: most mutants are still readable feeds.
            assert ok >= count // 3, f"only {ok} of {count} mutants read in round {round_no}"
            for e in store.list_entries(limit=100_000):
                for text in (e.title, e.author, e.url, e.content_html, e.excerpt_html):
                    assert "\x00" not in text
                    text.encode("utf-8")
        finally:
            store.close()


def test_sources_add_on_mutants_adds_or_says_why_in_one_line(
    server: tuple[str, dict[str, Response]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `sources add` reads the feed (or discovers it from a page) to learn its title.
    base, responses = server
    documents = seeds("fixtures")
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    db = sqlite_url(tmp_path / "add.db")
    rnd = random.Random(f"{SEED}-sources-add")
    count = max(1, round(100 * SCALE))
    for n in range(count):
        document, content_type = documents[rnd.randrange(len(documents))]
        responses[f"/a/{n}"] = mutant(rnd, document, content_type, max_bytes=MAX_BYTES)
    added = 0
    for n in range(count):
        with pytest.raises(SystemExit) as info:
            main(["--database", db, "sources", "add", f"{base}/a/{n}"])
        _, err = capsys.readouterr()
        assert info.value.code in (0, 1), err
        if info.value.code:
            assert err.startswith("error: ") and err.count("\n") == 1, err
            assert "this is a bug" not in err, err
        else:
            added += 1
    assert added >= count // 3
