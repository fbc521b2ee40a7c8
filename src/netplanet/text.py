"""Text hygiene shared by every layer: strings from the outside made valid, storable text.

A Python str may hold lone surrogates (U+D800-U+DFFF): JSON's "\\ud800" escapes, UTF-7,
"unicode_escape", CESU-8 bytes decoded with surrogatepass and HTTP headers decoded with
surrogateescape all produce them. No UTF-8 encoder accepts them, so one such character in a
feed title fails the database write, the HTML template or the log line that meets it. NUL
("\\u0000" in JSON) is valid Unicode, but PostgreSQL refuses it in text columns (and XML 1.0
everywhere). Text from a feed passes through `valid_text` once, where it enters (parse,
fetch headers).
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def valid_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (a split pair joined) and NULs
    removed; the same object when it is already valid, which is nearly always and costs no
    copy (ASCII text is checked by two C loops)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 holds surrogates as themselves: a well-formed pair decodes to its character
        # (CESU-8 bytes, or a pair from two JSON escapes read separately), a lone one to U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def one_line(text: object) -> str:
    """`text` as one line of valid text: whitespace runs (newlines too) become one space."""
    return valid_text(" ".join(str(text).split()))
