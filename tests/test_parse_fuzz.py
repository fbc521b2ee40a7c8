"""Property: on arbitrary bytes parse_feed returns a ParsedFeed or raises ParseError only."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netplanet.errors import ParseError
from netplanet.model import ParsedFeed
from netplanet.parse import parse_feed

_PIECES = [
    b'<?xml version="1.0" encoding="utf-8"?>', b'<?xml version="1.0" encoding="bogus"?>',
    b"<rss version='2.0'>", b"<channel>", b"<item>", b"</item>", b"<title>", b"</title>",
    b"<link>", b"</link>", b"<guid>", b"<pubDate>", b"<enclosure url='/x' length='-1'/>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">', b"<entry>", b"<content type='xhtml'>",
    b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>", b"&amp;", b"&nbsp;",
    b"&#0;", b"<![CDATA[", b"]]>", b"<!DOCTYPE x [<!ENTITY e 'ee'>]>", b"&e;", b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xe9", b"\x00", b"{", b'"items": [', b'{"id": 1}', b"]}", b"<html>", b" ",
]  # fmt: skip


def _check(body: bytes) -> None:
    try:
        result = parse_feed(body)
    except ParseError as exc:
        # The internal safety net turns bugs into ParseError; a bug must still fail this test.
        assert not str(exc).startswith("internal parser error"), str(exc)
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, ParsedFeed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_raise_parse_error(body: bytes) -> None:
    _check(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES) | st.binary(max_size=8), max_size=40))
def test_feed_shaped_bytes_only_raise_parse_error(pieces: list[bytes]) -> None:
    _check(b"".join(pieces))
