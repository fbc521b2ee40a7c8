"""parse_feed refuses what is not a feed with one-line ParseError / NotAFeedError messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplanet.errors import NotAFeedError, ParseError
from netplanet.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"


def test_html_page_raises_not_a_feed() -> None:
    body = (FEEDS / "not-a-feed-html-page.html").read_bytes()
    expected = r"^https://blog\.example\.com/feed/ returned HTML, not a feed$"
    with pytest.raises(NotAFeedError, match=expected):
        parse_feed(body, url="https://blog.example.com/feed/", content_type="text/html")


def test_xhtml_page_with_xml_declaration_raises_not_a_feed() -> None:
    body = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with pytest.raises(NotAFeedError):
        parse_feed(body)


def test_unparseable_body_served_as_html_raises_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(b"<div><p>Oops <<</div>", content_type="text/html; charset=utf-8")


def test_garbage_raises_parse_error_with_line_and_column() -> None:
    with pytest.raises(ParseError, match=r"line 2 column 1$") as info:
        parse_feed(b"<?xml version='1.0'?>\n\x01\x02 garbage")
    assert not isinstance(info.value, NotAFeedError)
    assert "\n" not in str(info.value)


def test_text_that_is_neither_xml_nor_json_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="neither XML nor JSON"):
        parse_feed(b"502 Bad Gateway")


def test_empty_body_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="empty document"):
        parse_feed(b" \n ")


def test_unknown_root_element_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match=r"root element is <opml>"):
        parse_feed(b"<opml version='2.0'><body/></opml>")


def test_invalid_json_reports_line_and_column() -> None:
    with pytest.raises(ParseError, match=r"invalid JSON: .* at line 2 column \d+"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1",\n "items": [,]}')


def test_json_that_is_not_a_json_feed_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="not a JSON Feed"):
        parse_feed(b'{"items": 3}', content_type="application/json")


def test_feedparser_fallback_when_lxml_recovery_loses_entries() -> None:
    # An unquoted attribute on the root: libxml2's recovery keeps no item, feedparser keeps one.
    body = b"<rss version=2.0><channel><title>x</title><item><title>a</title></item></channel>"
    feed = parse_feed(body)
    assert feed.parser == "feedparser"
    assert [e.title for e in feed.entries] == ["a"]
    assert "feedparser recovered 1 entries, lxml 0" in feed.warnings
