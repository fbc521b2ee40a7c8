"""Sponsored-post detection from the title's markers, the entry's categories and the opening
words of its text.

Vendors and podcasts label paid posts in the title ("[Sponsored] …", "Sponsor: …",
"… – Paid post") or with a category. Only whole labels count: a title that merely uses the
word ("How we sponsored a hackathon", "unsponsored") is not a sponsored post. In the text,
only a disclosure that opens it counts ("Sponsored by Acme.", "This post is sponsored by
…"): the same words further down are usually about something else ("the meetup was
sponsored by …"), and a podcast's ad read ("this episode is brought to you by") does not make
the episode paid content.
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


# A disclosure as the text's first words: "Sponsored by X", "Sponsored:", "Sponsored post",
# "This post/article/content is (a) sponsored (post)/sponsored by ...", "Paid post".
_TEXT_RE = re.compile(
    r"\A[\s\[(]*(?:sponsored\s*(?:by\s|post\b|content\b|[:|–—-])"
    r"|this\s+(?:post|article|blog\s+post|content)\s+(?:is|was)\s+"
    r"(?:a\s+)?(?:sponsored|paid\s+for)\b"
    r"|this\s+is\s+a\s+sponsored\s+(?:post|article)\b"
    r"|paid\s+(?:post|content|partnership)\s*[:|–—.-])",
    re.IGNORECASE,
)
TEXT_OPENING_CHARS = 200


def is_sponsored(title: str, categories: Iterable[str] = (), text: str = "") -> bool:
    """True when the title carries a sponsorship label, a category says so, or the text
    opens with a sponsorship disclosure."""
    if _may_be_labelled(title) and _TITLE_RE.search(title):
        return True
    if text and _TEXT_RE.search(text[:TEXT_OPENING_CHARS]):
        return True
    return any(
        _CATEGORY_SPACE_RE.sub(" ", c).strip().casefold() in SPONSORED_CATEGORIES
        for c in categories
    )
