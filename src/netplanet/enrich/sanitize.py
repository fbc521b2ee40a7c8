"""HTML sanitizing: the one allow-list table and its one entry point, `sanitize_html`.

Everything a feed says is untrusted. We keep text-first structure (paragraphs, links, emphasis,
code, quotes, lists, headings, images, figures, simple tables) and drop everything else. The
parsing and the policy enforcement are nh3 (ammonia, html5ever): it parses like a browser,
so obfuscations (entities, tabs inside schemes, odd nesting) are seen the way a browser sees them.

Rules on top of the table:
- relative, root-relative and protocol-relative URLs are made absolute against `base_url`;
- href and src keep only the URL_SCHEMES; `cite` (which nh3 does not treat as a URL) keeps only
  absolute http(s) URLs (netplanet.untrusted.http_url), resolved like the others;
- every <a> gets rel="nofollow noopener noreferrer"; `target` is never kept;
- data: URLs survive only as <img src>, base64, png/gif/jpeg/webp (never svg), at most 4 KB;
- <h1> becomes <h2>: the page already has its own <h1>.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

import nh3

from netplanet.enrich.tree import ascii_lower
from netplanet.untrusted import http_url

# --------------------------------------------------------------------------- the allow-list table

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        # text structure
        "p", "br", "hr", "blockquote", "pre", "code", "kbd", "samp", "var",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd",
        # inline
        "a", "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small", "sup", "sub",
        "abbr", "cite", "q", "time", "span",
        # media
        "img", "figure", "figcaption",
        # tables
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "abbr": frozenset({"title"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "del": frozenset({"cite", "datetime"}),
    "ins": frozenset({"cite", "datetime"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start", "reversed"}),
    "li": frozenset({"value"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "td": frozenset({"colspan", "rowspan"}),
}

URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

# Removed together with their content (the rest of the disallowed tags are unwrapped, keeping text).
DROPPED_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "noscript", "template", "svg", "math", "form", "button", "select", "textarea",
        "input", "option", "head", "title", "meta", "link", "base", "audio", "video",
        "canvas", "map", "dialog",
    }
)  # fmt: skip

LINK_REL = "nofollow noopener noreferrer"

DATA_IMAGE_MAX_BYTES = 4096
DATA_IMAGE_TYPES: frozenset[str] = frozenset({"image/png", "image/gif", "image/jpeg", "image/webp"})

# --------------------------------------------------------------------------- internals

_DATA_URL_RE = re.compile(r"\Adata:([a-z0-9.+/-]+);base64,([A-Za-z0-9+/=\s]*)\Z", re.IGNORECASE)
# nh3 escapes "<" in text, so in its output "<h1" / "</h1" can only start a tag (or sit inside
# an attribute value such as alt="<h1>", where rewriting it is harmless).
_H1_RE = re.compile(r"<(/?)h1(?=[\s>/])")
# An <img> whose src was refused is dead weight (and a broken-image icon). nh3 quotes every
# attribute value and escapes '"' inside it, so this cannot run past the end of the tag.
_IMG_WITHOUT_SRC_RE = re.compile(r'<img(?:\s+(?:alt|title|width|height)="[^"]*")*\s*/?>')
# Lone surrogates (a JSON Feed may spell "\ud800") cannot be encoded for nh3; nor are they text.
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


# A cite attribute with a value: "cite", optional whitespace, "=". Documents without one need no
# cite filter (the Python callback costs ~40%); the word "cite" alone is common in prose.
_CITE_ATTR_RE = re.compile(r"cite\s*=")


def _attribute_filter(base_url: str) -> Callable[[str, str, str], str | None]:
    """nh3 attribute filter for documents that mention data: URLs or have cite attributes."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr == "cite":
            return http_url(value, base_url) or None
        return _data_url_filter(tag, attr, value)

    return keep


