"""Containers left empty by boilerplate removal: which ones, found cheaply.

An empty container is a prunable element (a paragraph, a div, a link…) whose text is only
blanks and that holds no contentful element (an image, a table…). `strip_boilerplate` removes
them; most posts have none, which `may_have_empties` tells from the serialized tree.
"""

from __future__ import annotations

import re

from netplanet.enrich.tree import Element

# Elements that count as content even with no text in them.
_CONTENTFUL = (
    "img", "picture", "video", "audio", "iframe", "object", "embed", "svg", "hr", "canvas",
    "table", "input", "math",
)  # fmt: skip
# Containers removed when nothing contentful is left in them.
_PRUNABLE = (
    "p", "div", "span", "li", "ul", "ol", "section", "aside", "footer", "figure",
    "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "a", "em", "strong", "b", "i", "small",
)  # fmt: skip
_PRUNABLE_SET = frozenset(_PRUNABLE)
_CONTENTFUL_SET = frozenset(_CONTENTFUL)
assert not _PRUNABLE_SET & _CONTENTFUL_SET  # empty_containers relies on it
_BLANK = " \t\n\r\xa0"  # what XPath's normalize-space() drops, and no-break spaces


def empty_containers(root: Element) -> list[Element]:
    """root's descendants to prune, in document order: prunable elements whose text is only
    blanks (_BLANK) and that hold no contentful element.

    One Python pass: the XPath query saying the same (see the tests) evaluates string() and a
    descendant search per element, and took five times longer on real posts.
    """
    found: list[Element | None] = []

    def blank(el: Element) -> bool:  # no text but blanks, and no contentful element, inside
        text = el.text
        empty = not (text and text.strip(_BLANK))
        for child in el:
            tag = child.tag
            if isinstance(tag, str):  # comments and PIs hold no text (their tails do)
                if len(child):
                    child_blank = blank_inside(child)
                else:  # a leaf (most elements): no call
                    text = child.text
                    child_blank = not (text and text.strip(_BLANK))
                    if child_blank and tag in _PRUNABLE_SET:
                        found.append(child)
                if not child_blank or tag in _CONTENTFUL_SET:  # (no prunable is contentful)
                    empty = False
            tail = child.tail
            if empty and tail and tail.strip(_BLANK):
                empty = False
        return empty

    def blank_inside(el: Element) -> bool:
        # An element's descendants come after it in document order: hold its place.
        slot = len(found)
        found.append(None)
        empty = blank(el)
        if empty and el.tag in _PRUNABLE_SET:
            found[slot] = el
        return empty

    blank(root)
    return [el for el in found if el is not None]


# Finding empty containers is the slowest step, and most posts have no empty container. In the
# serialized tree, an empty container's start tag is followed only by start tags (none of them
# contentful), comments and blank text up to the first end tag: no match, no XPath.
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_MAYBE_EMPTY_RE = re.compile(
    r"<(?:{})(?=[\s>/]){}>(?:[\s\xa0]|&[#\w]+;|<!--.*?-->|<(?!/|(?:{})(?=[\s>/])){}>)*</".format(
        "|".join(_PRUNABLE), _ATTRS, "|".join(_CONTENTFUL), _ATTRS
    ),
    re.DOTALL,
)


def may_have_empties(root: Element, serialized: str) -> bool:
    """False only when empty_containers(root) is sure to find nothing (`serialized` is root's)."""
    # Position 5: after the wrapper's "<div>". An <li> without children is written with no end
    # tag, which the pattern cannot tell from a sibling's start: those are looked up directly.
    # The serializer writes tag names as the parser stored them, ASCII lower-cased: an empty
    # container's tags are matched as written (a tag name the pattern lower-cased could only
    # add a match).
    return _MAYBE_EMPTY_RE.search(serialized, 5) is not None or any(
        len(li) == 0 and not li.text for li in root.iter("li")
    )
