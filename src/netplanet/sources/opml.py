"""OPML in and out: the operator's source list as `SourceSpec` records.

This module owns reading OPML 1.0/2.0 subscription lists (`parse_opml`) and writing them back as
OPML 2.0 (`to_opml`). Both are pure: bytes in, records out, and the export clock is an argument.

Rules for reading, chosen to accept what real feed readers export while refusing what could hurt:

* An outline with an ``xmlUrl`` is a source. Its title is ``title``, else ``text``; whitespace is
  collapsed and the length bounded (`sources.bounds`). An ``htmlUrl`` that is not an http(s)
  URL with a host, or longer than a URL can usefully be, is dropped (it would end up as a link
  on a page; see netplanet.untrusted).
* An outline without ``xmlUrl`` that has children is a folder; nested folders join into one
  category with " / " (``Networking / Automation``). A folder with no name is transparent.
  An outline without ``xmlUrl`` and without children (a note, a link) is skipped.
* A source outside any folder takes the first path element of its OPML 2.0 ``category``
  attribute (``/Networking/BGP,/Other`` gives ``Networking``).
* A source whose feed URL cannot be polled (not http(s), no host, over 2,048 characters) is
  skipped with a line saying where and why (`Skipped`), and the rest is read: one stray
  ``file:`` or ``javascript:`` outline must not cost the operator the whole list.
  ``feed://`` is rewritten to http(s).
* The same feed URL twice (scheme and host compared case-insensitively) keeps the first.
* With `max_outlines`, a document with more source outlines than that is refused whole
  (`TooManyOutlinesError`) before any record is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from netplanet.errors import OpmlError
from netplanet.model import SourceSpec
from netplanet.sources.bounds import bound_category, bound_title
from netplanet.untrusted import http_url

__all__ = ["OpmlRead", "Skipped", "TooManyOutlinesError", "parse_opml", "read_opml", "to_opml"]

MAX_URL_CHARS = 2048
"""Longer feed URLs are skipped: no real feed needs one, and PostgreSQL cannot index a
feed_url of a few kilobytes (the unique index on sources.feed_url would refuse the row)."""
_SHOWN_URL_CHARS = 120

_CATEGORY_SEPARATOR = " / "
_WS = re.compile(r"\s+")
# lxml appends ", line N, column M" to its messages; we print our own position.
_LXML_POSITION = re.compile(r",\s*line \d+, column \d+\s*$")
_MISMATCH = re.compile(r"^Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)$")
# Characters XML 1.0 cannot carry at all, even escaped; they are dropped on export.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- reading


class TooManyOutlinesError(OpmlError):
    """A document with more source outlines than the caller allows; nothing was read."""

    exit_code = 2

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"the file has {count:,} feed outlines, over the limit of {limit:,} per import; "
            "nothing was imported"
        )
        self.count = count
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source outline that was not read, and why."""

    line: int | None
    url: str
    """The outline's xmlUrl as written, shortened when long."""
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "an outline"
        return f"{where}: {self.url}: {self.reason}"


@dataclass(frozen=True, slots=True)
class OpmlRead:
    """What `read_opml` found: the sources to import, in document order, and what it skipped."""

    specs: list[SourceSpec]
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    """Outlines whose feed URL an earlier outline of the same document already named."""
    lines: list[int | None] = field(default_factory=list)
    """The line of each spec's outline, for messages about it later (same order as specs)."""


