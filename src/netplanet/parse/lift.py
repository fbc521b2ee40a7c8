"""Large CDATA sections lifted out of a document before libxml2 parses it, and put back after.

libxml2 reads CDATA about ten times slower than Python decodes UTF-8, and in real feeds more
than half of the bytes are CDATA (content:encoded, description). `lift` replaces each large
section that is an element's whole content (whitespace aside) with a short placeholder and
returns the section texts; `restore` puts them back into text read from the tree.

The result must be the tree libxml2 would have built, so a section is lifted only when libxml2
would read it without complaint and in the same way: a UTF-8 document without a DOCTYPE, the
section valid UTF-8 without characters XML forbids, its line endings normalized as the parser
would. Comments, processing instructions and CDATA sections are skipped whole, so an opener
inside one of them is never taken for a real section. Anything else is left for libxml2. A
placeholder carries a per-process random token, so document text cannot forge one; an unknown
placeholder is left as it is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

MARK = "\ue000"
"""First character of every placeholder (private use: never in a name, never escaped)."""

MARK_BYTES = MARK.encode()
_MARK = MARK + secrets.token_hex(8)
_MARK_BYTES = _MARK.encode()
_MARK_LEN = len(_MARK)
MIN_BYTES = 1024
"""Smaller sections cost more to lift in Python than libxml2 spends reading them."""
_MAX_BYTES = 10_000_000  # libxml2's text node limit without huge_tree: leave it to fail there
_PROBE = 16384  # no CDATA opener in the first 16 KB: do not scan at all
# Give up after passing 32 sections, comments or instructions that were not lifted, and 16 more
# for each one lifted: the scan is Python, and a feed of many small sections gains nothing.
_SKIP_BUDGET, _SKIP_PER_LIFT = 32, 16
_SPECIAL = re.compile(rb"<(?:!\[CDATA\[|!--|\?|!DOCTYPE)")
_DECL_ENCODING = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""")
# The parent's start tag, ending just before the section: no "/>" (the section would be a tail).
_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]{0,100})(?:\s[^<>]{0,2000}?)?(?<!/)>\s*")
_NOT_A_START_TAG = frozenset(b"/!?<> \t\r\n")
_END_TAG = re.compile(rb"\s*</([A-Za-z_][\w.:-]{0,100})\s*>")
# Bytes XML 1.0 forbids anywhere (libxml2 rejects them even inside CDATA).
_FORBIDDEN = bytes(b for b in range(32) if b not in (9, 10, 13))
# The forbidden bytes mapped to a space, every other byte to itself: bytes.translate returns
# its input object when nothing changed, and a table without deletions takes CPython's faster
# loop (the check runs over every lifted byte, about half of a typical feed). Where an
# interpreter returns a copy instead, nothing is lifted: slower, never wrong.
_FLAG_FORBIDDEN = bytes(32 if b in _FORBIDDEN else b for b in range(256))


def lift(data: bytes) -> tuple[bytes, list[str]]:
    """The bytes to parse and the lifted section texts; `data` itself when nothing is lifted."""
    lifted: list[str] = []
    if data.find(b"<![CDATA[", 0, _PROBE) < 0 or data[:1] != b"<" or data[1:2] == b"\x00":
        return data, lifted
    m = _DECL_ENCODING.match(data)
    if m is not None and m.group(1).lower() not in (b"utf-8", b"utf8"):
        return data, lifted
    # Views, not slices: b"".join copies the kept bytes once instead of twice.
    view = memoryview(data)
    pieces: list[bytes | memoryview] = []
    copied = pos = skipped = 0
    search = _SPECIAL.search
    find = data.find
    while skipped <= _SKIP_BUDGET + _SKIP_PER_LIFT * len(lifted):
        m = search(data, pos)
        if m is None:
            break
        start = m.start()
        kind = data[start + 1 : start + 3]
        if kind == b"![":
            end = find(b"]]>", start + 9)
            if end < 0:
                break
            text = None
            if MIN_BYTES <= end - start - 9 <= _MAX_BYTES:
                text = _section(data, pos, start, end)
            pos = end + 3
            if text is None:
                skipped += 1
                continue
            pieces.append(view[copied:start])
            pieces.append(b"%s%d\xee\x80\x81" % (_MARK_BYTES, len(lifted)))
            lifted.append(text)
            copied = pos
        elif kind == b"!-":
            end = find(b"-->", start + 4)
            if end < 0:
                break
            pos = end + 3
            skipped += 1
        elif kind == b"!D":  # an internal subset may declare anything: leave it all to libxml2
            return data, []
        else:
            end = find(b"?>", start + 2)
            if end < 0:
                break
            pos = end + 2
            skipped += 1
    if not lifted:
        return data, lifted
    pieces.append(view[copied:])
    return b"".join(pieces), lifted


