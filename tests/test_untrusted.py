"""The URL scheme rule and the plain-text rule for names (netplanet.untrusted)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplanet.untrusted import http_url, plain_text, strip_markup

BASE = "https://feed.example/blog/feed.xml"

URLS = [
    # kept as they are
    ("https://a.example/post/1", "https://a.example/post/1"),
    ("http://a.example/", "http://a.example/"),
    ("HTTPS://A.example/x", "HTTPS://A.example/x"),
    ("https://a.example/a b.mp3", "https://a.example/a b.mp3"),
    ("https://a.example:8443/?q=1#frag", "https://a.example:8443/?q=1#frag"),
    # spellings browsers forgive are undone
    ("  https://a.example/  ", "https://a.example/"),
    ("\x01\x1fhttps://a.example/\x00", "https://a.example/"),
    ("\ufeff\xa0https://a.example/", "https://a.example/"),
    ("ht\ttp\ns://a.example/\r", "https://a.example/"),
    # relative forms resolve against the base
    ("/post/1", "https://feed.example/post/1"),
    ("post/1", "https://feed.example/blog/post/1"),
    ("//cdn.example/a.mp3", "https://cdn.example/a.mp3"),
    ("https:post/1", "https://feed.example/blog/post/1"),
    ("?page=2", "https://feed.example/blog/feed.xml?page=2"),
    # an entity is not decoded here: the value is a relative path, resolved (a browser agrees)
    ("javascript&#58;alert(1)", "https://feed.example/blog/javascript&#58;alert(1)"),
    # everything else is refused
    ("javascript:alert(1)", ""),
    ("JaVaScRiPt:alert(1)", ""),
    (" \tjavascript:alert(1)", ""),
    ("java\tscript:alert(1)", ""),
    ("java\nscript:alert(1)", ""),
    ("\x00javascript:alert(1)", ""),
    ("javascript://example.com/%0Aalert(1)", ""),
    ("vbscript:msgbox(1)", ""),
    ("VBScript:msgbox(1)", ""),
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", ""),
    ("data:image/png;base64,iVBORw0KGgo=", ""),
    ("file:///etc/passwd", ""),
    ("mailto:a@example.com", ""),
    ("feed:https://a.example/feed", ""),
    ("ftp://a.example/x", ""),
    ("http://", ""),
    ("https:///path", "https://feed.example/path"),  # no host: relative to the base
    ("http://javascript:alert(1)", ""),  # "alert(1)" is not a port
    ("https://a.example:99999/", ""),
    ("http://a b.example/", ""),
    ("http://a.example\\@b.example/", ""),
    ("https://a.example/x\x01y", ""),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_http_url_table(url: str, expected: str) -> None:
    assert http_url(url, BASE) == expected


@pytest.mark.parametrize("url", ["/post/1", "//cdn.example/a", "post", "https:post"])
def test_relative_url_without_a_usable_base_is_refused(url: str) -> None:
    assert http_url(url) == ""
    assert http_url(url, "javascript:alert(1)//") == ""
    assert http_url(url, "/relative/base/") == ""


def test_protocol_relative_takes_the_scheme_of_the_base() -> None:
    assert http_url("//cdn.example/a", "http://feed.example/") == "http://cdn.example/a"


@given(st.text(), st.sampled_from(["", BASE, "http://x.example/a/", "javascript:x"]))
def test_http_url_is_http_or_empty_and_idempotent(url: str, base: str) -> None:
    out = http_url(url, base)
    if out:
        parts = urlsplit(out)
        assert parts.scheme.lower() in ("http", "https") and parts.hostname
        assert out == out.strip() and not re.search(r"[\x00-\x1f\x7f]", out)
        assert http_url(out) == out


NAMES = [
    ("Networking", "Networking"),
    ("  BGP \n  and   EVPN ", "BGP and EVPN"),
    ("<b>Net</b>planet", "Netplanet"),
    ("<script>alert(1)</script>Blog", "alert(1)Blog"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;Blog", "alert(1)Blog"),
    ("&#60;svg onload=alert(1)&#62;", ""),
    ("<img src=x onerror=alert(1)", "img src=x onerror=alert(1)"),
    ("&lt;img src=x onerror=alert(1)", "img src=x onerror=alert(1)"),
    ("<<b>i>x", "i>x"),
    ("<<?x", "?x"),
    ("a<<<b", "ab"),
    ("<!-- c -->Text", "Text"),
    ("AT&amp;amp;T", "AT&amp;T"),  # decoded once: the parser already decoded the XML level
    ("Tom &amp; Jerry", "Tom & Jerry"),
    ("AT&T", "AT&T"),
    ("a < b and c > d", "a < b and c > d"),
    ("<3 routing", "<3 routing"),
    ("tab\there\x00nul\x1fus", "tab here nul us"),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_plain_text_table(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>Net</b>planet", "Netplanet"),
        ("<img src=x onerror=alert(1)", "img src=x onerror=alert(1)"),
        ("&lt;b&gt; stays text", "&lt;b&gt; stays text"),
        ("AT&amp;T", "AT&amp;T"),
        ("a < b", "a < b"),
    ],
)
def test_strip_markup_removes_tags_and_decodes_nothing(text: str, expected: str) -> None:
    assert strip_markup(text) == expected


_TAG_START = re.compile(r"<[A-Za-z/!?]")
_PIECES = st.text(alphabet=st.sampled_from(list("<>/!?&;#ltgamp ab1x\t")))


@settings(max_examples=1000)
@given(_PIECES)
def test_plain_text_never_leaves_a_tag_start(text: str) -> None:
    out = plain_text(text)
    assert not _TAG_START.search(out)
    assert out == " ".join(out.split())


@settings(max_examples=1000)
@given(_PIECES)
def test_strip_markup_is_idempotent_and_leaves_no_tag_start(text: str) -> None:
    out = strip_markup(text)
    assert not _TAG_START.search(out)
    assert strip_markup(out) == out