def read_opml(data: bytes, *, max_outlines: int | None = None) -> OpmlRead:
    """Read an OPML document into source specs, in document order, first of duplicates kept,
    with a `Skipped` line for each source outline whose feed URL cannot be polled.

    Raises `OpmlError` (one line, naming the line and column where known) when the document is not
    well-formed XML, is not OPML or declares entities, and `TooManyOutlinesError` when it has
    more than `max_outlines` source outlines.
    """
    root = _parse_xml(data)
    if _local_name(root) != "opml":
        raise OpmlError(f"not an OPML document: root element is <{_tag_name(root)}>")
    body = next((child for child in root if _local_name(child) == "body"), None)
    if body is None:
        raise OpmlError(f"not an OPML document: <opml> at line {_line(root)} has no <body>")
    if max_outlines is not None:
        count = sum(1 for outline in body.iter("{*}outline") if _attr(outline, "xmlUrl"))
        if count > max_outlines:
            raise TooManyOutlinesError(count, max_outlines)

    specs: list[SourceSpec] = []
    lines: list[int | None] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    duplicates = 0
    for line, found in _walk(body, ""):
        if isinstance(found, Skipped):
            skipped.append(found)
            continue
        key = _dedup_key(found.feed_url)
        if key in seen:
            duplicates += 1
        else:
            seen.add(key)
            specs.append(found)
            lines.append(line)
    return OpmlRead(specs, skipped, duplicates, lines)


def parse_opml(data: bytes) -> list[SourceSpec]:
    """The sources `read_opml` finds, without the skipped outlines (for trusted lists, such as
    the bundled one, and round trips)."""
    return read_opml(data).specs


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


def _walk(parent: etree._Element, folder: str) -> Iterator[tuple[int | None, SourceSpec | Skipped]]:
    """The source outlines under `parent`; `folder` is the category its folders make."""
    for outline in parent:
        if _local_name(outline) != "outline":
            continue
        feed_url = _attr(outline, "xmlUrl")
        if feed_url:
            yield _line(outline), _source(outline, feed_url, folder)
            # Some readers nest sources under a source; keep them, in the same folder.
            yield from _walk(outline, folder)
        elif any(_local_name(child) == "outline" for child in outline):
            # Bounded here, once per folder: a giant folder name must not be copied for
            # every source inside it.
            name = bound_category(_attr(outline, "title") or _attr(outline, "text"))
            inner = f"{folder}{_CATEGORY_SEPARATOR}{name}" if folder and name else folder or name
            yield from _walk(outline, bound_category(inner))
        # else: a childless outline with no feed (a note, a link, an empty folder): skipped.


def _source(outline: etree._Element, raw_url: str, folder: str) -> SourceSpec | Skipped:
    feed_url, problem = _checked_feed_url(raw_url)
    if problem:
        shown = raw_url if len(raw_url) <= _SHOWN_URL_CHARS else raw_url[:_SHOWN_URL_CHARS] + "…"
        return Skipped(_line(outline), shown, problem)
    site_url = _attr(outline, "htmlUrl")
    # Shown as a link: an http(s) URL with a host only (netplanet.untrusted).
    site_url = http_url(site_url) if _is_web_url(site_url) else ""
    return SourceSpec(
        feed_url=feed_url,
        title=bound_title(_attr(outline, "title") or _attr(outline, "text")),
        site_url=site_url,
        category=folder or bound_category(_first_category(_attr(outline, "category"))),
    )


def _checked_feed_url(raw: str) -> tuple[str, str]:
    """The feed URL to store and "", or "" and why the URL cannot be polled."""
    url = raw.strip()
    if len(url) > MAX_URL_CHARS:
        return "", f"the URL is {len(url):,} characters long, over {MAX_URL_CHARS:,}; skipped"
    lowered = url.lower()
    # feed:// and feed:https://... are pseudo-schemes some browsers and readers emit.
    if lowered.startswith("feed://"):
        url = "http://" + url[len("feed://") :]
    elif lowered.startswith("feed:http"):
        url = url[len("feed:") :]
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        return "", f"not a URL ({exc}); skipped"
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return "", f"{shown}, but feeds are polled over http or https only; skipped"
    if not parts.netloc:
        return "", "the URL has no host; skipped"
    return url, ""


def _is_web_url(url: str) -> bool:
    if len(url) > MAX_URL_CHARS:
        return False
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:  # e.g. "http://[oops"
        return False


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
