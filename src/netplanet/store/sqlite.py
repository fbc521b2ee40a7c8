"""The SQLite backend: engine setup (WAL, foreign keys, busy timeout) and FTS5 search.

The query's meaning is `fts_query.py`'s; matches are ranked by bm25 among the newest RANK_POOL
(see `sqlite_search`), a query of only exclusions lists the newest posts without them, and
`sqlite_count` counts matches up to a cap. What PostgreSQL's search shares with it (sentinels,
filters, the exclusion-only listing) is in `_search.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url

from netplanet.model import SearchHit
from netplanet.store._rows import WRITE_FIRST, entry_from_row
from netplanet.store._search import (
    EVERYTHING,
    RANK_POOL,
    Narrow,
    filters_sql,
    listed_hits,
    marks_to_html,
    shown_sql,
)
from netplanet.store.fts_query import Query, parse_query, to_fts5
from netplanet.store.indexing import INDEX_TEXT_CHARS
from netplanet.store.schema import UTCDateTime

CACHE_KIB = 8192
"""Page cache per connection (SQLite's default is 2 MiB). A cold round's group commit writes
megabytes of rows and touches index pages all over the file; with 2 MiB, pages were spilled
to the WAL and read back many times within one transaction. 8 MiB: in a cold round of 1,000
feeds the update process made 11% fewer page writes and 19% fewer page reads (system calls
counted), ~1-2% less CPU, ~5 MiB more peak RSS (docs/benchmarks.md, issue 11's cold round);
32 MiB saved more but would break the 250 MiB RSS budget. Pages are allocated as used; a
long-running process keeps its pooled connections (SQLAlchemy's default: 5), each with its
own cache, so at most ~30 MiB more than the default there."""


def create_sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin() issue BEGIN itself, so transactions are real (pysqlite quirk).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A transaction that reads before it writes takes the write lock up front (see
        # WRITE_FIRST), or a concurrent writer would make its first write fail with SQLITE_BUSY.
        immediate = conn.get_execution_options().get(WRITE_FIRST, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_index(conn: Connection, ids: Sequence[int] | None) -> None:
    """(Re-)index posts in FTS5 (store/indexing.py): their old rows, if any, are replaced.
    Set-wise, one statement each way: the tokenizer runs in SQLite with the GIL released."""
    if ids is None:
        chosen, params = "SELECT entry_id FROM search_queue", dict[str, int]()
    else:
        params = {f"i{n}": i for n, i in enumerate(ids)}
        chosen = ", ".join(f":{name}" for name in params)
    conn.execute(text(f"DELETE FROM entries_fts WHERE rowid IN ({chosen})"), params)
    conn.execute(
        text(
            f"""INSERT INTO entries_fts(rowid, title, text, source)
            SELECT e.id, e.title, substr(e.text, 1, :chars), s.title
            FROM entries AS e JOIN sources AS s ON s.id = e.source_id
            WHERE e.id IN ({chosen}) ORDER BY e.id"""
        ),
        {**params, "chars": INDEX_TEXT_CHARS},
    )


def sqlite_search(
    conn: Connection,
    query: str,
    *,
    limit: int,
    offset: int,
    category_slug: str | None,
    source_id: int | None,
    narrow: Narrow = EVERYTHING,
) -> list[SearchHit]:
    parsed = parse_query(query)
    if parsed.empty:
        return []
    if parsed.only_exclusions:
        return _recent_without(conn, parsed, limit, offset, category_slug, source_id, narrow)
    match = to_fts5(parsed)
    filters, params = narrow.sql("f.rowid")
    params |= {
        "match": match,
        # Only what the reader asked for is highlighted, never an excluded word.
        "highlight": to_fts5(parsed.positive()),
        "limit": limit,
        "offset": offset,
    }
    # Joined always: collapsed posts are left out (except in one source's search).
    joins = " JOIN entries AS e ON e.id = f.rowid"
    filters += shown_sql("e", source_id)
    if source_id is not None:
        filters += " AND e.source_id = :source_id"
        params["source_id"] = source_id
    if category_slug is not None:
        filters += (
            " AND f.rowid IN (SELECT entry_id FROM entry_categories WHERE category_slug = :cat)"
        )
        params["cat"] = category_slug
    # Two stages: rank matches by bm25 alone, then join, load and build snippets for the one
    # page of hits only (sorting full rows with their snippets made a common word cost half a
    # second at a million posts). Ranking reads every match, so a word found in a hundred
    # thousand posts is ranked among its RANK_POOL most recently stored matches: FTS5 walks
    # those newest-first without scoring the rest, which keeps search time flat as the
    # archive grows, and on a news planet the recent posts are the ones readers want.
    # The snippet's MATCH is the query without exclusions: every hit matches it too.
    params["pool"] = RANK_POOL
    sql = text(
        f"""
        WITH hits AS (
            SELECT id, rank FROM (
                SELECT f.rowid AS id, bm25(entries_fts, 10.0, 1.0, 3.0) AS rank
                FROM entries_fts AS f{joins}
                WHERE entries_fts MATCH :match{filters}
                ORDER BY f.rowid DESC
                LIMIT :pool
            )
            ORDER BY rank, id DESC
            LIMIT :limit OFFSET :offset
        )
        SELECT e.*, s.title AS source_title, s.slug AS source_slug, hits.rank AS rank,
               snippet(entries_fts, 1, char(2), char(3), '…', 32) AS snip
        FROM hits
        JOIN entries_fts ON entries_fts.rowid = hits.id
        JOIN entries AS e ON e.id = hits.id
        JOIN sources AS s ON s.id = e.source_id
        WHERE entries_fts MATCH :highlight
        ORDER BY hits.rank, hits.id DESC
        """
    ).columns(published=UTCDateTime, updated=UTCDateTime, first_seen=UTCDateTime)
    rows = conn.execute(sql, params).all()
    return [
        SearchHit(entry=entry_from_row(r), snippet_html=marks_to_html(r.snip), rank=float(r.rank))
        for r in rows
    ]


def _recent_without(
    conn: Connection,
    parsed: Query,
    limit: int,
    offset: int,
    category_slug: str | None,
    source_id: int | None,
    narrow: Narrow = EVERYTHING,
) -> list[SearchHit]:
    """The newest posts (river order) containing none of the excluded words."""
    filters, params = filters_sql("e.id", category_slug, source_id, narrow)
    filters += shown_sql("e", source_id)
    params |= {"excl": to_fts5(parsed.any_excluded()), "limit": limit, "offset": offset}
    sql = text(
        f"""
        SELECT e.*, s.title AS source_title, s.slug AS source_slug
        FROM entries AS e JOIN sources AS s ON s.id = e.source_id
        WHERE e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH :excl){filters}
        ORDER BY e.published DESC, e.id DESC
        LIMIT :limit OFFSET :offset
        """
    )
    return listed_hits(conn, sql, params, offset)


def sqlite_count(
    conn: Connection,
    query: str,
    *,
    cap: int,
    category_slug: str | None,
    source_id: int | None,
    narrow: Narrow = EVERYTHING,
) -> int:
    """How many posts `sqlite_search` can find, counted up to cap + 1 ("more than cap")."""
    parsed = parse_query(query)
    if parsed.empty:
        return 0
    filters, params = filters_sql("e.id", category_slug, source_id, narrow)
    filters += shown_sql("e", source_id)
    params["cap"] = cap + 1
    if parsed.only_exclusions:
        params["excl"] = to_fts5(parsed.any_excluded())
        inner = (
            "SELECT e.id FROM entries AS e WHERE e.id NOT IN"
            f" (SELECT rowid FROM entries_fts WHERE entries_fts MATCH :excl){filters}"
        )
    else:
        params["match"] = to_fts5(parsed)
        inner = (
            "SELECT e.id FROM (SELECT rowid AS id FROM entries_fts WHERE entries_fts MATCH :match)"
            f" AS m JOIN entries AS e ON e.id = m.id WHERE 1 = 1{filters}"
        )
    sql = text(f"SELECT count(*) FROM ({inner} LIMIT :cap)")
    return int(conn.execute(sql, params).scalar_one())
