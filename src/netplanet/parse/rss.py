"""RSS 0.9x, RSS 1.0 (RDF) and RSS 2.0 on an lxml tree -> ParsedFeed.

Each item's children are visited once; a dict from Clark-notation tag to field name decides what
a child is (no XPath, no per-field search). The same tables serve every RSS dialect because the
plain RSS names are registered under each namespace RSS has been published in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from netplanet.model import ParsedEntry, ParsedFeed
from netplanet.parse.common import (
    XML_BASE,
    absolutize,
    collapse,
    date_field,
    drop_duplicate_guids,
    element_text,
    is_absolute,
    join_base,
    markup,
    media_description,
    new_enclosure,
    new_entry,
    parse_duration,
    to_int,
    unique,
)
from netplanet.untrusted import plain_text

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS10 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_RSS_NAMESPACES = ("", RSS10, RSS090, "http://backend.userland.com/rss2",
                   "http://blogs.law.harvard.edu/tech/rss")  # fmt: skip
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
_FEEDBURNER = "{http://rssnamespace.org/feedburner/ext/1.0}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_RDF_ABOUT = f"{{{RDF}}}about"

ROOT_TAGS = ("rss", f"{{{RDF}}}RDF")


def _plain(names: dict[str, str]) -> dict[str, str]:
    """Register un-namespaced RSS names under every namespace RSS dialects use."""
    table: dict[str, str] = {}
    for ns in _RSS_NAMESPACES:
        for name, field in names.items():
            table[f"{{{ns}}}{name}" if ns else name] = field
    return table


_ITEM = _plain(
    {"title": "title", "link": "link", "description": "description", "guid": "guid",
     "pubDate": "published", "author": "author", "category": "category",
     "enclosure": "enclosure"}
) | {
    f"{_CONTENT}encoded": "content", f"{_DC}date": "dc_date", f"{_DC}creator": "creator",
    f"{_DC}subject": "category", f"{_DCTERMS}modified": "updated", f"{_ATOM}updated": "updated",
    f"{_ITUNES}author": "itunes_author", f"{_ITUNES}duration": "duration",
    f"{_ITUNES}summary": "itunes_summary", f"{_FEEDBURNER}origLink": "origlink",
    f"{_ATOM}link": "atom_link",
}  # fmt: skip
_REPEATABLE = frozenset(("category", "enclosure", "atom_link"))
_CHANNEL = _plain(
    {"title": "title", "link": "link", "description": "description", "language": "language",
     "ttl": "ttl", "item": "item", "channel": "channel", "lastBuildDate": "last_build",
     "pubDate": "pub_date"}
) | {
    f"{_DC}language": "language", f"{_SY}updatePeriod": "update_period",
    f"{_SY}updateFrequency": "update_frequency", f"{_DC}date": "dc_date",
}  # fmt: skip
# The channel's own date, in order of preference (update/dating.py dates undated items by it).
_CHANNEL_DATES = ("last_build", "pub_date", "dc_date")
# In order of preference; a "name@host (Real Name)" RSS author is reduced to the name.
_AUTHOR_FIELDS = ("creator", "itunes_author", "author")
_NAMED_EMAIL = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")


def parse(
    root: etree._Element, url: str, warnings: list[str], lifted: Sequence[str] = ()
) -> ParsedFeed:
    """Parse an <rss> or <rdf:RDF> root element (`lifted`: see xml.XmlDocument)."""
    base = join_base(url, root.get(XML_BASE))
    channel: dict[str, etree._Element] = {}
    items: list[etree._Element] = []
    channel_el: etree._Element | None = None
    # RSS 2.0 nests items in <channel>; RSS 1.0 puts them beside it; broken feeds do either.
    for child in root:
        field = _CHANNEL.get(child.tag)
        if field == "channel" and channel_el is None:
            channel_el = child
        elif field == "item":
            items.append(child)
    if channel_el is not None:
        base = join_base(base, channel_el.get(XML_BASE))
        for child in channel_el:
            field = _CHANNEL.get(child.tag)
            if field == "item":
                items.append(child)
            elif field is not None and field not in channel:
                channel[field] = child

    get = channel.get
    site = absolutize(element_text(get("link"), lifted).strip(), base) or ""
    entry_base = base if is_absolute(base) or not is_absolute(site) else site
    entries = [_item(item, entry_base, warnings, lifted) for item in items]
    description = get("description")
    return ParsedFeed(
        format=_format(root, channel_el, items),
        title=plain_text(element_text(get("title"), lifted)),
        link=site,
        description="" if description is None else markup(description, lifted),
        language=collapse(element_text(get("language"), lifted)),
        entries=drop_duplicate_guids(entries, warnings),
        ttl_minutes=to_int(element_text(get("ttl"), lifted)),
        update_period=collapse(element_text(get("update_period"), lifted)).lower(),
        update_frequency=to_int(element_text(get("update_frequency"), lifted)),
        warnings=(),
        parser="lxml",
        updated=_channel_date(channel, warnings, lifted),
    )


def _channel_date(
    channel: dict[str, etree._Element], warnings: list[str], lifted: Sequence[str]
) -> datetime | None:
    for field in _CHANNEL_DATES:
        el = channel.get(field)
        if el is not None:
            when = date_field(element_text(el, lifted), warnings)
            if when is not None:
                return when
    return None


def _format(
    root: etree._Element, channel: etree._Element | None, items: list[etree._Element]
) -> str:
    if root.tag == "rss":
        version = (root.get("version") or "").strip()
        return "rss09" if version.startswith("0.9") else "rss20"
    first = channel if channel is not None else (items[0] if items else None)
    if first is not None and isinstance(first.tag, str) and first.tag.startswith(f"{{{RSS090}}}"):
        return "rss09"
    return "rss10"


def _all(
    one: dict[str, etree._Element], repeated: list[tuple[str, etree._Element]], field: str
) -> tuple[etree._Element, ...]:
    """Every child of a repeatable field present in `one`, in document order."""
    first = one[field]
    if not repeated:
        return (first,)
    return (first, *[child for name, child in repeated if name == field])


def _item(
    item: etree._Element, base: str, warnings: list[str], lifted: Sequence[str]
) -> ParsedEntry:
    xml_base = item.get(XML_BASE)
    if xml_base:
        base = join_base(base, xml_base)
    # The first child of each field goes to `one`, later ones of a repeatable field to
    # `repeated`: no per-item lists for fields most items do not have.
    one: dict[str, etree._Element] = {}
    repeated: list[tuple[str, etree._Element]] = []
    field_of = _ITEM.get
    for child in item:
        field = field_of(child.tag)
        if field is None:
            continue
        if field not in one:
            one[field] = child
        elif field in _REPEATABLE:
            repeated.append((field, child))
    get = one.get
    categories = _all(one, repeated, "category") if "category" in one else ()
    enclosure_els = _all(one, repeated, "enclosure") if "enclosure" in one else ()
    atom_links = _all(one, repeated, "atom_link") if "atom_link" in one else ()

    guid_el = get("guid")
    guid = element_text(guid_el, lifted).strip() if guid_el is not None else ""
    if not guid:
        guid = item.get(_RDF_ABOUT, "").strip()
    el = get("origlink")
    link = element_text(el, lifted).strip() if el is not None else ""
    if not link and (el := get("link")) is not None:
        link = element_text(el, lifted).strip()
    if not link:
        for atom_link in atom_links:
            if atom_link.get("rel", "alternate") == "alternate" and atom_link.get("href"):
                link = atom_link.get("href", "")
                break
    # RSS 2.0: a guid is a permalink unless isPermaLink="false"
    if (
        not link
        and guid
        and guid_el is not None
        and guid_el.get("isPermaLink", "true").strip().lower() != "false"
        and (is_absolute(guid) or guid.startswith("/"))
    ):
        link = guid

    el = get("content")
    content = "" if el is None else markup(el, lifted)
    el = get("description")
    description = "" if el is None else markup(el, lifted)
    summary = ""
    if not content:
        content = description
        if not content and (el := get("itunes_summary")) is not None:
            content = markup(el, lifted)
    elif description and description != content:
        summary = description

    author = ""
    for name in _AUTHOR_FIELDS:
        el = get(name)
        if el is not None:
            author = collapse(element_text(el, lifted))
            if author:
                if name == "author" and "@" in author and (named := _NAMED_EMAIL.match(author)):
                    author = named.group(1).strip()
                break

    el = get("published")
    published = None if el is None else date_field(element_text(el, lifted), warnings)
    if published is None and (el := get("dc_date")) is not None:
        published = date_field(element_text(el, lifted), warnings)
    el = get("updated")
    updated = None if el is None else date_field(element_text(el, lifted), warnings)

    enclosures = []
    for enc in enclosure_els:
        enc_url = absolutize(enc.get("url"), base)
        if enc_url:
            enclosures.append(
                new_enclosure(enc_url, (enc.get("type") or "").strip(), to_int(enc.get("length")))
            )
    el = get("title")
    title = "" if el is None else plain_text(element_text(el, lifted))
    if not categories:
        names: tuple[str, ...] = ()
    elif len(categories) == 1:
        name = collapse(element_text(categories[0], lifted))
        names = (name,) if name else ()
    else:
        names = unique([collapse(element_text(c, lifted)) for c in categories])
    el = get("duration")
    duration = None if el is None else parse_duration(element_text(el, lifted))
    # Only an entry without text of its own needs it: the child scan is skipped otherwise.
    media = "" if content else media_description(item, lifted)
    return new_entry(
        guid=guid or None,
        link=absolutize(link, base) if link else None,
        title=title,
        content_html=content,
        summary_html=summary,
        author=author,
        published=published or updated,
        updated=updated,
        categories=names,
        enclosures=tuple(enclosures),
        duration_s=duration,
        media_html=media,
    )
