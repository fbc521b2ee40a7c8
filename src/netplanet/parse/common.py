"""Small helpers shared by the format modules: text cleanup, URLs, numbers, element content.

Everything here sits on the per-entry hot path, so each helper checks for the common, cheap case
first (no markup, already absolute URL) before doing real work.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from netplanet.model import Enclosure, ParsedEntry
from netplanet.parse.dates import parse_date
from netplanet.parse.lift import MARK, MARK_BYTES, only_section, restore, restore_markup

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_WARNINGS = 20

_XMLNS_DECL = re.compile(r'xmlns(?::\w+)?="[^"]*"')


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split()) if text else ""


def text_to_html(text: str) -> str:
    """Plain text -> HTML: escaped, one <p> per blank-line separated paragraph."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


MEDIA = "{http://search.yahoo.com/mrss/}"
_MEDIA_DESCRIPTION = f"{MEDIA}description"
_MEDIA_HOLDERS = (f"{MEDIA}group", f"{MEDIA}content")


def media_description(entry: etree._Element, lifted: Sequence[str] = ()) -> str:
    """An entry's media:description as HTML: its own, else its media:group's or media:content's
    (the first found); type="html" is markup, anything else plain text (Media RSS's default)."""
    found: etree._Element | None = None
    for child in entry:
        tag = child.tag
        if tag == _MEDIA_DESCRIPTION:
            found = child
            break
        if found is None and tag in _MEDIA_HOLDERS:
            for inner in child:
                if inner.tag == _MEDIA_DESCRIPTION:
                    found = inner
                    break
    if found is None:
        return ""
    if (found.get("type") or "").strip().lower() == "html":
        return markup(found, lifted)
    return text_to_html(element_text(found, lifted))


def is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


# A root-relative link urljoin would return as origin + link: no "//" start (a host), no
# segment starting with "." (dot segments), no ";" (path parameters), no empty query or
# fragment (urljoin drops them), no tab, CR or LF (urlsplit deletes them).
_ROOT_RELATIVE = re.compile(r"(?:/(?![/.])[^/?#;\t\r\n]*)+(?:\?[^#\t\r\n]+)?(?:#[^\t\r\n]+)?")


@functools.lru_cache(maxsize=64)
def _origin(base: str) -> str | None:
    """ "scheme://host" of an http(s) base, as urljoin writes it; None for any other base."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def absolutize(link: str | None, base: str) -> str | None:
    """Resolve `link` against `base`; None for an empty link. Never raises."""
    if not link:
        return None
    link = link.strip()
    if not link:
        return None
    if not base or is_absolute(link):
        return link
    # Most relative links in feeds are root-relative ("/2024/05/post"): the base's origin in
    # front is urljoin's answer at a fifth of its cost (it parses the base for every link).
    if link[0] == "/" and _ROOT_RELATIVE.fullmatch(link) and (origin := _origin(base)):
        return origin + link
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. an invalid IPv6 literal in either URL
        return link


def join_base(base: str, xml_base: str | None) -> str:
    """Apply an xml:base attribute on top of the inherited base."""
    if not xml_base:
        return base
    return absolutize(xml_base, base) or base


def to_int(value: str | int | float | None) -> int | None:
    """A non-negative integer from a feed attribute ("12345", " 12 ", 12.0); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if 0 <= value < 2**63 else None
    value = value.strip()
    if value.isdigit() and len(value) < 19:
        return int(value)
    return None


def parse_duration(value: str | None) -> int | None:
    """itunes:duration -> seconds: "1:02:03", "62:03", "3723", "3723.5"; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value) if len(value) < 10 else None
    total = 0
    parts = value.split(":")
    if len(parts) > 3:
        return None
    for part in parts:
        part = part.strip()
        whole = part.split(".", 1)[0]
        if not whole.isdigit() or len(whole) > 9:
            return None
        total = total * 60 + int(whole)
    return total


def element_text(el: etree._Element | None, lifted: Sequence[str] = ()) -> str:
    """Text of a plain-text element, including text around child nodes (unresolved entities)."""
    if el is None:
        return ""
    if len(el) == 0:
        text = el.text
        if text is None:
            return ""
    else:
        text = "".join(str(t) for t in el.itertext())
    if lifted and MARK in text:
        return restore(text, lifted)
    return text


def markup(el: etree._Element, lifted: Sequence[str] = ()) -> str:
    """inner_xml(el, lifted).strip(), without copying a lifted section that is all of it."""
    if lifted and len(el) == 0:
        text = el.text
        if text and MARK in text:
            section = only_section(text, lifted)
            if section is not None:
                return section.strip()  # the same object when there is nothing to strip
    return inner_xml(el, lifted).strip()


def inner_xml(el: etree._Element, lifted: Sequence[str] = ()) -> str:
    """Content of an element as markup: its text, or its children serialized when it has any.

    The text before the first child is kept as it is in the tree (not escaped), and namespace
    declarations are dropped from the serialized children.
    """
    if len(el) == 0:
        text = el.text
        if not text:
            return ""
        return restore(text, lifted) if lifted and MARK in text else text
    text = el.text or ""
    markup = None
    if el[0].tag is not etree.Entity:
        # One serialization of the whole element, cut to its children, costs far less than one
        # per child; an entity first, or a quote that could hide a ">" in the start tag, cannot
        # be cut safely. Bytes: the cuts and the xmlns search run on UTF-8 before decoding.
        whole = etree.tostring(el, encoding="utf-8", with_tail=False)
        end_of_start = whole.find(b">")
        opening = whole[:end_of_start]
        if b"'" not in opening and opening.count(b'"') % 2 == 0:
            start = whole.find(b"<", end_of_start + 1)
            inner = whole[start : whole.rindex(b"</")]
            markup = inner.decode("utf-8")
            nothing_to_strip = b"xmlns" not in inner and "xmlns" not in text
            if nothing_to_strip and not (lifted and MARK_BYTES in inner):
                return text + markup  # nothing to restore either
    if markup is None:
        markup = "".join(etree.tostring(child, encoding="unicode", with_tail=True) for child in el)
    if lifted:
        markup = restore_markup(markup, lifted)
    return strip_xmlns(text + markup)


def strip_xmlns(markup: str) -> str:
    """Remove namespace declarations (a whitespace, then xmlns[:p]="...") from markup."""
    # Same result as re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", markup), without trying the
    # pattern at every whitespace of a long text.
    if "xmlns" not in markup:
        return markup
    parts: list[str] = []
    last = 0
    i = markup.find("xmlns", 1)
    while i >= 0:
        m = _XMLNS_DECL.match(markup, i) if markup[i - 1].isspace() else None
        if m is None:
            i = markup.find("xmlns", i + 1)
            continue
        parts.append(markup[last : i - 1])
        last = m.end()
        i = markup.find("xmlns", last + 1)
    if not parts:
        return markup
    parts.append(markup[last:])
    return "".join(parts)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty values, de-duplicated, first occurrence order kept."""
    return tuple(dict.fromkeys(v for v in values if v))


