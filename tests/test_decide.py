"""The pure decider: identity rules, edits, failures — no I/O, `now` passed in."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest

from builders import NOW, make_entry
from netplanet import schedule
from netplanet.model import (
    ExistingEntry,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    ParsedFeed,
    PollOutcome,
    Source,
    SourceReport,
    SourceUpdate,
    UpdatePlan,
)
from netplanet.sources.discover import suggest_feed, suggested_feed
from netplanet.update import decide
from netplanet.update.digest import Digest

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


# ------------------------------------------------------------ the whole SourceUpdate, per outcome

FAILED = dataclasses.replace(
    OK, outcome=FetchOutcome.ERROR, status=503, body=None, bytes_received=40, duration_ms=900
)


def test_failure_records_the_whole_attempt() -> None:
    source = dataclasses.replace(SOURCE, consecutive_failures=2)
    plan = decide.plan_failure(source, FAILED, NOW, error_class="http", error="HTTP 503")
    assert plan == UpdatePlan(
        source_id=7,
        source=SourceUpdate(
            last_fetched_at=NOW,
            last_status=503,
            last_error_class="http",
            last_error="HTTP 503",
            last_bytes=40,
            last_duration_ms=900,
            consecutive_failures=3,
            failing_since=NOW,  # the first failure of a run starts it
        ),
    )


def test_failure_keeps_the_start_of_a_run_of_failures() -> None:
    since = NOW - timedelta(days=2)
    source = dataclasses.replace(SOURCE, failing_since=since, consecutive_failures=5)
    plan = decide.plan_failure(source, FAILED, NOW, error_class="connect", error="refused")
    assert plan.source.failing_since == since
    assert plan.source.consecutive_failures == 6
    assert plan.source.clear_cache_state is False


@pytest.mark.parametrize(("retry_after", "next_poll"), [(None, None), (0.0, None), (1.5, 1.5)])
def test_failure_polls_again_when_the_server_asked(
    retry_after: float | None, next_poll: float | None
) -> None:
    failed = dataclasses.replace(FAILED, retry_after_s=retry_after)
    plan = decide.plan_failure(SOURCE, failed, NOW, error_class="http", error="HTTP 503")
    expected = None if next_poll is None else NOW + timedelta(seconds=next_poll)
    assert plan.source.next_poll_at == expected


def test_gone_records_the_whole_attempt_and_disables() -> None:
    gone = dataclasses.replace(
        OK, outcome=FetchOutcome.GONE, status=410, body=None, final_url="https://b.example/f"
    )
    since = NOW - timedelta(hours=3)
    source = dataclasses.replace(SOURCE, consecutive_failures=1, failing_since=since)
    reason = (
        "HTTP 410 Gone at https://b.example/f: the feed was removed; "
        "re-enable the source if it comes back"
    )
    assert decide.plan_gone(source, gone, NOW) == UpdatePlan(
        source_id=7,
        source=SourceUpdate(
            last_fetched_at=NOW,
            last_status=410,
            last_error_class="gone",
            last_error=reason,
            last_bytes=6,
            last_duration_ms=12,
            consecutive_failures=2,
            enabled=False,
            disabled_reason=reason,
            failing_since=since,
        ),
    )
    assert decide.plan_gone(SOURCE, gone, NOW).source.failing_since == NOW


def test_not_modified_records_the_whole_attempt() -> None:
    not_modified = dataclasses.replace(
        OK,
        outcome=FetchOutcome.NOT_MODIFIED,
        status=304,
        body=None,
        etag='"e2"',
        last_modified="",
        body_hash="stale",
        bytes_received=0,
    )
    source = dataclasses.replace(SOURCE, consecutive_failures=4, failing_since=NOW)
    plan = decide.plan_not_modified(source, not_modified, NOW, new_feed_url="https://b.example/f")
    assert plan == UpdatePlan(
        source_id=7,
        source=SourceUpdate(
            last_fetched_at=NOW,
            last_status=304,
            last_error_class="",
            last_error="",
            last_bytes=0,
            last_duration_ms=12,
            consecutive_failures=0,
            last_success_at=NOW,
            feed_url="https://b.example/f",
            etag='"e2"',  # resent: stored
            last_modified=None,  # not resent: leave the stored one
            body_hash=None,  # a 304 has no body: leave the stored hash
        ),
    )


def test_unchanged_body_stores_its_hash_and_validators() -> None:
    unchanged = dataclasses.replace(OK, outcome=FetchOutcome.UNCHANGED, body=None)
    update = decide.plan_not_modified(SOURCE, unchanged, NOW).source
    assert (update.body_hash, update.etag, update.last_modified) == (
        "hash1",
        '"e1"',
        "Sun, 01 Nov 2026 10:00:00 GMT",
    )
    assert (update.title, update.site_url, update.slug_base, update.feed_url) == (None,) * 4


def test_success_records_the_whole_attempt() -> None:
    source = dataclasses.replace(SOURCE, consecutive_failures=3, failing_since=NOW)
    plan = decide.plan_entries(source, OK, FEED, [], [], NOW)
    assert plan.source == SourceUpdate(
        last_fetched_at=NOW,
        last_status=200,
        last_error_class="",
        last_error="",
        last_bytes=6,
        last_duration_ms=12,
        consecutive_failures=0,
        last_success_at=NOW,
        etag='"e1"',
        last_modified="Sun, 01 Nov 2026 10:00:00 GMT",
        body_hash="hash1",
        title="A Blog",
        site_url="https://a.example/",
        slug_base="a-blog",  # first success of a source named by its host
    )


@pytest.mark.parametrize(
    ("slug", "succeeded_before", "slug_base"),
    [
        ("127-0-0-1-72", False, "a-blog"),
        ("a-blog", False, None),  # already named so
        ("a-blog-2", False, None),  # named so, made unique
        ("a-blogger", False, "a-blog"),  # only "a-blog-..." counts as the same name
        ("127-0-0-1-72", True, None),  # later polls never move it
    ],
)
def test_first_success_names_the_slug_after_the_feed(
    slug: str, succeeded_before: bool, slug_base: str | None
) -> None:
    source = dataclasses.replace(
        SOURCE, slug=slug, last_success_at=NOW - timedelta(days=1) if succeeded_before else None
    )
    assert decide.plan_entries(source, OK, FEED, [], [], NOW).source.slug_base == slug_base


@pytest.mark.parametrize(
    ("link", "site_url", "slug_base"),
    [
        ("https://www.Blog.Example:8443/home", "", "blog-example"),  # its website's host
        ("https://a.example/", "", None),  # already named so (SOURCE's slug is "a-example")
        ("", "", None),  # no link: nothing better than the feed URL's host
        ("https://b.example/", "https://mine.example/", None),  # the operator's site is kept
    ],
)
def test_an_untitled_feed_names_the_slug_after_its_website(
    link: str, site_url: str, slug_base: str | None
) -> None:
    source = dataclasses.replace(SOURCE, slug="a-example", site_url=site_url)
    feed = dataclasses.replace(FEED, title="", link=link)
    assert decide.plan_entries(source, OK, feed, [], [], NOW).source.slug_base == slug_base


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        (None, ""),
        ("", ""),
        ("https://www.Example.COM/feed", "example-com"),
        ("http://www.www.example/", "www-example"),  # one "www." only
        ("http://127.0.0.1:8080/x", "127-0-0-1"),
        ("https://Ünïcode.example/", "unicode-example"),
        ("no host at all", ""),
        ("https://www./", ""),  # nothing left: no slug, not "source"
    ],
)
def test_host_slug(url: str | None, slug: str) -> None:
    assert decide._host_slug(url) == slug


def test_a_source_with_a_title_and_site_keeps_them() -> None:
    source = dataclasses.replace(SOURCE, title="Mine", site_url="https://mine.example/")
    update = decide.plan_entries(source, OK, FEED, [], [], NOW).source
    assert (update.title, update.site_url, update.slug_base) == (None, None, None)


def test_site_link_is_resolved_against_the_final_url() -> None:
    moved = dataclasses.replace(OK, final_url="https://b.example/feeds/x.xml")
    feed = dataclasses.replace(FEED, link="../home/")
    update = decide.plan_entries(SOURCE, moved, feed, [], [], NOW).source
    assert update.site_url == "https://b.example/home/"


@pytest.mark.parametrize("home", ["https://a.example", "https://a.example/"])
def test_home_page_links_never_match_by_url(home: str) -> None:
    # Linkless entries carry the site's URL: it identifies no single post.
    entry = make_entry(7, 1, key="g:new", url=home, title_date_hash="new")
    old = stored(9, url=home, key="g:old", title_date_hash="old")
    plan = decide.plan_entries(SOURCE, OK, FEED, [entry], [old], NOW)
    assert plan.new_entries == (entry,)


def test_a_post_url_matches_by_url() -> None:
    entry = make_entry(7, 1, key="g:new", url="https://a.example/p", title_date_hash="new")
    old = stored(9, url="https://a.example/p", key="g:old", title_date_hash="old")
    plan = decide.plan_entries(SOURCE, OK, FEED, [entry], [old], NOW)
    assert plan.new_entries == ()


# ------------------------------------------------------------ schedule_plan: next poll and health

# No jitter, and a wide range, so each hint shows in the interval.
POLICY = schedule.Policy(min_interval_s=60.0, max_interval_s=10 * 86400.0, jitter=0.0)
HEALTH = dataclasses.replace(SOURCE, avg_response_ms=100.0, avg_bytes=1000.0, posts_per_day=0.5)


def scheduled(
    result: FetchResult = OK,
    parsed: ParsedFeed | None = FEED,
    *,
    source: Source = HEALTH,
    recent_posts: int | None = 60,
    plan: UpdatePlan | None = None,
) -> SourceUpdate:
    if plan is None:
        plan = decide.plan_entries(source, result, FEED, [], [], NOW)
    planned = decide.schedule_plan(
        plan,
        source,
        result,
        parsed,
        recent_posts=recent_posts,
        now=NOW,
        policy=POLICY,
        rand=lambda: 0.5,
    )
    assert planned.source_id == plan.source_id and planned.new_entries == plan.new_entries
    return planned.source


def test_success_is_scheduled_from_the_posting_rate_and_updates_health() -> None:
    update = scheduled()
    # 60 posts in 30 days: 2 a day, 4 polls per post -> every 3 hours.
    assert update.posts_per_day == 2.0
    assert update.poll_interval_s == 10800.0
    assert update.next_poll_at == NOW + timedelta(seconds=10800)
    assert update.avg_response_ms == pytest.approx(0.3 * 12 + 0.7 * 100)
    assert update.avg_bytes == pytest.approx(0.3 * 6 + 0.7 * 1000)
    assert update.dead_since is None
    assert update.last_success_at == NOW  # the plan's own fields are kept


def test_unknown_post_count_keeps_the_stored_rate() -> None:
    update = scheduled(recent_posts=None)
    assert update.posts_per_day == 0.5
    assert update.poll_interval_s == 86400 / (0.5 * 4)


@pytest.mark.parametrize(
    ("parsed", "headers", "interval"),
    [
        (dataclasses.replace(FEED, ttl_minutes=600), {}, 36000.0),
        (dataclasses.replace(FEED, update_period="daily", update_frequency=2), {}, 43200.0),
        (FEED, {"cache-control": "max-age=50000"}, 50000.0),
        (None, {}, 10800.0),  # a 304 or unchanged body: no feed to take hints from
    ],
)
def test_feed_and_cache_hints_stretch_the_interval(
    parsed: ParsedFeed | None, headers: dict[str, str], interval: float
) -> None:
    result = dataclasses.replace(OK, headers=headers)
    assert scheduled(result, parsed).poll_interval_s == interval


def test_retry_after_on_success_delays_the_next_poll() -> None:
    result = dataclasses.replace(OK, retry_after_s=20000.0)
    update = scheduled(result)
    assert update.poll_interval_s == 10800.0
    assert update.next_poll_at == NOW + timedelta(seconds=20000)


def test_no_response_leaves_the_response_time_average_alone() -> None:
    failed = dataclasses.replace(FAILED, status=None, bytes_received=0, duration_ms=2000)
    plan = decide.plan_failure(HEALTH, failed, NOW, error_class="connect", error="refused")
    update = scheduled(failed, None, plan=plan, recent_posts=None)
    assert update.avg_response_ms == 100.0
    assert update.avg_bytes == 1000.0


@pytest.mark.parametrize(
    ("outcome", "counted"),
    [
        (FetchOutcome.OK, True),
        (FetchOutcome.UNCHANGED, True),
        (FetchOutcome.NOT_MODIFIED, False),  # a 304 is not the feed's size
    ],
)
def test_feed_size_average_counts_whole_bodies_only(outcome: FetchOutcome, counted: bool) -> None:
    result = dataclasses.replace(OK, outcome=outcome, bytes_received=2000)
    if outcome is FetchOutcome.OK:
        plan = decide.plan_entries(HEALTH, result, FEED, [], [], NOW)
    else:
        plan = decide.plan_not_modified(HEALTH, result, NOW)
    update = scheduled(result, None, plan=plan)
    assert update.avg_bytes == (0.3 * 2000 + 0.7 * 1000 if counted else 1000.0)
    assert update.avg_response_ms == pytest.approx(0.3 * 12 + 0.7 * 100)


def test_empty_body_leaves_the_size_average_alone() -> None:
    result = dataclasses.replace(OK, bytes_received=0)
    assert scheduled(result).avg_bytes == 1000.0


def test_failure_backs_off_from_the_rate() -> None:
    source = dataclasses.replace(HEALTH, consecutive_failures=2, failing_since=NOW)
    plan = decide.plan_failure(source, FAILED, NOW, error_class="http", error="HTTP 503")
    update = scheduled(FAILED, None, source=source, plan=plan, recent_posts=None)
    # Third failure: twice doubled from the rate's 2 days (0.5 posts a day), under the 1-day cap.
    assert update.poll_interval_s == 86400.0
    assert update.next_poll_at == NOW + timedelta(days=1)
    assert update.dead_since is None
    assert update.posts_per_day == 0.5


@pytest.mark.parametrize("dead_since", [None, NOW - timedelta(days=3)])
def test_a_week_of_failures_is_a_dead_source(dead_since: datetime | None) -> None:
    source = dataclasses.replace(
        HEALTH,
        consecutive_failures=30,
        failing_since=NOW - timedelta(days=8),
        dead_since=dead_since,
    )
    plan = decide.plan_failure(source, FAILED, NOW, error_class="http", error="HTTP 503")
    update = scheduled(FAILED, None, source=source, plan=plan, recent_posts=None)
    assert update.dead_since == (dead_since or NOW)
    assert update.poll_interval_s == POLICY.dead_retry_s


def test_gone_is_never_polled_again() -> None:
    gone = dataclasses.replace(OK, outcome=FetchOutcome.GONE, status=410, body=None)
    update = scheduled(gone, None, plan=decide.plan_gone(HEALTH, gone, NOW))
    assert (update.poll_interval_s, update.next_poll_at, update.dead_since) == (None, None, None)
    assert update.enabled is False


# ------------------------------------------------------------ plan_entries: identity bookkeeping


def test_plan_is_for_its_source() -> None:
    assert decide.plan_entries(SOURCE, OK, FEED, [], [], NOW).source_id == 7


def test_an_entry_keeps_its_stored_post_by_key_alone() -> None:
    # New link and new title/date: only the key says it is the same post.
    same_key = make_entry(7, 1, url="https://a.example/elsewhere", title_date_hash="other")
    plan = decide.plan_entries(SOURCE, OK, FEED, [same_key], [stored(1)], NOW)
    assert plan.new_entries == ()
    assert plan.unchanged_entries == 1


def test_every_unchanged_entry_is_counted() -> None:
    entries = [make_entry(7, 1), make_entry(7, 2), make_entry(7, 3)]
    plan = decide.plan_entries(SOURCE, OK, FEED, entries, [stored(1), stored(2)], NOW)
    assert plan.unchanged_entries == 2
    assert plan.new_entries == (entries[2],)  # the loop goes on after unchanged ones


def test_a_duplicated_guid_does_not_stop_the_entries_after_it() -> None:
    first, again, third = make_entry(7, 1), make_entry(7, 1, fingerprint="v1:x"), make_entry(7, 3)
    plan = decide.plan_entries(SOURCE, OK, FEED, [first, again, third], [], NOW)
    assert plan.new_entries == (first, third)


def test_two_entries_resolving_to_one_stored_post_count_once() -> None:
    by_key = make_entry(7, 1, url="https://a.example/x", title_date_hash="hx")
    by_url = make_entry(7, 8, key="g:y", url=stored(1).url, title_date_hash="hy")
    new = make_entry(7, 3)
    plan = decide.plan_entries(SOURCE, OK, FEED, [by_key, by_url, new], [stored(1)], NOW)
    assert (plan.unchanged_entries, plan.changed_entries) == (1, ())
    assert plan.new_entries == (new,)


@pytest.mark.parametrize("shared", ["url", "title_date_hash"])
def test_known_entries_count_as_this_fetchs_urls_and_hashes(shared: str) -> None:
    # Entry 1 is known (same raw hash as stored); another entry of the fetch shares its URL
    # (or title+date hash): the field is shared in this fetch, so it identifies nothing.
    other = make_entry(7, 5, key="g:five", **{shared: getattr(stored(1), shared)})
    plan = decide.plan_entries(SOURCE, OK, FEED, [other], [stored(1)], NOW, known=[stored(1)])
    assert plan.new_entries == (other,)
    assert plan.unchanged_entries == 1


def test_unchanged_entry_with_a_new_raw_hash_is_rehashed() -> None:
    entries = [
        make_entry(7, 1, raw_hash="r1-new"),  # stored with another raw hash: rehash
        make_entry(7, 2, raw_hash="r2"),  # same raw hash: nothing to do
        make_entry(7, 3, raw_hash=""),  # none computed: nothing to do
    ]
    existing = [stored(1, raw_hash="r1-old"), stored(2, raw_hash="r2"), stored(3, raw_hash="r3")]
    plan = decide.plan_entries(SOURCE, OK, FEED, entries, existing, NOW)
    assert plan.unchanged_entries == 3
    assert plan.rehashed_entries == ((101, "r1-new"),)


def test_an_unparsable_url_is_not_taken_for_the_home_page() -> None:
    url = "https://a.ex]ample/1"
    moved = make_entry(7, 1, key="g:other", url=url, title_date_hash="other")
    plan = decide.plan_entries(SOURCE, OK, FEED, [moved], [stored(1, url=url)], NOW)
    assert plan.new_entries == ()


def test_new_undated_post_on_a_first_read_goes_below_the_oldest_dated_one() -> None:
    dated = make_entry(7, 1)  # stored already: still evidence of the feed's age
    undated = make_entry(7, 2, date_from_feed=False)
    plan = decide.plan_entries(SOURCE, OK, FEED, [dated, undated], [stored(1)], NOW)
    ((placed,),) = (plan.new_entries,)
    assert placed.published == dated.published - timedelta(seconds=1)
    assert placed.date_known is False


def test_new_undated_post_on_a_later_read_is_dated_by_the_feed_or_the_fetch() -> None:
    source = dataclasses.replace(SOURCE, last_success_at=NOW - timedelta(hours=6))
    undated = make_entry(7, 2, date_from_feed=False)
    plan = decide.plan_entries(source, OK, FEED, [undated], [], NOW)
    assert plan.new_entries[0].published == NOW
    built = dataclasses.replace(FEED, updated=NOW - timedelta(hours=1))
    plan = decide.plan_entries(source, OK, built, [undated], [], NOW)
    assert plan.new_entries[0].published == NOW - timedelta(hours=1)


@pytest.mark.parametrize(("etag", "stored_etag"), [('"e2"', '"e2"'), ("", None)])
def test_not_modified_stores_only_validators_it_was_sent(
    etag: str, stored_etag: str | None
) -> None:
    not_modified = dataclasses.replace(
        OK,
        outcome=FetchOutcome.NOT_MODIFIED,
        status=304,
        body=None,
        etag=etag,
        last_modified="Mon, 02 Nov 2026 10:00:00 GMT",
    )
    update = decide.plan_not_modified(SOURCE, not_modified, NOW).source
    assert update.etag == stored_etag
    assert update.last_modified == "Mon, 02 Nov 2026 10:00:00 GMT"


def test_expires_header_is_read_against_now() -> None:
    expires = format_datetime(NOW + timedelta(seconds=50000), usegmt=True)
    result = dataclasses.replace(OK, headers={"expires": expires})
    assert scheduled(result).poll_interval_s == 50000.0


# ------------------------------------------------------------ plan_poll: what one fetch means


def test_plan_poll_reads_each_outcome_as_its_plan() -> None:
    gone = dataclasses.replace(OK, outcome=FetchOutcome.GONE, status=410, body=None)
    assert decide.plan_poll(SOURCE, gone, NOW, None) == decide.plan_gone(SOURCE, gone, NOW)
    failed = dataclasses.replace(FAILED, error_class="http", error="HTTP 503 at x")
    assert decide.plan_poll(SOURCE, failed, NOW, None) == decide.plan_failure(
        SOURCE, failed, NOW, error_class="http", error="HTTP 503 at x"
    )
    same = dataclasses.replace(OK, outcome=FetchOutcome.UNCHANGED, body=None)
    moved = "https://b.example/f"
    assert decide.plan_poll(SOURCE, same, NOW, None, new_feed_url=moved) == (
        decide.plan_not_modified(SOURCE, same, NOW, new_feed_url=moved)
    )


def test_plan_poll_names_what_an_unreadable_body_was() -> None:
    broken = Digest(None, error_kind="parse", error="no root element")
    plan = decide.plan_poll(SOURCE, OK, NOW, broken)
    assert plan.source.last_error_class == "parse" and plan.source.clear_cache_state
    assert plan.source.last_error == f"{OK.final_url} is not a readable feed: no root element"
    assert plan == decide.plan_failure(  # dated by this fetch, like any failure
        SOURCE, OK, NOW, error_class="parse", error=plan.source.last_error, clear_cache_state=True
    )
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head>'
    html = dataclasses.replace(OK, body=page)
    plan = decide.plan_poll(SOURCE, html, NOW, Digest(None, error_kind="not_a_feed", error="x"))
    assert plan.source.last_error_class == "not_a_feed"
    assert plan.source.last_error == decide.html_diagnosis(page, OK.final_url)
    assert "https://a.example/rss" in plan.source.last_error


def test_plan_poll_lets_known_entries_claim_their_stored_posts() -> None:
    old, known = stored(1), stored(2, raw_hash="raw-2")
    digested = Digest(FEED, (make_entry(7, 1), make_entry(7, 3)), known=("raw-2",))
    plan = decide.plan_poll(SOURCE, OK, NOW, digested, existing=[old, known])
    assert plan == decide.plan_entries(
        SOURCE, OK, FEED, digested.entries, [old, known], NOW, known=[known]
    )
    assert plan.unchanged_entries == 2 and len(plan.new_entries) == 1


def test_plan_poll_moves_a_permanently_redirected_source_that_brought_posts() -> None:
    moved = "https://b.example/f"
    digested = Digest(FEED, (make_entry(7, 1),))
    plan = decide.plan_poll(SOURCE, OK, NOW, digested, new_feed_url=moved)
    assert plan.source.feed_url == moved and len(plan.new_entries) == 1
    assert decide.plan_poll(SOURCE, OK, NOW, digested).source.feed_url is None  # stays put


# ------------------------------------------------------------ the posting rate and its recount


def test_the_rate_is_counted_after_new_entries_or_once_its_count_is_stale() -> None:
    counted = dataclasses.replace(
        HEALTH, posts_per_day=1.0, rate_valid_until=NOW + timedelta(seconds=1)
    )
    quiet = decide.plan_entries(counted, OK, FEED, [], [], NOW)
    assert not decide.rate_needs_count(counted, quiet, NOW)
    assert decide.rate_needs_count(counted, quiet, NOW + timedelta(seconds=1))
    busy = decide.plan_entries(counted, OK, FEED, [make_entry(7, 1)], [], NOW)
    assert decide.rate_needs_count(counted, busy, NOW)
    edited = dataclasses.replace(quiet, changed_entries=((101, make_entry(7, 1)),))
    assert decide.rate_needs_count(counted, edited, NOW)
    assert decide.rate_needs_count(dataclasses.replace(counted, rate_valid_until=None), quiet, NOW)
    assert decide.rate_needs_count(dataclasses.replace(counted, posts_per_day=None), quiet, NOW)
    failed = decide.plan_failure(counted, FAILED, NOW, error_class="http", error="HTTP 503")
    assert not decide.rate_needs_count(
        dataclasses.replace(counted, posts_per_day=None), failed, NOW
    )


def test_the_rate_counts_new_posts_in_the_window_and_holds_until_the_oldest_leaves() -> None:
    window = decide.RATE_WINDOW
    assert window == timedelta(days=schedule.RATE_WINDOW_DAYS)
    inside = make_entry(7, 1, published=NOW - timedelta(days=3))
    outside = make_entry(7, 2, published=NOW - window - timedelta(seconds=1))
    plan = decide.plan_entries(HEALTH, OK, FEED, [inside, outside], [], NOW)
    oldest = NOW - timedelta(days=10)
    assert decide.posting_rate(plan, NOW, stored=4, oldest=oldest) == (5, oldest + window)
    newest_only = NOW - timedelta(days=1)
    assert decide.posting_rate(plan, NOW, stored=4, oldest=newest_only) == (
        5,
        inside.published + window,
    )
    empty = decide.plan_entries(HEALTH, OK, FEED, [], [], NOW)
    assert decide.posting_rate(empty, NOW, stored=0, oldest=None) == (0, NOW + window)
    edge = make_entry(7, 3, published=NOW - window)
    plan = decide.plan_entries(HEALTH, OK, FEED, [edge], [], NOW)
    assert decide.posting_rate(plan, NOW, stored=0, oldest=None) == (1, NOW)


def test_a_counted_rate_is_scheduled_with_the_time_it_goes_stale() -> None:
    until = NOW + timedelta(days=2)
    plan = decide.plan_entries(HEALTH, OK, FEED, [], [], NOW)
    planned = decide.schedule_plan(
        plan,
        HEALTH,
        OK,
        FEED,
        recent_posts=60,
        now=NOW,
        policy=POLICY,
        rand=lambda: 0.5,
        rate_valid_until=until,
    )
    assert planned.source.rate_valid_until == until and planned.source.posts_per_day == 2.0
    assert scheduled().rate_valid_until is None


# ------------------------------------------------------------ moved feeds


def test_a_404_or_a_page_naming_no_feed_looks_moved() -> None:
    def failure(status: int | None, kind: str, error: str) -> bool:
        result = dataclasses.replace(FAILED, status=status)
        plan = decide.plan_failure(SOURCE, result, NOW, error_class=kind, error=error)
        return decide.looks_moved(result, plan)

    assert failure(404, "http", "HTTP 404 Not Found at x")
    assert not failure(403, "http", "HTTP 403 Forbidden at x")
    assert not failure(404, "connect", "dropped")
    assert failure(200, "not_a_feed", "x returned HTML, not a feed, and the page names no feed")
    assert not failure(200, "not_a_feed", "x returned HTML, not a feed; found <link> y")
    assert not failure(200, "parse", "names no feed")
    assert not decide.looks_moved(OK, decide.plan_entries(SOURCE, OK, FEED, [], [], NOW))


def test_discovery_looks_on_the_site_else_the_feeds_origin() -> None:
    assert decide.discovery_site(SOURCE) == "https://a.example/"
    port = dataclasses.replace(SOURCE, feed_url="http://b.example:8081/x/feed.xml?a=1")
    assert decide.discovery_site(port) == "http://b.example:8081/"
    site = dataclasses.replace(SOURCE, site_url="https://a.example/blog/")
    assert decide.discovery_site(site) == "https://a.example/blog/"


def test_a_feed_found_elsewhere_is_named_in_the_error_only() -> None:
    result = dataclasses.replace(FAILED, status=404, final_url="https://a.example/final")
    plan = decide.plan_failure(SOURCE, result, NOW, error_class="http", error="HTTP 404 at x")
    site = "https://a.example/"
    suggested = decide.suggest_moved_feed(
        plan, SOURCE, result, site=site, found="https://a.example/new.xml"
    )
    assert suggested.source.last_error == (
        "HTTP 404 at x; the site https://a.example/ now names a feed "
        + suggest_feed("https://a.example/new.xml")
    )
    assert suggested_feed(suggested.source.last_error) == "https://a.example/new.xml"
    assert suggested.source.feed_url is None
    assert suggested == dataclasses.replace(
        plan, source=dataclasses.replace(plan.source, last_error=suggested.source.last_error)
    )
    for same in (SOURCE.feed_url, result.final_url):
        assert decide.suggest_moved_feed(plan, SOURCE, result, site=site, found=same) is plan


# ------------------------------------------------------------ what a poll is reported as


@pytest.mark.parametrize(
    ("outcome", "error_class", "reported"),
    [
        (FetchOutcome.OK, "", PollOutcome.UPDATED),
        (FetchOutcome.NOT_MODIFIED, "", PollOutcome.NOT_MODIFIED),
        (FetchOutcome.UNCHANGED, "", PollOutcome.UNCHANGED),
        (FetchOutcome.OK, "parse", PollOutcome.FAILED),
        (FetchOutcome.ERROR, "http", PollOutcome.FAILED),
        (FetchOutcome.GONE, "gone", PollOutcome.GONE),
    ],
)
def test_poll_outcome(outcome: FetchOutcome, error_class: str, reported: PollOutcome) -> None:
    result = dataclasses.replace(OK, outcome=outcome)
    update = dataclasses.replace(
        decide.plan_entries(SOURCE, OK, FEED, [], [], NOW).source, last_error_class=error_class
    )
    assert decide.poll_outcome(result, UpdatePlan(source_id=7, source=update)) is reported


def test_poll_outcomes_read_and_print_as_the_strings_they_replace() -> None:
    values = ["updated", "not_modified", "unchanged", "failed", "gone"]
    assert [str(o) for o in PollOutcome] == values
    assert [f"{o}" for o in PollOutcome] == values and PollOutcome.FAILED == "failed"
    assert [o for o in PollOutcome if SourceReport(1, "t", o).failed] == ["failed", "gone"]


def test_home_pages_and_posts() -> None:
    assert decide._is_home_page("https://a.example")
    assert decide._is_home_page("https://a.example/")
    assert decide._is_home_page("https://a.example/?p=1")
    assert decide._is_home_page("https://a.example/#top")
    assert decide._is_home_page("https://a.example?x=/y/z")
    assert not decide._is_home_page("https://a.example/2026/post")
    assert not decide._is_home_page("https://a.example/p\t")  # the tab is dropped: "/p"
    assert not decide._is_home_page("https://a.ex]ample/1")  # unparsable, still a link
