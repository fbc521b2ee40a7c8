"""Atom 1.0 and Atom 0.3 on an lxml tree -> ParsedFeed.

Owns Atom's text constructs (type text/html/xhtml, 0.3's mode escaped/xml/base64), link rel
selection (alternate preferred, rel=enclosure as enclosures) and xml:base inheritance from feed to
entry to link. One pass over each entry's children through a tag -> field table.
"""

from __future__ import annotations

import base64
import binascii

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
    inner_xml,
    is_absolute,
    join_base,
    parse_duration,
    plain_text,
    text_to_html,
    to_int,
    unique,
)

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
_MULTI = frozenset(("link", "category"))
_FEED = _table(
    {"title": "title", "subtitle": "subtitle", "tagline": "subtitle", "link": "link",
     "author": "author", "entry": "entry"}
)  # fmt: skip
_NAME = (f"{{{ATOM10}}}name", f"{{{ATOM03}}}name", "name")


def parse(root: etree._Element, url: str, warnings: list[str]) -> ParsedFeed:
    """Parse an Atom <feed> root element."""
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
    feed_author = _author(one.get("author"))
    entries = [_entry(e, entry_base, feed_author, atom03, warnings) for e in entries_el]
    return ParsedFeed(
        format="atom03" if atom03 else "atom10",
        title=_plain(one.get("title"), atom03),
        link=site or "",
        description=_html(one.get("subtitle"), atom03),
        language=collapse(root.get(XML_LANG)),
        entries=drop_duplicate_guids(entries, warnings),
        parser="lxml",
    )


def _links(links: list[etree._Element], base: str) -> tuple[str | None, list[Enclosure]]:
    """The alternate link (text/html preferred) and the enclosures among <link> elements."""
    alternate: str | None = None
    alternate_is_html = False
    enclosures: list[Enclosure] = []
    for link in links:
        href = link.get("href")
        if not href:
            continue
        rel = link.get("rel", "alternate").strip()
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
                    Enclosure(
                        enclosure_url, link.get("type", "").strip(), to_int(link.get("length"))
                    )
                )
    return alternate, enclosures


def _author(el: etree._Element | None) -> str:
    if el is None:
        return ""
    for child in el:
        if child.tag in _NAME:
            return collapse(element_text(child))
    return ""


def _kind(el: etree._Element, atom03: bool) -> str:
    """Normalize the text-construct type to "text", "html", "xhtml", "base64" or "other"."""
    kind = el.get("type", "").strip().lower()
    if atom03:
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


def _html(el: etree._Element | None, atom03: bool) -> str:
    """A text construct as HTML."""
    if el is None:
        return ""
    kind = _kind(el, atom03)
    if kind == "html":
        return inner_xml(el).strip()
    if kind == "xhtml":
        # The content is wrapped in one xhtml:div that is not part of it (RFC 4287 §3.1.1.3).
        if len(el) == 1 and el[0].tag == _XHTML_DIV and not (el.text or "").strip():
            return inner_xml(el[0]).strip()
        return inner_xml(el).strip()
    if kind == "text":
        return text_to_html(element_text(el))
    if kind == "base64":
        try:
            return base64.b64decode(el.text or "").decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return ""
    return ""  # out-of-line or binary content: nothing to show inline


def _plain(el: etree._Element | None, atom03: bool) -> str:
    """A text construct as plain text."""
    if el is None:
        return ""
    kind = _kind(el, atom03)
    if kind == "text" or kind == "xhtml":
        return collapse(element_text(el))
    return plain_text(_html(el, atom03))


def _entry(
    entry: etree._Element, base: str, feed_author: str, atom03: bool, warnings: list[str]
) -> ParsedEntry:
    base = join_base(base, entry.get(XML_BASE))
    one: dict[str, etree._Element] = {}
    many: dict[str, list[etree._Element]] = {"link": [], "category": []}
    for child in entry:
        field = _ENTRY.get(child.tag)
        if field is None:
            continue
        if field in _MULTI:
            many[field].append(child)
        elif field not in one:
            one[field] = child

    link, enclosures = _links(many["link"], base)
    origlink = one.get("origlink")
    if origlink is not None and (origlink.text or "").strip():
        link = absolutize(origlink.text, base)
    content = _html(one.get("content"), atom03)
    summary = _html(one.get("summary"), atom03)
    if not content:
        content, summary = summary, ""
    elif summary == content:
        summary = ""

    author = (
        _author(one.get("author"))
        or collapse(_raw(one.get("creator")))
        or collapse(_raw(one.get("itunes_author")))
    )
    published = date_field(_raw(one.get("published")), warnings)
    if published is None:
        published = date_field(_raw(one.get("created")), warnings)
    updated = date_field(_raw(one.get("updated")), warnings)
    categories = []
    for cat in many["category"]:
        categories.append(collapse(cat.get("label") or cat.get("term") or element_text(cat)))
    guid = collapse(_raw(one.get("id"))) or None
    return ParsedEntry(
        guid=guid,
        link=link,
        title=_plain(one.get("title"), atom03),
        content_html=content,
        summary_html=summary,
        author=author or feed_author,
        published=published or updated,
        updated=updated,
        categories=unique(categories),
        enclosures=tuple(enclosures),
        duration_s=parse_duration(_raw(one.get("duration"))),
    )


def _raw(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return (el.text or "") if len(el) == 0 else element_text(el)
