"""Feed autodiscovery, the pure part: what to try, and what a fetched body looks like.

This module owns finding feed links in an HTML page (`find_feed_links`), the well-known paths to
try when a page names none (`candidate_urls`), and cheap sniffing of a response's first bytes
(`looks_like_html`, `looks_like_feed`). Fetching the candidates is the caller's job.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

from netplanet.errors import DiscoveryError

__all__ = [
    "candidate_urls",
    "find_feed_links",
    "looks_like_feed",
    "looks_like_html",
    "suggest_feed",
    "suggested_feed",
]

_SUGGEST = " — update the source's feed URL to it"
_SUGGESTED = re.compile(r"\bat (\S+)" + re.escape(_SUGGEST))


def suggest_feed(url: str) -> str:
    """The end of an error that names the feed discovery found instead: "at URL — update ...".
    `suggested_feed` reads the URL back (the admin's one-click "use the suggested feed URL")."""
    return f"at {url}{_SUGGEST} (on its admin page, or with `netplanet sources edit --url`)"


def suggested_feed(error: str) -> str:
    """The feed URL a `suggest_feed` error names (the last one), as an http(s) URL, else ""."""
    from netplanet.untrusted import http_url

    found = _SUGGESTED.findall(error)
    return http_url(found[-1]) if found else ""


# Media types a <link rel="alternate"> may carry for a feed. application/json is what JSON Feed
# 1.0 sites used before application/feed+json; WordPress's REST links share it and are excluded
# by _is_rest_api below.
_FEED_LINK_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    }
)
# WordPress puts <link rel="alternate" type="application/json" href=".../wp-json/wp/v2/posts/1">
# on every page: an API document, not a feed.
_REST_API = re.compile(r"/wp-json/|[?&]rest_route=", re.IGNORECASE)
_COMMENTS = re.compile(r"\bcomments?\b", re.IGNORECASE)

# Where feeds live when a page does not say: WordPress, Hugo, Jekyll, Ghost, Blogger, JSON Feed,
# and the same under /blog/ for sites whose blog is a section.
_CANDIDATE_PATHS = (
    "feed/",
    "index.xml",
    "atom.xml",
    "rss.xml",
    "feed.xml",
    "rss/",
    "feed.json",
    "index.rss",
    "feeds/posts/default",
    "blog/feed/",
    "blog/index.xml",
    "blog/atom.xml",
    "blog/rss.xml",
    "blog/feed.xml",
)

_SNIFF_BYTES = 4096


# --------------------------------------------------------------------------- link discovery


