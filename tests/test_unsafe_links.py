"""Unsafe URLs end to end: feed -> fetch -> parse -> enrich -> store -> output feeds and pages.

One feed per format (RSS, Atom, JSON Feed) carries one item per vector; each item puts its
vector in every place a URL can enter (item link, enclosure / rel=enclosure / attachment, and
href, src and cite inside the content), and the channel's own link is javascript:. The
planet must keep every post, store only http(s) links, and republish nothing else: not in an
output feed's links, enclosures or "Continue reading" anchor, not on a page.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

import lxml.html
import pytest
from lxml import etree

from builders import make_entry, spec
from feedserver import feed_server
from loopback import fetch_settings
from netplanet.fetch.http import Fetcher
from netplanet.model import Enclosure, SourceSpec, StoredEntry
from netplanet.store import SqlStore, open_store
from netplanet.update.pipeline import UpdatePipeline
from test_web_client import make_planet

FORMATS = ("rss", "atom", "json")


@dataclass(frozen=True)
class Vector:
    id: str
    value: str
    """The URL as the feed's reader (XML or JSON parser) hands it over."""
    spelling: str = ""
    """How it is written inside XML text/attributes and HTML attributes, when not just escaped
    (character references are the same syntax in both)."""
    formats: tuple[str, ...] = FORMATS
    expect: Callable[[str], str] | None = None
    """The stored link given the feed server's base URL; None: dropped."""
    expect_enclosure: Callable[[str], str] | None = None
    """The stored enclosure URL when it differs from `expect` (enclosures are not canonicalized)."""


