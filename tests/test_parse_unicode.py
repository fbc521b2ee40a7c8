"""Feed text is valid Unicode after parse: lone surrogates become U+FFFD, whatever the format.

A lone surrogate (a JSON "\\ud800" escape, a UTF-7 "+2AA-", CESU-8 bytes) is a str Python
can hold but no database, encoder or template can write; one in a feed used to stop every
source's update. Also: feedparser's own crashes are that feed's parse problem.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from netplanet.errors import ParseError
from netplanet.model import ParsedFeed
from netplanet.parse import parse_feed
from netplanet.untrusted import valid_text

REPLACEMENT = "\ufffd"


def strings(value: Any) -> list[str]:
    """Every str inside a record (dataclasses, tuples, dicts), recursively."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [s for v in value for s in strings(v)]
    if isinstance(value, dict):
        return [s for kv in value.items() for v in kv for s in strings(v)]
    return []


def assert_valid_unicode(feed: ParsedFeed) -> None:
    for s in strings(feed):
        s.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate


def json_feed(**overrides: Any) -> bytes:
    item = {
        "id": "post-1",
        "url": "https://blog.example.net/1",
        "title": "Route reflectors",
        "content_text": "Clusters.",
        "authors": [{"name": "Ann"}],
        "tags": ["BGP"],
        "attachments": [{"url": "https://blog.example.net/a.mp3", "mime_type": "audio/mpeg"}],
    }
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Example",
        "home_page_url": "https://blog.example.net/",
        "items": [item],
    }
    for key, value in overrides.items():
        target, _, name = key.partition("__")
        (item if target == "item" else feed)[name] = value
    # ensure_ascii writes every lone surrogate as a \udXXX escape, as a hostile feed would.
    return json.dumps(feed, ensure_ascii=True).encode()


def test_valid_text_replaces_lone_surrogates_and_joins_pairs() -> None:
    assert valid_text("plain") == "plain"
    assert valid_text("caf\u00e9 \u2019") == "caf\u00e9 \u2019"
    assert valid_text("a\ud800b") == f"a{REPLACEMENT}b"
    assert valid_text("\udc00") == REPLACEMENT
    assert valid_text("x\ud83d") == f"x{REPLACEMENT}"
    assert valid_text("\ud83d\ude00") == "\U0001f600"  # a pair left split (CESU-8) is joined
    text = "no surrogates \u00e9\u4e2d"
    assert valid_text(text) is text
    assert valid_text("a\x00b\x00\ud800") == f"ab{REPLACEMENT}"  # PostgreSQL refuses NUL


def test_nul_in_json_feed_is_removed() -> None:
    body = json_feed(item__id="a\u0000b", item__title="T\u0000", feed__title="F\u0000")
    feed = parse_feed(body)
    assert (feed.title, feed.entries[0].guid, feed.entries[0].title) == ("F", "ab", "T")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("item__id", "\ud800"),
        ("item__title", "BGP \udc00 communities"),
        ("item__authors", [{"name": "Ann \ud800"}]),
        ("item__tags", ["ok", "\udfff"]),
        ("item__summary", "teaser \ud800"),
        ("item__content_html", "<p>body \ud800</p>"),
        ("item__url", "https://blog.example.net/\ud800"),
        ("feed__title", "Bad \ud800 title"),
        ("feed__description", "\ud800"),
        ("feed__language", "en\ud800"),
    ],
)
def test_lone_surrogates_in_json_feed_become_replacement_characters(field: str, value: Any) -> None:
    feed = parse_feed(json_feed(**{field: value}), url="https://blog.example.net/feed.json")
    assert_valid_unicode(feed)
    assert len(feed.entries) == 1
    assert REPLACEMENT in "".join(strings(feed))


def test_raw_surrogate_bytes_in_json_are_replaced() -> None:
    # CESU-8 style bytes: json.loads decodes them with surrogatepass.
    body = json_feed(item__title="TITLE").replace(b"TITLE", b"T \xed\xa0\x80 x")
    feed = parse_feed(body)
    assert_valid_unicode(feed)
    assert feed.entries[0].title == f"T {REPLACEMENT} x"


