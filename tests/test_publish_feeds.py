"""Output feeds: each format parses back with feedparser (bozo 0) and carries what its spec
requires; hostile text stays text; podcasts keep their enclosure; an empty feed is valid."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import fastfeedparser
import feedparser
import pytest
from lxml import etree

from netplanet.model import Enclosure, Source, StoredEntry
from netplanet.publish.feeds import (
    FeedChannel,
    entry_id,
    render_atom,
    render_json_feed,
    render_opml,
    render_rss,
)
from netplanet.sources.opml import parse_opml

NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"

CHANNEL = FeedChannel(
    title="netplanet",
    site_url="https://planet.example/",
    feed_url="https://planet.example/feed.atom",
    description="Network engineering blogs and podcasts",
    updated=NOW,
    language="en",
)


def make_entry(n: int = 1, **changes: Any) -> StoredEntry:
    entry = StoredEntry(
        id=n,
        source_id=1 + n % 3,
        source_title="Packet Pushers' Notes",
        source_slug="packet-notes",
        key=f"g:post-{n}",
        guid=f"post-{n}",
        url=f"https://blog.example/posts/{n}/",
        title=f"BGP route reflection, part {n}",
        author="Ada Router",
        published=NOW - timedelta(hours=n),
        updated=None,
        first_seen=NOW - timedelta(hours=n),
        content_html="<p>Full text.</p>",
        excerpt_html=f"<p>Route reflectors <em>scale</em> iBGP, part {n}.</p>",
        categories=("Networking",),
        tags=("BGP", "networking"),
        enclosure=None,
        duration_s=None,
        sponsored=False,
        fingerprint="f",
    )
    return replace(entry, **changes)


PODCAST = make_entry(
    7,
    title="Episode 42: SRv6 in production",
    author="",
    source_title="Underlay Radio",
    enclosure=Enclosure("https://cdn.example/ep42.mp3", "audio/mpeg", 12345678),
    duration_s=3725,
    categories=("Podcasts",),
    tags=(),
)
HOSTILE = make_entry(
    9,
    title='<script>alert("x")</script> R&D \x0bof\x00 "QoS" ]]>',
    author="Eve <eve@example.com>",
    excerpt_html="<p>Fish &amp; chips \x0b&lt;b&gt;</p>",
    tags=("A&B", "<i>"),
)
ENTRIES = [make_entry(n) for n in range(1, 6)] + [PODCAST, HOSTILE]


def parse(data: bytes) -> Any:
    """feedparser's reading of an RSS or Atom document, which must not be bozo."""
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def check_json_feed(feed: Any) -> None:
    """The JSON Feed 1.1 rules: required keys and the type of every key we emit."""
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    for key in ("home_page_url", "feed_url", "description", "language"):
        assert isinstance(feed.get(key, ""), str)
    assert isinstance(feed["items"], list)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html"), str)  # content_html or content_text required
        for key in ("url", "title", "date_published", "date_modified"):
            assert isinstance(item.get(key, ""), str)
        for key in ("date_published", "date_modified"):
            if key in item:
                assert datetime.fromisoformat(item[key].replace("Z", "+00:00")).tzinfo
        assert all(isinstance(a["name"], str) for a in item.get("authors", []))
        assert all(isinstance(t, str) for t in item.get("tags", []))
        for att in item.get("attachments", []):
            assert isinstance(att["url"], str) and isinstance(att["mime_type"], str)
            assert isinstance(att.get("size_in_bytes", 0), int)
            assert isinstance(att.get("duration_in_seconds", 0), int | float)


def read_back(data: bytes) -> list[dict[str, Any]]:
    """Entries as a reader sees them, in one shape for the three formats.

    feedparser 6.0 reads RSS and Atom but not JSON Feed, so JSON goes through the spec check
    above and then fastfeedparser (another independent reader).
    """
    if data.lstrip().startswith(b"{"):
        check_json_feed(json.loads(data))
        entries = fastfeedparser.parse(data)["entries"]
        return [
            {
                "title": e["title"],
                "author": e.get("author", ""),
                "body": e["content"][0]["value"],
                "tags": [t["term"] for t in e.get("tags", [])],
                "enclosures": [
                    (x["url"], x["type"], int(x["length"])) for x in e.get("enclosures", [])
                ],
            }
            for e in entries
        ]
    return [
        {
            "title": e.title,
            "author": e.get("author", ""),
            "body": e.summary,
            "tags": [t.term for t in e.get("tags", [])],
            "enclosures": [(x.href, x.type, int(x.length)) for x in e.enclosures],
        }
        for e in parse(data).entries
    ]


# --------------------------------------------------------------------------- Atom


