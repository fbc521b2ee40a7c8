"""Stable, versioned hashes of entries: the last-resort identity and the "was it edited?" print.

Both are pure functions of their arguments and never change for the same input across releases:
a hash that changes means the store rewrites (or duplicates) entries. To change what goes in,
bump the version prefix instead of editing the recipe. Empty fields are left out of the
fingerprint, so adding a field later (empty for old entries) keeps old hashes valid.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from netplanet.model import Enclosure

FINGERPRINT_VERSION = "v1"


def _normalize_title(title: str) -> str:
    # NFKC + casefold: "Ｂ\u00a0GP" and "b gp" differ only in how a feed spelled them
    # " ".join(s.split()) is _SPACE_RE.sub(" ", s).strip(): str.split() and \s agree
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def _day(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).date().isoformat()


def title_date_hash(title: str, published: datetime | None) -> str:
    """Hash of the normalized title and the UTC day of `published` (None: title only)."""
    payload = f"{_normalize_title(title)}\x00{_day(published)}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def entry_fingerprint(
    *,
    title: str = "",
    url: str = "",
    author: str = "",
    content_html: str = "",
    excerpt_html: str = "",
    categories: Iterable[str] = (),
    tags: Iterable[str] = (),
    enclosure: Enclosure | None = None,
    duration_s: int | None = None,
) -> str:
    """Versioned hash ("v1:<hex>") of the fields a reader sees; empty fields are skipped."""
    fields: list[tuple[str, object]] = [
        ("title", title),
        ("url", url),
        ("author", author),
        ("content", content_html),
        ("excerpt", excerpt_html),
        ("categories", list(categories)),
        ("tags", list(tags)),
        (
            "enclosure",
            [enclosure.url, enclosure.type, enclosure.length] if enclosure is not None else None,
        ),
        ("duration", duration_s),
    ]
    # The payload is json.dumps(present, ensure_ascii=False, separators=(",", ":")) in UTF-8,
    # hashed in pieces: the HTML fields, by far the longest, are escaped by _json_string_bytes
    # (several times faster than the json module's non-ASCII encoder), and the short fields
    # around them are encoded together, a list's items being its JSON less the brackets.
    present = [(name, value) for name, value in fields if value not in ("", None, [])]
    digest = hashlib.sha256(b"[")
    short: list[list[object]] = []
    written = False
    for name, value in present:
        if isinstance(value, str) and len(value) > _LONG:
            if short:
                items = _ENCODER.encode(short)[1:-1].encode("utf-8")
                digest.update((b"," if written else b"") + items + b",")
                short = []
            elif written:
                digest.update(b",")
            digest.update(b'["' + name.encode() + b'",' + _json_string_bytes(value) + b"]")
            written = True
        else:
            short.append([name, value])
    if short:
        digest.update((b"," if written else b"") + _ENCODER.encode(short)[1:-1].encode("utf-8"))
    digest.update(b"]")
    return f"{FINGERPRINT_VERSION}:{digest.hexdigest()}"


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_LONG = 64  # shorter strings go through json.dumps: the set-up would cost more than it saves
# What json.dumps(ensure_ascii=False) escapes: '"', backslash and the C0 controls; these five
# with a short escape, the other controls rarely enough to leave them to the json module.
_SHORT_ESCAPES = (
    (b"\\", b"\\\\"),
    (b'"', b'\\"'),
    (b"\n", b"\\n"),
    (b"\r", b"\\r"),
    (b"\t", b"\\t"),
)
_OTHER_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _json_string_bytes(value: str) -> bytes:
    """json.dumps(value, ensure_ascii=False).encode("utf-8"), faster for long strings."""
    raw = value.encode("utf-8")  # raises for lone surrogates, as the payload's encode() would
    if len(raw.translate(None, _OTHER_CONTROLS)) != len(raw):
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    for char, escaped in _SHORT_ESCAPES:
        if char in raw:
            raw = raw.replace(char, escaped)
    return b'"' + raw + b'"'
