"""The parse stage: feed bytes + response headers -> ParsedFeed. Pure: no network, clock or DB.

    parse_feed(body, content_type=..., url=...) -> ParsedFeed

Picks a format module by sniffing (JSON object or XML root element, with the HTTP content type
as a tie-breaker), parses with lxml (`xml.py`, hardened and self-repairing), reads a document
libxml2 could only recover again entry by entry (`salvage.py`), and falls back to feedparser
(`fallback.py`) only for what lxml still cannot read. Raises NotAFeedError for HTML and
ParseError for everything else that is not a feed; never any other exception.

Every string of the result is valid Unicode (no lone surrogates, see netplanet/untrusted.py), so
nothing downstream has to check: lxml hands out only what CPython's strict UTF-8 decoder
accepted, and the plain-text helpers decode references to surrogates as U+FFFD; the JSON
reader, the byte decoder of the repair path and the feedparser mapping each pass their strings
through `valid_text`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from lxml import etree

from netplanet.errors import NotAFeedError, ParseError
from netplanet.model import ParsedFeed
from netplanet.parse import atom, fallback, jsonfeed, rss, salvage, xml

__all__ = ["parse_feed"]

XmlFormat = Callable[[etree._Element, str, list[str], Sequence[str]], ParsedFeed]

# Root element (Clark notation) -> format module. A new XML format registers here.
_XML_FORMATS: dict[str, XmlFormat] = {
    **dict.fromkeys(rss.ROOT_TAGS, rss.parse),
    **dict.fromkeys(atom.ROOT_TAGS, atom.parse),
}
# Roots that are feeds we cannot read ourselves (e.g. un-namespaced Atom): feedparser may.
_FEEDISH_ROOTS = frozenset(("feed", "rss", "rdf", "channel"))

_HTML_START = re.compile(
    rb"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.I | re.S,
)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_BLANK = b" \t\r\n\xef\xbb\xbf"


def parse_feed(body: bytes, *, content_type: str = "", url: str = "") -> ParsedFeed:
    """Parse a feed document.

    `content_type` is the HTTP Content-Type header (charset included); `url` is the final URL the
    body came from, the base for relative links (with xml:base and the feed's own link).
    Raises NotAFeedError for an HTML page and ParseError (one line) for anything else unreadable.
    """
    try:
        return _parse(body, content_type, url)
    except ParseError:
        raise
    except Exception as exc:  # the promise is "only ParseError"; keep the cause visible
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ParseError(f"internal parser error: {type(exc).__name__}: {detail}") from exc


def _parse(body: bytes, content_type: str, url: str) -> ParsedFeed:
    mime = content_type.split(";", 1)[0].strip().lower()
    m = _CHARSET.search(content_type)
    charset = m.group(1) if m else ""
    head = body[:512].lstrip(_BLANK)
    if not head:
        raise ParseError("empty document: no feed in the response body")
    if head[:1] == b"{" or (head[:1] == b"[" and "json" in mime):
        warnings: list[str] = []
        return _finish(jsonfeed.parse(body, url, warnings), warnings)

    warnings = []
    data = xml.trim_leading(body, warnings)
    if _HTML_START.match(data, 0, 4096):
        raise _not_a_feed(url)
    if data[:1] != b"<" and data[:2] not in (b"\xff\xfe", b"\xfe\xff") and data[:1] != b"\x00":
        raise ParseError(f"not a feed: the document is neither XML nor JSON (starts {head[:20]!r})")
    try:
        doc = xml.parse_xml(data, charset, warnings)
    except xml.XmlSyntaxError:
        if "html" in mime:
            raise _not_a_feed(url) from None
        feed = fallback.parse(xml.repair(data, charset, []), url, warnings)
        if feed is None or not (feed.entries or feed.title):
            raise
        warnings.append("parsed by feedparser after lxml failed")
        return _finish(feed, warnings)

    root = doc.root
    tag = root.tag if isinstance(root.tag, str) else ""
    handler = _XML_FORMATS.get(tag)
    if handler is None:
        local = tag.rsplit("}", 1)[-1].lower()
        if local == "html" or "html" in mime:
            raise _not_a_feed(url)
        feed_or_none = None
        if local in _FEEDISH_ROOTS:
            feed_or_none = fallback.parse(xml.repair(data, charset, []), url, warnings)
        if feed_or_none is None:
            raise ParseError(f"not a feed: the root element is <{local[:40]}>")
        return _finish(feed_or_none, warnings)

    if not doc.recovered:
        return _finish(handler(root, url, warnings, doc.lifted), warnings)
    read_warnings: list[str] = []
    feed = handler(root, url, read_warnings, doc.lifted)
    # libxml2's recovery may drop or garble what follows an error even when the number of
    # entries looks right: read each entry on its own and keep that unless it found fewer.
    salvaged = xml.salvage(doc)
    if salvaged is not None:
        again_warnings: list[str] = []
        again = handler(salvaged, url, again_warnings, ())
        if len(again.entries) >= len(feed.entries):
            again_warnings.append(
                f"{len(again.entries)} entries read one by one, recovery kept {len(feed.entries)}"
            )
            feed, read_warnings = again, again_warnings
    warnings.extend(read_warnings)
    expected = len(salvage.entry_starts(data))
    if len(feed.entries) < expected:
        # Still short: feedparser's loose parser may keep more, at many times the cost.
        alternative = fallback.parse(xml.repair(data, charset, []), url, [])
        if alternative is not None and len(alternative.entries) > len(feed.entries):
            warnings.append(
                f"feedparser recovered {len(alternative.entries)} entries, lxml {len(feed.entries)}"
            )
            feed = alternative
    return _finish(feed, warnings)


def _not_a_feed(url: str) -> NotAFeedError:
    return NotAFeedError(f"{url or 'the server'} returned HTML, not a feed")


def _finish(feed: ParsedFeed, warnings: list[str]) -> ParsedFeed:
    if not warnings:
        return feed
    return dataclasses.replace(feed, warnings=tuple(dict.fromkeys(warnings)))
