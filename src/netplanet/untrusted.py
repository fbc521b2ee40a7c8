"""The rules for what feeds, OPML files, HTTP headers and forms may put into stored records and
output.

* `valid_text` / `one_line`: a Python str may hold lone surrogates (U+D800-U+DFFF): JSON's
  "\\ud800" escapes, UTF-7, "unicode_escape", CESU-8 bytes decoded with surrogatepass and HTTP
  headers decoded with surrogateescape all produce them. No UTF-8 encoder accepts them, so one
  such character in a feed title fails the database write, the HTML template or the log line
  that meets it. NUL ("\\u0000" in JSON) is valid Unicode, but PostgreSQL refuses it in text
  columns (and XML 1.0 everywhere). Text from a feed passes through `valid_text` once, where it
  enters (parse, fetch headers).
* `http_url`: the only URLs stored as links (posts, enclosures, sites) or republished are
  absolute http(s) URLs with a host. Everything else (javascript:, vbscript:, data:, file:,
  mailto:, unresolvable relative URLs) becomes "". The spelling tricks browsers forgive are
  undone first, so what is checked is what a browser would follow.
* `plain_text` (when a name is read) and `strip_markup` (when it is republished): names shown as
  text (post and source titles, category names, authors, tags) carry no markup, so a reader
  that takes an RSS <title> or <description> for HTML sees text, and one that takes it for
  text sees no tags.

They live at the bottom layer because fetch, parse, sources, enrich and publish all apply them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

__all__ = ["REPLACEMENT", "http_url", "one_line", "plain_text", "strip_markup", "valid_text"]

HTTP_SCHEMES = frozenset({"http", "https"})

# WHATWG URL parsing strips C0 controls and spaces at both ends and deletes tab, CR and LF
# anywhere, so "\tjava\nscript:" is javascript:. Unicode spaces (NBSP, BOM) are stripped too:
# they are never meant, and stripping them only ever makes a URL stricter to pass.
_EDGES = re.compile(r"\A[\x00-\x20\s\ufeff]+|[\x00-\x20\s\ufeff]+\Z")
_TAB_NEWLINE = str.maketrans("", "", "\t\r\n")
# What is left inside after that: other controls make the URL invalid for a browser (and
# unprintable for us); these characters in the authority are where parsers disagree on the host.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_AUTHORITY = re.compile(r"[\s\\<>\"^`{|}]")


def http_url(url: str | None, base: str = "") -> str:
    """`url` as an absolute http(s) URL (resolved against `base` when relative), else "".

    The result is the cleaned-up spelling (edges stripped, tabs and newlines removed), not a
    canonical one; it never raises.
    """
    if not url:
        return ""
    raw = _EDGES.sub("", url.translate(_TAB_NEWLINE))
    if not raw or _CONTROL.search(raw):
        return ""
    try:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if not scheme or (scheme in HTTP_SCHEMES and not parts.netloc):
            # relative, root-relative, protocol-relative ("//host/x") or "https:path"
            absolute_base = http_url(base) if base else ""
            if not absolute_base:
                return ""
            raw = urljoin(absolute_base, raw)
            parts = urlsplit(raw)
        if parts.scheme.lower() not in HTTP_SCHEMES:
            return ""
        if not parts.hostname or _BAD_AUTHORITY.search(parts.netloc):
            return ""
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return ""
    return raw


# A tag as an HTML tokenizer sees one: "<" then a letter, "/", "!" or "?", up to ">".
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
# What starts a tag but is left after that: an unclosed one ("<img src=x onerror=..." would
# swallow the markup a reader puts after it) or one made by removing another ("<<b>a>").
# Dropping the whole run of "<" before it leaves harmless text and cannot make a new one.
_TAG_START = re.compile(r"<+(?=[A-Za-z/!?])")
_INVISIBLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def plain_text(text: str | None) -> str:
    """Text from a feed or OPML file as a plain name: tags removed, entities decoded once (feeds
    often escape twice: "AT&amp;amp;T", "&lt;b&gt;"), tags that decoding made removed too,
    whitespace collapsed."""
    if not text:
        return ""
    text = _strip_tags(text)
    if "&" in text:
        text = _strip_tags(html.unescape(text))
    return _collapse(text)


def strip_markup(text: str | None) -> str:
    """Stored text made safe to republish where a reader may take it for HTML: whatever an HTML
    parser would read as a tag is removed, nothing is decoded (so it is idempotent)."""
    return _collapse(_strip_tags(text)) if text else ""


def _strip_tags(text: str) -> str:
    if "<" not in text:
        return text
    return _TAG_START.sub("", _TAG.sub("", text))


def _collapse(text: str) -> str:
    # isprintable() is one C loop that is False for every character _INVISIBLE matches (and
    # for newlines and tabs): most names need no regex search at all.
    if not text.isprintable() and _INVISIBLE.search(text):
        text = _INVISIBLE.sub(" ", text)
    return " ".join(text.split())


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
