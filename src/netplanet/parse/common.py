"""Small helpers shared by the format modules: text cleanup, URLs, numbers, element content.

Everything here sits on the per-entry hot path, so each helper checks for the common, cheap case
first (no markup, already absolute URL) before doing real work.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from netplanet.model import ParsedEntry
from netplanet.parse.dates import parse_date

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_WARNINGS = 20

_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_XMLNS_DECL = re.compile(r'\sxmlns(?::\w+)?="[^"]*"')


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split()) if text else ""


def plain_text(text: str | None) -> str:
    """HTML-ish text -> plain text: tags stripped, entities decoded, whitespace collapsed."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def text_to_html(text: str) -> str:
    """Plain text -> HTML: escaped, one <p> per blank-line separated paragraph."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


def is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def absolutize(link: str | None, base: str) -> str | None:
    """Resolve `link` against `base`; None for an empty link. Never raises."""
    if not link:
        return None
    link = link.strip()
    if not link:
        return None
    if not base or is_absolute(link):
        return link
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


def element_text(el: etree._Element) -> str:
    """Text of a plain-text element, including text around child nodes (unresolved entities)."""
    if len(el) == 0:
        return el.text or ""
    return "".join(str(t) for t in el.itertext())


def inner_xml(el: etree._Element) -> str:
    """Content of an element as markup: its text, or its children serialized when it has any."""
    if len(el) == 0:
        return el.text or ""
    parts = [el.text or ""]
    for child in el:
        parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
    return _XMLNS_DECL.sub("", "".join(parts))


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
