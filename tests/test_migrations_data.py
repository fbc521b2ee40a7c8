"""Migrations on a database that holds a planet, both backends.

Rows are written at revision 0001 with raw SQL (as a netplanet of that time stored them). Every
upgrade, one revision at a time, keeps each of those values, and head gives the new columns
the values their migrations promise (failing_since, date_known, source_seq, the PostgreSQL
search vector). Downgrading to 0001 keeps the rows too, and upgrading again works: the store
then reads, searches, seals and stores as on a new database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from builders import make_entry, plan
from netplanet.publish.weekly import Week
from netplanet.store import open_store
from netplanet.store.migrate import HEAD_REVISION, _config, current_revision, migrate

REVISIONS = ["0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012"]
assert REVISIONS[-1] == HEAD_REVISION  # a new migration gets a line in these tests

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# (id, feed_url, title, slug, enabled, consecutive_failures, last_fetched_at)
SOURCES = [
    (1, "https://one.example/feed", "Routing One", "one", True, 0, T0),
    (2, "https://two.example/feed", "Second Blog", "two", True, 3, T0 + timedelta(hours=5)),
    (3, "https://three.example/feed", "Never Fetched", "three", False, 2, None),
]
# (id, source, title, text, river seq, first_seen, date_from_feed); ids are not in river order
ENTRIES = [
    (12, 1, "BGP add-path", "route reflectors", 1, T0, True),
    (21, 2, "Undated EVPN notes", "evpn and bgp", 2, T0 + timedelta(hours=1), False),
    (13, 1, "OSPF areas", "stub areas", 3, T0, True),
    (22, 2, "Undated BGP tips", "bgp timers", 4, T0 + timedelta(hours=1), False),
    (11, 1, "BGP communities", "large communities", 5, T0, True),
    (14, 1, "BGP again", "undated, a later poll", None, T0 + timedelta(days=1), False),
    (23, 2, "BGP later", "undated, a later poll", None, T0 + timedelta(days=2), False),
]
# Sealed posts are older than the unsealed ones, the river numbered oldest first.
PUBLISHED = {
    e[0]: T0 - timedelta(hours=10 - e[4]) if e[4] else T0 + timedelta(hours=e[0] % 10)
    for e in ENTRIES
}
CATEGORIES = [("networking", "Networking", 0), ("security", "Security", 1)]
ENTRY_CATEGORIES = [(12, "networking", 1), (21, "security", 1), (13, "networking", 2)]

TABLES = {
    "sources": "id",
    "entries": "id",
    "categories": "slug",
    "entry_categories": "entry_id, category_slug",
}


def insert_0001_rows(conn: sa.Connection) -> None:
    for sid, url, title, slug, enabled, failures, fetched in SOURCES:
        conn.execute(
            sa.text(
                "INSERT INTO sources (id, feed_url, title, site_url, category, slug, enabled,"
                " disabled_reason, created_at, etag, last_fetched_at, last_status,"
                " consecutive_failures, last_error, last_bytes)"
                " VALUES (:id, :url, :title, 'https://site.example/', 'Networking', :slug,"
                " :enabled, :reason, :created, :etag, :fetched, :status, :failures, :error,"
                " 1234)"
            ),
            {
                "id": sid,
                "url": url,
                "title": title,
                "slug": slug,
                "enabled": enabled,
                "reason": "" if enabled else "turned off by hand",
                "created": T0 - timedelta(days=1),
                "etag": f'"e{sid}"',
                "fetched": fetched,
                "status": 500 if failures else 200,
                "failures": failures,
                "error": "HTTP 500" if failures else "",
            },
        )
    for eid, sid, title, text, seq, seen, dated in ENTRIES:
        conn.execute(
            sa.text(
                "INSERT INTO entries (id, source_id, key, guid, url, title_date_hash, title,"
                " author, published, first_seen, content_html, text, categories, tags,"
                " enclosure_url, enclosure_length, sponsored, date_from_feed, fingerprint, seq)"
                " VALUES (:id, :sid, :key, :guid, :url, :tdh, :title, 'Ann', :published, :seen,"
                " :html, :text, '[\"Networking\"]', '[\"t\"]', :enc, :enc_len, :sponsored,"
                " :dated, :fp, :seq)"
            ),
            {
                "id": eid,
                "sid": sid,
                "key": f"g:{eid}",
                "guid": str(eid),
                "url": f"https://site.example/{eid}/",
                "tdh": f"tdh-{eid}",
                "title": title,
                "published": PUBLISHED[eid],
                "seen": seen,
                "html": f"<p>{text}</p>",
                "text": text,
                "enc": "https://site.example/a.mp3" if eid == 12 else None,
                "enc_len": 99 if eid == 12 else None,
                "sponsored": eid == 13,
                "dated": dated,
                "fp": f"v1:{eid}",
                "seq": seq,
            },
        )
    for slug, name, position in CATEGORIES:
        conn.execute(
            sa.text("INSERT INTO categories (slug, name, position) VALUES (:s, :n, :p)"),
            {"s": slug, "n": name, "p": position},
        )
    for eid, slug, seq in ENTRY_CATEGORIES:
        conn.execute(
            sa.text(
                "INSERT INTO entry_categories (entry_id, category_slug, published, seq)"
                " VALUES (:e, :s, :p, :q)"
            ),
            {"e": eid, "s": slug, "p": PUBLISHED[eid], "q": seq},
        )


def rows(conn: sa.Connection, columns: dict[str, list[str]]) -> dict[str, list[Any]]:
    return {
        table: conn.execute(
            sa.text(f"SELECT {', '.join(columns[table])} FROM {table} ORDER BY {order}")
        ).all()
        for table, order in TABLES.items()
    }


def column_names(conn: sa.Connection) -> dict[str, list[str]]:
    inspector = sa.inspect(conn)
    return {t: [c["name"] for c in inspector.get_columns(t)] for t in TABLES}


@pytest.fixture
def engine(database: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def alembic(engine: sa.Engine, verb: str, revision: str) -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)


def at_0001_with_rows(engine: sa.Engine) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """A database at 0001 holding the rows above: (0001's columns, their values)."""
    alembic(engine, "upgrade", "0001")
    with engine.begin() as conn:
        insert_0001_rows(conn)
    with engine.connect() as conn:
        columns = column_names(conn)
        return columns, rows(conn, columns)


def check_new_columns(engine: sa.Engine) -> None:
    """The values migrations 0002-0007 promise for rows that existed before them."""
    with engine.connect() as conn:
        src = conn.execute(
            sa.text(
                "SELECT id, failing_since, last_fetched_at, lease_owner, lease_until,"
                " avg_response_ms, avg_bytes, posts_per_day, poll_interval_s, dead_since,"
                " rate_valid_until"
                " FROM sources ORDER BY id"
            )
        ).all()
        ent = conn.execute(
            sa.text(
                "SELECT id, date_known, source_seq, raw_hash FROM entries ORDER BY source_id, id"
            )
        ).all()
        stories = conn.execute(
            sa.text(
                "SELECT DISTINCT topics, topics_manual, podcast, simhash, cluster_id,"
                " duplicate_of, collapsed FROM entries"
            )
        ).all()
        linked = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM entry_topics) + (SELECT count(*) FROM story_keys)"
            )
        ).scalar_one()
        tables = set(sa.inspect(conn).get_table_names())
        digests = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM digest_weeks) + (SELECT count(*) FROM digest_picks)"
            )
        ).scalar_one()
        settings = conn.execute(sa.text("SELECT count(*) FROM app_settings")).scalar_one()
        queued = conn.execute(sa.text("SELECT count(*) FROM search_queue")).scalar_one()
        indexed = conn.execute(
            sa.text(
                "SELECT count(*) FROM entries WHERE search_vector IS NOT NULL"
                if conn.dialect.name == "postgresql"
                else "SELECT count(*) FROM entries_fts"
            )
        ).scalar_one()
        vectors = (
            conn.execute(
                sa.text("SELECT count(*) FROM entries WHERE search_vector IS NOT NULL")
            ).scalar_one()
            if conn.dialect.name == "postgresql"
            else len(ENTRIES)
        )
    failing = {r[0]: r[1] for r in src}
    # 0004: a failing source's run of failures started at its last attempt, at the latest.
    assert failing[1] is None and failing[3] is None
    assert failing[2] is not None and failing[2] == src[1][2]
    assert all(v is None for r in src for v in r[3:]), src
    # 0006: undated posts of a source's first fetch have no known date; later ones do.
    # 0007: sealed posts are numbered per source in river order.
    assert [(i, bool(known), seq, h) for i, known, seq, h in ent] == [
        (11, True, 3, None),
        (12, True, 1, None),
        (13, True, 2, None),
        (14, True, None, None),
        (21, False, 1, None),
        (22, False, 2, None),
        (23, True, None, None),
    ]
    assert {"app_settings", "login_failures"} <= tables and settings == 0
    # 0008: older posts have no topics, labels or story yet (`topics reclassify` adds them).
    assert [tuple(r) for r in stories] == [("[]", False, False, None, None, None, False)]
    assert linked == 0
    # 0009: no week is frozen and nothing picked: a finished week freezes when first read.
    assert {"digest_weeks", "digest_picks"} <= tables and digests == 0
    assert vectors == len(ENTRIES)  # 0002 indexed the rows already there (PostgreSQL)
    # 0011: the posts already there are indexed, so nothing waits for the indexer.
    assert queued == 0 and indexed == len(ENTRIES)


