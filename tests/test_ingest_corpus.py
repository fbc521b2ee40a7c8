"""`netplanet sources import` + `netplanet update` against a loopback server serving the corpus.

Uses ../shared/corpus/feeds (real feeds published by real sites); skipped when it is absent,
except under CI (conftest `corpus_dir`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import quoteattr

import lxml.html
import pytest

from builders import sqlite_url
from netplanet.cli import EXIT_SOME_FAILED, main
from netplanet.store import SqlStore, open_store

pytestmark = pytest.mark.corpus


SAFE_SCHEMES = ("http://", "https://", "mailto:", "data:image/")


def assert_harmless(html: str) -> None:
    if not html.strip():
        return
    for el in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        assert el.tag not in ("script", "style", "iframe", "object", "embed", "form"), html
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), html
            if name in ("href", "src"):
                assert value.lower().startswith(SAFE_SCHEMES), value


def entry_rows(store: SqlStore) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM entries ORDER BY id")]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def corpus_server(corpus_dir: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(corpus_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(["--quiet", *args])
    return info.value.code if isinstance(info.value.code, int) else 1


def test_corpus_imports_and_updates_into_clean_entries(
    corpus_server: str, corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    files = sorted(p.name for p in corpus_dir.iterdir() if p.name != "MANIFEST.tsv")
    outlines = "".join(
        f"<outline type='rss' text={quoteattr(n)} xmlUrl={quoteattr(f'{corpus_server}/{n}')}/>"
        for n in files
    )
    opml = tmp_path / "corpus.opml"
    opml.write_text(
        f"<opml version='2.0'><body><outline text='Corpus'>{outlines}</outline></body></opml>"
    )
    db = sqlite_url(tmp_path / "corpus.db")

    assert run("--database", db, "sources", "import", str(opml)) == 0
    assert run("--database", db, "update") in (0, EXIT_SOME_FAILED)

    store = open_store(db)
    try:
        sources = store.list_sources()
        assert len(sources) == len(files)
        ok = [s for s in sources if s.last_success_at is not None]
        # Nearly every corpus file is a feed; the few that fail must say why in one line.
        assert len(ok) >= 0.9 * len(files)
        for s in sources:
            if s.consecutive_failures:
                assert s.last_error and "\n" not in s.last_error
        entries = store.list_entries(limit=100_000)
        assert len(entries) >= 500
        for e in entries:
            assert e.title and e.url.startswith(("http://", "https://"))
            for html in (e.content_html, e.excerpt_html):
                assert_harmless(html)
        before = entry_rows(store)
    finally:
        store.close()

    # A second update finds nothing new: same entries, no duplicates.
    assert run("--database", db, "update") in (0, EXIT_SOME_FAILED)
    store = open_store(db)
    try:
        assert entry_rows(store) == before
    finally:
        store.close()
