"""The PostgreSQL backend: engine setup (psycopg 3, pooled) and tsvector full-text search.

The search vector is a weighted `entries.search_vector` column (title A, source title B, text
C) kept by the triggers of migration 0002 and indexed with GIN. Queries are built from the
same parsed reader input as SQLite's (`fts_query.parse_query`), so both backends accept the
same syntax; ranking is `ts_rank_cd` with weights and snippets come from `ts_headline` with
control-character sentinels that become <mark> only after HTML escaping (`marks_to_html`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from netplanet.model import SearchHit
from netplanet.store.fts_query import parse_query, to_tsquery
from netplanet.store.schema import UTCDateTime, entries
from netplanet.store.sql import entry_from_row
from netplanet.store.sqlite import MARK_CLOSE, MARK_OPEN, RANK_POOL, marks_to_html

# ts_rank_cd weights, in PostgreSQL's {D, C, B, A} order: title ≫ source title > text, the
# proportions of SQLite's bm25(10, 1, 3).
_WEIGHTS = "{0.03, 0.1, 0.3, 1.0}"
# ts_headline drops anything its parser takes for an HTML tag, but a post's text may quote
# "<script>" and the snippet must show it (escaped), as SQLite's does. So < and > travel
# through ts_headline as two private-use characters (any already in the text, and any stray
# sentinel, are removed) and are put back before escaping.
_LT, _GT = "\ue000", "\ue001"
_HEADLINE = f'StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}", MaxWords=32, MinWords=12'


def postgres_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the driver netplanet ships with)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def create_postgres_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """A pooled engine. Store calls are short and made one at a time per process (the update
    pipeline is asyncio on one thread; the web server runs handlers in a small thread pool),
    so a handful of connections per process is plenty and keeps N workers + M web servers
    well under PostgreSQL's default max_connections of 100.
    """
    parsed = make_url(postgres_url(url))
    return create_engine(
        parsed,
        pool_pre_ping=True,  # a restarted server or a dropped idle connection is not an error
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args={"connect_timeout": 10, "application_name": "netplanet"},
    )


# Every schema column but not the (large) search vector.
_COLUMNS = ", ".join(f'e."{c.name}"' for c in entries.c)

_SEARCH = """
    WITH q AS (SELECT {tsquery} AS query),
    pool AS (
        SELECT e.id, e.published, e.search_vector
        FROM entries AS e, q
        WHERE e.search_vector @@ q.query{filters}
        ORDER BY e.id DESC
        LIMIT :pool
    ),
    hits AS (
        SELECT pool.id, ts_rank_cd('{weights}', pool.search_vector, q.query) AS rank
        FROM pool, q
        ORDER BY rank DESC, pool.published DESC, pool.id DESC
        LIMIT :limit OFFSET :offset
    )
    SELECT {columns}, s.title AS source_title, s.slug AS source_slug, hits.rank,
           ts_headline('english', translate(e.text, :tr_from, :tr_to), q.query, :opts) AS snip
    FROM hits
    JOIN entries AS e ON e.id = hits.id
    JOIN sources AS s ON s.id = e.source_id
    CROSS JOIN q
    ORDER BY hits.rank DESC, e.published DESC, e.id DESC
"""


def postgres_search(
    conn: Connection,
    query: str,
    *,
    limit: int,
    offset: int,
    category_slug: str | None,
    source_id: int | None,
) -> list[SearchHit]:
    terms = parse_query(query)
    if not terms:
        return []
    filters = ""
    params: dict[str, Any] = {
        "tsq": to_tsquery(terms),
        "limit": limit,
        "offset": offset,
        "tr_from": "<>" + MARK_OPEN + MARK_CLOSE + _LT + _GT,
        "tr_to": _LT + _GT,
        "opts": _HEADLINE,
        # As on SQLite: rank among the newest matches only, so a very common word costs the
        # same at a million posts as at ten thousand (see sqlite.RANK_POOL).
        "pool": RANK_POOL,
    }
    if source_id is not None:
        filters += " AND e.source_id = :source_id"
        params["source_id"] = source_id
    if category_slug is not None:
        filters += " AND e.id IN (SELECT entry_id FROM entry_categories WHERE category_slug = :cat)"
        params["cat"] = category_slug
    try:
        # A savepoint, so that the fallback below can run if the server still objects.
        with conn.begin_nested():
            rows = _run(conn, "to_tsquery('english', :tsq)", filters, params)
    except DBAPIError:
        # The builder quotes every word, so this is not expected; if some input still slips
        # through, search for the plain words rather than fail the reader's request.
        params["tsq"] = " ".join(w for t in terms if not t.negated for w in t.words)
        rows = _run(conn, "plainto_tsquery('english', :tsq)", filters, params)
    # Snippets come from the text (the title is shown anyway), as in sqlite.py. ts_rank_cd
    # is "higher is better" and SearchHit.rank "lower is better" (bm25), so it is negated.
    return [
        SearchHit(entry=entry_from_row(r), snippet_html=_snippet_html(r.snip), rank=-float(r.rank))
        for r in rows
    ]


def _snippet_html(snippet: str) -> str:
    return marks_to_html(snippet.replace(_LT, "<").replace(_GT, ">"))


def _run(conn: Connection, tsquery: str, filters: str, params: dict[str, Any]) -> list[Any]:
    sql = text(
        _SEARCH.format(columns=_COLUMNS, tsquery=tsquery, weights=_WEIGHTS, filters=filters)
    ).columns(published=UTCDateTime, updated=UTCDateTime, first_seen=UTCDateTime)
    return list(conn.execute(sql, params).all())
