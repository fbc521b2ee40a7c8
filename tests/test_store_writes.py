"""store/writes.py details that the broader store tests let slip (found by mutation testing).

Each test names what a silent bug would do: an edit touching another post's category rows, a
batch boundary dropping rows, an error message losing the driver's reason.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from builders import NOW, make_entry, plan, spec
from netplanet.errors import StoreError
from netplanet.store import SqlStore, _rows, writes


@contextlib.contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """The SQL statements run while the block runs (whitespace collapsed)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


def category_rows(store: SqlStore) -> dict[tuple[int, str], str]:
    """(entry id, category slug) -> the published date stored on the row."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT entry_id, category_slug, published FROM entry_categories"
        )
        return {(r[0], r[1]): str(r[2])[:19] for r in rows}


def test_an_edit_changes_only_the_edited_posts_category_rows(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    both = ("Networking", "Security")
    store.apply_update(
        plan(s.id, (make_entry(s.id, 1, categories=both), make_entry(s.id, 2, categories=both)))
    )
    ids = {e.title: e.id for e in store.list_entries()}
    first, second = ids["Post number 1 about BGP"], ids["Post number 2 about BGP"]
    before = category_rows(store)

    moved = NOW + timedelta(days=2)
    edited = make_entry(
        s.id, 1, title="Edited", fingerprint="v1:e", published=moved, categories=("Networking",)
    )
    store.apply_update(plan(s.id, changed_entries=((first, edited),)))
    after = category_rows(store)

    assert (first, "security") not in after  # dropped from the edited post only
    assert after[second, "security"] == before[second, "security"]
    assert after[first, "networking"] == str(moved.replace(tzinfo=None))[:19]
    assert after[second, "networking"] == before[second, "networking"]  # the other post's date


def test_edits_of_more_posts_than_one_batch_relink_every_one(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "_MAX_IN", 2)  # batches of 2: five posts need three
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(5))))
    stored = sorted(store.list_entries(), key=lambda e: e.id)
    changed = tuple(
        (e.id, make_entry(s.id, n, fingerprint=f"v1:x{n}", categories=("Networking", "BGP")))
        for n, e in zip(range(5), stored, strict=True)
    )
    with statements(store) as seen:
        store.apply_update(plan(s.id, changed_entries=changed))
    rows = category_rows(store)
    assert sorted(rows) == sorted((e.id, slug) for e in stored for slug in ("bgp", "networking"))
    lookups = [q for q in seen if q.startswith("SELECT") and "FROM entry_categories" in q]
    assert len(lookups) == 3  # one per batch, not one per post


def test_db_reason_is_the_first_line_of_the_drivers_message() -> None:
    wrapped = IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed\ndetail"))
    assert _rows.db_reason(wrapped) == "UNIQUE constraint failed"
    assert _rows.db_reason(SQLAlchemyError("database is locked\nmore")) == "database is locked"


def test_aggregate_times_are_aware_utc_whatever_the_backend_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite gives MIN/MAX of a datetime column as naive text, PostgreSQL as an aware datetime;
    naive means UTC (as stored), never the machine's local time."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30: a local reading would show
    time.tzset()
    try:
        utc = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        kolkata = timezone(timedelta(hours=5, minutes=30))
        for given in (
            "2026-01-02 03:04:05",
            "2026-01-02T03:04:05",
            datetime(2026, 1, 2, 3, 4, 5),
            utc,
            utc.astimezone(kolkata),
        ):
            found = _rows.as_utc(given)
            assert found is not None and found.tzinfo is UTC, given
            assert found.replace(tzinfo=None) == datetime(2026, 1, 2, 3, 4, 5), given
        assert _rows.as_utc(None) is None
    finally:
        monkeypatch.undo()
        time.tzset()


def test_recent_entry_stats_counts_and_dates_the_oldest_in_utc(store: SqlStore) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(1, 5))))
    # make_entry n is published n hours before NOW.
    count, oldest = store.recent_entry_stats(s.id, NOW - timedelta(hours=3, minutes=30))
    assert count == 3
    assert oldest == NOW - timedelta(hours=3)
    assert oldest is not None and oldest.utcoffset() == timedelta(0)
    assert store.recent_entry_stats(s.id, NOW + timedelta(hours=1)) == (0, None)


def test_existing_entries_looks_keys_up_in_batches(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = store.add_source(spec(1))
    store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(5))))
    monkeypatch.setattr(writes, "_MAX_IN", 2)
    with statements(store) as seen:
        found = store.existing_entries(s.id, keys=[f"g:post-{n}" for n in range(5)])
    assert sorted(e.key for e in found) == [f"g:post-{n}" for n in range(5)]
    assert len([q for q in seen if q.startswith("SELECT")]) == 3  # batches of 2, not 1 per key


def test_two_plans_share_one_transaction_and_one_plan_is_not_a_group(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [store.add_source(spec(n)).id for n in (1, 2)]
    commits: list[object] = []

    def on_commit(conn: object) -> None:
        commits.append(conn)

    sa.event.listen(store.engine, "commit", on_commit)
    try:
        store.apply_updates([plan(i, (make_entry(i, 1),)) for i in ids])
        assert len(commits) == 1
        bad = plan(ids[0], (make_entry(ids[0], 2, title=None),))  # NOT NULL violation
        [result] = store.apply_updates([bad])
    finally:
        sa.event.remove(store.engine, "commit", on_commit)
    assert isinstance(result, StoreError)
    assert "in one transaction failed" not in caplog.text  # one plan: tried once, alone


def test_a_group_stores_its_plans_in_source_id_order(store: SqlStore) -> None:
    first, second = (store.add_source(spec(n)).id for n in (1, 2))
    # Given in the other order: written (and locked) by source id, so that two writers with
    # overlapping batches take their locks in one order.
    store.apply_updates(
        [plan(second, (make_entry(second, 1),)), plan(first, (make_entry(first, 2),))]
    )
    by_source = {e.source_id: e.id for e in store.list_entries()}
    assert by_source[first] < by_source[second]


def test_a_failed_group_says_why_before_storing_plans_one_by_one(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [store.add_source(spec(n)).id for n in (1, 2, 3)]
    bad = plan(ids[1], (make_entry(ids[1], 1, title=None),))  # NOT NULL violation
    plans = [plan(ids[0], (make_entry(ids[0], 1),)), bad, plan(ids[2], (make_entry(ids[2], 1),))]
    with caplog.at_level("WARNING", logger="netplanet"):
        results = store.apply_updates(plans)
    assert [isinstance(r, StoreError) for r in results] == [False, True, False]
    [record] = [r for r in caplog.records if "one transaction" in r.getMessage()]
    message = record.getMessage()
    assert message.startswith("storing 3 updates in one transaction failed (")
    assert re.search("NOT[ -]NULL", message.upper()), message  # the driver's reason
    assert message.endswith("); storing them one by one")
