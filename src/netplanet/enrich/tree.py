"""The lxml HTML parse of enrich: a fragment in a <div>, the tree edits and texts it needs.

`parse_fragment` builds the same tree as `lxml.html.fragment_fromstring(html,
create_parent="div")`, cheaper: the parser has no Python element-class lookup (lxml.html's
calls a Python method for every element proxy it creates), and the <body> the parser made is
renamed rather than a new <div> built and the children moved into it. `serialize` writes what
`lxml.html.tostring` writes. The helpers take plain `etree._Element`s, so lxml.html's element
methods (`drop_tree`, `drop_tag`, `text_content`) are re-implemented here with the same effect.
`parse_clean` is the parse of excerpts and text (control characters removed first), and
`collapsed_text` a tree's text with its whitespace collapsed.
"""

from __future__ import annotations

import re
from typing import cast

from lxml import etree

Element = etree._Element

# Not lxml.html's parser: the same libxml2 options, without the Python class lookup.
_PARSER = etree.HTMLParser()
_UTF8_PARSER = etree.HTMLParser(encoding="utf-8")
# What lxml.html.fragments_fromstring tests before wrapping the input in <html><body>.
_FULL_HTML_RE = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)
# lxml.html.tostring removes these from its output (include_meta_content_type=False).
_META_CONTENT_TYPE = '<meta http-equiv="Content-Type"'
_META_CONTENT_TYPE_RE = re.compile(r'<meta http-equiv="Content-Type"[^>]*>')

# NUL, most C0 controls and lone surrogates are not text; lxml refuses some of them in places.
_UNPARSABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same control characters as bytes: deleting them from the UTF-8 form is a C loop several
# times faster than a regex search for them (lone surrogates make the encoding fail).
_UNPARSABLE_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# What str.split() splits on besides the whitespace XPath's normalize-space() collapses
# (space, \t, \n, \r), by whether it is ASCII.
_OTHER_ASCII_SPACE = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
_NORMALIZED_TEXT = etree.XPath("normalize-space()", smart_strings=False)

string_of = etree.XPath("string()", smart_strings=False)
"""An element's text content, as `HtmlElement.text_content()`: concatenated in C."""


def ascii_lower(text: str) -> str:
    """`text` with its ASCII letters lower-cased, and only those.

    Where only ASCII words are looked for, this finds what `text.lower()` would (save the Kelvin
    sign, the one other character lower() turns into an ASCII letter but "İ", which becomes "i"
    and a combining dot): lower() is several times slower on non-ASCII text.
    """
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


# What the parser changes in text, or lxml refuses in it: C0 controls but tab and newline
# (a carriage return becomes a newline), and U+FFFE / U+FFFF (and lone surrogates, which
# cannot be encoded).
_NOT_PLAIN = bytes([*range(0x00, 0x09), *range(0x0B, 0x20)])


def is_plain_text(html: str) -> bool:
    """Whether `html` parses (parse_fragment) into the root <div> holding `html` as its text
    (None when blank) and nothing else: no markup, no entity, nothing the parser rewrites."""
    if "<" in html or "&" in html or "\ufffe" in html or "\uffff" in html:
        return False
    try:
        encoded = html.encode()
    except UnicodeEncodeError:
        return False
    return len(encoded.translate(None, _NOT_PLAIN)) == len(encoded)


def _parse_utf8(html: str) -> Element | None:
    # lxml hands a non-ASCII str to libxml2 as UTF-16 or UCS-4, which it converts: UTF-8 bytes
    # parse ~20% faster into the same tree (the parser's declared encoding wins over any
    # <meta charset>, as the str's does). A lone surrogate cannot be encoded: parse the str.
    try:
        encoded = html.encode()
    except UnicodeEncodeError:
        return etree.fromstring(html, _PARSER)
    return etree.fromstring(encoded, _UTF8_PARSER)


def parse_fragment(html: str) -> Element | None:
    """`html` parsed under a <div> root; None where lxml.html's fragment_fromstring raises.

    That is a ParserError for an empty document, a ValueError when the leading text holds a
    control character, and an AssertionError (uncaught by its callers: a bug) when a full
    document ("<html>…") yields no <body>.
    """
    if not _FULL_HTML_RE.match(html):
        html = f"<html><body>{html}</body></html>"
    try:
        doc = etree.fromstring(html, _PARSER) if html.isascii() else _parse_utf8(html)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if doc is None or doc.tag != "html":
        return None
    bodies = [child for child in doc if child.tag == "body"]
    if len(bodies) != 1:
        return None
    root = bodies[0]
    # fragment_fromstring keeps only the body's children, and its text when not blank.
    root.tag = "div"
    root.attrib.clear()
    text = root.text
    if text is not None:
        try:
            # lxml.html sets it on its new <div>: a control character makes that raise
            root.text = text if text.strip() else None
        except ValueError:
            return None
    root.tail = None
    return root


def serialize(root: Element) -> str:
    """`lxml.html.tostring(root, encoding="unicode")`."""
    out: str = etree.tostring(root, method="html", encoding="unicode")
    if _META_CONTENT_TYPE in out:
        out = _META_CONTENT_TYPE_RE.sub("", out)
    return out


def drop_tree(el: Element) -> None:
    """Remove `el` and its content, keeping its tail text (`HtmlElement.drop_tree`)."""
    parent = el.getparent()
    assert parent is not None
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def drop_tag(el: Element) -> None:
    """Remove `el`'s tag, keeping its text and children in place (`HtmlElement.drop_tag`)."""
    parent = el.getparent()
    assert parent is not None
    previous = el.getprevious()
    if el.text and isinstance(el.tag, str):
        if previous is None:
            parent.text = (parent.text or "") + el.text
        else:
            previous.tail = (previous.tail or "") + el.text
    if el.tail:
        if len(el):
            last = el[-1]
            last.tail = (last.tail or "") + el.tail
        elif previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    index = parent.index(el)
    parent[index : index + 1] = list(el)


def without_unparsable(html: str) -> str:
    """`html` without the characters _UNPARSABLE_RE matches."""
    try:
        encoded = html.encode()
    except UnicodeEncodeError:
        return _UNPARSABLE_RE.sub("", html)
    if len(encoded.translate(None, _UNPARSABLE_BYTES)) == len(encoded):
        return html
    return _UNPARSABLE_RE.sub("", html)


def parse_clean(html: str) -> Element | None:
    """parse_fragment(without_unparsable(html)), or None when that is blank."""
    html = without_unparsable(html)
    if not html.strip():
        return None
    return parse_fragment(html)


def collapsed_text(root: Element) -> str:
    """root's text with whitespace collapsed: `" ".join(text.split())` of its string value."""
    # normalize-space() collapses in C, but only XML's four spaces: it is the answer when the
    # text holds no other character that str.split() splits on (str.isspace). Printable
    # strings hold none but " "; an ASCII one has six candidates to look for.
    normalized = cast(str, _NORMALIZED_TEXT(root))
    if normalized.isascii():
        if not any(space in normalized for space in _OTHER_ASCII_SPACE):
            return normalized
    elif normalized.isprintable():
        return normalized
    # Collapsing XML's spaces first changed no word: splitting the result finds them all.
    return " ".join(normalized.split())
