"""URL-safe names for sources and categories (``/source/<slug>/``, ``/category/<slug>/``).

Slugs are ASCII, lowercase, hyphen-separated and never empty. Accents are transliterated with
Unicode decomposition; a few letters that do not decompose get a fixed spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

__all__ = ["slugify", "unique_slug"]

# Letters NFKD leaves alone (no combining-mark decomposition), spelled the way people type them.
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "&": " and ",
        "@": " at ",
        # Apostrophes join rather than split: "Ivan's blog" -> "ivans-blog".
        "'": "",
        "’": "",
    }
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_len: int = 60, fallback: str = "source") -> str:
    """Make `text` a slug of at most `max_len` characters; `fallback` (returned as given, so pass
    a slug such as "source" or "category") when nothing is left.

    Truncation cuts at a hyphen when one is near the end, so words are not chopped in half.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_ALNUM.sub("-", ascii_text).strip("-")
    if len(slug) > max_len:
        cut = slug[: max_len + 1]
        # Prefer a word boundary within the last third; otherwise cut hard.
        boundary = cut.rfind("-")
        slug = cut[:boundary] if boundary >= max_len * 2 // 3 else slug[:max_len]
        slug = slug.rstrip("-")
    return slug or fallback


def unique_slug(base: str, taken: Container[str], *, max_len: int = 60) -> str:
    """Return `base`, or `base-2`, `base-3`, ... : the first not in `taken`.

    The base is shortened when needed so the suffixed slug still fits in `max_len`.
    """
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        stem = base[: max(1, max_len - len(suffix))].rstrip("-") or base[:1]
        candidate = stem + suffix
        if candidate not in taken:
            return candidate
        n += 1
