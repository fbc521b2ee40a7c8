"""Story clusters on the site: a post read through two feeds is shown once in the river, in
search and in the output feeds, "Also on" the other feed; a sealed numbered page keeps its
positions and shows one post fewer; the post page lists the story."""

from __future__ import annotations

from datetime import timedelta

from builders import NOW, spec
from netplanet.store.sql import SqlStore
from test_store_stories import signed
from test_story import INCIDENT
from test_web_client import (  # noqa: F401 - fixtures
    BOTH_BACKENDS,
    make_planet,
    titles,
    web_store_fixture,
)


@BOTH_BACKENDS
def test_a_post_on_two_feeds_is_shown_once_and_also_on_the_other(web_store: SqlStore) -> None:
    main = web_store.add_source(spec(1, title="Origin Blog"))
    tag = web_store.add_source(spec(2, title="Origin Blog security tag"))
    planet = make_planet(web_store)
    title, text = INCIDENT[0]
    url = "https://origin.example/gatekeeper/"
    planet.add(main.id, signed(main.id, title, text, url=url))
    planet.add(tag.id, signed(tag.id, title, text, url=url, hours=1))

    river = planet.client.get("/").text
    assert titles(river) == [title]
    assert "Also on:" in river and '<a href="/source/' in river
    assert "Origin Blog security tag</a>" in river
    assert "Also covered by" not in river
    assert planet.client.get("/search?q=appliance").text.count('class="post-title"') == 1
    for feed in ("/feed.xml", "/atom.xml", "/feed.json"):
        assert planet.client.get(feed).text.count("Gatekeeper VPN flaw") == 1, feed
    # The tag feed's own page still lists its copy.
    assert titles(planet.client.get(f"/source/{tag.slug}/").text) == [title]


def test_the_post_page_lists_the_story_and_numbered_pages_keep_positions(
    web_store: SqlStore,
) -> None:
    sources = [web_store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    planet = make_planet(web_store, page_size=2)
    for n, (source, (title, text)) in enumerate(zip(sources, INCIDENT, strict=True)):
        planet.add(source.id, signed(source.id, title, text, hours=6 * n))
    web_store.seal_pages(NOW)
    river = planet.client.get("/").text
    assert titles(river) == [INCIDENT[3][0]]
    assert river.count("Also covered by:") == 1
    for title, _ in INCIDENT[:3]:
        assert f"“{title}”" in river  # each link names its post for screen readers
    # Four positions sealed, three of them collapsed: page 1 shows one post fewer.
    assert web_store.max_seq() == 4
    assert titles(planet.client.get("/page/1").text) == []
    lead = web_store.list_entries(collapsed=False, limit=5)[0]
    page = planet.client.get(f"/post/{lead.id}/").text
    assert "This story on the planet" in page
    assert all(title in page for title, _ in INCIDENT[:3])
    assert page.count("<li>") >= 3
    assert NOW - timedelta(days=3) < lead.published