def check_store_works(url: str) -> None:
    """A store on the migrated database: pages, search, and new posts sealed after the old."""
    store = open_store(url)
    try:
        assert store.count_entries() == len(ENTRIES)
        assert store.pending_index() == 0
        sealed = store.sealed_entries(source_id=1, limit=10)
        assert [(r.seq, r.entry.id) for r in sealed] == [(3, 11), (2, 13), (1, 12)]
        river = store.sealed_entries(limit=10)
        assert [(r.seq, r.entry.id) for r in river] == [(5, 11), (4, 22), (3, 13), (2, 21), (1, 12)]
        assert {h.entry.id for h in store.search("bgp", limit=50)} == {11, 12, 14, 21, 22, 23}
        assert {h.entry.id for h in store.search("bgp -evpn", limit=50)} == {11, 12, 14, 22, 23}
        assert {h.entry.id for h in store.search("routing", limit=50)} == {11, 12, 13, 14}
        found = store.get_entry(12)
        assert found is not None and found.enclosure is not None
        assert found.enclosure.length == 99 and found.date_known
        failing = store.get_source(2)
        assert failing is not None and failing.failing_since == SOURCES[1][6]
        undated = store.get_entry(21)
        assert undated is not None and not undated.date_known
        result = store.apply_update(plan(1, (make_entry(1, 1, title="New MPLS post"),)))
        assert result.new == 1
        store.seal_pages(datetime.now(UTC) + timedelta(days=1))
        assert store.max_seq() == 8 and store.max_seq(source_id=1) == 5  # 14, then the new one
        assert [h.entry.title for h in store.search("mpls", limit=5)] == ["New MPLS post"]
        # The digest reads and freezes the old rows' week (13 is sponsored, 21/22 undated).
        week = Week.of(PUBLISHED[12])
        frozen = store.freeze_week(week.label, week.start, week.end)
        assert {p.id for p in frozen.posts} >= {11, 12}
        assert not {13, 21, 22} & {p.id for p in frozen.posts}
        store.set_digest_pick(week.label, 12, "pin")
        assert store.week_data(week.label, week.start, week.end).picks == ((12, "pin"),)
    finally:
        store.close()


