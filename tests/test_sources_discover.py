"""Feed autodiscovery and sniffing (netplanet.sources.discover)."""

from __future__ import annotations

import pytest

from netplanet.errors import DiscoveryError
from netplanet.sources.discover import (
    candidate_urls,
    find_feed_links,
    looks_like_feed,
    looks_like_html,
)

BASE = "https://blog.example.net/posts/hello/"

# --------------------------------------------------------------------------- find_feed_links


def test_finds_rss_and_atom_links_in_document_order() -> None:
    html = """<html><head>
      <link rel="alternate" type="application/atom+xml" href="https://blog.example.net/atom.xml">
      <link rel="stylesheet" href="/style.css">
      <link rel="alternate" type="application/rss+xml" href="https://blog.example.net/rss.xml">
    </head></html>"""
    assert find_feed_links(html, BASE) == [
        "https://blog.example.net/atom.xml",
        "https://blog.example.net/rss.xml",
    ]


def test_relative_href_is_made_absolute_against_the_page() -> None:
    html = '<link rel="alternate" type="application/rss+xml" href="../feed.xml">'
    assert find_feed_links(html, BASE) == ["https://blog.example.net/posts/feed.xml"]


def test_base_href_is_honoured() -> None:
    html = """<head><base href="https://cdn.example.org/site/">
      <link rel="alternate" type="application/rss+xml" href="index.xml"></head>"""
    assert find_feed_links(html, BASE) == ["https://cdn.example.org/site/index.xml"]


def test_relative_base_href_resolves_against_the_page() -> None:
    html = """<base href="/root/"><link rel="alternate" type="application/rss+xml" href="f.xml">"""
    assert find_feed_links(html, BASE) == ["https://blog.example.net/root/f.xml"]


def test_rel_with_several_tokens_and_any_case_matches() -> None:
    html = """<LINK REL="Alternate Feed" TYPE="Application/RSS+XML" HREF="/a.xml">
      <link rel="feed alternate" type="application/atom+xml; charset=utf-8" href="/b.xml">"""
    assert find_feed_links(html, BASE) == [
        "https://blog.example.net/a.xml",
        "https://blog.example.net/b.xml",
    ]


def test_json_feed_types_are_found() -> None:
    html = """<link rel="alternate" type="application/feed+json" href="/feed.json">
      <link rel="alternate" type="application/json" title="JSON Feed" href="/old-feed.json">"""
    assert find_feed_links(html, BASE) == [
        "https://blog.example.net/feed.json",
        "https://blog.example.net/old-feed.json",
    ]


def test_wordpress_rest_api_json_links_are_not_feeds() -> None:
    html = """<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/7">
      <link rel="alternate" type="application/json" href="/?rest_route=/wp/v2/posts/7">"""
    assert find_feed_links(html, BASE) == []


def test_comment_feeds_come_after_main_feeds() -> None:
    html = """
      <link rel="alternate" type="application/rss+xml" title="Blog &raquo; Comments Feed"
            href="/comments/feed/">
      <link rel="alternate" type="application/rss+xml" title="Blog &raquo; Feed" href="/feed/">
      <link rel="alternate" type="application/rss+xml" title="Hello Comments" href="/hello/feed/">
      <link rel="alternate" type="application/atom+xml" title="Blog (Atom)" href="/atom/">"""
    assert find_feed_links(html, BASE) == [
        "https://blog.example.net/feed/",
        "https://blog.example.net/atom/",
        "https://blog.example.net/comments/feed/",
        "https://blog.example.net/hello/feed/",
    ]


def test_duplicate_links_are_listed_once() -> None:
    html = """<link rel="alternate" type="application/rss+xml" href="/feed/">
      <link rel="alternate" type="application/rss+xml" href="https://blog.example.net/feed/">
      <link rel="alternate" type="application/rss+xml" href="/feed/#top">"""
    assert find_feed_links(html, BASE) == ["https://blog.example.net/feed/"]


