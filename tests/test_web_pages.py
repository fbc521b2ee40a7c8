"""What each public page shows: posts, badges, sources, archives, permalinks, errors, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from builders import NOW, make_entry, spec
from netplanet.model import Enclosure
from netplanet.store import SqlStore
from test_web_client import (  # noqa: F401 - fixtures
    BOTH_BACKENDS,
    SITE_TITLE,
    Client,
    Planet,
    make_planet,
    numbers,
    pager_links,
    river_fixture,
    web_store_fixture,
    with_key,
)

HOSTILE = "<script>alert(1)</script>"


def _alternates(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">', html)


def test_home_post_has_title_source_dates_chips_excerpt_and_continue_link(river: Planet) -> None:
    html = river.client.get("/").text
    post = html[html.index('<article class="post">') : html.index("</article>")]
    assert '<a href="https://blog.example.net/posts/1/" rel="noopener">Post number 1' in post
    assert '<a class="source" href="/source/example-blog-1/">Example Blog 1</a>' in post
    assert '<time datetime="2026-11-01T11:00:00Z">1 Nov 2026, 11:00 UTC</time>' in post
    assert "1 hour ago" in post
    assert '<a href="/category/networking/">Networking</a>' in post
    assert "<p>Body of post 1.</p>" in post  # sanitized excerpt rendered as HTML
    assert re.search(
        r'rel="noopener">Continue reading<span class="visually-hidden"> “Post number 1 about BGP”',
        post,
    )


def test_every_page_has_landmarks_skip_link_search_label_and_nav(river: Planet) -> None:
    for url in ("/", "/page/2", "/sources/", "/about/", "/search", "/post/1/"):
        html = river.client.get(url).text
        assert '<a class="skip-link" href="#main">' in html
        assert '<main id="main"' in html and "<header" in html and "<footer" in html
        assert '<label for="site-search"' in html
        assert '<nav class="wrap categories" aria-label="Categories">' in html
        assert '<a href="/about/">About</a>' in html and '<a href="/sources/">Sources</a>' in html
        assert html.count("<h1") == 1


def test_alternate_feed_links_in_head(river: Planet) -> None:
    assert [href for _, href in _alternates(river.client.get("/").text)] == [
        "/feed.xml",
        "/atom.xml",
        "/feed.json",
    ]
    assert _alternates(river.client.get("/category/networking/").text)[0] == (
        "application/rss+xml",
        "/category/networking/feed.xml",
    )
    assert ("application/feed+json", "/source/example-blog-1/feed.json") in _alternates(
        river.client.get("/source/example-blog-1/").text
    )


@BOTH_BACKENDS
def test_podcast_episode_shows_badge_and_duration(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1, title="Packet Pushers"))
    planet = make_planet(web_store)
    episode = make_entry(
        src.id,
        1,
        enclosure=Enclosure(url="https://cdn.example.net/ep1.mp3", type="audio/mpeg"),
        duration_s=3725,
    )
    planet.add(src.id, episode, make_entry(src.id, 2))
    html = planet.client.get("/").text
    assert html.count('<span class="badge badge-media">Podcast</span>') == 1
    assert "1:02:05" in html
    post = planet.client.get("/post/1/").text
    assert "Podcast" in post and 'href="https://cdn.example.net/ep1.mp3"' in post


def test_sponsored_post_is_labelled(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, make_entry(src.id, 1, sponsored=True), make_entry(src.id, 2))
    html = planet.client.get("/").text
    assert html.count('<span class="badge badge-sponsored">Sponsored</span>') == 1


@BOTH_BACKENDS
def test_hostile_titles_and_source_names_are_escaped(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1, title=HOSTILE, category=HOSTILE))
    planet = make_planet(web_store)
    planet.add(
        src.id,
        make_entry(
            src.id, 1, title=HOSTILE, author=HOSTILE, url="javascript:alert(1)", categories=()
        ),
    )
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in ("/", "/post/1/", f"/source/{src.slug}/", "/sources/", "/search?q=alert"):
        html = planet.client.get(url).text
        assert "<script>" not in html, url
        assert escaped in html, url
        assert 'href="javascript:' not in html, url


def test_category_page_heading_and_unknown_category(river: Planet) -> None:
    html = river.client.get("/category/networking/").text
    assert "<h1>Category archives for “Networking”</h1>" in html
    assert river.client.get("/category/routing/").status == 404
    assert river.client.get("/category/routing/feed.xml").status == 404


@BOTH_BACKENDS
def test_source_page_shows_links_and_post_count(river: Planet) -> None:
    html = river.client.get("/source/example-blog-1/").text
    assert "<h1>Example Blog 1</h1>" in html
    assert 'href="https://blog1.example.net/"' in html
    assert 'href="https://blog1.example.net/feed/"' in html
    assert "23 posts" in html
    assert river.client.get("/source/nobody/").status == 404
    assert river.client.get("/source/nobody/feed.xml").status == 404


@BOTH_BACKENDS
def test_sources_directory_lists_counts_and_last_post(web_store: SqlStore) -> None:
    a = web_store.add_source(spec(1, title="Alpha"))
    web_store.add_source(spec(2, title="Beta"))
    planet = make_planet(web_store)
    planet.add(a.id, make_entry(a.id, 1), make_entry(a.id, 2))
    html = planet.client.get("/sources/").text
    assert '<a href="/source/alpha/">Alpha</a>' in html
    assert '<a href="/source/beta/">Beta</a>' in html
    assert "2 posts" in html and "0 posts" in html
    assert '<time datetime="2026-11-01T11:00:00Z">1 Nov 2026, 11:00 UTC</time>' in html
    assert html.index("Alpha") < html.index("Beta")


@BOTH_BACKENDS
def test_sources_directory_says_which_feeds_are_not_updating(web_store: SqlStore) -> None:
    from builders import plan, success

    failing = web_store.add_source(spec(1, title="Failing"))
    gone = web_store.add_source(spec(2, title="Gone"))
    web_store.add_source(spec(3, title="Fine"))
    web_store.apply_update(
        replace(
            plan(failing.id),
            source=success(consecutive_failures=3, last_error="HTTP 500", last_success_at=None),
        )
    )
    planet = make_planet(web_store)
    planet.add(gone.id, make_entry(gone.id, 1))  # disabled sources are listed if they have posts
    web_store.edit_source(gone.id, enabled=False)
    html = planet.client.get("/sources/").text
    assert "Not updating: the last 3 attempts to read the feed failed." in html
    assert "Not updating: disabled by the operator." in html
    assert html.count("Not updating") == 2


@BOTH_BACKENDS
def test_month_archive_pages_and_neighbouring_months(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, *(make_entry(src.id, n) for n in range(1, 8)))  # 1 Nov 05:00-11:00
    planet.add(src.id, with_key(make_entry(src.id, 50, published=NOW - timedelta(days=40)), "s"))
    nov = planet.client.get("/archive/2026/11/")
    assert nov.status == 200
    assert "<h1>Posts from November 2026</h1>" in nov.text
    assert numbers(nov.text) == [1, 2, 3, 4, 5]
    assert 'href="/archive/2026/09/">September 2026' in nov.text
    rest = planet.client.get(pager_links(nov.text)["older"])
    assert numbers(rest.text) == [6, 7]
    assert pager_links(rest.text) == {"newer": "/archive/2026/11/"}
    sept = planet.client.get("/archive/2026/09/")
    assert numbers(sept.text) == [50]
    assert 'href="/archive/2026/11/">' in sept.text
    for empty in (
        "/archive/2026/10/",
        "/archive/2026/13/",
        "/archive/2026/0/",
        "/archive/1900/01/",
    ):
        assert planet.client.get(empty).status == 404, empty


@BOTH_BACKENDS
def test_post_permalink(river: Planet) -> None:
    html = river.client.get("/post/1/").text
    assert '<h1 class="post-title"><a href="https://blog.example.net/posts/1/"' in html
    assert "Ann Author" in html
    assert 'href="/archive/2026/11/">More posts from November 2026' in html
    assert river.client.get("/post/999999/").status == 404


def test_about_page(river: Planet) -> None:
    html = river.client.get("/about/").text
    assert f"<h1>About {SITE_TITLE}</h1>" in html


def test_not_found_page_is_styled_and_not_cached_for_long(river: Planet) -> None:
    reply = river.client.get("/no/such/thing")
    assert reply.status == 404
    assert "<h1>Page not found</h1>" in reply.text
    assert 'rel="stylesheet"' in reply.text
    assert reply.headers["cache-control"] == "no-cache"
    assert "etag" not in reply.headers


class _Broken:
    """A store whose river query fails, to reach the 500 page."""

    def __init__(self, inner: SqlStore) -> None:
        self.inner = inner

    def keyset_entries(self, *a: Any, **kw: Any) -> Any:
        raise RuntimeError("disk on fire")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_server_error_page_is_styled(river: Planet) -> None:
    planet = make_planet(_Broken(river.store))  # type: ignore[arg-type]
    client = Client(planet.app, raise_errors=False)
    reply = client.get("/")
    assert reply.status == 500
    assert "<h1>Something went wrong</h1>" in reply.text
    assert "disk on fire" not in reply.text


def test_output_feeds_are_served(river: Planet) -> None:
    for url, kind in (
        ("/feed.xml", "application/rss+xml"),
        ("/atom.xml", "application/atom+xml"),
        ("/feed.json", "application/feed+json"),
        ("/category/networking/feed.xml", "application/rss+xml"),
        ("/source/example-blog-1/atom.xml", "application/atom+xml"),
        ("/opml.xml", "text/x-opml"),
    ):
        reply = river.client.get(url)
        assert reply.status == 200, url
        assert reply.headers["content-type"].startswith(kind), url
        assert reply.headers["etag"], url
    assert b"Post number 1 about BGP" in river.client.get("/feed.xml").body


def test_relative_dates_follow_the_injected_clock(river: Planet) -> None:
    river.clock.now = NOW + timedelta(days=3)
    assert "3 days ago" in river.client.get("/").text


def test_untitled_post_gets_a_placeholder(web_store: SqlStore) -> None:
    src = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(src.id, replace(make_entry(src.id, 1), title=""))
    assert "(untitled)" in planet.client.get("/").text