def test_rows_written_at_0001_survive_every_upgrade(engine: sa.Engine, database: str) -> None:
    columns, before = at_0001_with_rows(engine)
    for revision in REVISIONS:
        alembic(engine, "upgrade", revision)
        assert current_revision(engine) == revision
        with engine.connect() as conn:
            assert rows(conn, columns) == before, revision
    check_new_columns(engine)
    check_store_works(database)


def test_the_store_migrates_a_0001_planet_itself(engine: sa.Engine, database: str) -> None:
    """What an operator does: open the old database with the new netplanet."""
    columns, before = at_0001_with_rows(engine)
    open_store(database).close()
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        assert rows(conn, columns) == before
    check_new_columns(engine)


def test_downgrade_to_0001_keeps_the_rows_and_upgrading_again_works(
    engine: sa.Engine, database: str
) -> None:
    columns, before = at_0001_with_rows(engine)
    assert migrate(engine) is True
    for revision in reversed(["0001", *REVISIONS[:-1]]):
        alembic(engine, "downgrade", revision)
        assert current_revision(engine) == revision
        with engine.connect() as conn:
            assert rows(conn, columns) == before, revision
    with engine.connect() as conn:
        assert column_names(conn) == columns  # every later column is gone again
        later = {"app_settings", "login_failures", "entry_topics", "story_keys"}
        later |= {"digest_weeks", "digest_picks", "search_queue"}
        assert not later & set(sa.inspect(conn).get_table_names())
    assert migrate(engine) is True
    with engine.connect() as conn:
        assert rows(conn, columns) == before
    check_new_columns(engine)
    check_store_works(database)


