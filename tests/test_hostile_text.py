"""Hostile text end to end: lone surrogates and NULs in feeds, non-UTF-8 bytes in headers.

Each once stopped `netplanet update` for every source ("unexpected UnicodeEncodeError ...
this is a bug") or `sources add`; now the text is made valid where it enters and the feed is
read like any other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from builders import cli, sqlite_url
from feedserver import FeedServer, rss
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec
from netplanet.store import SqlStore, open_store
from netplanet.update.pipeline import UpdatePipeline

REPLACEMENT = "\ufffd"


def surrogate_json_feed() -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile \ud800 feed\u0000",  # PostgreSQL refuses NUL in text
        "home_page_url": "https://hostile.example/",
        "items": [
            {"id": "\ud800", "url": "https://hostile.example/1", "title": "One \udc00",
             "authors": [{"name": "Eve \ud800"}], "content_text": "Body \ud800 one."},
            {"id": "2\u0000", "url": "https://hostile.example/2", "title": "Two",
             "tags": ["\udfff"], "content_html": "<p>Body two</p>"},
        ],
    }  # fmt: skip
    return json.dumps(feed).encode()  # ensure_ascii: lone surrogates as \udXXX escapes


def test_update_stores_a_feed_full_of_lone_surrogates(
    capsys: pytest.CaptureFixture[str],
    database: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    loopback.static("/hostile.json", surrogate_json_feed(), "application/feed+json")
    loopback.static("/good.xml", rss([("g1", "Good post", "<p>fine</p>")]))
    store = open_store(database)
    try:
        for path in ("/hostile.json", "/good.xml"):
            store.add_source(SourceSpec(feed_url=loopback.url(path)))
    finally:
        store.close()
    code, _, err = cli(capsys, "--database", database, "update")
    assert code == 0, err
    assert "this is a bug" not in err
    store = open_store(database)
    try:
        titles = sorted(e.title for e in store.list_entries())
        assert titles == ["Good post", f"One {REPLACEMENT}", "Two"]
        hostile = store.get_source_by_url(loopback.url("/hostile.json"))
        assert hostile is not None and hostile.title == f"Hostile {REPLACEMENT} feed"
        assert not hostile.last_error
    finally:
        store.close()


def test_sources_add_reads_a_feed_title_with_a_lone_surrogate(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    loopback.static("/hostile.json", surrogate_json_feed(), "application/feed+json")
    db = sqlite_url(tmp_path / "add.db")
    code, out, err = cli(capsys, "--database", db, "sources", "add", loopback.url("/hostile.json"))
    assert code == 0, err
    assert f"Hostile {REPLACEMENT} feed" in out


FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Header test</title>'
    b"<item><title>Post</title><guid>p1</guid></item></channel></rss>"
)


@asynccontextmanager
async def raw_server(head: bytes) -> AsyncIterator[str]:
    """A server that answers every request with `head` (status line and headers, sent as
    raw bytes, which aiohttp's own server would not allow) and FEED."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(FEED) + FEED
            )
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/feed"
    finally:
        server.close()
        await server.wait_closed()


def test_header_bytes_that_are_not_utf8_are_stored_as_valid_text(store: SqlStore) -> None:
    # aiohttp reads such bytes as lone surrogates (surrogateescape); the validators are stored.
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=\xff\xfe\r\n"
        b'ETag: "\xed\xa0\x80\xff"\r\nLast-Modified: \xff\r\n'
    )

    async def scenario() -> list[str]:
        async with raw_server(head) as url, Fetcher(fetch_settings()) as fetcher:
            source = store.add_source(SourceSpec(feed_url=url))
            pipeline = UpdatePipeline(store, fetcher)
            outcomes = [(await pipeline.update_source(source)).outcome]
            again = store.get_source(source.id)
            assert again is not None
            outcomes.append((await pipeline.update_source(again)).outcome)
            return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes == ["updated", "unchanged"]
    (source,) = store.list_sources()
    assert source.etag == f'"{REPLACEMENT * 4}"'
    assert source.last_modified == REPLACEMENT
    assert store.count_entries() == 1
