"""OPML in and out: the operator's source list as `SourceSpec` records.

This module owns reading OPML 1.0/2.0 subscription lists (`parse_opml`) and writing them back as
OPML 2.0 (`to_opml`). Both are pure: bytes in, records out, and the export clock is an argument.

Rules for reading, chosen to accept what real feed readers export while refusing what could hurt:

* An outline with an ``xmlUrl`` is a source. Its title is ``title``, else ``text``; whitespace is
  collapsed. An ``htmlUrl`` that is not an http(s) URL with a host is dropped (it would end up
  as a link on a page; see netplanet.untrusted).
* An outline without ``xmlUrl`` that has children is a folder; nested folders join into one
  category with " / " (``Networking / Automation``). A folder with no name is transparent.
  An outline without ``xmlUrl`` and without children (a note, a link) is skipped.
* A source outside any folder takes the first path element of its OPML 2.0 ``category``
  attribute (``/Networking/BGP,/Other`` gives ``Networking``).
* A feed URL that is not http(s) is fatal, and the error names the line: importing half a file
  silently is worse than asking the operator to fix one line. ``feed://`` is rewritten to http(s).
* The same feed URL twice (scheme and host compared case-insensitively) keeps the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from netplanet.errors import OpmlError
from netplanet.model import SourceSpec
from netplanet.untrusted import http_url

__all__ = ["parse_opml", "to_opml"]

_CATEGORY_SEPARATOR = " / "
_WS = re.compile(r"\s+")
# lxml appends ", line N, column M" to its messages; we print our own position.
_LXML_POSITION = re.compile(r",\s*line \d+, column \d+\s*$")
_MISMATCH = re.compile(r"^Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)$")
# Characters XML 1.0 cannot carry at all, even escaped; they are dropped on export.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- reading


def parse_opml(data: bytes) -> list[SourceSpec]:
    """Read an OPML document into source specs, in document order, first of duplicates kept.

    Raises `OpmlError` (one line, naming the line and column where known) when the document is not
    well-formed XML, is not OPML, declares entities, or has a source whose feed URL is not http(s).
    """
    root = _parse_xml(data)
    if _local_name(root) != "opml":
        raise OpmlError(f"not an OPML document: root element is <{_tag_name(root)}>")
    body = next((child for child in root if _local_name(child) == "body"), None)
    if body is None:
        raise OpmlError(f"not an OPML document: <opml> at line {_line(root)} has no <body>")

    specs: list[SourceSpec] = []
    seen: set[str] = set()
    for spec in _walk(body, ()):
        key = _dedup_key(spec.feed_url)
        if key not in seen:
            seen.add(key)
            specs.append(spec)
    return specs


def _parse_xml(data: bytes) -> etree._Element:
    if not data.strip():
        raise OpmlError("OPML document is empty")
    # Entity declarations are how XML bombs and external-entity reads start; an OPML file never
    # needs them. The byte scan catches them before libxml2 expands anything (internal entities
    # are expanded inside attributes even with resolve_entities=False); the DTD check after
    # parsing catches encodings the byte scan cannot see (UTF-16).
    if b"<!ENTITY" in data:
        raise OpmlError(
            f"OPML declares XML entities at line {_line_of(data, b'<!ENTITY')}; refused"
        )
    # A fresh parser per call: lxml parsers keep an error log and are not thread-safe.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        message = _LXML_POSITION.sub("", exc.msg or "syntax error").strip()
        message = _MISMATCH.sub(
            r"mismatched tag: <\1> opened at line \2 is closed by </\3>", message
        )
        line, column = exc.position
        raise OpmlError(
            f"OPML is not well-formed XML: {_lower_first(message)} at line {line}, column {column}"
        ) from None
    dtd: Any = root.getroottree().docinfo.internalDTD  # lxml-stubs lack DTD.iterentities
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise OpmlError("OPML declares XML entities in its DOCTYPE; refused")
    return root


def _walk(parent: etree._Element, folders: tuple[str, ...]) -> Iterator[SourceSpec]:
    for outline in parent:
        if _local_name(outline) != "outline":
            continue
        children = [child for child in outline if _local_name(child) == "outline"]
        feed_url = _attr(outline, "xmlUrl")
        if feed_url:
            yield _source(outline, feed_url, folders)
            # Some readers nest sources under a source; keep them, in the same folder.
            yield from _walk(outline, folders)
        elif children:
            name = _text(_attr(outline, "title") or _attr(outline, "text"))
            yield from _walk(outline, (*folders, name) if name else folders)
        # else: a childless outline with no feed (a note, a link, an empty folder): skipped.


def _source(outline: etree._Element, raw_url: str, folders: tuple[str, ...]) -> SourceSpec:
    feed_url = _checked_feed_url(raw_url, _line(outline))
    site_url = http_url(_attr(outline, "htmlUrl"))  # shown as a link: http(s) with a host only
    category = _CATEGORY_SEPARATOR.join(folders) or _first_category(_attr(outline, "category"))
    return SourceSpec(
        feed_url=feed_url,
        title=_text(_attr(outline, "title") or _attr(outline, "text")),
        site_url=site_url,
        category=category,
    )


def _checked_feed_url(raw: str, line: int | None) -> str:
    url = raw.strip()
    lowered = url.lower()
    # feed:// and feed:https://... are pseudo-schemes some browsers and readers emit.
    if lowered.startswith("feed://"):
        url = "http://" + url[len("feed://") :]
    elif lowered.startswith("feed:http"):
        url = url[len("feed:") :]
    parts = urlsplit(url)
    where = f"outline at line {line}" if line else "an outline"
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise OpmlError(f"{where} has xmlUrl {raw.strip()!r} with {shown}; expected http or https")
    if not parts.netloc:
        raise OpmlError(f"{where} has xmlUrl {raw.strip()!r} with no host")
    return url


def _first_category(value: str) -> str:
    """First path element of an OPML 2.0 category attribute: "/A/B,/C" -> "A"."""
    first = value.split(",", 1)[0]
    return next((_text(part) for part in first.split("/") if part.strip()), "")


def _dedup_key(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def _attr(element: etree._Element, name: str) -> str:
    value = element.get(name)
    return value.strip() if value else ""


def _text(value: str) -> str:
    return _WS.sub(" ", value).strip()


def _local_name(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _tag_name(element: etree._Element) -> str:
    # Show the prefix as written (<rdf:RDF>), not lxml's {namespace}name.
    return element.prefix + ":" + _local_name(element) if element.prefix else _local_name(element)


def _line(element: etree._Element) -> int | None:
    # lxml-stubs type sourceline as untyped; it is Optional[int] at runtime.
    line = element.sourceline
    return line if isinstance(line, int) else None


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.find(needle)].count(b"\n") + 1


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------- writing


def to_opml(
    specs: Iterable[SourceSpec],
    *,
    title: str = "netplanet sources",
    now: datetime | None = None,
) -> bytes:
    """Write source specs as OPML 2.0, one folder outline per category, in first-seen order.

    Sources without a category sit at the top level. `now` becomes ``dateCreated`` (RFC 822, UTC);
    without it the head has no date, so the output is reproducible. `parse_opml` reads the result
    back to the same specs, grouped by category.
    """
    groups: dict[str, list[SourceSpec]] = {}
    for spec in specs:
        groups.setdefault(_text(spec.category), []).append(spec)

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _clean(title)
    if now is not None:
        stamp = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        etree.SubElement(head, "dateCreated").text = format_datetime(stamp, usegmt=True)
    body = etree.SubElement(root, "body")
    for category, members in groups.items():
        parent = body
        if category:
            name = _clean(category)
            parent = etree.SubElement(body, "outline", text=name, title=name)
        for spec in members:
            _add_source(parent, spec)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_source(parent: etree._Element, spec: SourceSpec) -> None:
    name = _clean(spec.title)
    # Attribute order is the conventional one readers emit; lxml escapes &, <, > and quotes.
    outline = etree.SubElement(parent, "outline", type="rss", text=name)
    if name:
        outline.set("title", name)
    outline.set("xmlUrl", _clean(spec.feed_url))
    if spec.site_url:
        outline.set("htmlUrl", _clean(spec.site_url))


def _clean(value: str) -> str:
    return _XML_INVALID.sub("", value)
