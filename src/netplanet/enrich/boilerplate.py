"""Boilerplate removal: what blog engines, plugins and feed proxies append to every post.

`strip_boilerplate` runs on raw feed HTML, before sanitizing, and removes:
- WordPress/Yoast footers "The post X appeared first on Y." / "…first appeared on…" (with links);
- "Read more »", "Continue reading →", "Continue reading <title>" links;
- trailing "[…]", "[...]", "[&hellip;]" truncation markers;
- share blocks ("Share this:", Jetpack/AddToAny containers) and links to share endpoints;
- tracking pixels (1×1 or 0×0 images, feedburner/feedsportal/stats/pixel URLs) and FeedBurner
  leftovers (feedflare blocks, feeds.feedburner.com/~ff/ and ~r/ images and links);
- paragraphs and containers left empty.
A bare trailing "…" is kept: it honestly says the feed truncated the text.

Input without any marker is returned untouched (a substring pre-check), so the lxml parse is paid
only by posts that need it.
"""

from __future__ import annotations

import re
from typing import cast

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

_POST_FOOTER_RE = re.compile(
    r"\A\s*the\s+post\s.+\s(?:appeared\s+first|first\s+appeared)\s+on\s.+?\.?\s*\Z",
    re.IGNORECASE | re.DOTALL,
)
_MORE_LINK_RE = re.compile(
    r"\A\W*(?:(?:read\s+more|keep\s+reading|read\s+the\s+rest|more)\W*"
    r"|read\s+the\s+full\s+(?:post|article|story)\W*"
    r"|(?:continue\s+reading|read\s+more\s*[:»→]).{0,200})\Z",
    re.IGNORECASE | re.DOTALL,
)
_SHARE_LABEL_RE = re.compile(
    r"\A\s*(?:share\s+this(?:\s+(?:post|article|story))?|like\s+this|share\s+on)\s*:?\s*\Z",
    re.IGNORECASE,
)
_TRAILING_MARKER_RE = re.compile(r"\s*\[\s*(?:…|\.\.\.)\s*\]\s*\Z")
_TRAILING_MORE_TEXT_RE = re.compile(
    r"\s*(?:read\s+more|continue\s+reading)\s*(?:»|→|›|>>|\.\.\.|…)\s*\Z", re.IGNORECASE
)

_SHARE_URL_RE = re.compile(
    r"(?:facebook\.com/(?:sharer|share\.php|dialog/share)|\b(?:twitter|x)\.com/(?:intent|share)"
    r"|linkedin\.com/(?:sharearticle|sharing|cws/share|shareArticle)|reddit\.com/submit"
    r"|pinterest\.com/pin/create|news\.ycombinator\.com/submitlink|tumblr\.com/share"
    r"|t\.me/share|wa\.me/\?|api\.whatsapp\.com/send|getpocket\.com/(?:save|edit)"
    r"|mastodonshare|toot\.kytta|share=(?:facebook|twitter|linkedin|email|reddit|pocket))",
    re.IGNORECASE,
)
_SHARE_CLASS_RE = re.compile(
    r"(?:\A|\s)(?:sharedaddy|sd-sharing[\w-]*|sd-social[\w-]*|addtoany[\w-]*|a2a_kit"
    r"|share-?buttons?|social-?share[\w-]*|sharing-?buttons?|jp-relatedposts|feedflare)(?:\s|\Z)",
    re.IGNORECASE,
)
_FEEDBURNER_RE = re.compile(
    r"feeds\.feedburner\.com/~(?:ff|r)/|feedproxy\.google\.com/~(?:ff|r)/|feedsportal\.com",
    re.IGNORECASE,
)
# Images only: on a link, "/track/" may well be a real page.
_TRACKER_IMG_RE = re.compile(
    r"feeds\.feedburner\.com/|feedproxy\.google\.com/|feedsportal\.com"
    r"|//(?:pixel|stats|tracking|beacon)\.|pixel\.wp\.com|stats\.wordpress\.com"
    r"|/(?:pixel|tracking|beacon|track)(?:\.gif|\.png|/|\?|\Z)",
    re.IGNORECASE,
)
# A cheap pre-check decides whether the document needs parsing at all. Each rule above needs at
# least one of these substrings (in the lower-cased input) or a match of _EMPTY_OR_MARKER_RE.
# Substring tests run at memchr speed; one big case-insensitive alternation cost more than the
# lxml parse it was meant to save.
_NEEDLES: tuple[str, ...] = (
    "appeared", "more", "read", "continue", "share", "sharing", "addtoany", "a2a", "like this",
    "relatedposts", "intent", "submit", "pin/create", "whatsapp", "getpocket", "toot.", "t.me/",
    "feedburner", "feedproxy", "feedsportal", "feedflare", "pixel", "stats", "tracking",
    "beacon", "track", "<img",
)  # fmt: skip
_EMPTY_OR_MARKER_RE = re.compile(
    r"\[\s*(?:…|\.\.\.|&hellip;|&#8230;|&#x2026;)\s*\]"
    r"|<(?:p|div|span|li)\b[^>]*>(?:\s|&nbsp;|&#160;|<br\s*/?>)*</",
    re.IGNORECASE,
)


