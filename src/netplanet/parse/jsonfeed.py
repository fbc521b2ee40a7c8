"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org) -> ParsedFeed.

Owns JSON decoding of the body too: any JSON or encoding error becomes a one-line ParseError.
Values of the wrong JSON type are ignored field by field rather than failing the feed.
"""

from __future__ import annotations

import json
from typing import Any

from netplanet.errors import ParseError
from netplanet.model import Enclosure, ParsedEntry, ParsedFeed
from netplanet.parse.common import (
    absolutize,
    collapse,
    date_field,
    drop_duplicate_guids,
    is_absolute,
    text_to_html,
    to_int,
    unique,
)
from netplanet.parse.xml import decode
from netplanet.untrusted import plain_text, valid_text

CONTENT_TYPES = ("application/feed+json", "application/json")


def parse(body: bytes, url: str, warnings: list[str]) -> ParsedFeed:
    """Parse a JSON Feed document."""
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        try:
            doc = json.loads(decode(body, "", warnings))
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"invalid JSON: {_describe(exc)}") from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {_describe(exc)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list):
        raise ParseError("JSON document is not a JSON Feed (no items list)")
    version = _str(doc.get("version"))
    if "jsonfeed.org/version/" not in version and "items" not in doc:
        raise ParseError("JSON document is not a JSON Feed (no version, no items)")

    feed_url = _str(doc.get("feed_url"))
    home = _str(doc.get("home_page_url"))
    base = url or (feed_url if is_absolute(feed_url) else "") or home
    site = absolutize(home, base) or ""
    feed_authors = _authors(doc)
    entries = [
        _item(item, base, feed_authors, warnings)
        for item in doc.get("items", ())
        if isinstance(item, dict)
    ]
    return ParsedFeed(
        format="json11" if version.rstrip("/").endswith("/1.1") else "json10",
        title=plain_text(_str(doc.get("title"))),
        link=site,
        description=_str(doc.get("description")).strip(),
        language=collapse(_str(doc.get("language"))),
        entries=drop_duplicate_guids(entries, warnings),
        parser="json",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _str(value: Any) -> str:
    """A JSON string or number as text; every string of the feed is read through here, so this
    is where JSON escapes of lone surrogates ("\\ud800") become U+FFFD."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _authors(obj: dict[str, Any]) -> str:
    """JSON Feed 1.1 "authors" list, else 1.0 "author" object -> comma-separated names."""
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]
    names = [collapse(_str(a.get("name"))) for a in authors if isinstance(a, dict)]
    return ", ".join(unique(names))


def _item(item: dict[str, Any], base: str, feed_author: str, warnings: list[str]) -> ParsedEntry:
    guid = collapse(_str(item.get("id"))) or None
    link = absolutize(_str(item.get("url")) or _str(item.get("external_url")), base)
    content = _str(item.get("content_html")).strip()
    text = _str(item.get("content_text"))
    if not content and text.strip():
        content = text_to_html(text)
    summary = _str(item.get("summary")).strip()
    summary_html = text_to_html(summary) if summary else ""
    if not content:
        content, summary_html = summary_html, ""
    elif summary and _same_text(plain_text(summary), content):
        summary_html = ""

    enclosures: list[Enclosure] = []
    duration: int | None = None
    attachments = item.get("attachments")
    for att in attachments if isinstance(attachments, list) else ():
        if not isinstance(att, dict):
            continue
        att_url = absolutize(_str(att.get("url")), base)
        if att_url:
            size = att.get("size_in_bytes")
            enclosures.append(
                Enclosure(att_url, _str(att.get("mime_type")).strip(), to_int(_num(size)))
            )
            if duration is None:
                duration = to_int(_num(att.get("duration_in_seconds")))
    tags = item.get("tags")
    published = date_field(_str(item.get("date_published")), warnings)
    updated = date_field(_str(item.get("date_modified")), warnings)
    return ParsedEntry(
        guid=guid,
        link=link,
        title=plain_text(_str(item.get("title"))),
        content_html=content,
        summary_html=summary_html,
        author=_authors(item) or feed_author,
        published=published or updated,
        updated=updated,
        categories=unique(collapse(_str(t)) for t in tags) if isinstance(tags, list) else (),
        enclosures=tuple(enclosures),
        duration_s=duration,
    )


def _same_text(plain: str, content: str) -> bool:
    """plain == plain_text(content), without converting all of a long content for a short teaser.

    A prefix of the content that ends just after a ">" loses exactly the tags the whole content
    loses there, so its plain text is the start of the whole one, give or take the last entity
    (at most 40 characters) and a space. When that start alone is already longer, they differ.
    """
    budget = 2 * len(plain) + 200
    if len(content) > 2 * budget:
        cut = content.find(">", budget) + 1
        if 0 < cut < len(content) and len(plain_text(content[:cut])) - 41 > len(plain):
            return False
    return plain == plain_text(content)


def _num(value: Any) -> int | float | str | None:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    return None