def test_atom_has_required_feed_elements() -> None:
    root = etree.fromstring(render_atom(CHANNEL, ENTRIES))
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "tag:planet.example,2024:feed/feed.atom"
    assert root.findtext(f"{ATOM}title") == "netplanet"
    assert root.findtext(f"{ATOM}updated") == "2024-05-06T12:00:00Z"
    rels = {link.get("rel"): link.get("href") for link in root.iter(f"{ATOM}link")}
    assert rels["self"] == CHANNEL.feed_url
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == CHANNEL.site_url  # type: ignore[union-attr]


def test_atom_entries_have_id_title_updated_link_and_author() -> None:
    root = etree.fromstring(render_atom(CHANNEL, ENTRIES))
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(ENTRIES)
    for el, entry in zip(entries, ENTRIES, strict=True):
        assert el.findtext(f"{ATOM}id") == entry_id(entry, CHANNEL.authority)
        assert el.findtext(f"{ATOM}title")
        assert el.findtext(f"{ATOM}updated")
        alt = el.find(f"{ATOM}link[@rel='alternate']")
        assert alt is not None and alt.get("href") == entry.url
        assert el.findtext(f"{ATOM}author/{ATOM}name")
        assert el.find(f"{ATOM}summary").get("type") == "html"  # type: ignore[union-attr]


def test_atom_parses_back_with_feedparser() -> None:
    parsed = parse(render_atom(CHANNEL, ENTRIES))
    assert parsed.version == "atom10"
    assert parsed.feed.title == "netplanet"
    first = parsed.entries[0]
    assert first.link == "https://blog.example/posts/1/"
    assert first.author == "Ada Router"
    assert "Route reflectors <em>scale</em>" in first.summary
    assert 'href="https://blog.example/posts/1/"' in first.summary
    assert "Continue reading" in first.summary
    assert [t.term for t in first.tags] == ["Networking", "BGP"]
    assert first.published_parsed[:5] == (2024, 5, 6, 11, 0)


def test_atom_author_falls_back_to_source_title() -> None:
    parsed = parse(render_atom(CHANNEL, [PODCAST]))
    assert parsed.entries[0].author == "Underlay Radio"


def test_atom_edited_entry_updated_is_the_edit_time() -> None:
    edited = make_entry(2, updated=NOW)
    parsed = parse(render_atom(CHANNEL, [edited]))
    assert parsed.entries[0].updated_parsed[:4] == (2024, 5, 6, 12)
    assert parsed.entries[0].published_parsed[:4] == (2024, 5, 6, 10)


# --------------------------------------------------------------------------- RSS


def test_rss_channel_has_title_link_description() -> None:
    parsed = parse(render_rss(CHANNEL, ENTRIES))
    assert parsed.version == "rss20"
    assert parsed.feed.title == "netplanet"
    assert parsed.feed.link == "https://planet.example/"
    assert parsed.feed.subtitle == "Network engineering blogs and podcasts"
    root = etree.fromstring(render_rss(CHANNEL, ENTRIES))
    self_link = root.find("channel/{http://www.w3.org/2005/Atom}link")
    assert self_link is not None and self_link.get("href") == CHANNEL.feed_url


def test_rss_items_have_title_link_guid_date() -> None:
    root = etree.fromstring(render_rss(CHANNEL, ENTRIES))
    items = root.findall("channel/item")
    assert len(items) == len(ENTRIES)
    for item, entry in zip(items, ENTRIES, strict=True):
        assert item.findtext("title") or item.findtext("description")
        assert item.findtext("link") == entry.url
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert guid.text == entry_id(entry, CHANNEL.authority)
    assert items[0].findtext("pubDate") == "Mon, 06 May 2024 11:00:00 GMT"


def test_rss_parses_back_with_feedparser() -> None:
    parsed = parse(render_rss(CHANNEL, ENTRIES))
    first = parsed.entries[0]
    assert first.title == "BGP route reflection, part 1"
    assert first.link == "https://blog.example/posts/1/"
    assert first.id == entry_id(ENTRIES[0], CHANNEL.authority)
    assert first.author == "Ada Router"
    assert "Route reflectors <em>scale</em>" in first.summary


# --------------------------------------------------------------------------- JSON Feed


def test_json_feed_top_level_fields() -> None:
    feed = json.loads(render_json_feed(CHANNEL, ENTRIES))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "netplanet"
    assert feed["home_page_url"] == CHANNEL.site_url
    assert feed["feed_url"] == CHANNEL.feed_url
    assert isinstance(feed["items"], list) and len(feed["items"]) == len(ENTRIES)


