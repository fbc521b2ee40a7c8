"""The slow, lenient path: feedparser, for XML that libxml2 cannot read even after repair.

Owns the feedparser call and the mapping of its dictionaries onto ParsedFeed. Safety rules:
* feedparser only ever sees bytes that went through `xml.repair` (no DOCTYPE, so no entity
  declarations to expand; UTF-8) -- never the raw body;
* the bytes are wrapped in a stream, because feedparser.parse() treats a bytes argument that
  happens to be a file name as a file to open;
* its own URL resolution and sanitizing are off: we resolve links ourselves and the enrich stage
  sanitizes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from netplanet.model import Enclosure, ParsedEntry, ParsedFeed
from netplanet.parse.common import (
    absolutize,
    collapse,
    date_field,
    drop_duplicate_guids,
    is_absolute,
    parse_duration,
    to_int,
    unique,
)
from netplanet.untrusted import plain_text, valid_text

_FORMATS = {
    "rss20": "rss20", "rss": "rss20", "rss10": "rss10", "rss090": "rss09", "rss091n": "rss09",
    "rss091u": "rss09", "rss092": "rss09", "rss093": "rss09", "rss094": "rss09",
    "atom10": "atom10", "atom": "atom10", "atom03": "atom03", "atom02": "atom03",
    "atom01": "atom03",
}  # fmt: skip


def parse(repaired: bytes, url: str, warnings: list[str]) -> ParsedFeed | None:
    """Parse with feedparser; None when feedparser does not recognize a feed either."""
    # Imported here: few documents need it, and importing it costs every process ~12 ms.
    import feedparser

    try:
        result = feedparser.parse(
            io.BytesIO(repaired),
            response_headers={"content-location": url, "content-type": "application/xml"}
            if url
            else {"content-type": "application/xml"},
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except Exception as exc:  # feedparser's own bugs (e.g. int(None) in _end_height)
        # A document that crashes feedparser is one it cannot read: the caller keeps lxml's
        # reading or reports lxml's syntax error, which names the line and column.
        warnings.append(f"feedparser failed on this document ({type(exc).__name__})")
        return None
    fmt = _FORMATS.get(str(result.get("version") or ""))
    if fmt is None:
        return None
    feed: Mapping[str, Any] = result.get("feed") or {}
    site = absolutize(_s(feed, "link"), url) or ""
    base = url if is_absolute(url) else site
    entries = [_entry(e, base, warnings) for e in result.get("entries") or ()]
    return ParsedFeed(
        format=fmt,
        title=plain_text(_s(feed, "title")),
        link=site,
        description=_s(feed, "subtitle").strip(),
        language=collapse(_s(feed, "language")),
        entries=drop_duplicate_guids(entries, warnings),
        ttl_minutes=to_int(_s(feed, "ttl")),
        update_period=collapse(_s(feed, "sy_updateperiod")).lower(),
        update_frequency=to_int(_s(feed, "sy_updatefrequency")),
        parser="feedparser",
        updated=_date(feed, "updated", warnings) or _date(feed, "published", warnings),
    )


def _s(d: Mapping[str, Any], key: str) -> str:
    # dict.get, not FeedParserDict.get: the latter maps some missing keys onto others and emits
    # DeprecationWarnings while doing so.
    return _text(dict.get(d, key))  # type: ignore[call-overload]


def _text(value: Any) -> str:
    """A string value of feedparser's dicts as valid text ("" for anything else). Every string
    taken from feedparser goes through here: its entity decoding is its own."""
    return valid_text(value) if isinstance(value, str) else ""


def _date(e: Mapping[str, Any], key: str, warnings: list[str]) -> datetime | None:
    value = date_field(_s(e, key), warnings)
    if value is None:
        parsed = dict.get(e, f"{key}_parsed")  # type: ignore[call-overload]
        if parsed is not None:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                value = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                value = None
    return value


def _entry(e: Mapping[str, Any], base: str, warnings: list[str]) -> ParsedEntry:
    contents = dict.get(e, "content") or []  # type: ignore[call-overload]
    content = _text(contents[0].get("value")) if contents else ""
    summary = _s(e, "summary")
    if not content:
        content, summary = summary, ""
    elif summary == content:
        summary = ""
    enclosures = []
    for link in dict.get(e, "links") or []:  # type: ignore[call-overload]
        if link.get("rel") == "enclosure" and link.get("href"):
            enc_url = absolutize(_text(link.get("href")), base) or ""
            enclosures.append(
                Enclosure(enc_url, _text(link.get("type")), to_int(_text(link.get("length"))))
            )
    tags = dict.get(e, "tags") or []  # type: ignore[call-overload]
    published = _date(e, "published", warnings)
    updated = _date(e, "updated", warnings)
    return ParsedEntry(
        guid=collapse(_s(e, "id")) or None,
        link=absolutize(_s(e, "feedburner_origlink") or _s(e, "link"), base),
        title=plain_text(_s(e, "title")),
        content_html=content.strip(),
        summary_html=summary.strip(),
        author=collapse(_s(e, "author")),
        published=published or updated,
        updated=updated,
        categories=unique(collapse(_text(t.get("label") or t.get("term"))) for t in tags),
        enclosures=tuple(enclosures),
        duration_s=parse_duration(_s(e, "itunes_duration")),
    )