VECTORS = [
    Vector("plain", "javascript:alert(1)"),
    Vector("mixed-case", "JaVaScRiPt:alert(1)"),
    Vector("spaces", "  javascript:alert(1)  "),
    Vector("leading-tab", "\tjavascript:alert(1)"),
    Vector("inner-tab", "java\tscript:alert(1)"),
    Vector("inner-newline", "java\nscript:alert(1)"),
    Vector("control-char", "\x01javascript:alert(1)", formats=("json",)),
    Vector("nul", "\x00javascript:alert(1)", formats=("json",)),
    Vector("entity-colon", "javascript:alert(1)", spelling="javascript&#58;alert(1)"),
    Vector("entity-hex", "javascript:alert(1)", spelling="&#x6A;avascript&#x3A;alert(1)"),
    Vector("entity-tab", "java\tscript:alert(1)", spelling="java&#x09;script:alert(1)"),
    Vector("vbscript", "vbscript:msgbox(1)"),
    Vector("data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    Vector("data-svg", "data:image/svg+xml,<svg onload=alert(1)>"),
    Vector("file", "file:///etc/passwd"),
    # an entity that no parser decodes is a relative path: it resolves to the feed's host
    Vector(
        "double-escaped",
        "javascript&#58;alert(1)",
        expect=lambda base: base + "/javascript&",  # canonical: the "#58;…" fragment dropped
        expect_enclosure=lambda base: base + "/javascript&#58;alert(1)",
    ),
    Vector("protocol-relative", "//evil.example/x", expect=lambda base: "http://evil.example/x"),
    Vector("relative", "/posts/relative/", expect=lambda base: base + "/posts/relative/"),
    Vector("safe", "https://safe.example/post/", expect=lambda base: "https://safe.example/post/"),
]

# A dangerous scheme where a URL starts: after a quote, ">", "=" or whitespace.
_DANGER = re.compile(r"""(?:^|[\s"'>=])(?:javascript|vbscript|data|file):""", re.IGNORECASE)


def _xml_spelled(v: Vector) -> str:
    # Character references keep tabs and newlines in attributes (XML turns literal ones into
    # spaces, which would make "java script:" a harmless relative URL instead of the vector).
    entities = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
    return v.spelling or xml_escape(v.value, entities)


def _html_attr(v: Vector) -> str:
    return v.spelling or html.escape(v.value, quote=True)


def _content(v: Vector) -> str:
    a = _html_attr(v)
    return (
        f"<p>Body of item {v.id}, long enough to stand as an excerpt of its own here.</p>"
        f'<p><a href="{a}">link</a> <img src="{a}" alt="pic"></p>'
        f'<blockquote cite="{a}"><p>quoted</p></blockquote>'
        f'<p><q cite="{a}">q</q> <del cite="{a}">d</del> <ins cite="{a}">i</ins></p>'
    )


def _rss(vectors: list[Vector]) -> bytes:
    items = "".join(
        f'<item><title>Item {v.id}</title><guid isPermaLink="false">{v.id}</guid>'
        f"<link>{_xml_spelled(v)}</link>"
        f'<enclosure url="{_xml_spelled(v)}" type="audio/mpeg" length="1"/>'
        f"<content:encoded><![CDATA[{_content(v)}]]></content:encoded></item>"
        for v in vectors
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Vectors</title><link>javascript:alert(1)</link>"
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def _atom(vectors: list[Vector]) -> bytes:
    entries = "".join(
        f"<entry><title>Item {v.id}</title><id>urn:vector:{v.id}</id>"
        "<updated>2026-10-30T08:00:00Z</updated>"
        f'<link rel="alternate" type="text/html" href="{_xml_spelled(v)}"/>'
        f'<link rel="enclosure" type="audio/mpeg" length="1" href="{_xml_spelled(v)}"/>'
        f'<content type="html">{xml_escape(_content(v))}</content></entry>'
        for v in vectors
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title>Vectors</title><link rel="alternate" href="javascript:alert(1)"/>'
        f"<id>urn:vectors</id><updated>2026-10-30T08:00:00Z</updated>{entries}</feed>"
    ).encode()


def _json(vectors: list[Vector]) -> bytes:
    items = [
        {
            "id": v.id,
            "title": f"Item {v.id}",
            "url": v.value,
            "attachments": [{"url": v.value, "mime_type": "audio/mpeg", "size_in_bytes": 1}],
            "content_html": _content(v),
        }
        for v in vectors
    ]
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Vectors",
        "home_page_url": "javascript:alert(1)",
        "items": items,
    }
    return json.dumps(doc).encode()


_DOCS = {
    "rss": (_rss, "application/rss+xml"),
    "atom": (_atom, "application/atom+xml"),
    "json": (_json, "application/feed+json"),
}


@dataclass
class Ingested:
    fmt: str
    base: str
    feed_url: str
    store: SqlStore
    entries: dict[str, StoredEntry]
    outputs: dict[str, str]
    """Output path -> body, for the output feeds and the pages that show these posts."""


def _ingest(fmt: str, db: Path) -> Ingested:
    vectors = [v for v in VECTORS if fmt in v.formats]
    build, media_type = _DOCS[fmt]
    store = open_store(f"sqlite:///{db}")

    async def main() -> tuple[str, str]:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            server.static("/feed", build(vectors), media_type)
            source = store.add_source(SourceSpec(feed_url=server.url("/feed"), category="Net"))
            report = await UpdatePipeline(store, fetcher).update_source(source)
            assert report.outcome == "updated", report
            return server.base, server.url("/feed")

    base, feed_url = asyncio.run(main())
    entries = {e.title.removeprefix("Item "): e for e in store.list_entries(limit=500)}
    planet = make_planet(store)
    slug = store.list_sources()[0].slug
    paths = [
        "/feed.xml",
        "/atom.xml",
        "/feed.json",
        f"/source/{slug}/feed.xml",
        f"/source/{slug}/atom.xml",
        f"/source/{slug}/feed.json",
        "/sources/",
        f"/source/{slug}/",
        *(f"/post/{e.id}/" for e in entries.values()),
    ]
    outputs = {}
    for path in paths:
        reply = planet.client.get(path)
        assert reply.status == 200, path
        outputs[path] = reply.text
    return Ingested(fmt, base, feed_url, store, entries, outputs)


@pytest.fixture(scope="module")
def planets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Ingested]]:
    """One ingested planet per format, made on first use and shared by the module's tests."""
    made: dict[str, Ingested] = {}

    class Lazy(dict[str, Ingested]):
        def __missing__(self, fmt: str) -> Ingested:
            made[fmt] = self[fmt] = _ingest(fmt, tmp_path_factory.mktemp(fmt) / "planet.db")
            return made[fmt]

    yield Lazy()
    for result in made.values():
        result.store.close()