def test_non_feed_links_and_unsafe_schemes_are_ignored() -> None:
    html = """<link rel="alternate" type="text/html" hreflang="de" href="/de/">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      <link rel="alternate" type="application/rss+xml" href="">
      <link rel="alternate" type="application/rss+xml">
      <link rel="icon" type="application/rss+xml" href="/not-alternate.xml">
      <a rel="alternate" type="application/rss+xml" href="/anchor.xml">not a link element</a>"""
    assert find_feed_links(html, BASE) == []


def test_bytes_are_decoded_using_meta_charset() -> None:
    html = (
        '<meta charset="iso-8859-1"><link rel="alternate" type="application/rss+xml" '
        'href="/caf\xe9.xml">'
    ).encode("latin-1")
    assert find_feed_links(html, BASE) == ["https://blog.example.net/café.xml"]


def test_empty_page_has_no_links() -> None:
    assert find_feed_links(b"", BASE) == []


# --------------------------------------------------------------------------- candidate_urls


def test_candidate_urls_cover_common_feed_paths() -> None:
    urls = candidate_urls("https://example.net/")
    for path in ("feed/", "index.xml", "atom.xml", "rss.xml", "feed.xml", "rss/", "feed.json"):
        assert f"https://example.net/{path}" in urls
    assert "https://example.net/blog/feed/" in urls
    assert urls[0] == "https://example.net/feed/"


def test_candidate_urls_are_absolute_and_unique() -> None:
    urls = candidate_urls("https://example.net/blog/")
    assert len(urls) == len(set(urls))
    assert all(url.startswith("https://example.net/") for url in urls)


def test_candidate_urls_try_the_section_before_the_root() -> None:
    urls = candidate_urls("https://example.net/blog/index.html?page=2#top")
    assert urls.index("https://example.net/blog/feed/") < urls.index("https://example.net/feed/")
    assert not any("/blog/blog/" in url for url in urls)
    assert not any("?" in url or "#" in url for url in urls)


def test_candidate_urls_accept_a_bare_host() -> None:
    assert candidate_urls("Example.NET")[0] == "https://example.net/feed/"


def test_candidate_urls_reject_non_http_urls() -> None:
    with pytest.raises(DiscoveryError, match="not an http"):
        candidate_urls("ftp://example.net/")


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>',
        b"\xef\xbb\xbf\n  <feed xmlns='http://www.w3.org/2005/Atom'>",
        b'<?xml version="1.0"?><?xml-stylesheet href="s.xsl"?><!-- hi --><rdf:RDF xmlns:rdf="x">',
        b'{"items": [], "version": "https://jsonfeed.org/version/1.1", "title": "x"}',
        '<?xml version="1.0" encoding="UTF-16"?><rss/>'.encode("utf-16"),
    ],
    ids=["rss", "atom-bom", "rdf-after-prologue", "json-feed", "utf16"],
)
def test_feed_bodies_look_like_feeds(body: bytes) -> None:
    assert looks_like_feed(body, "text/plain")
    assert not looks_like_html(body, "text/plain")


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html>\n<html><head><title>x</title>",
        b"\n\n<!-- generator -->\n<!doctype HTML><html>",
        b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x">',
        b"<html lang=en><body>",
        b"   <head><meta charset=utf-8>",
    ],
    ids=["html5", "comment-first", "xhtml", "no-doctype", "head-first"],
)
def test_html_bodies_look_like_html(body: bytes) -> None:
    assert looks_like_html(body, "text/plain")
    assert not looks_like_feed(body, "text/plain")


def test_body_wins_over_a_wrong_content_type() -> None:
    assert looks_like_feed(b"<rss version='2.0'>", "text/html")
    assert not looks_like_feed(b"<!DOCTYPE html><html>", "application/rss+xml")


def test_content_type_decides_when_body_is_inconclusive() -> None:
    assert looks_like_feed(b"garbage before <rss>", "application/rss+xml; charset=utf-8")
    assert looks_like_html(b"Hello", "text/html; charset=utf-8")
    assert not looks_like_feed(b"Hello", "text/html")


def test_plain_json_is_not_a_feed() -> None:
    assert not looks_like_feed(b'{"version": "1.0", "items": []}', "application/json")


def test_empty_body_is_neither() -> None:
    assert not looks_like_feed(b"", "application/rss+xml")
    assert not looks_like_html(b"", "text/plain")