def _may_have_boilerplate(html: str, lowered: str) -> bool:
    return any(n in lowered for n in _NEEDLES) or _EMPTY_OR_MARKER_RE.search(html) is not None


_MAX_FOOTER_CHARS = 400  # a footer or a share label is short; a paragraph of prose is not
_TINY_RE = re.compile(r"\A\s*[01]\s*(?:px)?\s*\Z")

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
# Found in one XPath query (in C) instead of a Python walk: no text besides (no-break) spaces
# and no contentful descendant.
_EMPTY_CONTAINERS = etree.XPath(
    "descendant::*[{}][not(normalize-space(translate(string(.), '\u00a0', ' ')))]"
    "[not(descendant::*[{}])]".format(
        " or ".join(f"self::{t}" for t in _PRUNABLE),
        " or ".join(f"self::{t}" for t in _CONTENTFUL),
    )
)


_STRING = etree.XPath("string()")


def _folded(text: str) -> str:
    """`text` lower-cased so that a word the IGNORECASE rules match is a plain substring.

    Besides A-Z, re.IGNORECASE lets "İ" and "ı" match i, "ſ" match s and the Kelvin sign match
    k (which lower() turns into k); "İ".lower() is "i" plus a combining dot, dropped here.
    """
    folded = text.lower()
    if not folded.isascii():
        folded = folded.replace("ı", "i").replace("ſ", "s").replace("\u0307", "")
    return folded


# The empty-container XPath is the slowest step, and most posts have no empty container. In the
# serialized tree, an empty container's start tag is followed only by start tags (none of them
# contentful), comments and blank text up to the first end tag: no match, no XPath.
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_MAYBE_EMPTY_RE = re.compile(
    r"<(?:{})(?=[\s>/]){}>(?:[\s\xa0]|&[#\w]+;|<!--.*?-->|<(?!/|(?:{})(?=[\s>/])){}>)*</".format(
        "|".join(_PRUNABLE), _ATTRS, "|".join(_CONTENTFUL), _ATTRS
    ),
    re.DOTALL,
)


def _text(el: HtmlElement) -> str:
    # XPath string() concatenates in C: several times faster than joining itertext()
    return str(_STRING(el))


def _is_tracking_image(img: HtmlElement) -> bool:
    width, height = img.get("width", ""), img.get("height", "")
    if _TINY_RE.match(width) and _TINY_RE.match(height):
        return True
    style = img.get("style", "").replace(" ", "").lower()
    if "width:1px" in style and "height:1px" in style:
        return True
    return bool(_TRACKER_IMG_RE.search(img.get("src", "")))


def _last_text_slot(el: HtmlElement) -> tuple[HtmlElement, str] | None:
    """The element and attribute ("text" or "tail") holding the document's last visible text."""
    for child in reversed(el):
        if child.tail and child.tail.strip():
            return child, "tail"
        if isinstance(child.tag, str):  # comments' .text is not visible text
            slot = _last_text_slot(child)
            if slot is not None:
                return slot
    if el.text and el.text.strip():
        return el, "text"
    return None


# What the two trailing-marker patterns can end with (before trailing whitespace).
_MARKER_ENDS = ("]", "»", "→", "›", ">>", "...", "…")


