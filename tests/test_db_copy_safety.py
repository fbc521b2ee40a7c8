"""`netplanet db copy` at scale and when it goes wrong.

- More than one batch (1,000 rows) of entries and entry_categories, SQLite -> PostgreSQL and
  PostgreSQL -> SQLite, compared field by field with the source, and a search whose
  exclusion removes posts giving exactly the expected ids on the target.
- A copy failing midway (a row the target refuses, a duplicate key, a killed connection)
  leaves the target exactly as it was: every table, the search index, the alembic revision,
  PostgreSQL's sequences; the error is one line.
- Copying a database onto itself is refused, however the URL is spelled.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from builders import NOW, cli, make_entry, plan, spec
from netplanet.errors import StoreError, UsageError
from netplanet.store import copy as copy_module
from netplanet.store import open_store
from netplanet.store.copy import copy_database
from netplanet.store.schema import categories, entries, entry_categories, sources

PG = pytest.mark.postgres
# (source backend, target backend): SQLite to SQLite is the quick run (mutation testing).
PAIRS = [
    pytest.param(("sqlite", "postgres"), marks=PG, id="sqlite->postgres"),
    pytest.param(("postgres", "sqlite"), marks=PG, id="postgres->sqlite"),
    pytest.param(("sqlite", "sqlite"), id="sqlite->sqlite"),
]

N_ENTRIES = 2345  # three batches of entries, five of entry_categories; not a round number
NOT_COPIED = {"lease_owner", "lease_until", "search_vector"}


def word(text: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", text, re.IGNORECASE) is not None


def big_entry(source_id: int, n: int) -> Any:
    """Post n: every 7th is also about EVPN, every 11th about OSPF alone (no BGP)."""
    if n % 11 == 0:
        title, body = f"OSPF area design {n}", f"Stub areas, part {n}."
    elif n % 7 == 0:
        title, body = f"Post number {n} about BGP", f"BGP and EVPN route type 5, part {n}."
    else:
        title, body = f"Post number {n} about BGP", f"Route reflectors, part {n}."
    cats = ("Networking", "Security") if n % 3 else ("Networking",)
    return make_entry(
        source_id,
        n,
        title=title,
        text=body,
        content_html=f"<p>{body}</p>",
        categories=cats,
        tags=(f"t{n % 5}", "ünïcode"),
        published=NOW - timedelta(minutes=n),
        sponsored=n % 13 == 0,
        date_from_feed=n % 17 != 0,
        updated=NOW if n % 19 == 0 else None,
        topics=(("routing", 0.8), ("datacenter", 0.4)) if n % 7 == 0 else (("routing", 0.75),),
        podcast=n % 23 == 0,
        simhash=(n * 0x9E3779B97F4A7C15) % 2**64 - 2**63,  # both signs of a BIGINT
    )


def build_big_planet(url: str) -> None:
    """N_ENTRIES posts over four sources (one disabled, one removed: gaps in the ids), most of
    them sealed, with base URL and a renamed-source redirect among the settings."""
    store = open_store(url)
    try:
        gone = store.add_source(spec(9, title="Removed later"))
        store.apply_update(plan(gone.id, (make_entry(gone.id, 1),)))
        ids = [store.add_source(spec(n, title=f"Feed {n}")).id for n in (1, 2, 3)]
        for n0 in range(0, N_ENTRIES, 500):
            batch = range(n0, min(n0 + 500, N_ENTRIES))
            by_source: dict[int, list[Any]] = {sid: [] for sid in ids}
            for n in batch:
                sid = ids[n % 3]
                by_source[sid].append(big_entry(sid, n))
            for sid, posts in by_source.items():
                store.apply_update(plan(sid, tuple(posts)))
        store.seal_pages(NOW - timedelta(minutes=300))  # all but the newest ~300 posts
        store.remove_source(gone.id)
        store.edit_source(ids[2], enabled=False)
        store.set_setting("site_base_url", "http://203.0.113.9:8080")
        store.set_setting("source_slug_moved:old-feed", "feed-1")
    finally:
        store.close()


def rows_of(engine: sa.Engine, table: sa.Table) -> list[dict[str, Any]]:
    columns = [c for c in table.c if c.name not in NOT_COPIED]
    key = list(table.primary_key.columns)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(*columns).order_by(*key))]


def assert_same_rows(one: sa.Engine, two: sa.Engine) -> dict[str, int]:
    """Every copied row and field of `one` in `two` (independent of the copy's own checksum)."""
    counts = {}
    for table in (categories, sources, entries, entry_categories):
        left, right = rows_of(one, table), rows_of(two, table)
        assert len(left) == len(right), table.name
        for a, b in zip(left, right, strict=True):
            for name in a:
                assert a[name] == b[name], (table.name, a.get("id"), name, a[name], b[name])
        counts[table.name] = len(left)
    return counts


def expected_hits(engine: sa.Engine, must: str, minus: str) -> set[int]:
    """The ids of posts mentioning `must` but not `minus` (title, text or source title)."""
    query = sa.select(entries.c.id, entries.c.title, entries.c.text, sources.c.title).join(
        sources, sources.c.id == entries.c.source_id
    )
    with engine.connect() as conn:
        return {
            i
            for i, *texts in conn.execute(query)
            if any(word(t, must) for t in texts) and not any(word(t, minus) for t in texts)
        }


def pair_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(source URL, target URL) for the test's (source backend, target backend)."""
    kinds = request.node.callspec.params["pair"]

    def url(kind: str, role: str) -> str:
        if kind == "postgres":
            return str(request.getfixturevalue("postgres_url"))
        return f"sqlite:///{tmp_path / f'{role}.db'}"

    return url(kinds[0], "source"), url(kinds[1], "target")


@pytest.mark.parametrize("pair", PAIRS)
def test_copy_of_more_than_a_batch_is_exact_field_by_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, request: pytest.FixtureRequest, pair: Any
) -> None:
    source, target = pair_urls(request, tmp_path)
    build_big_planet(source)
    code, out, err = cli(capsys, "db", "copy", "--from", source, "--to", target)
    assert code == 0, err
    one, two = open_store(source), open_store(target)
    try:
        counts = assert_same_rows(one.engine, two.engine)
        assert counts["entries"] == N_ENTRIES  # the removed source's post went with it
        assert counts["entry_categories"] > 3 * 1000  # four batches
        assert (
            f"{N_ENTRIES} entries" in out
            and f"{counts['entry_categories']} entry_categories" in out
        )
        assert two.get_setting("site_base_url") == "http://203.0.113.9:8080"
        assert two.get_source_by_old_slug("old-feed") is not None
        # Pages come out the same (sealed positions were copied, not recomputed).
        assert one.max_seq() == two.max_seq() > 1000
        assert one.sealed_entries(limit=200) == two.sealed_entries(limit=200)
        assert one.list_entries(category="Security", limit=200) == two.list_entries(
            category="Security", limit=200
        )
        # A search whose exclusion removes posts: the target's index holds every copied post.
        bgp = expected_hits(one.engine, "bgp", "nothing-at-all")
        wanted = expected_hits(one.engine, "bgp", "evpn")
        assert 1000 < len(wanted) < len(bgp)
        for store in (one, two):
            assert {h.entry.id for h in store.search("bgp", limit=5000)} == bgp
            assert {h.entry.id for h in store.search("bgp -evpn", limit=5000)} == wanted
            ospf = {h.entry.id for h in store.search("ospf -bgp", limit=5000)}
            assert ospf == expected_hits(one.engine, "ospf", "bgp") != set()
        # New rows after the copy get fresh ids (PostgreSQL's sequences moved past the copy).
        top = max(s.id for s in two.list_sources())
        added = two.add_source(spec(70))
        assert added.id == top + 1
        with two.engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(entries.c.id))).scalar_one()
        assert two.apply_update(plan(added.id, (make_entry(added.id, 1),))).new == 1
        assert [e.id for e in two.list_entries(source_id=added.id)] == [last + 1]
    finally:
        one.close()
        two.close()