class _LinkCollector(HTMLParser):
    """Collects <link> feed candidates and the first <base href>, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.links: list[tuple[str, str]] = []  # (href, title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and self.base_href is None and values.get("href", "").strip():
            self.base_href = values["href"].strip()
        elif tag == "link":
            rel = values.get("rel", "").lower().split()
            media_type = values.get("type", "").split(";", 1)[0].strip().lower()
            href = values.get("href", "").strip()
            # rel="feed" is an HTML5-draft spelling still seen next to (or instead of) "alternate".
            if href and media_type in _FEED_LINK_TYPES and ("alternate" in rel or "feed" in rel):
                self.links.append((href, values.get("title", "")))

    handle_startendtag = handle_starttag


def find_feed_links(html: bytes | str, base_url: str) -> list[str]:
    """Feed URLs a page announces with ``<link rel="alternate" type=…>``, absolute and deduplicated.

    Main feeds come first in document order, then comment feeds (title or URL says "comments").
    ``<base href>`` is honoured, as browsers do, wherever it appears in the page.
    """
    text = html if isinstance(html, str) else _decode_html(html)
    collector = _LinkCollector()
    collector.feed(text)
    collector.close()

    base = urljoin(base_url, collector.base_href) if collector.base_href else base_url
    main: list[str] = []
    comments: list[str] = []
    seen: set[str] = set()
    for href, title in collector.links:
        url = _absolute(base, href)
        if url is None or url in seen or _REST_API.search(url):
            continue
        seen.add(url)
        is_comments = _COMMENTS.search(title) or "/comments/feed" in url.lower()
        (comments if is_comments else main).append(url)
    return main + comments


def _absolute(base: str, href: str) -> str | None:
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit(parts._replace(fragment=""))


def _decode_html(body: bytes) -> str:
    # Feed link URLs are almost always ASCII, so a wrong guess costs little; honour a BOM or
    # a <meta charset>, else try UTF-8 and fall back to cp1252 (what browsers assume).
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace")
    match = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", body[:_SNIFF_BYTES], re.I)
    if match:
        try:
            return body.decode(match.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


# --------------------------------------------------------------------------- guessing


def candidate_urls(site_url: str) -> list[str]:
    """Common feed locations to try for a site whose page names no feed, most likely first.

    Paths are tried under the given page's directory first, then under the site root. A bare
    host ("example.net") is taken as https. Raises `DiscoveryError` for a non-http(s) URL.
    """
    url = site_url.strip()
    if "://" not in url:
        url = "https://" + url.lstrip("/")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DiscoveryError(f"cannot look for feeds at {site_url!r}: not an http(s) URL")
    path = parts.path or "/"
    if not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        # "/blog" is a section; "/blog/index.html" is a page inside one.
        path = path[: -len(last)] if "." in last else path + "/"
    bases = [urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))]
    root = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/", "", ""))
    if root not in bases:
        bases.append(root)

    urls: list[str] = []
    for base in bases:
        for candidate in _CANDIDATE_PATHS:
            # "/blog/" + "blog/feed/" is never where a feed lives; those are root-only guesses.
            if candidate.startswith("blog/") and base != root:
                continue
            url = urljoin(base, candidate)
            if url not in urls:
                urls.append(url)
    return urls


# --------------------------------------------------------------------------- sniffing

_FEED_CONTENT_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/x-rss+xml",
    }
)
_HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Prologue that may precede the first element: XML declaration, processing instructions
# (xml-stylesheet), comments and a DOCTYPE, in any order.
_PROLOGUE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.IGNORECASE | re.DOTALL)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
_HTML_ROOTS = frozenset({"html", "head", "body", "meta", "title", "script", "link", "div"})
_JSON_FEED = re.compile(r'"version"\s*:\s*"https?://jsonfeed\.org/version/', re.IGNORECASE)


def looks_like_feed(body: bytes, content_type: str) -> bool:
    """True when the first bytes look like RSS, Atom, RDF or JSON Feed.

    The body decides when it is conclusive (servers mislabel both ways); the Content-Type decides
    only when the body says nothing either way.
    """
    kind = _sniff(body)
    if kind is not None:
        return kind == "feed"
    return bool(body.strip()) and _media_type(content_type) in _FEED_CONTENT_TYPES


def looks_like_html(body: bytes, content_type: str) -> bool:
    """True when the first bytes look like an HTML page (the body wins over the Content-Type)."""
    kind = _sniff(body)
    if kind is not None:
        return kind == "html"
    return _media_type(content_type) in _HTML_CONTENT_TYPES


def _sniff(body: bytes) -> str | None:
    """ "feed", "html", or None when the first bytes are not conclusive."""
    text = _decode_head(body[:_SNIFF_BYTES]).lstrip()
    if text.startswith(("{", "[")):
        return "feed" if _JSON_FEED.search(text) else None
    position = 0
    while match := _PROLOGUE.match(text, position):
        if match.group().lstrip()[:14].lower() == "<!doctype html":
            return "html"
        position = match.end()
    tag = _FIRST_TAG.match(text[position:].lstrip())
    if tag is None:
        return None
    name = tag.group(2).lower()
    if name in _FEED_ROOTS:
        return "feed"
    if name in _HTML_ROOTS:
        return "html"
    return None


def _decode_head(head: bytes) -> str:
    # Markup characters are ASCII in every encoding a feed uses except UTF-16/32.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("latin-1")


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
