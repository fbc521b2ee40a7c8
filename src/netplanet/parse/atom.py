"""Atom 1.0 and Atom 0.3 on an lxml tree -> ParsedFeed.

Owns Atom's text constructs (type text/html/xhtml, 0.3's mode escaped/xml/base64), link rel
selection (alternate preferred, rel=enclosure as enclosures) and xml:base inheritance from feed to
entry to link. One pass over each entry's children through a tag -> field table.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from lxml import etree

from netplanet.model import Enclosure, ParsedEntry, ParsedFeed
from netplanet.parse.common import (
    XML_BASE,
    XML_LANG,
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
    text_to_html,
    to_int,
    unique,
)
from netplanet.untrusted import plain_text

ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
# Un-namespaced <feed> (seen from Jekyll templates) is read as Atom 1.0.
ROOT_TAGS = (f"{{{ATOM10}}}feed", f"{{{ATOM03}}}feed", "feed")
_XHTML_DIV = "{http://www.w3.org/1999/xhtml}div"
_ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
_FEEDBURNER = "{http://rssnamespace.org/feedburner/ext/1.0}"
_DC = "{http://purl.org/dc/elements/1.1/}"


def _table(names: dict[str, str]) -> dict[str, str]:
    return {
        f"{{{ns}}}{name}" if ns else name: field
        for ns in (ATOM10, ATOM03, "")
        for name, field in names.items()
    }


_ENTRY = _table(
    {"id": "id", "title": "title", "link": "link", "published": "published", "issued": "published",
     "created": "created", "updated": "updated", "modified": "updated", "content": "content",
     "summary": "summary", "author": "author", "category": "category"}
) | {
    f"{_FEEDBURNER}origLink": "origlink", f"{_ITUNES}duration": "duration",
    f"{_ITUNES}author": "itunes_author", f"{_DC}creator": "creator",
}  # fmt: skip
_FEED = _table(
    {"title": "title", "subtitle": "subtitle", "tagline": "subtitle", "link": "link",
     "author": "author", "entry": "entry", "updated": "updated", "modified": "updated"}
)  # fmt: skip
_NAME = (f"{{{ATOM10}}}name", f"{{{ATOM03}}}name", "name")


def parse(
    root: etree._Element, url: str, warnings: list[str], lifted: Sequence[str] = ()
) -> ParsedFeed:
    """Parse an Atom <feed> root element (`lifted`: see xml.XmlDocument)."""
    atom03 = root.tag == ROOT_TAGS[1]
    base = join_base(url, root.get(XML_BASE))
    one: dict[str, etree._Element] = {}
    links: list[etree._Element] = []
    entries_el: list[etree._Element] = []
    for child in root:
        field = _FEED.get(child.tag)
        if field == "entry":
            entries_el.append(child)
        elif field == "link":
            links.append(child)
        elif field is not None and field not in one:
            one[field] = child
    site, _ = _links(links, base)
    # Without a document URL or xml:base, the feed's own home page is the best base we have.
    entry_base = base if is_absolute(base) or not site or not is_absolute(site) else site
    feed_author = _author(one.get("author"), lifted)
    entries = [_entry(e, entry_base, feed_author, atom03, warnings, lifted) for e in entries_el]
    updated = one.get("updated")
    return ParsedFeed(
        format="atom03" if atom03 else "atom10",
        title=_plain(one.get("title"), atom03, lifted),
        link=site or "",
        description=_html(one.get("subtitle"), atom03, lifted),
        language=collapse(root.get(XML_LANG)),
        entries=drop_duplicate_guids(entries, warnings),
        parser="lxml",
        # The feed's own date: evidence for dating entries without one (update/dating.py).
        updated=None if updated is None else date_field(element_text(updated, lifted), warnings),
    )


def _links(links: list[etree._Element], base: str) -> tuple[str | None, list[Enclosure]]:
    """The alternate link (text/html preferred) and the enclosures among <link> elements."""
    alternate: str | None = None
    alternate_is_html = False
    enclosures: list[Enclosure] = []
    for link in links:
        rel = link.get("rel")
        # Blogger and WordPress give each entry three to five links (replies, edit, self):
        # the rel, read first, skips them without reading their href.
        rel = "alternate" if rel is None else rel.strip()
        if rel != "alternate" and rel != "enclosure":
            continue
        href = link.get("href")
        if not href:
            continue
        if rel == "alternate":
            kind = link.get("type", "text/html")
            is_html = kind in ("text/html", "application/xhtml+xml")
            if alternate is None or (is_html and not alternate_is_html):
                alternate = absolutize(href, join_base(base, link.get(XML_BASE)))
                alternate_is_html = is_html
        elif rel == "enclosure":
            enclosure_url = absolutize(href, join_base(base, link.get(XML_BASE)))
            if enclosure_url:
                enclosures.append(
                    new_enclosure(
                        enclosure_url, link.get("type", "").strip(), to_int(link.get("length"))
                    )
                )
    return alternate, enclosures


def _author(el: etree._Element | None, lifted: Sequence[str]) -> str:
    if el is None:
        return ""
    for child in el:
        if child.tag in _NAME:
            return collapse(element_text(child, lifted))
    return ""


def _kind(el: etree._Element, atom03: bool) -> str:
    """Normalize the text-construct type to "text", "html", "xhtml", "base64" or "other"."""
    kind = el.get("type")
    if not atom03:
        # Most entries say type="html" or nothing: answer those before normalizing.
        if kind is None or kind == "html":
            return "text" if kind is None else "html"
        kind = kind.strip().lower()
    else:
        kind = (kind or "").strip().lower()
        mode = el.get("mode", "xml").strip().lower()
        if mode == "base64":
            return "base64"
        if mode == "escaped":
            return "html" if kind in ("", "text/html", "html") else "text"
        if kind in ("application/xhtml+xml", "xhtml") or len(el):
            return "xhtml"
        return "html" if kind in ("text/html", "html") else "text"
    if kind in ("", "text", "text/plain"):
        return "text"
    if kind in ("html", "text/html"):
        return "html"
    if kind in ("xhtml", "application/xhtml+xml"):
        return "xhtml"
    return "other"


def _html(el: etree._Element | None, atom03: bool, lifted: Sequence[str]) -> str:
    """A text construct as HTML."""
    if el is None:
        return ""
    kind = _kind(el, atom03)
    if kind == "html":
        return markup(el, lifted)
    if kind == "xhtml":
        # The content is wrapped in one xhtml:div that is not part of it (RFC 4287 §3.1.1.3).
        if len(el) == 1 and el[0].tag == _XHTML_DIV and not (el.text or "").strip():
            return markup(el[0], lifted)
        return markup(el, lifted)
    if kind == "text":
        return text_to_html(element_text(el, lifted))
    if kind == "base64":
        try:
            raw = element_text(el, lifted) if len(el) == 0 else (el.text or "")
            return base64.b64decode(raw).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return ""
    return ""  # out-of-line or binary content: nothing to show inline


def _plain(el: etree._Element | None, atom03: bool, lifted: Sequence[str]) -> str:
    """A text construct as plain text."""
    if el is None:
        return ""
    kind = _kind(el, atom03)
    if kind == "text" or kind == "xhtml":
        return collapse(element_text(el, lifted))
    return plain_text(_html(el, atom03, lifted))


def _entry(
    entry: etree._Element,
    base: str,
    feed_author: str,
    atom03: bool,
    warnings: list[str],
    lifted: Sequence[str],
) -> ParsedEntry:
    xml_base = entry.get(XML_BASE)
    if xml_base:
        base = join_base(base, xml_base)
    one: dict[str, etree._Element] = {}
    links: list[etree._Element] = []
    categories: list[etree._Element] = []
    many = {"link": links, "category": categories}
    for child in entry:
        field = _ENTRY.get(child.tag)
        if field is None:
            continue
        if field in many:
            many[field].append(child)
        elif field not in one:
            one[field] = child
    get = one.get

    link, enclosures = _links(links, base) if links else (None, [])
    origlink = get("origlink")
    if origlink is not None:
        text = element_text(origlink, lifted) if len(origlink) == 0 else (origlink.text or "")
        if text.strip():
            link = absolutize(text, base)
    content = _html(get("content"), atom03, lifted)
    summary = _html(get("summary"), atom03, lifted)
    if not content:
        content, summary = summary, ""
    elif summary == content:
        summary = ""

    author = (
        _author(get("author"), lifted)
        or collapse(element_text(get("creator"), lifted))
        or collapse(element_text(get("itunes_author"), lifted))
    )
    el = get("published")
    raw_published = "" if el is None else element_text(el, lifted)
    published = read = date_field(raw_published, warnings) if raw_published else None
    if published is None and (el := get("created")) is not None:
        published = date_field(element_text(el, lifted), warnings)
    el = get("updated")
    updated = None
    if el is not None:
        raw_updated = element_text(el, lifted)
        # Most entries repeat the published date: read it once.
        if read is not None and raw_updated == raw_published:
            updated = read
        else:
            updated = date_field(raw_updated, warnings)
    names = []
    for cat in categories:
        names.append(collapse(cat.get("label") or cat.get("term") or element_text(cat, lifted)))
    guid = collapse(element_text(get("id"), lifted)) or None
    el = get("duration")
    return new_entry(
        guid=guid,
        link=link,
        title=_plain(get("title"), atom03, lifted),
        content_html=content,
        summary_html=summary,
        author=author or feed_author,
        published=published or updated,
        updated=updated,
        categories=unique(names) if names else (),
        enclosures=tuple(enclosures),
        duration_s=None if el is None else parse_duration(element_text(el, lifted)),
        # Only an entry without text of its own needs it: the child scan is skipped otherwise.
        media_html="" if content else media_description(entry, lifted),
    )
