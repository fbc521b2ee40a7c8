"""The planet's own output feeds: RSS 2.0, Atom 1.0, JSON Feed 1.1 and the OPML source list.

Pure functions: a `FeedChannel` (what the feed is) plus stored entries in, bytes out. No clock:
`channel.updated` says when the feed last changed.

Choices shared by the three formats, so that a reader that switches format keeps its read state:

* Every item links to the original post (`entry.url`); the planet is a river, not a mirror.
  Only http(s) URLs are republished (`posts.safe_url`, checked again here for rows stored
  before enrich checked them): a post without a usable link links to its page on the planet,
  as the site does, and an enclosure without one is left out.
* The body is the already-sanitized excerpt, followed by a "Continue reading" link to the original.
* Items carry the source's planet category, the post's topics (primary first, by name), the
  feed's own tags, then "Podcast" and "Sponsored" labels, as RSS <category>, Atom category
  terms and JSON Feed tags; the JSON Feed also states them as data in a `_netplanet` extension
  (`topics`: slugs, `podcast`, `sponsored`).
* Names (titles, descriptions, authors, categories) are plain text: escaped once by the format,
  and with nothing a reader that takes an RSS <title> for HTML could read as a tag.
* The item id is a tag: URI (RFC 4151) built from the planet's id authority (`host,date`), the
  source slug and a hash of the entry's identity key: `tag:planet.example,2024:entry/ipspace/3f2a…`.
  It is unique per (source, key) as the store is, survives a database rebuild (the key derives
  from the feed's own guid or URL) and is not mistaken for a link (the original URL alone is not
  unique: entries without a link of their own fall back to the site URL). The authority is given
  by the caller (`FeedChannel.id_authority`), who keeps it fixed once chosen: ids must not change
  when the planet moves to another host name. `entry_id` is public so that pages can use the
  same id. The Atom feed's own id is a tag: URI under the same authority.
* Characters XML 1.0 cannot carry (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF) are
  dropped from every string, in the JSON feed too, so the formats agree.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any, Final
from urllib.parse import urlsplit

from lxml import etree

from netplanet import __version__
from netplanet.model import Enclosure, Source, SourceSpec, StoredEntry
from netplanet.publish.posts import safe_url, stored_html
from netplanet.publish.topics import DEFAULT_TOPICS
from netplanet.sources.opml import to_opml
from netplanet.untrusted import http_url, strip_markup

__all__ = [
    "FeedChannel",
    "entry_id",
    "feed_id",
    "render_atom",
    "render_json_feed",
    "render_opml",
    "render_rss",
    "tag_authority",
]

ATOM_NS: Final = "http://www.w3.org/2005/Atom"
DC_NS: Final = "http://purl.org/dc/elements/1.1/"
ITUNES_NS: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
JSON_FEED_VERSION: Final = "https://jsonfeed.org/version/1.1"
GENERATOR: Final = "netplanet"
TAG_DATE: Final = "2024"  # part of every id: never change it, or every reader sees all posts anew

_XML_INVALID: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_A: Final = f"{{{ATOM_NS}}}"


@dataclass(frozen=True, slots=True)
class FeedChannel:
    """What one output feed is: the river, a category or a source."""

    title: str
    site_url: str
    """Absolute URL of the page this feed mirrors (e.g. https://planet.example/category/bgp/)."""
    feed_url: str
    """Absolute URL of the feed itself (rel=self)."""
    description: str = ""
    updated: datetime | None = None
    """When the feed last changed: usually the newest entry's date. None means the epoch."""
    language: str = "en"
    id_authority: str = ""
    """The tag: URI authority of every id (`planet.example,2024`); empty: from `site_url`."""
    topic_names: Mapping[str, str] | None = None
    """Topic slug -> display name (the site's taxonomy); None: the default topics."""

    @property
    def authority(self) -> str:
        return self.id_authority or tag_authority(self.site_url)


# --------------------------------------------------------------------------- shared helpers


def _clean(text: str | None) -> str:
    return _XML_INVALID.sub("", text) if text else ""


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _rfc3339(when: datetime) -> str:
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rfc822(when: datetime) -> str:
    return format_datetime(_utc(when), usegmt=True)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _channel_updated(channel: FeedChannel, entries: Sequence[StoredEntry]) -> datetime:
    if channel.updated is not None:
        return channel.updated
    return max((_entry_updated(e) for e in entries), default=_EPOCH)


def _entry_updated(entry: StoredEntry) -> datetime:
    return entry.updated if entry.updated and entry.updated > entry.published else entry.published


def tag_authority(site_url: str) -> str:
    """The tag: URI authority for a planet at `site_url`: its host and TAG_DATE."""
    host = (urlsplit(site_url).hostname or "netplanet.invalid").lower()
    return f"{host},{TAG_DATE}"


def entry_id(entry: StoredEntry, authority: str) -> str:
    """The stable tag: URI that identifies `entry` in every output feed of the planet."""
    digest = hashlib.sha256(f"{entry.source_id}\0{entry.key}".encode()).hexdigest()[:20]
    slug = re.sub(r"[^a-z0-9-]", "-", entry.source_slug.lower()) or "source"
    return f"tag:{authority}:entry/{slug}/{digest}"


def feed_id(channel: FeedChannel) -> str:
    """The Atom feed's own id: a tag: URI named by the feed's path, stable across host names."""
    return f"tag:{channel.authority}:feed{urlsplit(channel.feed_url).path or '/'}"


def _title(entry: StoredEntry) -> str:
    return strip_markup(entry.title) or "(untitled)"


def _author(entry: StoredEntry) -> str:
    return strip_markup(entry.author) or strip_markup(entry.source_title) or "unknown"


def _link(entry: StoredEntry, channel: FeedChannel) -> str:
    """The original post; without a usable link of its own, the post's page on the planet."""
    return safe_url(entry.url) or http_url(f"/post/{entry.id}/", channel.site_url)


def _enclosure(entry: StoredEntry) -> Enclosure | None:
    """The enclosure, when its URL is http(s)."""
    enclosure = entry.enclosure
    url = safe_url(enclosure.url) if enclosure is not None else ""
    if enclosure is None or not url:
        return None
    return enclosure if url == enclosure.url else Enclosure(url, enclosure.type, enclosure.length)


def _body_html(entry: StoredEntry, link: str) -> str:
    """The excerpt plus a link to the original (the excerpt is sanitized HTML already)."""
    excerpt = _clean(stored_html(entry.excerpt_html))
    if not link:
        return excerpt
    where = strip_markup(entry.source_title)
    label = f"Continue reading on {escape(where)} »" if where else "Continue reading »"
    return f'{excerpt}\n<p><a href="{escape(link, quote=True)}">{label}</a></p>'


_DEFAULT_NAMES: Final = {t.slug: t.name for t in DEFAULT_TOPICS}


def _topic_names(entry: StoredEntry, channel: FeedChannel) -> list[str]:
    """The entry's topics by name, primary first; a slug the planet does not know is left out."""
    names = _DEFAULT_NAMES if channel.topic_names is None else channel.topic_names
    return [names[slug] for slug in entry.topic_slugs if slug in names]


def _terms(entry: StoredEntry, channel: FeedChannel) -> list[str]:
    """Planet categories, topics, the feed's own tags, then "Podcast" and "Sponsored" when
    flagged; deduped."""
    seen: dict[str, str] = {}
    extra = (*(("Podcast",) if entry.podcast else ()), *(("Sponsored",) if entry.sponsored else ()))
    topics = _topic_names(entry, channel)
    for term in (*entry.categories, *topics, *entry.tags, *extra):
        term = strip_markup(term)
        if term and term.casefold() not in seen:
            seen[term.casefold()] = term
    return list(seen.values())


def _mime(enclosure: Enclosure) -> str:
    if enclosure.type:
        return enclosure.type
    guessed, _ = mimetypes.guess_type(urlsplit(enclosure.url).path)
    return guessed or "application/octet-stream"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _clean(text)
    return el


def _serialize(root: etree._Element) -> bytes:
    # lxml's own declaration uses single quotes; write the conventional one.
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# --------------------------------------------------------------------------- RSS 2.0


def render_rss(channel: FeedChannel, entries: Sequence[StoredEntry]) -> bytes:
    """RSS 2.0 with atom:link rel=self, dc:creator for authors and itunes:duration for podcasts.

    RSS's own <author> must be an e-mail address, which feeds rarely give; dc:creator is what
    readers show instead. The guid is the tag: URI, hence isPermaLink="false".
    """
    nsmap = {"atom": ATOM_NS, "dc": DC_NS, "itunes": ITUNES_NS}
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=nsmap)
    ch = _sub(rss, "channel")
    title = strip_markup(channel.title)
    _sub(ch, "title", title)
    _sub(ch, "link", channel.site_url)
    _sub(ch, "description", strip_markup(channel.description) or title)
    _sub(ch, f"{_A}link", href=channel.feed_url, rel="self", type="application/rss+xml")
    if channel.language:
        _sub(ch, "language", channel.language)
    _sub(ch, "lastBuildDate", _rfc822(_channel_updated(channel, entries)))
    _sub(ch, "generator", f"{GENERATOR} {__version__}")
    _sub(ch, "docs", "https://www.rssboard.org/rss-specification")
    for entry in entries:
        item = _sub(ch, "item")
        link = _link(entry, channel)
        _sub(item, "title", _title(entry))
        if link:
            _sub(item, "link", link)
        _sub(item, "guid", entry_id(entry, channel.authority), isPermaLink="false")
        if entry.date_known:  # optional in RSS: no date is better than a made-up one
            _sub(item, "pubDate", _rfc822(entry.published))
        _sub(item, f"{{{DC_NS}}}creator", _author(entry))
        for term in _terms(entry, channel):
            _sub(item, "category", term)
        _sub(item, "description", _body_html(entry, link))
        enclosure = _enclosure(entry)
        if enclosure is not None:
            # RSS requires length; 0 is the conventional "unknown".
            _sub(
                item,
                "enclosure",
                url=enclosure.url,
                length=str(enclosure.length or 0),
                type=_mime(enclosure),
            )
        if entry.duration_s:
            _sub(item, f"{{{ITUNES_NS}}}duration", str(entry.duration_s))
    return _serialize(rss)