def _section(data: bytes, region: int, start: int, end: int) -> str | None:
    """The text of data[start:end+3] if it is its parent's whole content and libxml2-clean.

    `region` is where the scan resumed after the last comment, instruction or section: the
    parent's start tag is looked for after it, so it is never inside one of those.
    """
    tag_start = data.rfind(b"<", max(region, start - 2100), start)
    if tag_start < 0:
        return None
    if data[start - 1] == 0x3E and data[end + 3 : end + 5] == b"</":
        # "<name ...><![CDATA[...]]></": the common spelling, checked without regexes. The
        # last "<" must open a start tag, and the ">" must not end "/>", "-->", "?>" or "]]>".
        if data[tag_start + 1] in _NOT_A_START_TAG or data[start - 2] in b"/-?]":
            return None
    else:
        opening = _START_TAG.fullmatch(data, tag_start, start)
        if opening is None:
            return None
        closing = _END_TAG.match(data, end + 3)
        if closing is None or closing.group(1) != opening.group(1):
            return None
    raw = data[start + 9 : end]
    if raw.translate(_FLAG_FORBIDDEN) is not raw:
        return None
    if b"\r" in raw:  # libxml2 reads every line ending as "\n"
        raw = raw.replace(b"\r\n", b"\n")
        if b"\r" in raw:  # a lone CR: rare, so no second copy unless there is one
            raw = raw.replace(b"\r", b"\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.isascii() and ("\ufffe" in text or "\uffff" in text):
        return None
    return text


def only_section(text: str, lifted: Sequence[str]) -> str | None:
    """The lifted section when `text` is one placeholder between whitespace, else None."""
    start = text.find(_MARK)
    end = text.find("\ue001", start + _MARK_LEN) if start >= 0 else -1
    if end < 0:
        return None
    if (start and not text[:start].isspace()) or (
        end + 1 < len(text) and not text[end + 1 :].isspace()
    ):
        return None
    digits = text[start + _MARK_LEN : end]
    if not (digits.isascii() and digits.isdigit() and int(digits) < len(lifted)):
        return None
    return lifted[int(digits)]


def restore(text: str, lifted: Sequence[str]) -> str:
    """Text read from the tree with its placeholders replaced by the lifted sections."""
    return _restore(text, lifted, False)


def restore_markup(markup: str, lifted: Sequence[str]) -> str:
    """Serialized markup with its placeholders replaced by the sections, escaped as libxml2 does."""
    return _restore(markup, lifted, True)


def _restore(text: str, lifted: Sequence[str], escape: bool) -> str:
    start = text.find(_MARK)
    if start < 0:
        return text
    parts: list[str] = []
    last = 0
    while start >= 0:
        end = text.find("\ue001", start + _MARK_LEN, start + _MARK_LEN + 10)
        digits = text[start + _MARK_LEN : end]
        if end < 0 or not (digits.isascii() and digits.isdigit()) or int(digits) >= len(lifted):
            start = text.find(_MARK, start + 1)
            continue
        section = lifted[int(digits)]
        if escape:
            section = section.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(text[last:start])
        parts.append(section)
        last = end + 1
        start = text.find(_MARK, last)
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)
