"""Sponsored-post detection from the title's markers and the entry's categories.

Vendors and podcasts label paid posts in the title ("[Sponsored] …", "Sponsor: …",
"… – Paid post") or with a category. Only whole labels count: a title that merely uses the
word ("How we sponsored a hackathon", "unsponsored") is not a sponsored post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LABEL = (
    r"(?:sponsored(?:\s+(?:post|content|episode|article|by\s[^\]):|–—-]{1,60}))?"
    r"|sponsor|paid\s+(?:post|content|partnership)|partner\s+(?:content|post)"
    r"|advertorial|advertisement|promoted(?:\s+(?:post|content))?)"
)
_SEP = r"[:|–—-]"
_TITLE_RE = re.compile(
    rf"[\[(]\s*(?:{_LABEL}|ad)\s*[\])]"  # "[Sponsored]", "(Paid post)", "[Ad]" anywhere
    rf"|\A\s*{_LABEL}\s*{_SEP}"  # "Sponsor: …", "Sponsored by Acme – …" (not "AD: …")
    rf"|{_SEP}\s*{_LABEL}\s*\Z",  # "… | Sponsored"
    re.IGNORECASE,
)

SPONSORED_CATEGORIES: frozenset[str] = frozenset(
    {
        "sponsored", "sponsor", "sponsored post", "sponsored posts", "sponsored content",
        "sponsored episode", "paid post", "paid content", "partner content", "advertorial",
        "promoted", "advertisement",
    }
)  # fmt: skip
_CATEGORY_SPACE_RE = re.compile(r"[\s_-]+")


# Every label _TITLE_RE accepts holds one of these words, or is "ad" in brackets: an ASCII title
# (where lower() and re.IGNORECASE agree) without them is spared the regex's scan.
_LABEL_WORDS = ("sponsor", "paid", "partner", "advert", "promoted")


def _may_be_labelled(title: str) -> bool:
    if not title.isascii():
        return True
    lowered = title.lower()
    if any(word in lowered for word in _LABEL_WORDS):
        return True
    return "ad" in lowered and ("[" in title or "(" in title)


def is_sponsored(title: str, categories: Iterable[str] = ()) -> bool:
    """True when the title carries a sponsorship label or a category says so."""
    if _may_be_labelled(title) and _TITLE_RE.search(title):
        return True
    return any(
        _CATEGORY_SPACE_RE.sub(" ", c).strip().casefold() in SPONSORED_CATEGORIES
        for c in categories
    )