# --------------------------------------------------------------------------- Atom 1.0


def render_atom(channel: FeedChannel, entries: Sequence[StoredEntry]) -> bytes:
    """Atom 1.0 (RFC 4287). Every entry has an author (the source's title when the post names
    nobody), so the feed needs no feed-level author."""
    # lxml-stubs reject a None key (the default namespace) that lxml accepts.
    feed = etree.Element(f"{_A}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    if channel.language:
        feed.set("{http://www.w3.org/XML/1998/namespace}lang", _clean(channel.language))
    _sub(feed, f"{_A}id", feed_id(channel))
    _sub(feed, f"{_A}title", strip_markup(channel.title), type="text")
    if description := strip_markup(channel.description):
        _sub(feed, f"{_A}subtitle", description, type="text")
    _sub(feed, f"{_A}updated", _rfc3339(_channel_updated(channel, entries)))
    _sub(feed, f"{_A}link", rel="self", type="application/atom+xml", href=channel.feed_url)
    _sub(feed, f"{_A}link", rel="alternate", type="text/html", href=channel.site_url)
    _sub(feed, f"{_A}generator", GENERATOR, version=__version__)
    for entry in entries:
        el = _sub(feed, f"{_A}entry")
        link = _link(entry, channel)
        _sub(el, f"{_A}id", entry_id(entry, channel.authority))
        _sub(el, f"{_A}title", _title(entry), type="text")
        # <updated> is required: a post of unknown date gives the date it is filed under.
        _sub(el, f"{_A}updated", _rfc3339(_entry_updated(entry)))
        if entry.date_known:
            _sub(el, f"{_A}published", _rfc3339(entry.published))
        if link:
            _sub(el, f"{_A}link", rel="alternate", type="text/html", href=link)
        author = _sub(el, f"{_A}author")
        _sub(author, f"{_A}name", _author(entry))
        for term in _terms(entry, channel):
            _sub(el, f"{_A}category", term=term)
        enclosure = _enclosure(entry)
        if enclosure is not None:
            attrs = {"rel": "enclosure", "href": enclosure.url}
            attrs["type"] = _mime(enclosure)
            if enclosure.length:
                attrs["length"] = str(enclosure.length)
            _sub(el, f"{_A}link", **attrs)
        _sub(el, f"{_A}summary", _body_html(entry, link), type="html")
    return _serialize(feed)


# --------------------------------------------------------------------------- JSON Feed 1.1


def render_json_feed(channel: FeedChannel, entries: Sequence[StoredEntry]) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), UTF-8, without ASCII escaping."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": strip_markup(channel.title),
        "home_page_url": _clean(channel.site_url),
        "feed_url": _clean(channel.feed_url),
    }
    if description := strip_markup(channel.description):
        feed["description"] = description
    if channel.language:
        feed["language"] = _clean(channel.language)
    feed["items"] = [_json_item(entry, channel) for entry in entries]
    return json.dumps(feed, ensure_ascii=False, indent=1).encode("utf-8")