def test_json_feed_items_have_spec_types() -> None:
    feed = json.loads(render_json_feed(CHANNEL, ENTRIES))
    for item, entry in zip(feed["items"], ENTRIES, strict=True):
        assert isinstance(item["id"], str) and item["id"] == entry_id(entry, CHANNEL.authority)
        assert item["url"] == entry.url
        assert isinstance(item["title"], str)
        assert isinstance(item["content_html"], str) and "Continue reading" in item["content_html"]
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None
        assert all(isinstance(a["name"], str) for a in item["authors"])
        assert all(isinstance(t, str) for t in item.get("tags", []))


def test_json_feed_reads_back() -> None:
    first = read_back(render_json_feed(CHANNEL, ENTRIES))[0]
    assert first["title"] == "BGP route reflection, part 1"
    assert first["author"] == "Ada Router"
    assert "Continue reading" in first["body"]


# --------------------------------------------------------------------------- shared behaviour


RENDERERS = [render_rss, render_atom, render_json_feed]


@pytest.mark.parametrize("render", RENDERERS)
def test_hostile_title_is_text_and_illegal_characters_are_stripped(render: Any) -> None:
    data = render(CHANNEL, [HOSTILE])
    assert b"\x0b" not in data and b"\x00" not in data
    assert b"<script>" not in data or render is render_json_feed  # JSON strings need no escaping
    entry = read_back(data)[0]
    # markup in a name is never republished (a reader may take an RSS title for HTML); the
    # rest stays text, escaped once
    assert entry["title"] == 'alert("x") R&D of "QoS" ]]>'
    assert "Eve" in entry["author"]
    assert "Fish &amp; chips" in entry["body"]


@pytest.mark.parametrize("render", RENDERERS)
def test_podcast_enclosure_is_present(render: Any) -> None:
    entry = read_back(render(CHANNEL, [PODCAST]))[0]
    assert entry["enclosures"] == [("https://cdn.example/ep42.mp3", "audio/mpeg", 12345678)]


def test_json_feed_attachment_has_duration() -> None:
    item = json.loads(render_json_feed(CHANNEL, [PODCAST]))["items"][0]
    assert item["attachments"] == [
        {
            "url": "https://cdn.example/ep42.mp3",
            "mime_type": "audio/mpeg",
            "size_in_bytes": 12345678,
            "duration_in_seconds": 3725,
        }
    ]


def test_enclosure_without_type_or_length_still_satisfies_the_specs() -> None:
    bare = replace(PODCAST, enclosure=Enclosure("https://cdn.example/ep.m4a"))
    rss = etree.fromstring(render_rss(CHANNEL, [bare])).find("channel/item/enclosure")
    assert rss is not None and rss.get("length") == "0" and rss.get("type") == "audio/mp4"
    item = json.loads(render_json_feed(CHANNEL, [bare]))["items"][0]
    assert item["attachments"][0]["mime_type"] == "audio/mp4"


@pytest.mark.parametrize("render", RENDERERS)
def test_empty_feed_is_valid(render: Any) -> None:
    data = render(CHANNEL, [])
    assert read_back(data) == []
    if render is not render_json_feed:
        assert parse(data).feed.title == "netplanet"


def test_empty_atom_feed_without_updated_uses_the_epoch() -> None:
    data = render_atom(replace(CHANNEL, updated=None), [])
    assert etree.fromstring(data).findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize("render", RENDERERS)
def test_sponsored_entry_gets_a_sponsored_category(render: Any) -> None:
    ad = make_entry(3, title="Sponsored: Buy our ASIC", sponsored=True)
    assert "Sponsored" in read_back(render(CHANNEL, [ad]))[0]["tags"]


def test_ids_are_stable_and_distinct_per_source_and_key() -> None:
    a = make_entry(1)
    key = CHANNEL.authority
    assert key == "planet.example,2024"
    assert entry_id(a, key) == entry_id(replace(a, id=99), key)
    assert entry_id(a, key) != entry_id(replace(a, key="g:other"), key)
    assert entry_id(a, key).startswith("tag:planet.example,2024:entry/packet-notes/")


@pytest.mark.parametrize("render", RENDERERS)
def test_ids_come_from_the_given_authority_not_the_links(render: Any) -> None:
    """A planet that moves to another host name keeps its ids (the caller keeps the authority)."""
    moved = replace(
        CHANNEL,
        site_url="https://news.example.org/",
        feed_url="https://news.example.org/feed.atom",
        id_authority="planet.example,2024",
    )
    ids = re.findall(rb"tag:[^<\"]+", render(moved, ENTRIES))
    assert len(ids) >= len(ENTRIES)
    assert ids == re.findall(rb"tag:[^<\"]+", render(CHANNEL, ENTRIES))
    assert b"news.example.org" in render(moved, ENTRIES)


# --------------------------------------------------------------------------- OPML