# every vector in every format that can carry it (XML cannot carry most control characters)
CASES = [
    pytest.param(fmt, v, id=f"{fmt}-{v.id}") for fmt in FORMATS for v in VECTORS if fmt in v.formats
]


# --------------------------------------------------------------------------- what is stored


@pytest.mark.parametrize(("fmt", "vector"), CASES)
def test_post_is_kept_with_only_an_http_link(
    planets: dict[str, Ingested], fmt: str, vector: Vector
) -> None:
    ingested = planets[fmt]
    entry = ingested.entries[vector.id]
    if vector.expect is None:
        # an unsafe link counts as no link: the post falls back to its source, like linkless ones
        assert entry.url == ingested.feed_url
        assert entry.enclosure is None
    else:
        assert entry.url == vector.expect(ingested.base)
        enclosure = (vector.expect_enclosure or vector.expect)(ingested.base)
        assert entry.enclosure is not None and entry.enclosure.url == enclosure


@pytest.mark.parametrize(("fmt", "vector"), CASES)
def test_stored_html_keeps_only_http_urls(
    planets: dict[str, Ingested], fmt: str, vector: Vector
) -> None:
    entry = planets[fmt].entries[vector.id]
    for fragment in (entry.content_html, entry.excerpt_html):
        for where, url in _html_urls(fragment):
            assert _is_http(url), f"{where}={url!r} stored for {vector.id}"
    content_urls = [url for _, url in _html_urls(entry.content_html)]
    if vector.expect is not None:  # resolvable: href, src and the four cites all survive
        assert len(content_urls) == 6, content_urls


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_sources_site_link_from_the_feed_is_dropped(
    planets: dict[str, Ingested], fmt: str
) -> None:
    assert planets[fmt].store.list_sources()[0].site_url == ""


# --------------------------------------------------------------------------- what is published


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_output_carries_a_non_http_url(planets: dict[str, Ingested], fmt: str) -> None:
    for path, body in planets[fmt].outputs.items():
        urls = list(_output_urls(path, body))
        assert urls, path
        for where, url in urls:
            assert _is_http(url) or _is_internal(path, url), f"{path}: {where}={url!r}"
        # belt and braces: no dangerous scheme anywhere, however many times it is unescaped
        text = html.unescape(html.unescape(body))
        assert not _DANGER.search(re.sub(r"[\t\n\r]", "", text)), path


@pytest.mark.parametrize(("fmt", "vector"), CASES)
def test_output_feeds_link_each_post_safely(
    planets: dict[str, Ingested], fmt: str, vector: Vector
) -> None:
    ingested = planets[fmt]
    stored = ingested.entries[vector.id]
    link = stored.url
    title = f"Item {vector.id}"
    rss = _xml(ingested.outputs["/feed.xml"])
    item = rss.xpath("//item[title=$t]", t=title)[0]
    assert item.findtext("link") == link
    assert f'href="{html.escape(link)}"' in item.findtext("description")
    atom = _xml(ingested.outputs["/atom.xml"])
    entry = atom.xpath("//a:entry[a:title=$t]", t=title, namespaces={"a": _ATOM})[0]
    assert entry.xpath("a:link[@rel='alternate']/@href", namespaces={"a": _ATOM}) == [link]
    feed = json.loads(ingested.outputs["/feed.json"])
    item_json = next(i for i in feed["items"] if i["title"] == title)
    assert item_json["url"] == link
    enclosures = (
        item.xpath("enclosure/@url"),
        entry.xpath("a:link[@rel='enclosure']/@href", namespaces={"a": _ATOM}),
        [a["url"] for a in item_json.get("attachments", [])],
    )
    expected = [stored.enclosure.url] if stored.enclosure is not None else []
    assert (vector.expect is None) == (expected == [])
    assert all(list(found) == expected for found in enclosures), enclosures


