"""The offline demo: its feeds parse, its server answers conditionally, and an ingest through the
real pipeline stores what the feeds hold (once), flags what it should and fails where intended."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
import pytest
from multidict import CIMultiDict

from builders import free_port, pipelines_over
from netplanet.cli._common import listen_socket
from netplanet.cli.demo import demo_settings
from netplanet.demo import (
    DEMO_SOURCES,
    EXTRA_DOCUMENTS,
    DemoSource,
    render_documents,
    render_template,
)
from netplanet.demo.ingest import DemoSummary, ingest_demo
from netplanet.demo.server import DemoFeedServer
from netplanet.errors import NotAFeedError, UsageError
from netplanet.model import StoredEntry
from netplanet.parse import parse_feed
from netplanet.settings import Settings
from netplanet.store import SqlStore, open_store

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:9"
GOOD = [s for s in DEMO_SOURCES if not s.broken]
BROKEN = [s for s in DEMO_SOURCES if s.broken]
EXPECTED_POSTS = sum(s.entries for s in GOOD)


# --------------------------------------------------------------------------- the feed files


def test_catalogue_has_the_promised_variety() -> None:
    assert 8 <= len(DEMO_SOURCES) <= 10
    assert len(BROKEN) == 1
    assert all(5 <= s.entries <= 15 for s in GOOD)
    categories = {s.category for s in DEMO_SOURCES}
    assert {"Networking", "Network Automation", "Security", "Podcasts", "Cloud"} <= categories
    assert all(".example" in s.site_url for s in DEMO_SOURCES)  # no real blog is named


@pytest.mark.parametrize("source", GOOD, ids=lambda s: s.file)
def test_demo_feed_parses_with_the_project_parser(source: DemoSource) -> None:
    docs = render_documents(NOW, BASE)
    doc = docs[source.path]
    feed = parse_feed(doc.body, content_type=doc.content_type, url=BASE + doc.path)
    assert len(feed.entries) == source.entries
    assert feed.title
    assert feed.warnings == ()
    for entry in feed.entries:
        assert entry.title and entry.link and entry.published is not None
        assert entry.link.startswith("https://")


def test_demo_formats_cover_rss_atom_and_json() -> None:
    docs = render_documents(NOW, BASE)
    formats = {
        parse_feed(docs[s.path].body, content_type=docs[s.path].content_type).format for s in GOOD
    }
    assert {"rss20", "atom10", "json11"} <= formats


def test_the_broken_source_serves_html_naming_its_real_feed() -> None:
    docs = render_documents(NOW, BASE)
    (broken,) = BROKEN
    with pytest.raises(NotAFeedError):
        parse_feed(docs[broken.path].body, content_type=docs[broken.path].content_type)
    real_path = EXTRA_DOCUMENTS[0][0]
    assert f'href="{BASE}{real_path}"'.encode() in docs[broken.path].body
    assert parse_feed(docs[real_path].body).entries


def test_dates_are_rendered_relative_to_now_over_about_three_months() -> None:
    docs = render_documents(NOW, BASE)
    dates = []
    for s in GOOD:
        feed = parse_feed(docs[s.path].body, content_type=docs[s.path].content_type)
        dates += [e.published for e in feed.entries if e.published]
    assert max(dates) <= NOW and max(dates) >= NOW - timedelta(days=3)
    assert NOW - timedelta(days=95) <= min(dates) <= NOW - timedelta(days=60)
    assert all(b"{{" not in d.body for d in docs.values())


def test_render_template_placeholders() -> None:
    text = "{{rfc822:1d2h}} {{rfc3339:0d30m}} {{self}} {{base}}"
    out = render_template(text, now=NOW, base_url="http://h", self_url="http://h/f")
    assert out == "Fri, 31 May 2024 10:00:00 GMT 2024-06-01T11:30:00Z http://h/f http://h"


# --------------------------------------------------------------------------- the server


async def _get(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with session.get(url, headers=headers) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


def test_server_answers_conditional_requests_with_304() -> None:
    async def main() -> None:
        async with DemoFeedServer() as server, aiohttp.ClientSession() as session:
            url = server.url(GOOD[0].path)
            status, headers, body = await _get(session, url)
            assert status == 200 and body.startswith(b"<?xml")
            assert headers["Content-Type"].startswith("application/rss+xml")
            etag, modified = headers["ETag"], headers["Last-Modified"]
            assert (await _get(session, url, **{"If-None-Match": etag}))[0] == 304
            assert (await _get(session, url, **{"If-Modified-Since": modified}))[0] == 304
            assert (await _get(session, url, **{"If-None-Match": '"other"'}))[0] == 200
            assert (await _get(session, server.url("/nothing-here")))[0] == 404
            assert server.hits[GOOD[0].path] == 4

    asyncio.run(main())


def test_server_refresh_changes_validators_only_when_bytes_change() -> None:
    async def main() -> None:
        async with DemoFeedServer(clock=lambda: NOW) as server:
            assert server.refresh(NOW) == 0
            assert server.refresh(NOW + timedelta(seconds=30)) == 0  # same minute
            # Every document with dates changes; the broken source's HTML page has none.
            dated = len(DEMO_SOURCES) + len(EXTRA_DOCUMENTS) - len(BROKEN)
            assert server.refresh(NOW + timedelta(hours=1)) == dated

    asyncio.run(main())


# --------------------------------------------------------------------------- end to end


@dataclass
class Ingested:
    store: SqlStore
    first: DemoSummary
    second: DemoSummary
    base_url: str
    entries: list[StoredEntry]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    path = Path(tmp_path_factory.mktemp("demo")) / "demo.db"
    store = open_store(f"sqlite:///{path}")
    settings = Settings(
        allow_private_networks=True, connect_timeout=5, read_timeout=5, per_host_gap_s=0.0
    )

    async def main() -> tuple[DemoSummary, DemoSummary, str]:
        async with DemoFeedServer() as server:
            pipelines = pipelines_over(store, settings)
            first = await ingest_demo(store, settings, server.base_url, pipelines=pipelines)
            second = await ingest_demo(store, settings, server.base_url, pipelines=pipelines)
            return first, second, server.base_url

    try:
        first, second, base = asyncio.run(main())
        # Every stored post, the collapsed ones too (the river leaves those out).
        entries = [
            e for s in store.list_sources() for e in store.list_entries(source_id=s.id, limit=1000)
        ]
        yield Ingested(store, first, second, base, entries)
    finally:
        store.close()


def test_ingest_stores_every_demo_post(ingested: Ingested) -> None:
    assert ingested.first.new == EXPECTED_POSTS
    assert len(ingested.entries) == EXPECTED_POSTS
    assert ingested.first.sealed == EXPECTED_POSTS
    by_source = {s.title: ingested.store.count_entries(source_id=s.id) for s in
                 ingested.store.list_sources()}  # fmt: skip
    assert by_source == {s.title: s.entries for s in DEMO_SOURCES}


def test_the_demo_has_a_story_covered_by_three_sources(ingested: Ingested) -> None:
    story = [e for e in ingested.entries if "Harbor Gate" in e.title]
    assert len(story) == 3 and len({e.source_id for e in story}) == 3
    assert len({e.cluster_id for e in story}) == 1 and story[0].cluster_id is not None
    lead = max(story, key=lambda e: e.published)
    assert [e.id for e in story if not e.collapsed] == [lead.id]
    river = ingested.store.list_entries(collapsed=False, limit=1000)
    assert [e.id for e in river if e.cluster_id == lead.cluster_id] == [lead.id]
    assert len(river) == EXPECTED_POSTS - 2


def test_second_update_adds_no_duplicates(ingested: Ingested) -> None:
    assert ingested.second.new == 0
    assert {r.outcome for r in ingested.second.reports if r.error_class == ""} == {"not_modified"}
    keys = [(e.source_id, e.key) for e in ingested.entries]
    urls = [e.url for e in ingested.entries]
    assert len(set(keys)) == len(keys) and len(set(urls)) == len(urls)


def test_broken_feed_is_recorded_as_failing_with_a_readable_error(ingested: Ingested) -> None:
    (report,) = ingested.first.failed
    (broken,) = BROKEN
    assert report.title == broken.title
    source = ingested.store.get_source_by_url(ingested.base_url + broken.path)
    assert source is not None
    assert source.status.value == "failing" and source.consecutive_failures == 2
    assert "returned HTML, not a feed" in source.last_error
    assert ingested.base_url + EXTRA_DOCUMENTS[0][0] in source.last_error
    assert "\n" not in source.last_error


def test_podcast_entries_have_enclosures_and_durations(ingested: Ingested) -> None:
    episodes = [e for e in ingested.entries if e.source_title == "Underlay Radio"]
    assert len(episodes) == 6
    for e in episodes:
        assert e.enclosure is not None and e.enclosure.type == "audio/mpeg"
        assert e.enclosure.url.endswith(".mp3") and e.enclosure.length
        assert e.duration_s and e.duration_s > 40 * 60
    newest = max(episodes, key=lambda e: e.published)
    assert newest.duration_s == 58 * 60 + 41
    assert newest.categories == ("Podcasts",)


def test_only_the_sponsored_post_is_flagged(ingested: Ingested) -> None:
    flagged = [e.title for e in ingested.entries if e.sponsored]
    assert flagged == ["Sponsored: Meet the Bastion X9 firewall at the autumn network summit"]


def test_excerpts_have_no_blog_engine_boilerplate(ingested: Ingested) -> None:
    for e in ingested.entries:
        for html in (e.excerpt_html, e.content_html):
            assert not re.search(r"appeared first on|Read more|\[&#8230;\]|\[…\]", html), e.title


def test_relative_links_are_made_absolute(ingested: Ingested) -> None:
    for e in ingested.entries:
        assert e.url.startswith("https://") and ".example" in e.url
        assert 'href="/' not in e.content_html and 'href="../' not in e.content_html
    post = next(e for e in ingested.entries if e.title == "EVPN route type 5 without the mystery")
    assert 'href="https://fabricnotes.example/posts/evpn-symmetric-irb/"' in post.content_html


def test_tracking_parameters_are_dropped_from_links(ingested: Ingested) -> None:
    assert not [e.url for e in ingested.entries if "utm_" in e.url]


def test_demo_is_searchable(ingested: Ingested) -> None:
    hits = ingested.store.search("EVPN")
    assert len(hits) >= 3
    # Snippets come from the body, highlighted where the body mentions the word (some posts
    # match by title only).
    assert sum("<mark>EVPN</mark>" in h.snippet_html for h in hits) >= 2


# --------------------------------------------------------------------------- the command


def test_demo_settings_use_their_own_database_and_allow_loopback(tmp_path: Path) -> None:
    settings = demo_settings(Settings(database_url="sqlite:////elsewhere.db"), tmp_path, "::1", 0)
    assert settings.allow_private_networks
    assert settings.database_url == f"sqlite:///{tmp_path / 'demo.db'}"
    assert settings.site_title == "netplanet demo" and settings.site_url == ""


def test_demo_refuses_a_busy_port_with_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}.*--port"):
            listen_socket("127.0.0.1", port)


def test_demo_socket_accepts_connections_before_the_server_runs() -> None:
    # The banner with the URL is printed before uvicorn starts; a click must not be refused.
    sock = listen_socket("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=5):
            pass
    finally:
        sock.close()


DEMO_MAIN = """
import typer
from netplanet.cli.demo import register
app = typer.Typer()
app.callback()(lambda: None)
register(app)
app()
"""


def test_demo_command_serves_the_site_and_stops_on_ctrl_c() -> None:
    # Its own process group, so cleanup reaches the parse pool too, and output read by a thread
    # so a demo that stops talking fails the test at the deadline instead of blocking it.
    proc = subprocess.Popen(
        [sys.executable, "-c", DEMO_MAIN, "demo", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []

    def read_until(marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            assert line is not None, f"demo exited before {marker!r}:\n" + "".join(seen)
            seen.append(line)
            if marker in line:
                return "".join(seen)
        raise AssertionError(f"no {marker!r} within {timeout} s:\n" + "".join(seen))

    try:
        output = read_until("running at", 90)
        url = re.search(r"running at (http://\S+/)", output)
        assert url, output
        assert f"{EXPECTED_POSTS} new posts" in output
        assert "failing as intended: Packet Loss Diaries" in output
        db = re.search(r"database sqlite:///(\S+)", output)
        assert db
        home = httpx.get(url[1], timeout=10)
        assert home.status_code == 200 and "BGP Add-Path in practice" in home.text
        proc.send_signal(signal.SIGINT)
        read_until("demo stopped", 60)
        assert proc.wait(timeout=30) == 0, "".join(seen)
        assert not Path(db[1]).parent.exists()  # the temporary database is gone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        reader.join(10)
        stdout.close()


def test_the_demo_posts_have_topics_from_the_bundled_taxonomy(ingested: Ingested) -> None:
    from netplanet.enrich.topics import load_taxonomy

    slugs = set(load_taxonomy(None).slugs)
    assert all(e.topics and {s for s, _ in e.topics} <= slugs for e in ingested.entries)
    primaries = {e.topics[0][0] for e in ingested.entries}
    assert len(primaries) >= 5, primaries  # the demo shows a planet of many subjects
    by_title = {e.title: e.topic_slugs for e in ingested.entries}
    assert by_title["BGP Add-Path in practice: what changes on the wire"][0] == "routing"
    assert all(e.topic_slugs[0] == "security" for e in ingested.entries if "Harbor Gate" in e.title)
