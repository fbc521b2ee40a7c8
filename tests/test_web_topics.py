"""Topics and labels on the site: chips on posts, /topic/<slug>/ archives with numbered pages,
topic feeds, the search filter, the topic navigation, and the `?podcasts=0` / `?sponsored=0`
filters on lists and feeds (carried by the paging links)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import feedparser
import pytest

from builders import NOW, make_entry, plan, spec
from netplanet.publish.topics import DEFAULT_TOPICS, TopicInfo
from netplanet.settings import Settings
from netplanet.store import SqlStore
from netplanet.web.app import create_app
from test_web_client import (  # noqa: F401 - fixture
    BOTH_BACKENDS,
    SITE_TITLE,
    Client,
    Clock,
    make_planet,
    numbers,
    pager_links,
    web_store_fixture,
)

ROUTING = (("routing", 0.9),)
SEC_FIRST = (("security", 0.8), ("routing", 0.5))


def _chips(html: str, label: str = "Topics") -> list[list[tuple[str, str]]]:
    """Per post, the (href, text) of its chips in the list labelled `label`."""
    out = []
    for block in re.findall(rf'<ul class="chips[^"]*" aria-label="{label}">(.*?)</ul>', html, re.S):
        out.append(
            [
                (href, re.sub(r"<[^>]+>", "", text))
                for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', block)
            ]
        )
    return out


def test_posts_show_their_topics_primary_first_beside_their_categories(
    web_store: SqlStore,
) -> None:
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(
        s.id,
        make_entry(s.id, 1, topics=SEC_FIRST),
        make_entry(s.id, 2, topics=(("retired-topic", 0.9), ("wan", 0.4))),
        make_entry(s.id, 3),
    )
    home = planet.client.get("/").text
    assert _chips(home) == [
        [("/topic/security/", "Security (main topic)"), ("/topic/routing/", "Routing")],
        [("/topic/wan/", "WAN")],  # a slug the site does not know has no chip (nor a 404 link)
    ]
    assert _chips(home, "Categories")[0] == [("/category/networking/", "Networking")]
    post_id = next(e.id for e in web_store.list_entries(limit=10) if e.key == "g:post-1")
    page = planet.client.get(f"/post/{post_id}/").text
    assert _chips(page)[0][0] == ("/topic/security/", "Security (main topic)")
    hits = planet.client.get("/search?q=reflectors").text
    assert [("/topic/security/", "Security (main topic)"), ("/topic/routing/", "Routing")] in (
        _chips(hits)
    )


@BOTH_BACKENDS
def test_topic_archives_have_stable_numbered_pages(web_store: SqlStore) -> None:
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    # posts 100-112 are about security, the others about routing only
    planet.add(s.id, *(make_entry(s.id, n, topics=ROUTING) for n in range(1, 12)))
    planet.add(s.id, *(make_entry(s.id, n, topics=SEC_FIRST) for n in range(100, 113)))
    web_store.seal_pages(NOW)
    front = planet.client.get("/topic/security/")
    assert front.status == 200
    assert "<h1>Security</h1>" in front.text
    assert DEFAULT_TOPICS[2].description in front.text
    assert "<title>Security — Test Planet</title>" in front.text
    assert numbers(front.text) == list(range(100, 108))  # partial page 3, then page 2
    assert pager_links(front.text) == {"older": "/topic/security/page/1"}
    first = planet.client.get("/topic/security/page/1")
    assert numbers(first.text) == [108, 109, 110, 111, 112]
    assert pager_links(first.text) == {"newer": "/topic/security/page/2"}
    assert "<h1>Security, page 1</h1>" in first.text
    partial = planet.client.get("/topic/security/page/3")
    assert (partial.status, partial.headers["location"]) == (302, "/topic/security/")
    assert planet.client.get("/topic/security/page/4").status == 404
    # routing has all 24 posts: four full pages, the fifth partial
    assert planet.client.get("/topic/routing/page/4").status == 200
    assert planet.client.get("/topic/routing/page/5").status == 302
    assert re.search(r'aria-current="page">Security<', front.text)
    for missing in ("/topic/nope/", "/topic/nope/page/1", "/topic/nope/feed.xml"):
        assert planet.client.get(missing).status == 404


def test_a_topic_list_given_to_the_app_is_the_one_shown(web_store: SqlStore) -> None:
    s = web_store.add_source(spec(1))
    mine = [TopicInfo("routing", "Routing and MPLS", "Paths."), TopicInfo("optics", "Optics")]
    app = create_app(
        web_store, Settings(site_title=SITE_TITLE), clock=Clock(), page_size=5, topics=mine
    )
    client = Client(app)
    web_store.apply_update(plan(s.id, (make_entry(s.id, 1, topics=SEC_FIRST),)))
    home = client.get("/").text
    assert _chips(home) == [[("/topic/routing/", "Routing and MPLS")]]
    nav = re.search(r'<nav class="wrap topic-nav" aria-label="Topics">(.*?)</nav>', home, re.S)
    assert nav is not None
    assert re.findall(r'href="(/topic/[^"]+)"', nav[1]) == ["/topic/routing/", "/topic/optics/"]
    assert client.get("/topic/security/").status == 404
    assert client.get("/topic/optics/").status == 200


@BOTH_BACKENDS
def test_label_filters_leave_posts_out_and_stay_on_the_paging_links(web_store: SqlStore) -> None:
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    # every third post is a podcast, post 5 is sponsored
    planet.add(
        s.id,
        *(
            make_entry(s.id, n, topics=ROUTING, podcast=n % 3 == 0, sponsored=n == 5)
            for n in range(1, 24)
        ),
    )
    web_store.seal_pages(NOW - timedelta(hours=2, minutes=30))  # posts 1, 2 unsealed
    full = planet.client.get("/").text
    assert "Podcast</span>" in full and "Sponsored</span>" in full
    plain = planet.client.get("/?podcasts=0&sponsored=0").text
    shown = numbers(plain)
    assert shown and not any(n % 3 == 0 or n == 5 for n in shown)
    older = pager_links(plain)["older"]
    assert older.endswith("podcasts=0&sponsored=0")
    # a numbered page keeps its positions: with the filter it shows fewer posts
    page = planet.client.get(older)
    assert page.status == 200
    every = numbers(planet.client.get(older.split("?")[0]).text)
    assert numbers(page.text) == [n for n in every if n % 3 and n != 5]
    assert all("podcasts=0" in link for link in pager_links(page.text).values())
    topic = planet.client.get("/topic/routing/?sponsored=0").text
    assert 5 not in numbers(topic) and 3 in numbers(topic)
    assert pager_links(topic)["older"].endswith("?sponsored=0")
    # the toggle offers the way back
    assert 'href="/topic/routing/" rel="nofollow">Show sponsored posts</a>' in topic
    assert 'href="/topic/routing/?sponsored=0&amp;podcasts=0" rel="nofollow">Hide podcasts' in topic
    # a partial page's redirect keeps the filter too
    partial = planet.client.get("/page/5?podcasts=0")
    assert (partial.status, partial.headers["location"]) == (302, "/?podcasts=0")
    source = planet.client.get("/source/example-blog-1/?podcasts=0").text
    assert not any(n % 3 == 0 for n in numbers(source))


def test_feeds_carry_topics_and_labels_and_topic_feeds_exist(web_store: SqlStore) -> None:
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(
        s.id,
        make_entry(s.id, 1, topics=SEC_FIRST, podcast=True),
        make_entry(s.id, 2, topics=ROUTING, sponsored=True),
        make_entry(s.id, 3, topics=ROUTING),
    )
    for fmt in ("feed.xml", "atom.xml"):  # the JSON Feed is checked as JSON below
        reply = planet.client.get(f"/topic/routing/{fmt}")
        assert reply.status == 200, fmt
        parsed = feedparser.parse(reply.body)
        assert not parsed.bozo, (fmt, parsed.get("bozo_exception"))
        assert "Routing" in parsed.feed.title
        assert len(parsed.entries) == 3
        newest = parsed.entries[0]
        terms = [t.term for t in newest.tags]
        assert terms[:3] == ["Networking", "Security", "Routing"], fmt  # category, topics
        assert "Podcast" in terms
        security = feedparser.parse(planet.client.get(f"/topic/security/{fmt}").body)
        assert len(security.entries) == 1
        plain = feedparser.parse(planet.client.get(f"/{fmt}?podcasts=0&sponsored=0").body)
        assert [e.title for e in plain.entries] == ["Post number 3 about BGP"], fmt
    assert len(json.loads(planet.client.get("/topic/security/feed.json").body)["items"]) == 1
    plain_json = json.loads(planet.client.get("/feed.json?podcasts=0&sponsored=0").body)
    assert [i["title"] for i in plain_json["items"]] == ["Post number 3 about BGP"]
    data = json.loads(planet.client.get("/feed.json").body)
    assert data["items"][0]["tags"][:4] == ["Networking", "Security", "Routing", "Podcast"]
    assert [i["_netplanet"] for i in data["items"]] == [
        {"topics": ["security", "routing"], "podcast": True, "sponsored": False},
        {"topics": ["routing"], "podcast": False, "sponsored": True},
        {"topics": ["routing"], "podcast": False, "sponsored": False},
    ]
    assert "Sponsored" in data["items"][1]["tags"]
    head = planet.client.get("/topic/routing/").text
    assert (
        'type="application/atom+xml" title="Atom — Routing" href="/topic/routing/atom.xml"' in head
    )


@BOTH_BACKENDS
def test_search_filters_by_topic_and_labels(web_store: SqlStore) -> None:
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store, page_size=2)
    planet.add(
        s.id,
        *(make_entry(s.id, n, topics=SEC_FIRST if n < 6 else ROUTING) for n in range(1, 10)),
        make_entry(s.id, 10, topics=SEC_FIRST, podcast=True),
    )
    form = planet.client.get("/search").text
    assert '<label for="search-topic">Topic</label>' in form
    assert '<option value="cloud-native">Cloud Native</option>' in form
    page = planet.client.get("/search?q=reflectors&topic=security").text
    assert set(numbers(page)) <= {1, 2, 3, 4, 5, 10} and len(numbers(page)) == 2
    assert "6 results" in page
    assert "Filtered: topic Security" in page
    assert pager_links(page)["older"] == "/search?q=reflectors&topic=security&page=2"
    assert '<option value="security" selected>' in page
    plain = planet.client.get("/search?q=reflectors&topic=security&podcasts=0").text
    assert "5 results" in plain
    assert pager_links(plain)["older"].endswith("&podcasts=0&page=2")
    assert 'name="podcasts" value="0" form="site-search-form" checked' in plain
    unknown = planet.client.get("/search?q=reflectors&topic=nope").text
    assert "There is no topic “nope”, so every topic was searched." in unknown
    assert "10 results" in unknown


def test_a_generation_bump_changes_the_pages_validators(web_store: SqlStore) -> None:
    """Re-classifying or overriding topics rewrites entries.topics without new posts; the code
    that does so bumps the site generation, which the validators hash."""
    s = web_store.add_source(spec(1))
    planet = make_planet(web_store)
    planet.add(s.id, make_entry(s.id, 1, topics=ROUTING))
    before = planet.client.get("/topic/routing/").headers["etag"]
    assert planet.client.get("/topic/routing/").headers["etag"] == before
    web_store.bump_generation()
    assert planet.client.get("/topic/routing/").headers["etag"] != before


def test_the_default_topics_are_the_bundled_taxonomys() -> None:
    from netplanet.enrich.topics import load_taxonomy

    bundled = [(t.slug, t.name, t.description) for t in load_taxonomy(None).topics]
    assert [(t.slug, t.name, t.description) for t in DEFAULT_TOPICS] == bundled


def test_the_site_shows_the_planets_taxonomy_and_follows_a_saved_one(
    web_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    from pathlib import Path

    from netplanet.operations.topics import TEXT_KEY

    planet = make_planet(web_store)  # given no topics: the planet's taxonomy (bundled here)
    home = planet.client.get("/").text
    assert 'href="/topic/cloud-native/"' in home
    assert planet.client.get("/topic/other/").status == 404

    small = Path(__file__).parent / "data" / "topics_small.toml"
    web_store.set_setting(TEXT_KEY, small.read_text(encoding="utf-8"))  # the admin saved it
    web_store.bump_generation()
    home = planet.client.get("/").text
    assert 'href="/topic/other/"' in home and 'href="/topic/cloud-native/"' not in home
    assert "Everything else." in planet.client.get("/topic/other/").text

    web_store.set_setting(TEXT_KEY, "[[topic]]\nslug = 'Bad Slug'")  # broken meanwhile
    web_store.bump_generation()
    with caplog.at_level("ERROR"):
        home = planet.client.get("/").text
    assert 'href="/topic/other/"' in home  # the topics shown so far stay
    assert "the taxonomy cannot be read" in caplog.text