# --------------------------------------------------------------------------- helpers

_ATOM = "http://www.w3.org/2005/Atom"
_URL_ATTRS = frozenset(
    {"href", "src", "cite", "action", "formaction", "poster", "background", "longdesc",
     "usemap", "srcset", "data", "ping", "xmlns", "url", "uri", "icon", "manifest"}
)  # fmt: skip
_HTML_BODIES = frozenset({"description", "summary", "content", "encoded", "content_html"})
_JSON_URLS = frozenset(
    {"url", "home_page_url", "feed_url", "external_url", "icon", "favicon", "avatar", "image",
     "banner_image"}
)  # fmt: skip


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and url == url.strip()


def _is_internal(path: str, url: str) -> bool:
    """A page's own links to the planet: root-relative paths, fragments and queries."""
    is_page = not path.endswith((".xml", ".json"))
    return is_page and (url.startswith(("#", "?")) or (url[:1] == "/" and url[:2] != "//"))


def _xml(body: str) -> etree._Element:
    return etree.fromstring(body.encode())


def _html_urls(fragment: str) -> Iterator[tuple[str, str]]:
    if not fragment.strip():
        return
    for el in lxml.html.fragments_fromstring(f"<div>{fragment}</div>")[0].iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if name.lower() in _URL_ATTRS:
                yield f"<{el.tag} {name}>", value


def _output_urls(path: str, body: str) -> Iterator[tuple[str, str]]:
    if path.endswith(".json"):
        yield from _json_urls(json.loads(body), "")
    elif path.endswith(".xml"):
        root = _xml(body)
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            for name, value in el.attrib.items():
                if etree.QName(name).localname in _URL_ATTRS:
                    yield f"<{local} {name}>", value
            if local in ("link", "comments") and el.text and el.text.strip():
                yield f"<{local}>", el.text
            if local == "guid" and el.get("isPermaLink", "true") != "false":
                yield "<guid>", el.text or ""
            if local in _HTML_BODIES and el.text:
                yield from _html_urls(el.text)
    else:
        yield from _html_urls(body)