# ---------------------------------------------------------------------- failures midway


def snapshot(url: str) -> dict[str, Any]:
    """Everything in a database: every table's rows (the search index and alembic_version
    included) and, on PostgreSQL, the sequences' positions."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            out: dict[str, Any] = {}
            for name in sorted(sa.inspect(conn).get_table_names()):
                rows = conn.execute(sa.text(f'SELECT * FROM "{name}"')).all()
                out[name] = sorted(tuple(map(repr, r)) for r in rows)
            if conn.dialect.name == "postgresql":
                out["sequences"] = sorted(
                    conn.execute(
                        sa.text(
                            "SELECT sequencename, last_value FROM pg_sequences"
                            " WHERE schemaname = current_schema()"
                        )
                    ).all()
                )
        return out
    finally:
        engine.dispose()


def duplicate_row(monkeypatch: pytest.MonkeyPatch, table: str, at: int) -> None:
    """The source yields its `at`-th row of `table` twice: a duplicate key the target refuses
    in the middle of a later batch."""
    real = copy_module._ordered

    def ordered(conn: sa.Connection, tbl: sa.Table, order: tuple[str, ...]) -> Iterator[Any]:
        for n, row in enumerate(real(conn, tbl, order), 1):
            yield row
            if tbl.name == table and n == at:
                yield row

    monkeypatch.setattr(copy_module, "_ordered", ordered)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("force", [False, True], ids=["empty-target", "force-over-a-planet"])
def test_a_copy_failing_midway_leaves_the_target_exactly_as_it_was(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    pair: Any,
    force: bool,
) -> None:
    source, target = pair_urls(request, tmp_path)
    build_big_planet(source)
    if force:  # the target already holds another planet, which --force would replace
        other = open_store(target)
        try:
            s = other.add_source(spec(40, title="Other planet"))
            other.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(5))))
            other.seal_pages(NOW)
            other.set_setting("site_base_url", "http://198.51.100.1/")
        finally:
            other.close()
    else:
        open_store(target).close()  # migrated, empty
    before = snapshot(target)
    assert before["alembic_version"]
    duplicate_row(monkeypatch, "entries", 1500)  # in the second batch of entries
    args = ["db", "copy", "--from", source, "--to", target] + (["--force"] if force else [])
    code, out, err = cli(capsys, *args)
    assert code == 3, (out, err)
    # The progress bars (stderr is not a terminal here) then one line: what failed, and why.
    assert "Traceback" not in err and err.count("error:") == 1, err
    # psycopg's "error ignored terminating <Pipeline>" would be a second line on the terminal.
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")]
    last = err.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("error: copy failed, the target is unchanged: "), err
    refused = {  # the database's own one-line reason, without SQLAlchemy's decoration
        "sqlite": "UNIQUE constraint failed: entries.id",
        "postgres": 'duplicate key value violates unique constraint "pk_entries"',
    }[pair[1]]
    assert last == f"error: copy failed, the target is unchanged: {refused}", last
    assert snapshot(target) == before


@PG
def test_a_row_the_target_refuses_fails_the_copy_with_one_line(
    tmp_path: Path, postgres_url: str
) -> None:
    """PostgreSQL text cannot hold NUL; SQLite can. The copy stops at that row, after two
    batches of entries were written, and the target is left as it was."""
    lite = f"sqlite:///{tmp_path / 'planet.db'}"
    build_big_planet(lite)
    engine = sa.create_engine(lite, poolclass=sa.NullPool)
    with engine.begin() as conn:
        bad = conn.execute(sa.text("SELECT id FROM entries ORDER BY id LIMIT 1 OFFSET 2100"))
        conn.execute(
            sa.text("UPDATE entries SET author = 'A' || char(0) || 'B' WHERE id = :id"),
            {"id": bad.scalar_one()},
        )
    engine.dispose()
    open_store(postgres_url).close()
    before = snapshot(postgres_url)
    one, two = open_store(lite), open_store(postgres_url)
    seen: list[tuple[str, int, int]] = []
    try:
        with pytest.raises(StoreError) as info:
            copy_database(one, two, progress=lambda *a: seen.append(a))
    finally:
        one.close()
        two.close()
    message = str(info.value)
    assert "\n" not in message and "NUL" in message, message
    assert message.startswith("copy failed, the target is unchanged: ")
    assert ("entries", 2000, N_ENTRIES) in seen  # it failed midway, not before writing
    assert snapshot(postgres_url) == before


@PG
def test_a_killed_target_connection_leaves_the_target_as_it_was(
    tmp_path: Path, postgres_url: str, postgres_admin: sa.Engine
) -> None:
    lite = f"sqlite:///{tmp_path / 'planet.db'}"
    build_big_planet(lite)
    found = re.search(r"search_path%3D(\w+)", postgres_url)
    assert found
    open_store(postgres_url).close()
    before = snapshot(postgres_url)

    def kill(table: str, done: int, total: int) -> None:
        # Only the copy's connection: the one writing this test's own schema's entries.
        if table == "entries" and done == 1000:
            with postgres_admin.connect() as conn:
                killed = conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE granted"
                        " AND relation = to_regclass(:entries) AND mode = 'RowExclusiveLock'"
                    ),
                    {"entries": f"{found.group(1)}.entries"},
                ).all()
            assert killed == [(True,)]

    one, two = open_store(lite), open_store(postgres_url)
    try:
        with pytest.raises(StoreError, match=r"^copy failed, the target is unchanged: ") as info:
            copy_database(one, two, progress=kill)
    finally:
        one.close()
        two.close()
    assert "\n" not in str(info.value)
    assert snapshot(postgres_url) == before


# ---------------------------------------------------------------------- same database


# One database, two spellings of its URL ({path}: a SQLite file; {pg}: the test's schema).
SAME = [
    ("sqlite:///{path}", "sqlite:///{path}"),
    ("sqlite:///{path}", "sqlite:///{tmp}/dir/../dir/./planet.db"),
    ("sqlite:///{path}", "sqlite:///{tmp}//dir/planet.db"),
    pytest.param(("{pg}", "{pg}"), marks=PG),
    pytest.param(("{pg}", "{pg_localhost}"), marks=PG),
    pytest.param(("{pg}", "{pg}&application_name=other"), marks=PG),
]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("spellings", SAME)
def test_copying_a_database_onto_itself_is_refused(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    force: bool,
    spellings: tuple[str, str],
) -> None:
    names = {"tmp": str(tmp_path), "path": str(tmp_path / "dir" / "planet.db")}
    if spellings[0] == "{pg}":
        pg = str(request.getfixturevalue("postgres_url"))
        names |= {"pg": pg, "pg_localhost": pg.replace("127.0.0.1", "localhost")}
    else:
        (tmp_path / "dir").mkdir()
    source, target = (spelling.format(**names) for spelling in spellings)
    store = open_store(source)
    try:
        s = store.add_source(spec(1))
        store.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(3))))
    finally:
        store.close()
    before = snapshot(source)
    args = ["db", "copy", "--from", source, "--to", target] + (["--force"] if force else [])
    code, out, err = cli(capsys, *args)
    assert code == 2, (out, err)
    assert err == "error: --from and --to are the same database\n", err  # before any bar
    assert snapshot(source) == before


def test_copy_database_refuses_the_same_database_even_with_force(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    one, two = open_store(url), open_store(url)
    try:
        with pytest.raises(UsageError, match="same database"):
            copy_database(one, two, force=True)
    finally:
        one.close()
        two.close()


@PG
def test_two_schemas_of_one_postgres_database_are_different_planets(
    capsys: pytest.CaptureFixture[str], postgres_url: str, postgres_admin: sa.Engine
) -> None:
    """Not the same database: copying between them works (the test fixtures rely on it)."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        other = re.sub(r"search_path%3D\w+", f"search_path%3D{schema}", postgres_url)
        assert other != postgres_url
        store = open_store(postgres_url)
        try:
            s = store.add_source(spec(1))
            store.apply_update(plan(s.id, (make_entry(s.id, 1),)))
        finally:
            store.close()
        code, out, err = cli(capsys, "db", "copy", "--from", postgres_url, "--to", other)
        assert code == 0, err
        assert "1 entries" in out
    finally:
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