LINKS = {
    "story_keys": (
        "entry_id, key, published",
        [(12, "u:aa", T0), (12, "b0:0001", T0), (21, "u:aa", T0 + timedelta(hours=2))],
    ),
    "entry_topics": (
        "entry_id, topic_slug, score, rank, published, seq",
        [(12, "routing", 0.8, 0, T0, 1), (12, "datacenter", 0.4, 1, T0, None)],
    ),
}


def _links(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, (cols, _) in LINKS.items():
        got = conn.execute(sa.text(f"SELECT {cols} FROM {table} ORDER BY {cols}")).all()
        # Dates as the backend gives them back (SQLite: text), compared as text.
        out[table] = [tuple(str(v) for v in r) for r in got]
    return out


def test_0010_keeps_story_keys_and_topic_rows_both_ways(engine: sa.Engine) -> None:
    """0010 re-keys story_keys and entry_topics (WITHOUT ROWID on SQLite): their rows survive
    the upgrade and the downgrade, and a key (a topic) stays unique per post."""
    at_0001_with_rows(engine)
    alembic(engine, "upgrade", "0009")
    with engine.begin() as conn:
        for table, (cols, values) in LINKS.items():
            marks = ", ".join(f":{c.strip()}" for c in cols.split(","))
            names = [c.strip() for c in cols.split(",")]
            conn.execute(
                sa.text(f"INSERT INTO {table} ({cols}) VALUES ({marks})"),
                [dict(zip(names, v, strict=True)) for v in values],
            )
    with engine.connect() as conn:
        before = _links(conn)
    alembic(engine, "upgrade", "0010")
    with engine.connect() as conn:
        assert _links(conn) == before
        if conn.dialect.name == "sqlite":
            ddl = conn.execute(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE name IN ('story_keys', 'entry_topics')"
                )
            ).scalars()
            assert all("WITHOUT ROWID" in sql for sql in ddl)
    for statement in (
        "INSERT INTO story_keys (entry_id, key, published) VALUES (12, 'u:aa', :later)",
        "INSERT INTO entry_topics (entry_id, topic_slug, score, rank, published)"
        " VALUES (12, 'routing', 0.1, 2, :later)",
    ):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(statement), {"later": T0 + timedelta(days=1)})
    with engine.begin() as conn:  # a post's removal still takes its rows (ON DELETE CASCADE)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(sa.text("DELETE FROM entries WHERE id = 21"))
        assert conn.execute(sa.text("SELECT count(*) FROM story_keys")).scalar_one() == 2
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO story_keys (entry_id, key, published) VALUES (23, 'u:aa', :t)"),
            {"t": T0 + timedelta(hours=2)},
        )
    with engine.connect() as conn:
        kept = _links(conn)
    alembic(engine, "downgrade", "0009")
    with engine.connect() as conn:
        assert _links(conn) == kept
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("story_keys")}
        assert "ix_story_keys_key_published" in names


