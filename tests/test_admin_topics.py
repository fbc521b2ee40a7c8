"""The admin's posts and topics pages: a post's topics with their evidence, the operator's
override (kept by re-classification and by edits of the post, CSRF-checked), back to
automatic; the taxonomy editor (validated whole, nothing lost on an error, saved where the
planet reads it, then re-classified in the background)."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import make_entry, plan, spec
from netplanet.enrich.topics import load_taxonomy
from netplanet.operations import topics as ops
from netplanet.settings import Settings
from netplanet.store.admin import GENERATION_KEY
from netplanet.store.sql import SqlStore
from netplanet.web.admin import topics as admin_topics
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, Clock, make_client, signed_in

SMALL = Path(__file__).parent / "data" / "topics_small.toml"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def posted(store: SqlStore) -> dict[str, int]:
    src = store.add_source(spec(1, title="Blog One"))
    posts = (
        make_entry(src.id, 1, title="BGP at home", guid="bgp"),
        make_entry(src.id, 2, title="Wi-Fi at home", guid="wifi"),
    )
    store.apply_update(plan(src.id, posts))
    store.set_setting(ops.TEXT_KEY, SMALL.read_text())  # the planet's taxonomy: the small one
    ops.reclassify(store, load_taxonomy(SMALL))
    return {str(e.guid): e.id for e in store.list_entries()}


@pytest.fixture
def client(store: SqlStore, clock: Clock) -> Iterator[AdminClient]:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock) as c:
        yield c


def test_posts_list_and_search_lead_to_a_post(client: AdminClient, posted: dict[str, int]) -> None:
    signed_in(client)
    page = client.get("/admin/posts")
    assert page.status_code == 200
    assert f'href="/admin/posts/{posted["bgp"]}"' in page.text and "routing" in page.text
    found = client.get("/admin/posts", params={"q": "wi-fi"})
    assert f'href="/admin/posts/{posted["wifi"]}"' in found.text
    assert f'/admin/posts/{posted["bgp"]}"' not in found.text
    by_id = client.get("/admin/posts", params={"q": str(posted["wifi"])}, follow_redirects=False)
    assert (
        by_id.status_code == 303 and by_id.headers["location"] == f"/admin/posts/{posted['wifi']}"
    )
    assert client.get("/admin/posts/999999").status_code == 404


def test_a_post_shows_its_topics_and_the_evidence(
    client: AdminClient, posted: dict[str, int]
) -> None:
    signed_in(client)
    page = client.get(f"/admin/posts/{posted['bgp']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Classified automatically" in text and "Routing (routing)" in text
    assert "<td>bgp</td><td>title</td>" in text  # the term, where it was found


def test_an_override_is_kept_by_reclassify_and_edits_then_reset(
    client: AdminClient, posted: dict[str, int], store: SqlStore
) -> None:
    csrf = signed_in(client)
    entry_id = posted["bgp"]
    url = f"/admin/posts/{entry_id}"
    before = store.get_setting(GENERATION_KEY)
    refused = client.post(url, data={"action": "override", "primary": "wireless"})
    assert refused.status_code == 403
    assert store.get_entry(entry_id).topic_slugs == ("routing",)  # type: ignore[union-attr]

    done = client.post(
        url,
        data={"csrf": csrf, "action": "override", "primary": "wireless", "secondary1": "other"},
    )
    assert done.status_code == 200 and "Topics set: wireless, other" in done.text
    assert "Set by an operator" in done.text and "Reset to automatic" in done.text
    post = store.get_entry(entry_id)
    assert post is not None and post.topic_slugs == ("wireless", "other") and post.topics_manual
    assert entry_id in {e.id for e in store.list_entries(topic="wireless")}
    assert store.get_setting(GENERATION_KEY) != before

    ops.reclassify(store, load_taxonomy(SMALL), everything=True)
    assert store.get_entry(entry_id).topic_slugs == ("wireless", "other")  # type: ignore[union-attr]
    src_id = post.source_id
    edited = dataclasses.replace(
        make_entry(src_id, 1, title="BGP at home (updated)", guid="bgp"),
        topics=(("routing", 0.9),),
    )
    store.apply_update(plan(src_id, changed_entries=((entry_id, edited),)))
    kept = store.get_entry(entry_id)
    assert kept is not None and kept.title == "BGP at home (updated)"
    assert kept.topic_slugs == ("wireless", "other")

    reset = client.post(url, data={"csrf": csrf, "action": "automatic"})
    assert reset.status_code == 200 and "Back to automatic: routing" in reset.text
    back = store.get_entry(entry_id)
    assert back is not None and back.topic_slugs == ("routing",) and not back.topics_manual


def test_a_bad_override_is_refused(
    client: AdminClient, posted: dict[str, int], store: SqlStore
) -> None:
    csrf = signed_in(client)
    url = f"/admin/posts/{posted['bgp']}"
    for data, message in (
        ({"primary": "nope"}, "no topic &#39;nope&#39;"),
        ({"primary": "routing", "secondary1": "routing"}, "once"),
    ):
        reply = client.post(url, data={"csrf": csrf, "action": "override", **data})
        assert reply.status_code == 400 and message in reply.text
    assert store.get_entry(posted["bgp"]).topic_slugs == ("routing",)  # type: ignore[union-attr]


def test_the_editor_keeps_an_invalid_text_and_saves_nothing(
    client: AdminClient, posted: dict[str, int], store: SqlStore
) -> None:
    csrf = signed_in(client)
    page = client.get("/admin/topics")
    assert page.status_code == 200 and "the taxonomy saved in the admin area" in page.text
    assert "Routing" in page.text and 'name="taxonomy"' in page.text
    broken = SMALL.read_text().replace('fallback = "other"', 'fallback = "nowhere"')
    reply = client.post("/admin/topics", data={"csrf": csrf, "action": "save", "taxonomy": broken})
    assert reply.status_code == 400 and "Not saved:" in reply.text and "nowhere" in reply.text
    assert broken in html.unescape(reply.text)  # the operator's text is still there
    assert store.get_setting(ops.TEXT_KEY) == SMALL.read_text()


def test_saving_a_taxonomy_stores_it_and_reclassifies(
    client: AdminClient, posted: dict[str, int], store: SqlStore
) -> None:
    csrf = signed_in(client)
    edited = SMALL.read_text().replace('strong = ["bgp", "ospf"]', 'strong = ["ospf"]')
    reply = client.post("/admin/topics", data={"csrf": csrf, "action": "save", "taxonomy": edited})
    assert reply.status_code == 200 and "Saved: taxonomy version" in reply.text
    assert admin_topics.job is not None
    admin_topics.job.join(timeout=30)
    assert store.get_setting(ops.TEXT_KEY) == edited
    assert store.get_setting(ops.VERSION_KEY) == ops.planet_taxonomy(Settings(), store).version
    # "bgp" is no term any more: the post falls back.
    assert store.get_entry(posted["bgp"]).topic_slugs == ("other",)  # type: ignore[union-attr]


def test_with_topics_file_the_editor_writes_that_file(
    store: SqlStore, clock: Clock, tmp_path: Path
) -> None:
    target = tmp_path / "topics.toml"
    target.write_text(SMALL.read_text())
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock, topics_file=str(target)) as c:
        csrf = signed_in(c)
        assert str(target) in c.get("/admin/topics").text
        edited = SMALL.read_text().replace('"wi-fi"]', '"wi-fi", "wlan"]')
        reply = c.post("/admin/topics", data={"csrf": csrf, "action": "save", "taxonomy": edited})
        assert reply.status_code == 200
        if admin_topics.job is not None:
            admin_topics.job.join(timeout=30)
    assert target.read_text() == edited
    assert store.get_setting(ops.TEXT_KEY) is None


def test_an_unreadable_topics_file_is_reported_not_a_crash(
    store: SqlStore, clock: Clock, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "topics.toml"
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, clock, topics_file=str(missing)) as c:
        signed_in(c)
        page = c.get("/admin/topics")
        assert page.status_code == 400 and "cannot read the taxonomy file" in page.text
