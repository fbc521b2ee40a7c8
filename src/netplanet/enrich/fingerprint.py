"""Stable, versioned hashes of entries: the last-resort identity and the "was it edited?" print.

Both are pure functions of their arguments and never change for the same input across releases:
a hash that changes means the store rewrites (or duplicates) entries. To change what goes in,
bump the version prefix instead of editing the recipe. Empty fields are left out of the
fingerprint, so adding a field later (empty for old entries) keeps old hashes valid.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from netplanet.model import Enclosure

FINGERPRINT_VERSION = "v1"

_SPACE_RE = re.compile(r"\s+")


def _normalize_title(title: str) -> str:
    # NFKC + casefold: "Ｂ\u00a0GP" and "b gp" differ only in how a feed spelled them
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", title).casefold()).strip()


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
    present = [[name, value] for name, value in fields if value not in ("", None, [])]
    payload = json.dumps(present, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return f"{FINGERPRINT_VERSION}:{digest}"
