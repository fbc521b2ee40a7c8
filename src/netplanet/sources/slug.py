"""URL-safe names for sources and categories (``/source/<slug>/``, ``/category/<slug>/``).

Slugs are ASCII, lowercase, hyphen-separated and never empty. Accents are transliterated with
Unicode decomposition; a few letters that do not decompose get a fixed spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable

__all__ = ["SlugAllocator", "slugify", "unique_slug"]

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
    while (candidate := _suffixed(base, n, max_len)) in taken:
        n += 1
    return candidate


class SlugAllocator:
    """Hands out unique slugs for many new sources at once (an OPML import).

    `unique_slug` tries -2, -3, ... from the start every time, so a thousand sources with the
    same title would cost half a million lookups; this remembers, per base, where the search
    stopped. It gives the same slugs as calling `unique_slug` with every slug taken so far.
    """

    def __init__(self, taken: Iterable[str], *, max_len: int = 60) -> None:
        self._taken = set(taken)
        self._next: dict[str, int] = {}
        self._max_len = max_len

    def take(self, base: str) -> str:
        """A slug from `base` not handed out nor taken before; it is taken from now on."""
        slug = base
        if slug in self._taken:
            n = self._next.get(base, 2)
            while (slug := _suffixed(base, n, self._max_len)) in self._taken:
                n += 1
            self._next[base] = n + 1
        self._taken.add(slug)
        return slug


def _suffixed(base: str, n: int, max_len: int) -> str:
    suffix = f"-{n}"
    stem = base[: max(1, max_len - len(suffix))].rstrip("-") or base[:1]
    return stem + suffix