def _answer_as(store: Any, *rewrites: tuple[str, str]) -> None:
    """Make `store`'s connections answer as another server would: each (SQL function call,
    replacement) is swapped into the statements sent (whatever the keywords' case)."""

    @sa.event.listens_for(store.engine, "before_cursor_execute", retval=True)
    def rewrite(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        for call, replacement in rewrites:
            statement = re.sub(re.escape(call), replacement, statement, flags=re.IGNORECASE)
        return statement, parameters


# The second server: another system identifier; where control data is not readable (a managed
# server revoking pg_control_system), another address.
OTHER_SERVER = ("pg_control_system()", "(SELECT 7305516540541234567 AS system_identifier) AS c")
DENIED = ("pg_control_system()", "netplanet_test_no_such_function()")
OTHER_ADDRESS = ("inet_server_addr()", "'192.0.2.7'::inet")


@PG
@pytest.mark.parametrize("readable", [True, False], ids=["control-data", "no-control-data"])
def test_a_database_of_the_same_name_on_another_server_is_another_planet(
    postgres_url: str, readable: bool
) -> None:
    """Same database name and schema, two servers (production to a new host, say): not the
    same database. One server reached by two URLs still is, also where the role may not read
    the server's control data and its address tells it apart."""
    other_url = f"{postgres_url}&application_name=other"
    one, two = open_store(postgres_url), open_store(other_url)
    try:
        if not readable:
            _answer_as(one, DENIED)
            _answer_as(two, DENIED)
        with pytest.raises(UsageError, match="same database"):
            copy_module.check_target(one, two, force=True)
        _answer_as(two, OTHER_SERVER if readable else OTHER_ADDRESS)
        copy_module.check_target(one, two, force=True)  # no error: two servers
    finally:
        one.close()
        two.close()


# ---------------------------------------------------------------------- details (SQLite)


def test_progress_reports_every_batch_of_every_table(tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    build_big_planet(source)
    one, two = open_store(source), open_store(target)
    calls: list[tuple[str, int, int]] = []
    try:
        report = copy_database(one, two, progress=lambda *call: calls.append(call))
    finally:
        one.close()
        two.close()
    links, topics = report.rows["entry_categories"], report.rows["entry_topics"]
    assert topics == N_ENTRIES + len(range(0, N_ENTRIES, 7))
    assert report.rows == {
        "categories": 2,
        "sources": 3,
        "entries": N_ENTRIES,
        "entry_categories": links,
        "entry_topics": topics,
        "story_keys": 0,
        "digest_weeks": 0,
        "digest_picks": 0,
    }
    assert calls == [
        ("categories", 2, 2),
        ("sources", 3, 3),
        ("entries", 1000, N_ENTRIES),
        ("entries", 2000, N_ENTRIES),
        ("entries", N_ENTRIES, N_ENTRIES),
        *(("entry_categories", n, links) for n in range(1000, links, 1000)),
        ("entry_categories", links, links),
        *(("entry_topics", n, topics) for n in range(1000, topics, 1000)),
        ("entry_topics", topics, topics),
        ("story_keys", 0, 0),
        ("digest_weeks", 0, 0),
        ("digest_picks", 0, 0),
    ]


def test_a_copy_quiets_only_psycopgs_repeat_of_its_error(tmp_path: Path) -> None:
    """psycopg logs "error ignored terminating <Pipeline>: pipeline aborted" after a failed
    batch insert: a second line repeating the one error. Whether it comes depends on when the
    server's error arrives, so the failing-copy tests cannot rely on seeing it; this looks at
    the levels while rows are copied. Nothing else is quieted, and psycopg's level is back
    afterwards."""
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    psycopg_log, planet_log, root = (
        logging.getLogger(name) for name in ("psycopg", "netplanet", None)
    )
    level = psycopg_log.level
    others = (planet_log.isEnabledFor(logging.WARNING), root.isEnabledFor(logging.WARNING))
    during: set[tuple[bool, tuple[bool, bool]]] = set()

    def look(table: str, done: int, total: int) -> None:
        during.add(
            (
                psycopg_log.isEnabledFor(logging.WARNING),
                (planet_log.isEnabledFor(logging.WARNING), root.isEnabledFor(logging.WARNING)),
            )
        )

    try:
        one.add_source(spec(1))
        copy_database(one, two, progress=look)
    finally:
        one.close()
        two.close()
    assert during == {(False, others)}
    assert psycopg_log.level == level


def test_force_keeps_the_targets_own_secrets_and_copies_only_planet_settings(
    tmp_path: Path,
) -> None:
    """The admin password, session secret and login failures stay with their database; keys
    merely looking like a redirect's (`_` is a LIKE wildcard) are not redirects."""
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    try:
        one.add_source(spec(1))
        one.set_setting("site_base_url", "http://203.0.113.9/")
        one.set_setting("source_slug_moved:old", "example-blog-1")
        one.set_setting("sourceXslugXmoved:old", "not a redirect")
        one.set_setting("admin_password", "scrypt$source")
        two.add_source(spec(2))
        two.set_setting("site_base_url", "http://198.51.100.1/")
        two.set_setting("admin_password", "scrypt$target")
        two.set_setting("session_secret", "target-secret")
        copy_database(one, two, force=True)
        assert two.get_setting("site_base_url") == "http://203.0.113.9/"
        assert two.get_setting("source_slug_moved:old") == "example-blog-1"
        assert two.get_setting("sourceXslugXmoved:old") is None
        assert two.get_setting("admin_password") == "scrypt$target"
        assert two.get_setting("session_secret") == "target-secret"
        assert [s.feed_url for s in two.list_sources()] == [spec(1).feed_url]
    finally:
        one.close()
        two.close()


def test_the_checksum_does_not_depend_on_the_machines_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    try:
        s = one.add_source(spec(1))
        one.apply_update(plan(s.id, tuple(make_entry(s.id, n) for n in range(3))))
        in_utc = copy_database(one, two).checksum
        monkeypatch.setenv("TZ", "Asia/Kolkata")
        time.tzset()
        try:
            assert copy_module.verify_copy(one, two).checksum == in_utc
        finally:
            monkeypatch.undo()
            time.tzset()
    finally:
        one.close()
        two.close()


def test_a_verification_failure_names_both_checksums(tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    try:
        s = one.add_source(spec(1))
        one.apply_update(plan(s.id, (make_entry(s.id, 1),)))
        copy_database(one, two)
        with two.engine.begin() as conn:
            conn.execute(sa.text("UPDATE entries SET author = 'someone else'"))
        with pytest.raises(StoreError) as info:
            copy_module.verify_copy(one, two)
        assert re.fullmatch(
            r"copy verification failed: entries differs between source and target "
            r"\(sha256 [0-9a-f]{12} vs [0-9a-f]{12}\)",
            str(info.value),
        ), info.value
    finally:
        one.close()
        two.close()


@PG
def test_a_postgres_source_is_read_in_batches(
    tmp_path: Path, postgres_url: str, postgres_admin: sa.Engine
) -> None:
    """A planet of millions of posts is streamed through a server-side cursor a batch at a
    time, never loaded whole into memory."""
    found = re.search(r"search_path%3D(\w+)", postgres_url)
    assert found
    build_big_planet(postgres_url)
    seen: list[str] = []

    def look(table: str, done: int, total: int) -> None:
        if table == "entries" and done == 1000:
            with postgres_admin.connect() as conn:
                seen.extend(
                    conn.execute(
                        sa.text(
                            "SELECT a.query FROM pg_stat_activity AS a JOIN pg_locks AS l"
                            " ON l.pid = a.pid WHERE l.relation = to_regclass(:entries)"
                            " AND l.mode = 'AccessShareLock' AND l.granted"
                        ),
                        {"entries": f"{found.group(1)}.entries"},
                    ).scalars()
                )

    one, two = open_store(postgres_url), open_store(f"sqlite:///{tmp_path / 't.db'}")
    try:
        copy_database(one, two, progress=look)
    finally:
        one.close()
        two.close()
    assert len(seen) == 1 and re.match(r"FETCH FORWARD 1000 FROM", seen[0]), seen


def test_without_force_a_planet_is_never_overwritten(tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    try:
        one.add_source(spec(1))
        two.add_source(spec(2))
        with pytest.raises(UsageError, match="already holds a planet; use --force"):
            copy_database(one, two)
        assert [s.feed_url for s in two.list_sources()] == [spec(2).feed_url]
    finally:
        one.close()
        two.close()


def test_two_in_memory_databases_are_not_the_same_database() -> None:
    one, two = open_store("sqlite://"), open_store("sqlite:///:memory:")
    try:
        one.add_source(spec(1))
        copy_module.check_target(one, two, force=False)  # no error: two databases
        assert copy_database(one, two).rows["sources"] == 1
    finally:
        one.close()
        two.close()


def test_any_database_library_error_midway_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the driver's errors: SQLAlchemy's own (no `orig`) give their first line."""
    source, target = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    one, two = open_store(source), open_store(target)
    real = copy_module._copy_table

    def failing(src: Any, dst: Any, table: sa.Table, *rest: Any) -> None:
        real(src, dst, table, *rest)
        if table.name == "entries":
            raise sa.exc.InvalidRequestError("the connection is closed\nmore detail")

    monkeypatch.setattr(copy_module, "_copy_table", failing)
    try:
        s = one.add_source(spec(1))
        one.apply_update(plan(s.id, (make_entry(s.id, 1),)))
        with pytest.raises(StoreError) as info:
            copy_database(one, two)
        assert str(info.value) == "copy failed, the target is unchanged: the connection is closed"
        assert two.list_sources() == [] and two.count_entries() == 0
    finally:
        one.close()
        two.close()
