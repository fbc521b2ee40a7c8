"""Posts without a date: placed by the best evidence, never stamped "just now" on first import.

A feed served over loopback, polled through the real pipeline with an injected clock; then the
stored order, the date flag, the page and the output feeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
from lxml import etree

from builders import make_entry, spec
from feedserver import FeedServer, feed_server
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import SourceSpec, StoredEntry
from netplanet.publish.feeds import FeedChannel, render_atom, render_json_feed, render_rss
from netplanet.store import SqlStore
from netplanet.update.pipeline import UpdatePipeline
from test_web_client import Clock, make_planet, web_store_fixture  # noqa: F401 - fixture

T1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=3)
ATOM = "{http://www.w3.org/2005/Atom}"


def _item(guid: str, title: str, date: str | None = None) -> str:
    when = f"<pubDate>{date}</pubDate>" if date else ""
    return (
        f"<item><title>{title}</title><link>https://undated.example/{guid}/</link>"
        f'<guid isPermaLink="false">{guid}</guid>{when}'
        f"<description>Notes on {title}.</description></item>"
    )


def _rss(items: list[str], *, channel_date: str | None = None) -> bytes:
    build = f"<lastBuildDate>{channel_date}</lastBuildDate>" if channel_date else ""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Old Wiki</title>'
        f"<link>https://undated.example/</link><description>d</description>{build}"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _run(
    store: SqlStore, clock: _Clock, scenario: Callable[[FeedServer, UpdatePipeline], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            return await scenario(server, UpdatePipeline(store, fetcher, clock=clock))

    return asyncio.run(main())


async def _poll(store: SqlStore, pipeline: UpdatePipeline, source_id: int) -> None:
    source = store.get_source(source_id)
    assert source is not None
    report = await pipeline.update_source(source)
    assert report.outcome == "updated", report.error


def _add(store: SqlStore, server: FeedServer, path: str) -> int:
    return store.add_source(SourceSpec(feed_url=server.url(path))).id


def _by_guid(store: SqlStore) -> dict[str, StoredEntry]:
    return {e.guid or "": e for e in store.list_entries(limit=100)}


def _river(store: SqlStore) -> list[str]:
    """Guids, newest first, the way the front page orders posts."""
    rows = sorted(store.list_entries(limit=100), key=lambda e: (e.published, e.id), reverse=True)
    return [e.guid or "" for e in rows]


DATED = [
    _item("d1", "EVPN multihoming", "Wed, 18 Nov 2026 08:00:00 GMT"),
    _item("d2", "BFD timers", "Mon, 16 Nov 2026 08:00:00 GMT"),
]
UNDATED = [_item("u1", "OSPF areas"), _item("u2", "RIP is not dead"), _item("u3", "IS-IS TLVs")]


def test_first_import_of_an_undated_feed_does_not_outrank_dated_posts(store: SqlStore) -> None:
    clock = _Clock(T1)

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/dated.xml", _rss(DATED))
        server.static("/undated.xml", _rss(UNDATED))
        await _poll(store, pipeline, _add(store, server, "/dated.xml"))
        await _poll(store, pipeline, _add(store, server, "/undated.xml"))

    _run(store, clock, scenario)
    # Dated posts first; the undated backlog after them, in the feed's own order.
    assert _river(store) == ["d1", "d2", "u1", "u2", "u3"]
    entries = _by_guid(store)
    assert all(entries[g].published < T1 - timedelta(days=1) for g in ("u1", "u2", "u3"))
    assert [entries[g].date_known for g in ("d1", "u1")] == [True, False]
    assert min(e.published for e in entries.values()) >= datetime(1970, 1, 1, tzinfo=UTC)


def test_undated_items_take_the_feeds_own_date(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.xml", _rss(UNDATED, channel_date="Sun, 17 Aug 2008 16:51:14 GMT"))
        await _poll(store, pipeline, _add(store, server, "/feed.xml"))

    _run(store, _Clock(T1), scenario)
    built = datetime(2008, 8, 17, 16, 51, 14, tzinfo=UTC)
    entries = _by_guid(store)
    assert all(built - timedelta(minutes=1) < e.published <= built for e in entries.values())
    assert _river(store) == ["u1", "u2", "u3"]
    assert not any(e.date_known for e in entries.values())


def test_atom_feed_updated_dates_undated_entries(store: SqlStore) -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<id>urn:x</id><updated>2009-03-01T10:00:00Z</updated>"
        b'<entry><id>urn:a</id><title>A</title><link href="https://undated.example/a/"/></entry>'
        b"</feed>"
    )

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.atom", body, "application/atom+xml")
        await _poll(store, pipeline, _add(store, server, "/feed.atom"))

    _run(store, _Clock(T1), scenario)
    (entry,) = store.list_entries()
    assert entry.published <= datetime(2009, 3, 1, 10, 0, tzinfo=UTC)
    assert entry.published > datetime(2009, 2, 28, tzinfo=UTC)


def test_undated_items_sit_below_the_oldest_dated_item_of_their_feed(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.xml", _rss([DATED[0], UNDATED[0], DATED[1], UNDATED[1]]))
        await _poll(store, pipeline, _add(store, server, "/feed.xml"))

    _run(store, _Clock(T1), scenario)
    assert _river(store) == ["d1", "d2", "u1", "u2"]


def test_a_later_polls_new_undated_item_gets_its_first_seen_time(store: SqlStore) -> None:
    clock = _Clock(T1)

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.xml", _rss(UNDATED[1:]))
        source_id = _add(store, server, "/feed.xml")
        await _poll(store, pipeline, source_id)
        clock.now = T2
        server.static("/feed.xml", _rss(UNDATED))
        await _poll(store, pipeline, source_id)

    _run(store, clock, scenario)
    entries = _by_guid(store)
    assert entries["u1"].published == T2 and entries["u1"].date_known
    assert entries["u2"].published < T1 and not entries["u2"].date_known
    assert _river(store) == ["u1", "u2", "u3"]


def test_a_later_poll_uses_a_feed_date_between_the_polls(store: SqlStore) -> None:
    clock = _Clock(T1)
    between = T1 + timedelta(hours=1)

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.xml", _rss(UNDATED[1:]))
        source_id = _add(store, server, "/feed.xml")
        await _poll(store, pipeline, source_id)
        clock.now = T2
        stamp = between.strftime("%a, %d %b %Y %H:%M:%S GMT")
        server.static("/feed.xml", _rss(UNDATED, channel_date=stamp))
        await _poll(store, pipeline, source_id)

    _run(store, clock, scenario)
    assert _by_guid(store)["u1"].published == between


def test_a_date_years_ahead_is_never_kept(store: SqlStore) -> None:
    clock = _Clock(T1)

    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/feed.xml", _rss(DATED))
        source_id = _add(store, server, "/feed.xml")
        await _poll(store, pipeline, source_id)
        clock.now = T2
        future = _item("f1", "Time travel", "Mon, 01 Dec 2031 08:00:00 GMT")
        server.static("/feed.xml", _rss([future, *DATED]))
        await _poll(store, pipeline, source_id)

    _run(store, clock, scenario)
    assert _by_guid(store)["f1"].published == T2


def test_page_says_date_unknown_instead_of_a_made_up_age(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    planet = make_planet(web_store, Clock(now))
    planet.add(
        src.id,
        make_entry(src.id, 1),
        make_entry(src.id, 2, published=datetime(2008, 1, 1, tzinfo=UTC), date_known=False),
    )
    html = planet.client.get("/").text
    assert html.count("date unknown") == 1
    assert "1 hour ago" in html and "years ago" not in html
    post = planet.client.get("/post/2/").text
    assert "date unknown" in post and "2008" not in post


def _stored(**changes: Any) -> StoredEntry:
    values: dict[str, Any] = {
        "id": 1,
        "source_id": 1,
        "source_title": "Old Wiki",
        "source_slug": "old-wiki",
        "key": "g:u1",
        "guid": "u1",
        "url": "https://undated.example/u1/",
        "title": "OSPF areas",
        "author": "",
        "published": datetime(2008, 8, 17, tzinfo=UTC),
        "updated": None,
        "first_seen": T1,
        "content_html": "<p>x</p>",
        "excerpt_html": "<p>x</p>",
        "categories": (),
        "tags": (),
        "enclosure": None,
        "duration_s": None,
        "sponsored": False,
        "fingerprint": "v1:x",
        "date_known": False,
    }
    values.update(changes)
    return StoredEntry(**values)


CHANNEL = FeedChannel(
    title="netplanet",
    site_url="https://planet.example/",
    feed_url="https://planet.example/feed.atom",
    updated=T1,
)


def test_output_feeds_stay_valid_and_claim_no_publication_date() -> None:
    entry = _stored()
    atom = etree.fromstring(render_atom(CHANNEL, [entry]))
    (el,) = atom.findall(f"{ATOM}entry")
    assert el.findtext(f"{ATOM}updated") == "2008-08-17T00:00:00Z"
    assert el.find(f"{ATOM}published") is None
    assert feedparser.parse(render_atom(CHANNEL, [entry])).bozo == 0
    rss = etree.fromstring(render_rss(CHANNEL, [entry]))
    assert rss.find("channel/item/pubDate") is None
    assert feedparser.parse(render_rss(CHANNEL, [entry])).bozo == 0
    assert b"date_published" not in render_json_feed(CHANNEL, [entry])


def test_sources_directory_takes_no_last_post_date_from_undated_posts(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(
        src.id, make_entry(src.id, 1, published=datetime(2008, 1, 1, tzinfo=UTC), date_known=False)
    )
    (summary,) = web_store.list_source_summaries()
    assert summary.post_count == 1 and summary.last_published is None


def test_a_feed_built_just_now_is_no_evidence_on_a_first_read(store: SqlStore) -> None:
    async def scenario(server: FeedServer, pipeline: UpdatePipeline) -> None:
        server.static("/dated.xml", _rss(DATED))
        stamp = (T1 - timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        server.static("/undated.xml", _rss(UNDATED, channel_date=stamp))
        await _poll(store, pipeline, _add(store, server, "/dated.xml"))
        await _poll(store, pipeline, _add(store, server, "/undated.xml"))

    _run(store, _Clock(T1), scenario)
    assert _river(store) == ["d1", "d2", "u1", "u2", "u3"]