@pytest.mark.parametrize(
    "body",
    [
        # Character references to surrogates: libxml2 refuses them, the repair drops them.
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>N&#xD800;'
        b"</title><item><title>T&#xD800;x</title><guid>g&#xDC00;1</guid><author>a&#55296;b"
        b"</author><description>d&#xD800;</description></item></channel></rss>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A&#xD800;</title><entry>'
        b"<id>urn:e&#xD800;</id><title>T&#xD800;</title><author><name>N&#xD800;</name>"
        b'</author><content type="html">c&amp;#xD800;</content></entry></feed>',
        # Escaped twice: the plain-text conversion decodes the reference.
        b'<rss version="2.0"><channel><title>a&amp;#xD800;b</title><item><title>&amp;#55296;'
        b"</title><guid>g</guid></item></channel></rss>",
        # Encodings whose decoders produce lone surrogates.
        b'<?xml version="1.0" encoding="utf-7"?><rss version="2.0"><channel><title>a+2AA-b'
        b"</title><item><title>x+2AA-</title><guid>g</guid></item></channel></rss>",
        b'<?xml version="1.0" encoding="unicode_escape"?><rss version="2.0"><channel><title>'
        b"a\\ud800b &</title><item><title>x</title><guid>g\\udc00</guid></item></channel></rss>",
        # Broken XML that goes to feedparser, with a surrogate from UTF-7.
        b'<?xml version="1.0" encoding="utf-7"?><rss version="2.0"><channel><title>a+2AA-'
        b"</title><item><title>one+2AA-</title><guid>1</guid></item><item><title>two<b>"
        b"</title><guid>2</guid></item></channel></rss>",
    ],
    ids=["rss-ncr", "atom-ncr", "double-escaped", "utf-7", "unicode-escape", "feedparser"],
)
def test_xml_feeds_with_surrogates_parse_into_valid_text(body: bytes) -> None:
    feed = parse_feed(body, url="https://blog.example.net/feed")
    assert_valid_unicode(feed)
    assert feed.entries


def test_surrogate_in_http_charset_is_harmless() -> None:
    body = b'<rss version="2.0"><channel><title>t</title><item><title>x+2AA-</title></item>'
    feed = parse_feed(body + b"</channel>", content_type="text/xml; charset=utf-7")
    assert_valid_unicode(feed)


# feedparser's loose parser calls int() on a <height> it never saw open: a TypeError inside
# feedparser, raised while it is asked for a second opinion on a document lxml recovered.
HEIGHT_CRASH = (
    b'<rss version="2.0"><channel><title>t</title><item><title>x</title></item>'
    b"<image><height><b></height><item><title>y</title></item></channel>"
)


def test_feedparser_crash_is_not_an_internal_parser_error() -> None:
    feed = parse_feed(HEIGHT_CRASH)  # lxml's recovered reading is kept
    assert [e.title for e in feed.entries][:1] == ["x"]


def test_feedparser_crash_on_unreadable_xml_is_lxmls_syntax_error() -> None:
    # libxml2 cannot read it even in recover mode, and feedparser crashes on it.
    body = b"<1rss><channel><image><height><b></height></image>"
    with pytest.raises(ParseError, match=r"^not well-formed XML: .* at line 1 column 2$"):
        parse_feed(body)


@pytest.mark.parametrize(
    "encoding", [b"uu", b"base64", b"rot13", b"punycode", b"idna", b"unicode_escape", b"hz"]
)
def test_a_declared_codec_that_is_no_charset_is_ignored(encoding: bytes) -> None:
    # Python knows these names, but decoding a document with them raises LookupError (not
    # a text encoding), UnicodeError, or warns about backslashes: the declaration is ignored.
    body = (
        b'<?xml version="1.0" encoding="' + encoding + b'"?><rss version="2.0"><channel>'
        b"<title>Caf\xc3\xa9 \\d & co</title><item><title>x</title></item></channel></rss>"
    )
    feed = parse_feed(body)
    assert feed.title == "Caf\u00e9 \\d & co"
