"""The pure decider: identity rules, edits, failures — no I/O, `now` passed in."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from builders import NOW, make_entry
from netplanet.model import (
    ExistingEntry,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    ParsedFeed,
    Source,
)
from netplanet.update import decide

SOURCE = Source(
    id=7, feed_url="https://a.example/feed", title="", site_url="", category="", slug="a"
)
REQ = FetchRequest(url=SOURCE.feed_url)
OK = FetchResult(
    request=REQ,
    outcome=FetchOutcome.OK,
    final_url=SOURCE.feed_url,
    status=200,
    body=b"<rss/>",
    etag='"e1"',
    last_modified="Sun, 01 Nov 2026 10:00:00 GMT",
    body_hash="hash1",
    bytes_received=6,
    duration_ms=12,
)
FEED = ParsedFeed(format="rss20", title="A Blog", link="https://a.example/")


def stored(entry_n: int, **kw: object) -> ExistingEntry:
    e = make_entry(SOURCE.id, entry_n)
    values: dict[str, object] = {
        "id": 100 + entry_n,
        "key": e.key,
        "guid": e.guid,
        "url": e.url,
        "title_date_hash": e.title_date_hash,
        "fingerprint": e.fingerprint,
        "first_seen": NOW - timedelta(days=1),
        "published": e.published,
    }
    values.update(kw)
    return ExistingEntry(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "link", "learned"),
    [
        ("<b>A</b> Blog", "javascript:alert(1)", ("A Blog", None)),
        ("&lt;script&gt;x&lt;/script&gt;", " data:text/html,x", ("x", None)),
        ("A Blog", "/home/", ("A Blog", "https://a.example/home/")),
        ("<br>", "file:///etc/passwd", (None, None)),
    ],
)
def test_source_learns_only_a_plain_title_and_an_http_site(
    title: str, link: str, learned: tuple[str | None, str | None]
) -> None:
    feed = dataclasses.replace(FEED, title=title, link=link)
    plan = decide.plan_entries(SOURCE, OK, feed, [], [], NOW)
    assert (plan.source.title, plan.source.site_url) == learned


def test_new_entries_are_new_and_source_learns_title_and_site() -> None:
    entries = [make_entry(7, 1), make_entry(7, 2)]
    plan = decide.plan_entries(SOURCE, OK, FEED, entries, [], NOW)
    assert plan.new_entries == tuple(entries)
    assert (plan.source.title, plan.source.site_url) == ("A Blog", "https://a.example/")
    assert (plan.source.etag, plan.source.body_hash) == ('"e1"', "hash1")
    assert plan.source.consecutive_failures == 0 and plan.source.last_success_at == NOW


def test_known_entry_with_same_fingerprint_is_unchanged() -> None:
    plan = decide.plan_entries(SOURCE, OK, FEED, [make_entry(7, 1)], [stored(1)], NOW)
    assert (plan.new_entries, plan.changed_entries, plan.unchanged_entries) == ((), (), 1)


def test_edited_entry_is_changed_in_place() -> None:
    edited = make_entry(7, 1, title="Revised", fingerprint="v1:other")
    plan = decide.plan_entries(SOURCE, OK, FEED, [edited], [stored(1)], NOW)
    assert plan.changed_entries == ((101, edited),)


def test_rewritten_guid_matches_by_canonical_url() -> None:
    rewritten = make_entry(7, 1, key="g:random-123", guid="random-123")
    plan = decide.plan_entries(SOURCE, OK, FEED, [rewritten], [stored(1)], NOW)
    assert plan.new_entries == () and plan.unchanged_entries == 1


def test_changed_guid_and_link_match_by_title_and_date() -> None:
    moved = make_entry(7, 1, key="g:new", guid="new", url="https://a.example/new-url")
    plan = decide.plan_entries(SOURCE, OK, FEED, [moved], [stored(1)], NOW)
    assert plan.new_entries == () and plan.unchanged_entries == 1


def test_changed_entry_keeps_its_stored_key() -> None:
    moved = make_entry(7, 1, key="g:new", guid="new", fingerprint="v1:changed")
    plan = decide.plan_entries(SOURCE, OK, FEED, [moved], [stored(1)], NOW)
    ((row_id, entry),) = plan.changed_entries
    assert (row_id, entry.key, entry.guid) == (101, "g:post-1", "new")


def test_shared_url_in_one_fetch_is_not_used_for_matching() -> None:
    # Some feeds link every item to the home page; those must not collapse into one post.
    a = make_entry(7, 1, key="g:x1", url="https://a.example/", title_date_hash="t1")
    b = make_entry(7, 2, key="g:x2", url="https://a.example/", title_date_hash="t2")
    old = stored(9, url="https://a.example/", key="g:x9", title_date_hash="t9")
    plan = decide.plan_entries(SOURCE, OK, FEED, [a, b], [old], NOW)
    assert len(plan.new_entries) == 2


def test_duplicated_guid_inside_one_feed_keeps_the_first() -> None:
    first = make_entry(7, 1)
    second = make_entry(7, 1, title="Same guid, other post", fingerprint="v1:zz")
    plan = decide.plan_entries(SOURCE, OK, FEED, [first, second], [], NOW)
    assert plan.new_entries == (first,)


def test_undated_entry_keeps_its_first_seen_date_when_edited() -> None:
    undated = make_entry(7, 1, published=NOW, date_from_feed=False, fingerprint="v1:edit")
    plan = decide.plan_entries(SOURCE, OK, FEED, [undated], [stored(1)], NOW)
    ((_, entry),) = plan.changed_entries
    assert entry.published == make_entry(7, 1).published


def test_permanent_redirect_updates_feed_url() -> None:
    plan = decide.plan_entries(SOURCE, OK, FEED, [], [], NOW, new_feed_url="https://b.example/f")
    assert plan.source.feed_url == "https://b.example/f"


def test_failure_counts_and_honours_retry_after() -> None:
    failed = dataclasses.replace(
        OK, outcome=FetchOutcome.ERROR, status=429, body=None, retry_after_s=120.0
    )
    source = dataclasses.replace(SOURCE, consecutive_failures=2)
    plan = decide.plan_failure(source, failed, NOW, error_class="http", error="HTTP 429")
    assert plan.source.consecutive_failures == 3
    assert plan.source.next_poll_at == NOW + timedelta(seconds=120)
    assert plan.source.last_error == "HTTP 429" and plan.source.last_success_at is None
    assert plan.new_entries == ()


def test_parse_failure_forgets_cache_state_so_the_body_is_parsed_again() -> None:
    plan = decide.plan_failure(
        SOURCE, OK, NOW, error_class="parse", error="bad", clear_cache_state=True
    )
    assert plan.source.clear_cache_state


def test_gone_disables_the_source_with_a_reason() -> None:
    gone = dataclasses.replace(OK, outcome=FetchOutcome.GONE, status=410, body=None)
    plan = decide.plan_gone(SOURCE, gone, NOW)
    assert plan.source.enabled is False
    assert "410" in (plan.source.disabled_reason or "")


def test_not_modified_keeps_stored_hash_and_validators() -> None:
    not_modified = dataclasses.replace(
        OK, outcome=FetchOutcome.NOT_MODIFIED, status=304, body=None, etag=None, body_hash=None
    )
    plan = decide.plan_not_modified(SOURCE, not_modified, NOW)
    assert plan.source.body_hash is None and plan.source.etag is None  # None = leave as is
    assert plan.source.last_success_at == NOW and plan.source.consecutive_failures == 0


def test_an_entry_url_urlsplit_refuses_is_matched_like_any_other() -> None:
    # Found by tests/test_fuzz_update.py: "]" in a host made urlsplit raise ValueError.
    url = "https://a.ex]ample/1"
    new = decide.plan_entries(SOURCE, OK, FEED, [make_entry(7, 1, url=url)], [], NOW)
    assert len(new.new_entries) == 1
    moved = make_entry(7, 1, key="g:other", url=url)
    plan = decide.plan_entries(SOURCE, OK, FEED, [moved], [stored(1, url=url)], NOW)
    assert plan.new_entries == () and plan.unchanged_entries == 1
