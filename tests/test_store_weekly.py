"""The weekly digest's store (store/weekly.py), on every backend: which posts a week holds,
their clusters, freezing (once, whatever comes later), operators' picks, and the weeks that
have posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from builders import NOW, make_entry, plan, spec
from netplanet.errors import NotFoundError, UsageError
from netplanet.publish.weekly import Week
from netplanet.store.sql import SqlStore
from test_store_stories import signed
from test_story import INCIDENT

WEEK = Week.of(NOW)  # 2026-W44: Monday 26 October .. Monday 2 November; NOW is its Sunday


def read(store: SqlStore, week: Week = WEEK) -> list[int]:
    return [p.id for p in store.week_data(week.label, week.start, week.end).posts]


def ids(store: SqlStore) -> dict[str, int]:
    return {e.key: e.id for e in store.list_entries(limit=100)}


def test_a_week_holds_its_dated_posts_but_not_sponsored_ones_copies_or_guesses(
    store: SqlStore,
) -> None:
    src = store.add_source(spec(1))
    start = WEEK.start
    store.apply_update(
        plan(
            src.id,
            (
                make_entry(src.id, 1, published=start, topics=(("routing", 0.9), ("wan", 0.4))),
                make_entry(src.id, 2, published=WEEK.end - timedelta(microseconds=1)),
                make_entry(src.id, 3, published=WEEK.end),  # next week
                make_entry(src.id, 4, published=start - timedelta(seconds=1)),  # last week
                make_entry(src.id, 5, published=start + timedelta(days=1), sponsored=True),
                make_entry(src.id, 6, published=start + timedelta(days=2), date_known=False),
                make_entry(src.id, 7, published=start + timedelta(days=3), podcast=True),
            ),
        )
    )
    key = ids(store)
    data = store.week_data(WEEK.label, WEEK.start, WEEK.end)
    assert [p.id for p in data.posts] == [key["g:post-1"], key["g:post-7"], key["g:post-2"]]
    first = data.posts[0]
    assert first.topic == "routing" and first.source_title == "Example Blog 1"
    assert first.excerpt_html == "<p>Body of post 1.</p>" and not first.podcast
    assert data.posts[1].podcast and data.posts[2].topic == ""
    assert data.frozen_at is None and data.picks == () and data.members == ()


def test_clusters_come_with_their_members_of_any_week_without_copies(store: SqlStore) -> None:
    sources = [store.add_source(spec(n, title=f"Blog {n}")) for n in range(1, 5)]
    for n, (source, (title, text)) in enumerate(zip(sources, INCIDENT, strict=True)):
        store.apply_update(plan(source.id, (signed(source.id, title, text, hours=6 * n),)))
    copy_source = store.add_source(spec(9, title="Blog 1 tag feed"))
    first = store.list_entries(source_id=sources[0].id)[0]
    store.apply_update(
        plan(
            copy_source.id,
            (signed(copy_source.id, INCIDENT[0][0], INCIDENT[0][1], url=first.url, hours=1),),
        )
    )
    data = store.week_data(WEEK.label, WEEK.start, WEEK.end)
    assert len(data.posts) == 4  # the copy is not a post of the week
    assert {p.cluster_id for p in data.posts} == {first.id}
    assert {m.source_id for m in data.members} == {s.id for s in sources}


def test_a_frozen_week_never_changes_whatever_comes_later(store: SqlStore) -> None:
    src = store.add_source(spec(1))
    other = store.add_source(spec(2))
    inside = WEEK.start + timedelta(days=2)
    store.apply_update(plan(src.id, (make_entry(src.id, 1, published=inside),)))
    store.apply_update(plan(other.id, (make_entry(other.id, 2, published=inside),)))
    frozen = store.freeze_week(WEEK.label, WEEK.start, WEEK.end)
    assert [p.title for p in frozen.posts] == ["Post number 1 about BGP", "Post number 2 about BGP"]
    assert frozen.frozen_at is not None
    # Backfilled, edited and deleted posts of the week.
    store.apply_update(plan(src.id, (make_entry(src.id, 3, published=inside),)))
    row = ids(store)["g:post-1"]
    edited = make_entry(src.id, 1, published=inside, title="Edited title")
    store.apply_update(plan(src.id, changed_entries=((row, edited),)))
    store.remove_source(other.id)
    assert len(read(store)) == 2  # the live read sees the changes
    again = store.freeze_week(WEEK.label, WEEK.start, WEEK.end)
    assert again == frozen == store.frozen_week(WEEK.label)
    assert store.frozen_week("2026-W01") is None and store.frozen_at("2026-W01") is None
    assert store.frozen_at(WEEK.label) == frozen.frozen_at


def test_picks_are_kept_changed_and_undone_and_frozen_with_the_week(store: SqlStore) -> None:
    src = store.add_source(spec(1))
    store.apply_update(
        plan(
            src.id,
            tuple(
                make_entry(src.id, n, published=WEEK.start + timedelta(hours=n))
                for n in range(1, 4)
            ),
        )
    )
    one, two, three = sorted(ids(store).values())

    def picks() -> tuple[tuple[int, str], ...]:
        return store.week_data(WEEK.label, WEEK.start, WEEK.end).picks

    store.set_digest_pick(WEEK.label, two, "pin")
    store.set_digest_pick(WEEK.label, one, "drop")
    store.set_digest_pick(WEEK.label, three, "pin")
    assert picks() == ((two, "pin"), (one, "drop"), (three, "pin"))
    store.set_digest_pick(WEEK.label, one, "pin")  # a dropped post pinned: its place is kept
    store.set_digest_pick(WEEK.label, two, None)  # undone
    store.set_digest_pick(WEEK.label, two, None)  # undoing twice is no error
    assert picks() == ((one, "pin"), (three, "pin"))
    assert store.week_data("2026-W45", WEEK.end, WEEK.end + timedelta(days=7)).picks == ()
    with pytest.raises(UsageError, match="use pin or drop"):
        store.set_digest_pick(WEEK.label, one, "star")
    with pytest.raises(NotFoundError):
        store.set_digest_pick(WEEK.label, three + 1000, "pin")
    with pytest.raises(NotFoundError):
        store.set_digest_pick(WEEK.label, 2**70, "pin")
    frozen = store.freeze_week(WEEK.label, WEEK.start, WEEK.end)
    assert frozen.picks == ((one, "pin"), (three, "pin"))
    store.set_digest_pick(WEEK.label, three, "drop")
    assert store.frozen_week(WEEK.label) == frozen
    # A deleted post's picks go with it.
    store.remove_source(src.id)
    assert picks() == ()


def test_weeks_with_posts_newest_first_one_probe_each(store: SqlStore) -> None:
    src = store.add_source(spec(1))
    dates = [WEEK.start + timedelta(days=d) for d in (0, 1, -1, -30, -200, 5)]
    store.apply_update(
        plan(
            src.id,
            (
                *(make_entry(src.id, n, published=when) for n, when in enumerate(dates)),
                make_entry(
                    src.id, 99, published=WEEK.start - timedelta(days=400), date_known=False
                ),
            ),
        )
    )
    weeks = [Week.of(w).label for w in store.digest_weeks(limit=10)]
    assert weeks == ["2026-W44", "2026-W43", "2026-W39", "2026-W15"]
    assert [Week.of(w).label for w in store.digest_weeks(before=WEEK.start, limit=2)] == [
        "2026-W43",
        "2026-W39",
    ]
    assert store.digest_weeks(before=WEEK.start - timedelta(days=300), limit=5) == []
    assert store.oldest_dated_post() == dates[4]
    assert all(w.weekday() == 0 and w.hour == 0 for w in store.digest_weeks(limit=10))


def test_an_empty_store_has_no_weeks(store: SqlStore) -> None:
    assert store.digest_weeks(limit=5) == [] and store.oldest_dated_post() is None
    empty = store.freeze_week(WEEK.label, WEEK.start, WEEK.end)
    assert empty.posts == () and replace(empty, frozen_at=None) == store.week_data(
        WEEK.label, WEEK.start, WEEK.end
    )