def drop_duplicate_guids(
    entries: list[ParsedEntry], warnings: list[str]
) -> tuple[ParsedEntry, ...]:
    """Keep the first entry for each GUID; later ones are almost always feed-generator bugs."""
    seen: set[str] = set()
    kept: list[ParsedEntry] = []
    dropped: list[str] = []
    for entry in entries:
        if entry.guid is not None:
            if entry.guid in seen:
                dropped.append(entry.guid)
                continue
            seen.add(entry.guid)
        kept.append(entry)
    if dropped:
        sample = ", ".join(repr(g[:80]) for g in dropped[:3])
        warnings.append(f"{len(dropped)} entries with duplicate GUIDs dropped ({sample})")
    return tuple(kept)


def add_warning(warnings: list[str], message: str) -> None:
    """Append a warning, bounded so a feed with 1,000 bad dates cannot flood the health page."""
    if len(warnings) < MAX_WARNINGS:
        warnings.append(message)
    elif len(warnings) == MAX_WARNINGS:
        warnings.append("further warnings suppressed")


def date_field(raw: str | None, warnings: list[str]) -> datetime | None:
    """parse_date, with a warning when a date is present but unreadable."""
    if not raw:
        return None
    value = parse_date(raw)
    if value is None:
        add_warning(warnings, f"unreadable date {raw.strip()[:60]!r}")
    return value


# A frozen dataclass's __init__ sets each field through object.__setattr__, which costs about as
# much as all the other per-entry work of a plain RSS item. The constructors below fill the same
# slots through their descriptors: the same objects (equal, same repr), a third of the time.
_new = object.__new__


def _slot_setters(cls: type, names: tuple[str, ...]) -> list[Callable[[Any, Any], None]]:
    fields = tuple(f.name for f in dataclasses.fields(cls))
    if fields != names or hasattr(cls, "__post_init__") or not hasattr(cls, "__slots__"):
        raise RuntimeError(f"{cls.__name__} changed: update parse.common's constructor for it")
    return [getattr(cls, name).__set__ for name in names]


(_s_guid, _s_link, _s_title, _s_content, _s_summary, _s_author, _s_published, _s_updated,
 _s_categories, _s_enclosures, _s_duration, _s_media) = _slot_setters(ParsedEntry, (
    "guid", "link", "title", "content_html", "summary_html", "author", "published", "updated",
    "categories", "enclosures", "duration_s", "media_html"))  # fmt: skip
_s_enc_url, _s_enc_type, _s_enc_length = _slot_setters(Enclosure, ("url", "type", "length"))


def new_entry(
    guid: str | None,
    link: str | None,
    title: str,
    content_html: str,
    summary_html: str,
    author: str,
    published: datetime | None,
    updated: datetime | None,
    categories: tuple[str, ...],
    enclosures: tuple[Enclosure, ...],
    duration_s: int | None,
    media_html: str = "",
) -> ParsedEntry:
    """ParsedEntry(...) with every field given, without the frozen dataclass's __init__."""
    entry: ParsedEntry = _new(ParsedEntry)
    _s_guid(entry, guid)
    _s_link(entry, link)
    _s_title(entry, title)
    _s_content(entry, content_html)
    _s_summary(entry, summary_html)
    _s_author(entry, author)
    _s_published(entry, published)
    _s_updated(entry, updated)
    _s_categories(entry, categories)
    _s_enclosures(entry, enclosures)
    _s_duration(entry, duration_s)
    _s_media(entry, media_html)
    return entry


def new_enclosure(url: str, type: str, length: int | None) -> Enclosure:
    """Enclosure(url, type, length) without the frozen dataclass's __init__."""
    enclosure: Enclosure = _new(Enclosure)
    _s_enc_url(enclosure, url)
    _s_enc_type(enclosure, type)
    _s_enc_length(enclosure, length)
    return enclosure