def _strip_trailing_markers(root: HtmlElement) -> None:
    """Remove "[…]" and a plain-text "Read more »" from the very end of the text."""
    for _ in range(3):  # "… [...] Read more »" takes two passes; a third finds nothing
        slot = _last_text_slot(root)
        if slot is None:
            return
        holder, attr = slot
        value: str = getattr(holder, attr)
        if not value.rstrip().endswith(_MARKER_ENDS):  # spares the regexes a long scan
            return
        stripped = _TRAILING_MORE_TEXT_RE.sub("", _TRAILING_MARKER_RE.sub("", value))
        if stripped == value:
            return
        setattr(holder, attr, stripped)


def _find_boilerplate(
    root: HtmlElement, *, has_class: bool
) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """Elements to remove with their content, and links to unwrap (keeping their text).

    `has_class`: whether any element may have a class attribute (False skips the class rules).
    """
    doomed: list[HtmlElement] = []
    unwrap: list[HtmlElement] = []
    # Every text a rule matches is part of the document's whole text, and holds one of these
    # words: without them, most posts skip the per-element texts.
    whole = _folded(_text(root))
    by_text = any(word in whole for word in ("appeared", "share", "like"))
    more_text = any(word in whole for word in ("more", "read", "continue"))
    blocks = ("p", "div", "section", "aside", "footer", "ul", "h3", "h4", "span")
    for el in root.iter(*blocks) if has_class or by_text else ():
        if el is root:  # the wrapper <div> cannot be dropped (a post that is only a footer)
            continue
        if has_class and _SHARE_CLASS_RE.search(el.get("class", "")):
            doomed.append(el)
            continue
        if not by_text:
            continue
        text = _text(el)
        if len(text) > _MAX_FOOTER_CHARS:
            continue
        # the WordPress/Yoast footer always links the post and the site
        footer = (
            el.tag in {"p", "div"} and _POST_FOOTER_RE.match(text) and el.find(".//a") is not None
        )
        if footer or _SHARE_LABEL_RE.match(text):
            doomed.append(el)
    for a in root.iter("a"):
        href = a.get("href", "")
        if _SHARE_URL_RE.search(href):
            doomed.append(a)
        elif _FEEDBURNER_RE.search(href):
            # flare links hold only images; a ~r/ link with words is a real (proxied) link
            (unwrap if _text(a).strip() else doomed).append(a)
        elif (has_class and "more-link" in a.get("class", "")) or (
            more_text and _MORE_LINK_RE.match(_text(a))
        ):
            doomed.append(a)
    doomed.extend(img for img in root.iter("img") if _is_tracking_image(img))
    return doomed, unwrap


def _may_have_empties(root: HtmlElement, serialized: str) -> bool:
    """False only when _EMPTY_CONTAINERS(root) is sure to find nothing (`serialized` is root's)."""
    # Position 5: after the wrapper's "<div>". An <li> without children is written with no end
    # tag, which the pattern cannot tell from a sibling's start: those are looked up directly.
    # Searched lower-cased (tags are already; only letters change): IGNORECASE costs twice.
    return _MAYBE_EMPTY_RE.search(serialized.lower(), 5) is not None or any(
        len(li) == 0 and not li.text for li in root.iter("li")
    )


def strip_boilerplate(html: str) -> str:
    """Return `html` without feed/blog boilerplate (see the module docstring)."""
    if not html:
        return html
    lowered = html.lower()
    if not _may_have_boilerplate(html, lowered):
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html

    # Attribute names are never entity-decoded, and the parser lower-cases only ASCII: without
    # "class" in the lowered input, no element has a class attribute.
    doomed, unwrap = _find_boilerplate(root, has_class="class" in lowered)
    for el in doomed:
        el.drop_tree()  # keeps the tail text
    for el in unwrap:
        el.drop_tag()
    _strip_trailing_markers(root)

    out: str = lxml.html.tostring(root, encoding="unicode")
    if _may_have_empties(root, out):
        # Prune containers left empty (XPath returns document order: reverse for innermost first).
        empties = cast(list[HtmlElement], _EMPTY_CONTAINERS(root))
        for el in reversed(empties):
            el.drop_tree()
        if empties:
            out = lxml.html.tostring(root, encoding="unicode")
    return out[5:-6].strip()  # drop the <div> wrapper added by create_parent
