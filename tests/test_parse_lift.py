"""CDATA lifting (parse/lift.py) must not change what parse_feed returns, only how fast.

Every document here is parsed twice, with lifting on and off (MIN_BYTES beyond reach), and the
two ParsedFeeds must be equal; the tricky ones also check that lifting really happened.
"""

from __future__ import annotations

import pytest

from netplanet.model import ParsedFeed
from netplanet.parse import lift, parse_feed, xml

BIG = "<p>caf\u00e9 &amp; <b>bold</b> \u2019quotes\u2019 " + "word " * 200 + "</p>"


def _rss(*items: str, decl: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    body = "".join(f"<item><guid>g{i}</guid>{item}</item>" for i, item in enumerate(items))
    return (
        f'{decl}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>t</title><link>https://example.org/</link>{body}</channel></rss>"
    ).encode()


def _both(body: bytes) -> tuple[ParsedFeed, ParsedFeed]:
    lifted = parse_feed(body)
    saved = lift.MIN_BYTES
    lift.MIN_BYTES = 10**12
    try:
        plain = parse_feed(body)
    finally:
        lift.MIN_BYTES = saved
    return lifted, plain


def _lifted_count(body: bytes) -> int:
    return len(lift.lift(xml.trim_leading(body, []))[1])


CASES = {
    "plain": _rss(f"<description><![CDATA[{BIG}]]></description>"),
    "whitespace around": _rss(f"<content:encoded>\n  <![CDATA[{BIG}]]>\n </content:encoded>"),
    "crlf": _rss(f"<description><![CDATA[a\r\nb\rc{BIG}]]></description>"),
    "two sections": _rss(f"<description><![CDATA[{BIG}]]><![CDATA[{BIG}]]></description>"),
    "opener in comment": _rss(f"<!-- <description><![CDATA[{BIG}]]></description> -->"),
    "opener in section": _rss(f"<description><![CDATA[x <title><![CDATA[{BIG}]]></description>"),
    "after empty element": _rss(f"<description><br/><![CDATA[{BIG}]]></description>"),
    "after child": _rss(f"<description><b>x</b><![CDATA[{BIG}]]></description>"),
    "control char": _rss(f"<description><![CDATA[{BIG}\x01]]></description>"),
    "noncharacter": _rss(f"<description><![CDATA[{BIG}\ufffe]]></description>"),
    "latin-1": _rss(
        f"<description><![CDATA[{BIG}]]></description>",
        decl='<?xml version="1.0" encoding="ISO-8859-1"?>',
    ).replace(b"caf\xc3\xa9", b"caf\xe9"),
    "forged placeholder": _rss(
        f"<title>\ue000{'0' * 16}0\ue001</title><description><![CDATA[{BIG}]]></description>"
    ),
    "broken elsewhere": _rss(f"<description><![CDATA[{BIG}]]></description><title>a & b</title>"),
    "atom xhtml": (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>'
        f"<![CDATA[{BIG} <a> & ]]></p></div></content></entry></feed>"
    ).encode(),
    "atom xhtml xmlns text": (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>'
        f'<![CDATA[{BIG} <a xmlns="urn:x"> ]]></p></div></content></entry></feed>'
    ).encode(),
    "atom html": (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        f'<content type="html"><![CDATA[{BIG}]]></content>'
        f"<summary><![CDATA[{BIG}]]></summary></entry></feed>"
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_lifting_changes_nothing(name: str) -> None:
    lifted, plain = _both(CASES[name])
    assert lifted == plain


def test_invalid_utf8_in_section_is_left_to_the_repairs() -> None:
    body = _rss(f"<description><![CDATA[{BIG}]]></description>").replace(b"caf\xc3\xa9", b"caf\xe9")
    assert _lifted_count(body) == 0
    lifted, plain = _both(body)
    assert lifted == plain
    assert "café" in lifted.entries[0].content_html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain", 1),
        ("whitespace around", 1),
        ("two sections", 0),
        ("opener in comment", 0),
        ("after empty element", 0),
        ("after child", 0),
        ("control char", 0),
        ("noncharacter", 0),
        ("latin-1", 0),
        ("atom xhtml", 1),
        ("atom html", 2),
    ],
)
def test_what_is_lifted(name: str, expected: int) -> None:
    assert _lifted_count(CASES[name]) == expected


def test_restored_text_is_exact() -> None:
    feed = parse_feed(CASES["crlf"])
    assert feed.entries[0].content_html == f"a\nb\nc{BIG}"
    xhtml = parse_feed(CASES["atom xhtml"]).entries[0].content_html
    assert "&lt;a&gt; &amp; </p>" in xhtml and "café &amp;amp;" in xhtml


def test_forged_placeholder_stays_text() -> None:
    feed = parse_feed(CASES["forged placeholder"])
    assert feed.entries[0].title == f"\ue000{'0' * 16}0\ue001"


def test_doctype_disables_lifting() -> None:
    body = _rss(
        f"<description><![CDATA[{BIG}]]></description>",
        decl='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]>',
    )
    assert _lifted_count(body) == 0
