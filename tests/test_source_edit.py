"""Changing a source after it was added: `netplanet sources edit`, the admin source form and
the store's `edit_source(feed_url=...)` (issue 12, item 9). A new feed URL passes the SSRF
guard, keeps the source's id, slug and posts, is refused when another source has it, and
resets the poll state so the source is polled again soon."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from builders import NOW, cli, make_entry, plan, spec, success
from feedserver import FeedServer, rss
from netplanet.errors import DuplicateSourceError, UsageError
from netplanet.model import SourceStatus
from netplanet.publish.health import health_row, suggested_feed_url
from netplanet.store import SqlStore, open_store
from netplanet.web.auth import PASSWORD_KEY, hash_password
from test_admin import PASSWORD, AdminClient, Clock, make_client, signed_in

FAILING = dict(
    consecutive_failures=4,
    last_error_class="http",
    last_error="HTTP 404 Not Found at https://blog1.example.net/feed/",
    failing_since=NOW,
    etag='"abc"',
    last_modified="Tue, 01 Dec 2026 10:00:00 GMT",
    body_hash="feedbeef",
    next_poll_at=NOW.replace(year=2027),
)


def failing_source_with_posts(store: SqlStore) -> int:
    source = store.add_source(spec(1))
    store.apply_update(
        dataclasses.replace(plan(source.id, (make_entry(source.id, 1),)), source=success())
    )
    store.apply_update(dataclasses.replace(plan(source.id), source=success(**FAILING)))
    return source.id


def test_new_feed_url_keeps_id_slug_and_posts_and_resets_the_poll_state(
    store: SqlStore,
) -> None:
    source_id = failing_source_with_posts(store)
    before = store.get_source(source_id)
    assert before is not None and before.consecutive_failures == 4
    edited = store.edit_source(source_id, feed_url="https://blog1.example.net/index.xml")
    assert (edited.id, edited.slug) == (before.id, before.slug)
    assert edited.feed_url == "https://blog1.example.net/index.xml"
    assert store.count_entries(source_id=source_id) == 1
    assert edited.consecutive_failures == 0 and edited.next_poll_at is None
    assert (edited.etag, edited.last_modified, edited.body_hash) == (None, None, None)
    assert edited.failing_since is None and edited.last_error_class == ""
    assert edited.status is SourceStatus.NEW
    # The health page says what happened until the next poll tells more.
    row = health_row(edited, NOW, 2000.0)
    assert "feed URL changed" in row.diagnosis and "blog1.example.net/feed/" in row.diagnosis
    assert store.due_sources(NOW)[0].id == source_id


def test_a_feed_url_another_source_has_is_refused(store: SqlStore) -> None:
    first = store.add_source(spec(1))
    second = store.add_source(spec(2))
    with pytest.raises(DuplicateSourceError, match=f"source {second.id}"):
        store.edit_source(first.id, feed_url=second.feed_url)
    assert store.get_source(first.id).feed_url == spec(1).feed_url  # type: ignore[union-attr]
    # The same URL again is no change at all.
    same = store.edit_source(first.id, feed_url=first.feed_url)
    assert same.next_poll_at == first.next_poll_at


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "ftp://x.example/feed", "/feed"])
def test_a_feed_url_must_be_http(store: SqlStore, url: str) -> None:
    source = store.add_source(spec(1))
    with pytest.raises(UsageError):
        store.edit_source(source.id, feed_url=url)


def test_suggested_feed_url_comes_from_the_diagnosis() -> None:
    from netplanet.model import Source
    from netplanet.update.decide import html_diagnosis

    page = b'<html><head><link rel="alternate" type="application/atom+xml" href="/a.xml">'
    error = html_diagnosis(page, "https://x.example/feed")
    base = Source(1, "https://x.example/feed", "", "", "", "x", consecutive_failures=1)
    source = dataclasses.replace(base, last_error=error)
    assert suggested_feed_url(source) == "https://x.example/a.xml"
    assert suggested_feed_url(dataclasses.replace(source, consecutive_failures=0)) == ""
    assert suggested_feed_url(dataclasses.replace(source, last_error="HTTP 404")) == ""
    hostile = "… at javascript:alert(1) — update the source's feed URL to it"
    assert suggested_feed_url(dataclasses.replace(source, last_error=hostile)) == ""


# --------------------------------------------------------------------------- the CLI


def test_cli_sources_edit(
    capsys: pytest.CaptureFixture[str],
    database: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = open_store(database)
    try:
        source_id = failing_source_with_posts(store)
        other = store.add_source(spec(2))
    finally:
        store.close()
    loopback.static("/new.xml", rss([("a", "t", "<p>x</p>")]))
    new = loopback.url("/new.xml")

    # Private addresses are refused by the guard unless allowed; nothing changes.
    code, _, err = cli(
        capsys, "--database", database, "sources", "edit", str(source_id), "--url", new
    )
    assert code == 1 and "refused" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    code, _, err = cli(
        capsys, "--database", database, "sources", "edit", str(source_id), "--url", other.feed_url
    )
    assert code == 1 and f"source {other.id}" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli(
        capsys,
        "--database",
        database,
        "sources",
        "edit",
        str(source_id),
        "--url",
        new,
        "--title",
        "Renamed",
        "--category",
        "Lab",
        "--disable",
    )
    assert code == 0, err
    assert "feed URL" in out and new in out
    store = open_store(database)
    try:
        edited = store.get_source(source_id)
        assert edited is not None
        assert (edited.feed_url, edited.title, edited.category) == (new, "Renamed", "Lab")
        assert edited.enabled is False and edited.slug == "example-blog-1"
        assert store.count_entries(source_id=source_id) == 1
    finally:
        store.close()
    code, _, _ = cli(capsys, "--database", database, "sources", "edit", str(source_id), "--enable")
    assert code == 0
    code, _, err = cli(capsys, "--database", database, "sources", "edit", str(source_id))
    assert code == 2 and "nothing to change" in err


# --------------------------------------------------------------------------- the admin


@pytest.fixture
def client(store: SqlStore) -> Iterator[AdminClient]:
    store.set_setting(PASSWORD_KEY, hash_password(PASSWORD, n=2**10))
    with make_client(store, Clock(), allow_private_networks=True) as c:
        yield c


def test_admin_edits_the_feed_url(
    client: AdminClient, store: SqlStore, loopback: FeedServer
) -> None:
    source_id = failing_source_with_posts(store)
    other = store.add_source(spec(2))
    csrf = signed_in(client)
    url = f"/admin/sources/{source_id}"
    page = client.get(url).text
    assert 'name="url"' in page and spec(1).feed_url in page

    def save(feed_url: str) -> object:
        return client.post(
            url,
            data={
                "csrf": csrf,
                "action": "save",
                "url": feed_url,
                "title": "Example Blog 1",
                "category": "Networking",
            },
        )

    refused = save(other.feed_url)
    assert refused.status_code == 400 and f"source {other.id}" in refused.text  # type: ignore[attr-defined]
    blocked = save("http://user:pw@blog.example.net/feed")
    assert blocked.status_code == 400 and "refused" in blocked.text  # type: ignore[attr-defined]
    assert store.get_source(source_id).feed_url == spec(1).feed_url  # type: ignore[union-attr]

    loopback.static("/new.xml", rss([("a", "t", "<p>x</p>")]))
    done = save(loopback.url("/new.xml"))
    assert done.status_code == 200 and "Feed URL changed" in done.text  # type: ignore[attr-defined]
    edited = store.get_source(source_id)
    assert edited is not None and edited.feed_url == loopback.url("/new.xml")
    assert edited.consecutive_failures == 0 and store.count_entries(source_id=source_id) == 1


def test_admin_uses_the_suggested_feed_url_in_one_click(
    client: AdminClient, store: SqlStore, loopback: FeedServer
) -> None:
    from netplanet.update.decide import html_diagnosis

    source_id = failing_source_with_posts(store)
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/real.xml">'
    error = html_diagnosis(page, loopback.url("/feed/"))
    store.apply_update(
        dataclasses.replace(
            plan(source_id),
            source=success(**{**FAILING, "last_error_class": "not_a_feed", "last_error": error}),
        )
    )
    csrf = signed_in(client)
    url = f"/admin/sources/{source_id}"
    shown = client.get(url).text
    assert "Use the suggested feed URL" in shown and loopback.url("/real.xml") in shown
    done = client.post(url, data={"csrf": csrf, "action": "suggested"})
    assert done.status_code == 200 and "Feed URL changed" in done.text
    edited = store.get_source(source_id)
    assert edited is not None and edited.feed_url == loopback.url("/real.xml")
    assert "Use the suggested feed URL" not in done.text
