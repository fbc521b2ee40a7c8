"""The weekly digest on the site: /digest/ and a week's page (grouped by topic, stories once,
podcasts apart, sponsored posts out), a finished week's page that never changes (same bytes
after posts are backfilled, edited and deleted; immutable caching with an ETag), the week in
progress that does, the digest feeds (one item per finished week, read back by feedparser),
bad weeks, the admin's pins and drops, and the sealing timer freezing the week that ended."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from builders import NOW, make_entry, plan, spec
from netplanet.publish.weekly import Week
from netplanet.store.sql import SqlStore
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, Clock, make_client, signed_in
from test_store_stories import signed
from test_story import INCIDENT
from test_web_client import (  # noqa: F401 - fixtures
    BOTH_BACKENDS,
    Planet,
    make_planet,
    web_store_fixture,
)

CURRENT = Week.of(NOW)  # 2026-W44, in progress at NOW (Sunday noon)
PAST = CURRENT.previous()  # 2026-W43, over


def at(week: Week, hours: float) -> Any:
    return week.start + timedelta(hours=hours)


def digest_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="digest-title"><a [^>]*>([^<]*)</a>', html)


def sections(html: str) -> list[str]:
    return re.findall(r'<h2 id="topic-[^"]*">([^<]*)</h2>', html)


def fill(planet: Planet) -> dict[str, int]:
    """Posts of the past week: two topics, a story covered by four blogs, a podcast, a
    sponsored post, and a post of the week in progress."""
    store = planet.store
    blogs = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    one = blogs[0].id
    planet.add(
        one,
        make_entry(one, 1, title="Route reflectors explained", published=at(PAST, 10),
                   topics=(("routing", 0.9),)),
        make_entry(one, 2, title="Newer routing note", published=at(PAST, 50),
                   topics=(("routing", 0.8),)),
        make_entry(one, 3, title="Wi-Fi 7 in the office", published=at(PAST, 20),
                   topics=(("wireless", 0.9),)),
        make_entry(one, 4, title="Packet Pushers episode 400", published=at(PAST, 30),
                   topics=(("routing", 0.7),), podcast=True),
        make_entry(one, 5, title="Sponsored: buy our router", published=at(PAST, 40),
                   topics=(("routing", 0.9),), sponsored=True),
        make_entry(one, 6, title="This week so far", published=at(CURRENT, 5),
                   topics=(("routing", 0.9),)),
    )  # fmt: skip
    # The story: four blogs within a day, dated in the past week (signed() dates NOW - 3 days
    # plus the hours given: W43's Thursday is 7 days before W44's).
    for n, (source, (title, text)) in enumerate(zip(blogs, INCIDENT, strict=True)):
        entry = signed(source.id, title, text, hours=6 * n)
        planet.add(source.id, _moved(entry, at(PAST, 72 + 6 * n), topics=(("security", 0.9),)))
    # The newest story post read through a second feed (a tag feed): a copy, shown once.
    tag = store.add_source(spec(9, title="Blog 4 security tag"))
    title, text = INCIDENT[3]
    original = next(e for e in store.list_entries(source_id=blogs[3].id) if e.title == title)
    copy = signed(tag.id, title, text, url=original.url)
    planet.add(tag.id, _moved(copy, at(PAST, 90), topics=(("security", 0.9),)))
    assert store.list_entries(source_id=tag.id)[0].duplicate_of == original.id
    return {e.title: e.id for e in store.list_entries(source_id=blogs[0].id, limit=100)}


def _moved(entry: Any, when: Any, **kw: Any) -> Any:
    from dataclasses import replace

    return replace(entry, published=when, **kw)


@BOTH_BACKENDS
def test_a_week_groups_by_topic_collapses_stories_and_leaves_sponsored_out(
    web_store: SqlStore,
) -> None:
    planet = make_planet(web_store)
    fill(planet)
    reply = planet.client.get(PAST.href)
    assert reply.status == 200
    page = reply.text
    assert sections(page) == ["Routing", "Security", "Wireless", "Podcasts and videos"]
    assert digest_titles(page) == [
        "Newer routing note",
        "Route reflectors explained",
        INCIDENT[3][0],  # the story, once, at its newest post
        "Wi-Fi 7 in the office",
        "Packet Pushers episode 400",
    ]
    assert "Covered by 4 sources" in page and page.count("Covered by") == 1
    assert "Sponsored" not in page and "This week so far" not in page
    assert "In progress" not in page
    assert "2026-W43" in page and "19–25 October 2026" in page
    # Its feeds are advertised, and the site's navigation leads here.
    assert 'rel="alternate" type="application/rss+xml" title="Weekly digest (RSS)"' in page
    assert '<a href="/digest/" aria-current="page">Weekly digest</a>' in page
    assert '<a href="/digest/">Weekly digest</a>' in planet.client.get("/").text


def test_a_finished_week_is_frozen_on_first_read_and_its_bytes_never_change(
    web_store: SqlStore,
) -> None:
    planet = make_planet(web_store)
    ids = fill(planet)
    first = planet.client.get(PAST.href)
    assert first.headers["cache-control"] == "public, max-age=2592000, immutable"
    etag = first.headers["etag"]
    # A post backfilled into the week, one edited, a whole source (and its story post) deleted.
    src = web_store.list_sources()[0]
    planet.add(src.id, make_entry(src.id, 50, title="Backfilled", published=at(PAST, 60),
                                  topics=(("routing", 0.9),)))  # fmt: skip
    edited = make_entry(src.id, 1, title="Edited title", published=at(PAST, 10))
    web_store.apply_update(
        plan(src.id, changed_entries=((ids["Route reflectors explained"], edited),))
    )
    web_store.remove_source(web_store.list_sources()[2].id)
    # A new source's backlog, weeks before the first posts.
    late = web_store.add_source(spec(8))
    planet.add(late.id, make_entry(late.id, 80, published=at(PAST, -24 * 7 * 5)))
    planet.clock.now = NOW + timedelta(days=3)  # and time goes by
    again = planet.client.get(PAST.href)
    assert again.body == first.body and again.headers["etag"] == etag
    # A new process (no page cache) renders the very same bytes from the frozen list.
    fresh = make_planet(web_store, planet.clock).client.get(PAST.href)
    assert fresh.body == first.body and fresh.headers["etag"] == etag
    assert planet.client.get(PAST.href, headers={"If-None-Match": etag}).status == 304
    # The topic archive shows the backfilled post: only the digest is frozen.
    assert "Backfilled" in planet.client.get("/topic/routing/").text


def test_the_week_in_progress_changes_and_says_so(web_store: SqlStore) -> None:
    planet = make_planet(web_store)
    fill(planet)
    page = planet.client.get(CURRENT.href)
    assert page.headers["cache-control"] == "public, max-age=60"
    assert "In progress." in page.text and digest_titles(page.text) == ["This week so far"]
    src = web_store.list_sources()[0]
    planet.add(src.id, make_entry(src.id, 60, title="Later this week", published=at(CURRENT, 9),
                                  topics=(("routing", 0.9),)))  # fmt: skip
    assert digest_titles(planet.client.get(CURRENT.href).text) == [
        "Later this week",
        "This week so far",
    ]
    assert web_store.frozen_week(CURRENT.label) is None
    # Once the week is over, it is final.
    planet.clock.now = CURRENT.end
    final = planet.client.get(CURRENT.href)
    assert "In progress" not in final.text and "immutable" in final.headers["cache-control"]


def test_the_index_lists_weeks_with_posts_newest_first(web_store: SqlStore) -> None:
    planet = make_planet(web_store)
    src = web_store.add_source(spec(1))
    planet.add(
        src.id, *(make_entry(src.id, n, published=at(CURRENT, -24 * 7 * n + 1)) for n in (0, 1, 3))
    )
    page = planet.client.get("/digest/").text
    assert re.findall(r'<a href="/digest/(\d{4}-w\d\d)/">', page) == [
        "2026-w44",
        "2026-w43",
        "2026-w41",
    ]
    assert "in progress" in page
    assert web_store.frozen_week("2026-W42") is None  # listing freezes nothing


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/digest/2026-w60/", 404, "2026 has weeks 01 to 53"),
        ("/digest/bgp/", 404, "is not a week"),
        (
            "/digest/2026-w45/",
            404,
            "does not exist yet: that week starts on Monday 2 November 2026",
        ),
        ("/digest/1990-w01/", 404, "the planet has no posts that old"),
        ("/digest/?before=nope", 404, "is not a week"),
    ],
)
def test_bad_and_future_weeks_are_clear_404s(
    web_store: SqlStore, path: str, status: int, says: str
) -> None:
    planet = make_planet(web_store)
    fill(planet)
    reply = planet.client.get(path)
    assert reply.status == status and says in reply.text
    assert web_store.frozen_week("1990-W01") is None  # nothing stored for it


def test_an_uppercase_week_redirects_to_the_lowercase_url(web_store: SqlStore) -> None:
    planet = make_planet(web_store)
    reply = planet.client.get("/digest/2026-W43/")
    assert reply.status == 301 and reply.headers["location"] == "/digest/2026-w43/"


@BOTH_BACKENDS
def test_the_digest_feeds_have_one_item_per_finished_week(web_store: SqlStore) -> None:
    planet = make_planet(web_store)
    fill(planet)
    src = web_store.list_sources()[1]
    planet.add(
        src.id, make_entry(src.id, 70, title="Two weeks ago", published=at(PAST.previous(), 3))
    )
    for path in ("/digest/feed.xml", "/digest/atom.xml"):
        reply = planet.client.get(path)
        assert reply.status == 200, path
        parsed = feedparser.parse(reply.body)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert [e.link for e in parsed.entries] == [
            f"http://planet.test{PAST.href}",
            f"http://planet.test{PAST.previous().href}",
        ], path
        newest = parsed.entries[0]
        assert newest.title == "Test Planet weekly digest: 2026-W43"
        body = newest.get("summary", "") or newest.content[0].value
        assert "Covered by 4 sources" in body and "Route reflectors explained" in body
        assert "Sponsored" not in body and "This week so far" not in body
        assert 'href="http://planet.test/topic/' not in body or "more in" in body
    items = json.loads(planet.client.get("/digest/feed.json").body)["items"]
    assert [i["url"] for i in items] == [
        f"http://planet.test{PAST.href}",
        f"http://planet.test{PAST.previous().href}",
    ]
    assert len({i["id"] for i in items}) == 2 and "Covered by 4 sources" in items[0]["content_html"]
    assert web_store.frozen_week(PAST.label) is not None  # the feed froze what it published


def test_operators_pin_and_drop_posts_of_the_week_in_progress(store: SqlStore) -> None:
    clock = Clock()
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    src = store.add_source(spec(1))
    store.apply_update(
        plan(
            src.id,
            tuple(
                make_entry(
                    src.id,
                    n,
                    title=f"Current {n}",
                    published=at(CURRENT, n),
                    topics=(("routing", 0.9),),
                )
                for n in range(1, 8)
            ),
        )
    )
    store.apply_update(plan(src.id, (make_entry(src.id, 9, title="Old", published=at(PAST, 1)),)))
    ids = {e.title: e.id for e in store.list_entries(limit=20)}
    with make_client(store, clock, admin_session_s=7 * 86400) as client:
        csrf = signed_in(client)
        page = client.get("/admin/digest/")
        assert page.status_code == 200 and "Current 7" in page.text

        def act(action: str, title: str) -> Any:
            return client.post(
                "/admin/digest/", data={"csrf": csrf, "action": action, "entry": str(ids[title])}
            )

        assert "Pinned post" in act("pin", "Current 1").text
        assert "Dropped post" in act("drop", "Current 7").text
        public = client.get(CURRENT.href).text
        shown = digest_titles(public)
        assert shown[0] == "Current 1" and "Current 7" not in shown
        assert "Picked" in public and len(shown) == 5  # the cap, the pinned post within it
        # Undo works and the choice is kept in the database.
        assert "Restored post" in act("restore", "Current 7").text
        assert "Unpinned post" in act("unpin", "Current 1").text
        assert act("pin", "Current 2").status_code == 200
        assert store.week_data(CURRENT.label, CURRENT.start, CURRENT.end).picks == (
            (ids["Current 2"], "pin"),
        )
        refused = act("pin", "Old")
        assert refused.status_code == 400 and "not in the digest of 2026-W44" in refused.text
        forged = client.post("/admin/digest/", data={"csrf": "x", "action": "pin", "entry": "1"})
        assert forged.status_code == 403
        # The week ends: its frozen list keeps the pin, later choices cannot change it.
        clock.now = CURRENT.end + timedelta(hours=1)
        final = client.get(CURRENT.href).text
        assert digest_titles(final)[0] == "Current 2" and "Picked" in final
        assert "No posts this week yet." in client.get("/admin/digest/").text


def test_the_sealing_timer_freezes_the_week_that_ended(tmp_path: Path) -> None:
    from netplanet.planet import Planet as RealPlanet
    from netplanet.settings import Settings

    planet = RealPlanet(Settings(data_dir=tmp_path), create=True)
    try:
        store = planet.store
        src = store.add_source(spec(1))
        store.apply_update(plan(src.id, (make_entry(src.id, 1, published=at(PAST, 3)),)))
        pipeline = planet.pipeline(object(), clock=lambda: NOW)  # type: ignore[arg-type]
        pipeline.seal(force=True)
        frozen = store.frozen_week(PAST.label)
        assert frozen is not None and len(frozen.posts) == 1
        assert store.frozen_week(CURRENT.label) is None  # not over yet
    finally:
        planet.close()
