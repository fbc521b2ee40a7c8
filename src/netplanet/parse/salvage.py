"""Entry-by-entry reading of a document that libxml2 could only partly recover.

libxml2's recover mode keeps a tree, but one unclosed tag (an open `<b>` in a title, an entry
without its end tag) can swallow or drop every entry after it. feedparser's loose parser keeps
them, at ~20-50x the cost. This module gets the same entries for the cost of a second libxml2
pass: it cuts the (already repaired) bytes at each entry's start tag, reads each entry on its
own, so that damage stays inside the entry it is in, and puts the entries back under the
feed's container element.

Cutting is a byte scan that skips CDATA sections and comments, so markup quoted inside them
(a post about RSS showing `<item>`) is never taken for an entry.
"""

from __future__ import annotations

import re

from lxml import etree

# One pass finds CDATA sections and comments (skipped whole) and entry start tags.
_SCAN = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<(?:[A-Za-z_][\w.-]{0,40}:)?(?:item|entry)(?=[\s>/])",
    re.S,
)
# The root's start tag is repeated around every entry, so a huge one (hostile) is not taken.
_ROOT_START = re.compile(
    rb"<!--.*?-->|<\?.*?\?>|<([A-Za-z_][\w.:-]{0,100})(?:\s[^<>]{0,4096})?>", re.S
)
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]{0,40}:)?(?:item|entry)\s*>")
# Un-namespaced HTML tags outside CDATA: in an entry that is not well-formed they are most often
# stray markup in a title or description (`<title>A <b>bold</title>`), which feed readers show
# as text. Escaping them lets the entry parse strictly with every field in its place.
_HTML_TAG = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<(?=/?(?:a|b|i|u|s|em|strong|span|br|p|img|font|div|sup|sub"
    rb"|small|big|code|pre|hr|li|ul|ol|blockquote|h[1-6]|table|tr|td|th)(?=[\s>/]))",
    re.S | re.I,
)


def entry_starts(data: bytes) -> list[int]:
    """Offsets of entry start tags (`<item`, `<entry`, any prefix) outside CDATA and comments."""
    return [m.start() for m in _SCAN.finditer(data) if data[m.start() + 1] != ord("!")]


def salvage(
    data: bytes, strict: etree.XMLParser, recover: etree.XMLParser
) -> etree._Element | None:
    """The feed's tree with every entry read separately; None when the bytes have no entries.

    `data` must be the repaired bytes (UTF-8, no declaration or DOCTYPE); `strict` and `recover`
    the hardened libxml2 parsers without and with recover mode.
    """
    starts = entry_starts(data)
    root_start = _root_start(data)
    if not starts or root_start is None:
        return None
    start_tag, root_name = root_start
    close = b"</" + root_name + b">"
    entries: list[etree._Element] = []
    bounds = [*starts, len(data)]
    tail_from = len(data)
    for i, begin in enumerate(starts):
        chunk = data[begin : bounds[i + 1]]
        if i == len(starts) - 1:
            # The last chunk runs to the end of the document: keep what follows its end tag
            # (channel elements after the items, the closing tags) for the feed itself.
            ends = list(_ENTRY_END.finditer(chunk))
            if ends:
                tail_from = begin + ends[-1].end()
                chunk = chunk[: ends[-1].end()]
        entry = _read_entry(start_tag, chunk, close, strict, recover)
        if entry is not None:
            entries.append(entry)
    try:
        root = etree.fromstring(data[: starts[0]] + data[tail_from:], recover)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    container = _container(root)
    container.extend(entries)
    return root


def _root_start(data: bytes) -> tuple[bytes, bytes] | None:
    for m in _ROOT_START.finditer(data, 0, 65536):
        name = m.group(1)
        if name is None:
            continue  # a comment or processing instruction before the root
        tag = m.group(0)
        if tag.endswith(b"/>"):
            return None
        return tag, name
    return None


def _read_entry(
    start_tag: bytes,
    chunk: bytes,
    close: bytes,
    strict: etree.XMLParser,
    recover: etree.XMLParser,
) -> etree._Element | None:
    attempts = [(chunk, strict), (chunk, recover)]
    escaped = _HTML_TAG.sub(_escape_tag, chunk)
    if escaped != chunk:
        attempts.insert(1, (escaped, strict))
    for body, parser in attempts:
        try:
            wrapper = etree.fromstring(start_tag + body + close, parser)
        except etree.XMLSyntaxError:
            continue
        entry = _first_entry(wrapper)
        if entry is not None:
            return entry
    return None


def _escape_tag(m: re.Match[bytes]) -> bytes:
    return b"&lt;" if m.group(0) == b"<" else m.group(0)


def _first_entry(wrapper: etree._Element | None) -> etree._Element | None:
    if wrapper is None:
        return None
    for child in wrapper:
        if isinstance(child.tag, str) and _local(child.tag) in ("item", "entry"):
            return child
    return None


def _container(root: etree._Element) -> etree._Element:
    """Where entries belong: RSS 2.0's <channel>; the root for Atom and RSS 1.0 (RDF)."""
    if isinstance(root.tag, str) and _local(root.tag) == "rss":
        for child in root:
            if isinstance(child.tag, str) and _local(child.tag) == "channel":
                return child
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