def _json_urls(node: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _json_urls(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _json_urls(v, key)
    elif isinstance(node, str):
        if key in _JSON_URLS:
            yield key, node
        elif key == "content_html":
            yield from _html_urls(node)


# --------------------------------------------------------------------------- stored before the fix


def test_posts_stored_before_the_fix_are_enriched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are skipped while their raw hash is stored; the enrich change must bump the hash
    version, so a post stored with a javascript: link is rewritten at the next changed poll."""
    from netplanet.update import digest

    store = open_store(f"sqlite:///{tmp_path / 'planet.db'}")
    one, two = VECTORS[0], VECTORS[-1]

    async def main() -> None:
        async with feed_server() as server, Fetcher(fetch_settings()) as fetcher:
            source = store.add_source(SourceSpec(feed_url=server.url("/feed")))
            pipeline = UpdatePipeline(store, fetcher)
            with monkeypatch.context() as m:
                m.setattr(digest, "RAW_HASH_VERSION", "r2")  # the version before this fix
                server.static("/feed", _rss([one]))
                await pipeline.update_source(source)
            with store.engine.begin() as conn:  # what the enrich of that version stored
                conn.exec_driver_sql(
                    "UPDATE entries SET url = 'javascript:alert(1)', fingerprint = 'v1:old'"
                )
            server.static("/feed", _rss([one, two]))
            source = store.get_source(source.id)
            assert source is not None
            await pipeline.update_source(source)

    try:
        asyncio.run(main())
        urls = {e.title: e.url for e in store.list_entries()}
        assert urls[f"Item {one.id}"].startswith("http://127.0.0.1:")
    finally:
        store.close()


def test_rows_stored_before_the_fix_are_not_republished_unsafely(tmp_path: Path) -> None:
    """Rows written by an older enrich (any scheme in links, enclosures and cite, markup in
    names) are checked again on the way out, on every page and in every output feed."""
    store = open_store(f"sqlite:///{tmp_path / 'planet.db'}")
    try:
        source = store.add_source(spec(1, title="<b>Old</b> Blog", category="<i>Net</i>"))
        old = make_entry(
            source.id,
            1,
            url=" JaVaScRiPt:alert(1)",
            title="&lt;b&gt;Old&lt;/b&gt; <script>alert(1)</script>post",
            author="<img src=x onerror=alert(1)>",
            enclosure=Enclosure("data:audio/mpeg;base64,AAAA", "audio/mpeg", 4),
            excerpt_html='<blockquote cite="javascript:alert(1)"><p>quoted</p></blockquote>',
            tags=("<b>tag</b>",),
        )
        planet = make_planet(store)
        planet.add(source.id, old)
        entry_id = store.list_entries()[0].id
        slug = store.list_sources()[0].slug
        category = store.list_categories()[0].slug
        paths = [
            "/",
            "/sources/",
            f"/post/{entry_id}/",
            f"/source/{slug}/",
            f"/category/{category}/",
            *(f"{prefix}/{name}"
              for prefix in ("", f"/source/{slug}", f"/category/{category}")
              for name in ("feed.xml", "atom.xml", "feed.json")),
        ]  # fmt: skip
        for path in paths:
            reply = planet.client.get(path)
            assert reply.status == 200, path
            body = reply.text
            for where, url in _output_urls(path, body):
                assert _is_http(url) or _is_internal(path, url), f"{path}: {where}={url!r}"
            assert not _DANGER.search(html.unescape(html.unescape(body))), path
            if path.endswith((".xml", ".json")):
                # names are plain text: no tag, escaped once, in any field of a feed
                assert not re.search(r"<(?:b|i|img|script)\b", _feed_text(path, body)), path
    finally:
        store.close()


def _feed_text(path: str, body: str) -> str:
    """Every text field of an output feed except the HTML bodies, as a reader decodes them."""
    if path.endswith(".json"):
        doc = json.loads(body)
        items = doc.get("items", [])
        fields = [doc.get("title", ""), doc.get("description", "")]
        for item in items:
            fields += [item.get("title", ""), *item.get("tags", [])]
            fields += [a.get("name", "") for a in item.get("authors", [])]
        return "\n".join(fields)
    root = _xml(body)
    texts = [
        el.text or ""
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname not in _HTML_BODIES
    ]
    texts += [el.get("term", "") for el in root.iter() if isinstance(el.tag, str)]
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("site_url", "stored"),
    [
        ("javascript:alert(1)", ""),
        (" JaVaScRiPt:alert(1)", ""),
        ("data:text/html,x", ""),
        ("https:no-host", ""),
        (" https://blog.example/ ", "https://blog.example/"),
    ],
)
def test_a_source_is_stored_with_an_http_site_link_only(
    tmp_path: Path, site_url: str, stored: str
) -> None:
    """Every way in (CLI and admin discovery take the feed's own <link>, OPML, the demo) meets
    the store, which keeps the site link only when it is http(s)."""
    store = open_store(f"sqlite:///{tmp_path / 'planet.db'}")
    try:
        store.add_source(spec(1, site_url=site_url))
        assert store.list_sources()[0].site_url == stored
    finally:
        store.close()
