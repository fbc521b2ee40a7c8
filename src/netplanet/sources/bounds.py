"""Length bounds for what an operator or a feed names a source with: titles and categories.

A title is shown in lists, page headings, output feeds and the search index; a category name in
the navigation of every page. Neither has a natural length limit in OPML, forms or feeds (a
2,000,000-character OPML title once imported as is), so every path that sets one goes through
these helpers: whitespace collapsed, then cut at a word boundary with "…" when too long.
"""

from __future__ import annotations

__all__ = [
    "MAX_CATEGORY_CHARS",
    "MAX_TITLE_CHARS",
    "bound_category",
    "bound_text",
    "bound_title",
]

MAX_TITLE_CHARS = 200
"""Longer than any real blog or podcast name, short enough for a heading or a list row."""
MAX_CATEGORY_CHARS = 100
"""Category names sit in the navigation bar of every page; nested OPML folders join with " / "."""

_ELLIPSIS = "…"


def bound_text(text: str, limit: int) -> str:
    """`text` with runs of whitespace collapsed to one space, cut to at most `limit` characters.

    A cut ends with "…" and falls after the last whole word when one ends in the last third of
    the allowed length; otherwise (a giant word) it is a hard cut.
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2, got {limit}")
    # Only the head can survive: never split a giant string into millions of words.
    window = limit * 4 + 64
    more = len(text) > window and not text[window:].isspace()
    collapsed = " ".join(text[:window].split())
    if len(collapsed) <= limit and not more:
        return collapsed
    room = limit - len(_ELLIPSIS)
    cut = collapsed[: room + 1]
    boundary = cut.rfind(" ")
    cut = cut[:boundary] if boundary >= room * 2 // 3 else cut[:room]
    return cut.rstrip() + _ELLIPSIS


def bound_title(text: str) -> str:
    """A source title within MAX_TITLE_CHARS."""
    return bound_text(text, MAX_TITLE_CHARS)


def bound_category(text: str) -> str:
    """A category name within MAX_CATEGORY_CHARS."""
    return bound_text(text, MAX_CATEGORY_CHARS)