def test_opml_round_trips_enabled_sources() -> None:
    sources = [
        Source(1, "https://a.example/feed", "A & B", "https://a.example/", "Networking", "a"),
        Source(2, "https://b.example/rss", "B", "", "Podcasts", "b"),
        Source(3, "https://c.example/x", "Off", "", "Podcasts", "c", enabled=False),
    ]
    data = render_opml(sources, title="netplanet sources", now=NOW)
    specs = parse_opml(data)
    assert [(s.feed_url, s.title, s.category) for s in specs] == [
        ("https://a.example/feed", "A & B", "Networking"),
        ("https://b.example/rss", "B", "Podcasts"),
    ]
    assert b"Mon, 06 May 2024 12:00:00 GMT" in data


# --------------------------------------------------------------------------- stored before the fix
# Rows stored before links were checked at enrich can hold anything: the feeds check again.

UNSAFE = make_entry(
    11,
    url=" JaVaScRiPt:alert(1)",
    enclosure=Enclosure("data:audio/mpeg;base64,AAAA", "audio/mpeg", 4),
    excerpt_html=(
        '<blockquote cite="javascript:alert(1)"><p>quoted</p></blockquote>'
        '<p><q cite="https://ok.example/">q</q></p>'
    ),
    duration_s=60,
)
PERMALINK = "https://planet.example/post/11/"


@pytest.mark.parametrize("render", RENDERERS)
def test_unsafe_stored_links_are_not_republished(render: Any) -> None:
    data = render(CHANNEL, [UNSAFE])
    lowered = data.lower()
    assert b"javascript:" not in lowered and b"data:" not in lowered
    entry = read_back(data)[0]
    assert entry["enclosures"] == []
    # a post without a usable link of its own links to its page on the planet, as the site does
    assert f'href="{PERMALINK}"' in entry["body"]
    assert 'cite="https://ok.example/"' in entry["body"]


def test_unsafe_stored_link_gives_the_planet_permalink_in_every_format() -> None:
    rss = etree.fromstring(render_rss(CHANNEL, [UNSAFE]))
    assert rss.findtext("channel/item/link") == PERMALINK
    assert rss.find("channel/item/enclosure") is None
    atom = etree.fromstring(render_atom(CHANNEL, [UNSAFE]))
    assert [link.get("href") for link in atom.iter(f"{ATOM}link") if link.get("rel") != "self"] == [
        CHANNEL.site_url,
        PERMALINK,
    ]
    item = json.loads(render_json_feed(CHANNEL, [UNSAFE]))["items"][0]
    assert item["url"] == PERMALINK and "attachments" not in item


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "vbscript:x", "data:text/html,x", "file:///x", "/relative"]
)
def test_no_unsafe_link_in_any_link_element(url: str) -> None:
    entry = make_entry(3, url=url, enclosure=Enclosure(url, "audio/mpeg"))
    for render in RENDERERS:
        data = render(CHANNEL, [entry])
        assert url.encode() not in data.replace(PERMALINK.encode(), b"")


MARKUP_CHANNEL = replace(
    CHANNEL,
    title="netplanet — <b>BGP</b><script>alert(1)</script>",
    description="Posts in <img src=x onerror=alert(1)>BGP",
)
MARKUP_ENTRY = make_entry(
    4,
    source_title="<i>Evil</i> Blog",
    author="",
    categories=("<b>Routing</b>",),
    tags=("<img src=x onerror=alert(1)>", "EVPN"),
)


@pytest.mark.parametrize("render", RENDERERS)
def test_markup_in_names_is_plain_text_in_every_format(render: Any) -> None:
    data = render(MARKUP_CHANNEL, [MARKUP_ENTRY])
    # escaped once by the format, and nothing that a reader could take for a tag
    for name in (b"<b>", b"<script", b"<img", b"<i>", b"&lt;b&gt;", b"&lt;script", b"&lt;img"):
        assert name not in data
    assert b"&amp;lt;" not in data
    entry = read_back(data)[0]
    assert entry["author"] == "Evil Blog"
    assert entry["tags"] == ["Routing", "EVPN"]
    assert "Continue reading on Evil Blog" in entry["body"]


def test_channel_title_and_description_are_plain_text() -> None:
    rss = parse(render_rss(MARKUP_CHANNEL, []))
    assert rss.feed.title == "netplanet — BGPalert(1)"
    assert rss.feed.subtitle == "Posts in BGP"
    atom = parse(render_atom(MARKUP_CHANNEL, []))
    assert (atom.feed.title, atom.feed.subtitle) == (rss.feed.title, rss.feed.subtitle)
    feed = json.loads(render_json_feed(MARKUP_CHANNEL, []))
    assert (feed["title"], feed["description"]) == (rss.feed.title, rss.feed.subtitle)