def _data_url_filter(tag: str, attr: str, value: str) -> str | None:
    if value[:5].lower() != "data:":
        return value
    if tag != "img" or attr != "src":
        return None
    match = _DATA_URL_RE.match(value)
    if match is None or match.group(1).lower() not in DATA_IMAGE_TYPES:
        return None
    # base64 expands 3 bytes to 4 characters
    if len(match.group(2)) * 3 // 4 > DATA_IMAGE_MAX_BYTES:
        return None
    return value


def _relative_policy(base_url: str) -> Literal["deny"] | tuple[Literal["rewrite_with_base"], str]:
    """Resolve relative URLs against base_url; drop them when there is no usable base."""
    try:
        parts = urlsplit(base_url.strip())
    except ValueError:
        return "deny"
    if parts.scheme.lower() in {"http", "https"} and parts.netloc:
        return ("rewrite_with_base", base_url.strip())
    return "deny"


# Building a Cleaner costs ~35 µs (the allow-lists are copied into Rust), about what cleaning a
# post does. Bases repeat (an entry's summary and content; every post of a site without links
# of its own), and most posts need no base at all (see _base_matters): cache them.
@lru_cache(maxsize=64)
def _cleaner(base_url: str, *, filtered: bool) -> nh3.Cleaner:
    """`filtered`: with the attribute filter, which lets data: through only as small images."""
    schemes = set(URL_SCHEMES | {"data"}) if filtered else set(URL_SCHEMES)
    try:
        return nh3.Cleaner(
            tags=set(ALLOWED_TAGS),
            clean_content_tags=set(DROPPED_WITH_CONTENT),
            attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
            attribute_filter=_attribute_filter(base_url) if filtered else None,
            strip_comments=True,
            link_rel=LINK_REL,
            url_schemes=schemes,
            url_relative=_relative_policy(base_url),
        )
    except ValueError:  # a base that urlsplit accepts but ammonia's URL parser refuses
        return _cleaner("", filtered=filtered)


# ammonia resolves href and src against the base, the attribute filter resolves cite.
_ABSOLUTE_VALUE_RE = re.compile(r"\s*=\s*[\"']?https?://")


def _base_matters(lowered: str) -> bool:
    """False when every "href"/"src"/"cite" in `lowered` (html.lower()) starts an absolute URL
    attribute.

    The base only changes relative URLs, so such a document cleans the same with any base: it
    can share one cached Cleaner. Anything unclear (an entity in a value, the word "href" in
    the text) counts as relative: the only cost is a Cleaner for this base. Attribute names are
    never entity-encoded and html5ever lower-cases only ASCII, so lower() finds them all.
    """
    # str.find skips from one occurrence to the next (neither word can overlap itself or the
    # other), and the first relative one settles it.
    for word in ("href", "src", "cite"):
        start = lowered.find(word)
        while start >= 0:
            start += len(word)
            if not _ABSOLUTE_VALUE_RE.match(lowered, start):
                return True
            start = lowered.find(word, start)
    return False


def sanitize_html(html: str, *, base_url: str) -> str:
    """Return `html` reduced to the allow-list, with absolute URLs and safe links."""
    if not html or html.isspace():
        return ""
    try:
        return _sanitize(html, base_url)
    except UnicodeEncodeError:  # raised by nh3 only, for lone surrogates: drop them and retry
        return _sanitize(_SURROGATE_RE.sub("", html), base_url)


def _sanitize(html: str, base_url: str) -> str:
    # Only ASCII words are looked for, which str.lower() (several times slower on non-ASCII
    # text) would find in the same places: see ascii_lower.
    lowered = ascii_lower(html)
    # The attribute filter is a Python callback (≈40% slower), so it runs only when needed;
    # an obfuscated "data:" that this check misses is stripped, because the scheme isn't allowed.
    filtered = "data:" in lowered or ("cite" in lowered and _CITE_ATTR_RE.search(lowered))
    base = base_url if _base_matters(lowered) else ""
    cleaned = _cleaner(base, filtered=bool(filtered)).clean(html)
    if "<h1" in cleaned:
        cleaned = _H1_RE.sub(r"<\1h2", cleaned)
    if "<img" in cleaned:
        cleaned = _IMG_WITHOUT_SRC_RE.sub("", cleaned)
    return cleaned.strip()