def _json_item(entry: StoredEntry, channel: FeedChannel) -> dict[str, Any]:
    link = _link(entry, channel)
    item: dict[str, Any] = {"id": entry_id(entry, channel.authority)}
    if link:
        item["url"] = link
    item["title"] = _title(entry)
    item["content_html"] = _body_html(entry, link)
    if entry.date_known:
        item["date_published"] = _rfc3339(entry.published)
    if entry.updated and entry.updated > entry.published:
        item["date_modified"] = _rfc3339(entry.updated)
    item["authors"] = [{"name": _author(entry)}]
    terms = _terms(entry, channel)
    if terms:
        item["tags"] = terms
    # JSON Feed 1.1 extension: the same facts as data, for readers that filter on them.
    item["_netplanet"] = {
        "topics": [slug for slug in entry.topic_slugs],
        "podcast": entry.podcast,
        "sponsored": entry.sponsored,
    }
    enclosure = _enclosure(entry)
    if enclosure is not None:
        attachment: dict[str, Any] = {
            "url": _clean(enclosure.url),
            "mime_type": _mime(enclosure),
        }
        if enclosure.length:
            attachment["size_in_bytes"] = enclosure.length
        if entry.duration_s:
            attachment["duration_in_seconds"] = entry.duration_s
        item["attachments"] = [attachment]
    return item


# --------------------------------------------------------------------------- OPML


def render_opml(sources: Iterable[Source], *, title: str, now: datetime | None = None) -> bytes:
    """The planet's enabled sources as OPML 2.0, one folder per category (see sources.opml)."""
    specs = [
        SourceSpec(feed_url=s.feed_url, title=s.title, site_url=s.site_url, category=s.category)
        for s in sources
        if s.enabled
    ]
    return to_opml(specs, title=title, now=now)