def test_0011_downgrade_indexes_the_queued_posts(engine: sa.Engine, database: str) -> None:
    """Posts stored at 0011 and not indexed yet are searchable after a downgrade to 0010, whose
    triggers index in the write again; upgrading again starts with an empty queue."""
    at_0001_with_rows(engine)
    assert migrate(engine) is True
    store = open_store(database)
    try:
        store.apply_update(plan(1, (make_entry(1, 1, title="Queued MPLS post"),)))
        assert store.pending_index() == 1
    finally:
        store.close()
    alembic(engine, "downgrade", "0010")
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            found = conn.execute(
                sa.text(
                    "SELECT count(*) FROM entries"
                    " WHERE search_vector @@ to_tsquery('english', 'mpls')"
                )
            ).scalar_one()
        else:
            found = conn.execute(
                sa.text("SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'mpls'")
            ).scalar_one()
    assert found == 1
    alembic(engine, "upgrade", "0011")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM search_queue")).scalar_one() == 0
    check_store_works_after_new_post(database)


def check_store_works_after_new_post(url: str) -> None:
    store = open_store(url)
    try:
        assert [h.entry.title for h in store.search("mpls", limit=5)] == ["Queued MPLS post"]
    finally:
        store.close()


# Long enough to have a band key (more than MIN_FEATURES words); its own words.
_LONG_TEXT = (
    "Our team moved the lab's route reflectors onto two small servers last spring, and this "
    "note walks through what we measured: session counts, convergence after a link flap, "
    "memory per path and the knobs we turned on the way, from timers to add-path and the "
    "outbound policy that keeps the reflectors out of the forwarding path entirely."
)


def test_0012_recomputes_simhash_and_band_keys(engine: sa.Engine) -> None:
    """Signature version 2 hashes other words into one band: signed posts' SimHash and band
    keys are recomputed from their text, their other keys are kept, a post too short for a
    band loses its old ones, and a post never signed stays so."""
    from netplanet.enrich.story import text_simhash

    at_0001_with_rows(engine)
    alembic(engine, "upgrade", "0010")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE entries SET text = :t, simhash = 7 WHERE id = 12"), {"t": _LONG_TEXT}
        )
        conn.execute(sa.text("UPDATE entries SET simhash = 9 WHERE id = 21"))
        conn.execute(
            sa.text("INSERT INTO story_keys (entry_id, key, published) VALUES (:e, :k, :p)"),
            [
                {"e": 12, "k": key, "p": PUBLISHED[12]}
                for key in ("u:aa", "b0:00000001", "b1:00000002", "p:acme gatekeeper")
            ]
            + [{"e": 21, "k": key, "p": PUBLISHED[21]} for key in ("b0:00000003", "t:bb")],
        )
    alembic(engine, "upgrade", "0012")
    value, bands = text_simhash(_LONG_TEXT)
    short_value, short_bands = text_simhash("evpn and bgp")
    assert bands and not short_bands
    with engine.connect() as conn:
        simhashes = dict(conn.execute(sa.text("SELECT id, simhash FROM entries")).all())
        keys = conn.execute(sa.text("SELECT entry_id, key FROM story_keys")).all()
        band_dates = (
            conn.execute(sa.text("SELECT published FROM story_keys WHERE key LIKE 'b%'"))
            .scalars()
            .all()
        )
    assert simhashes[12] == value and simhashes[21] == short_value
    assert simhashes[13] is None  # stored before signatures: left as it was
    assert sorted(keys) == sorted(
        [(12, "u:aa"), (12, "p:acme gatekeeper"), *((12, b) for b in bands), (21, "t:bb")]
    )
    for when in band_dates:  # the new band rows carry their post's date
        if isinstance(when, str):  # SQLite: naive UTC text
            when = datetime.fromisoformat(when).replace(tzinfo=UTC)
        assert when == PUBLISHED[12]
