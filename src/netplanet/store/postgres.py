"""The PostgreSQL backend: engine setup (psycopg 3, pooled) and tsvector full-text search.

The search vector is a weighted `entries.search_vector` column (title A, source title B, text
C) kept by the triggers of migration 0002 and indexed with GIN. Queries are built from the
same parsed reader input as SQLite's (`fts_query.parse_query`), so both backends accept the
same syntax; ranking is `ts_rank_cd` with weights and snippets come from `ts_headline` with
control-character sentinels that become <mark> only after HTML escaping (`marks_to_html`).
A query is ranked among its newest RANK_POOL matches, found in a range of the newest ids
rather than among all matches (see `_run`). What it shares with SQLite's search (sentinels,
filters, the exclusion-only listing) is in `_search.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from netplanet.model import SearchHit
from netplanet.store._rows import entry_from_row
from netplanet.store._search import (
    EVERYTHING,
    MARK_CLOSE,
    MARK_OPEN,
    RANK_POOL,
    Narrow,
    filters_sql,
    listed_hits,
    marks_to_html,
    shown_sql,
)
from netplanet.store.fts_query import Query, parse_query, to_tsquery
from netplanet.store.indexing import INDEX_TEXT_CHARS
from netplanet.store.schema import UTCDateTime, entries

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

# One attempt at a page of hits, among the newest matches above :lo when {bound} is set. The
# tsquery is MATERIALIZED so the planner cannot see it: it then ANDs the GIN bitmap with the
# primary key's range instead of walking the id range and testing every (TOASTed) vector.
# The pool size comes back even for an empty page; when it is short of :full, ranking and
# snippets are skipped (a one-time filter) because the caller will try a wider range. Each
# attempt counts its pool in its own snapshot, so posts stored or deleted meanwhile cannot
# make an accepted pool differ from "the newest RANK_POOL matches".
_SEARCH = """
    WITH q AS MATERIALIZED (SELECT {tsquery} AS query, {headline} AS hquery),
    pool AS MATERIALIZED (
        SELECT e.id, e.published, e.search_vector
        FROM entries AS e, q
        WHERE e.search_vector @@ q.query{bound}{filters}
        ORDER BY e.id DESC
        LIMIT :pool
    ),
    pooled AS (SELECT count(*) AS n FROM pool),
    hits AS (
        SELECT pool.id, ts_rank_cd('{weights}', pool.search_vector, q.query) AS rank
        FROM pool, q
        WHERE (SELECT n FROM pooled) >= :full
        ORDER BY rank DESC, pool.published DESC, pool.id DESC
        LIMIT :limit OFFSET :offset
    )
    SELECT pooled.n AS pooled, {columns}, s.title AS source_title, s.slug AS source_slug,
           hits.rank,
           ts_headline('english', translate(e.text, :tr_from, :tr_to), q.hquery, :opts) AS snip
    FROM pooled
    LEFT JOIN (hits JOIN entries AS e ON e.id = hits.id JOIN sources AS s ON s.id = e.source_id)
        ON true
    CROSS JOIN q
    ORDER BY hits.rank DESC, e.published DESC, e.id DESC
"""

# The planner's estimate of a query's matches (from the tsvector column's statistics).
_ESTIMATE = "EXPLAIN (FORMAT JSON) SELECT FROM entries AS e WHERE e.search_vector @@ {tsquery}"

# Safety margin on the estimated id range: matches are rarely spread evenly over time.
_MARGIN = 1.25
# The planner estimates a phrase as its words ANDed, which can be many times too high
# ("route reflector": 45,000 posts have both words, 600 the phrase), and a range that comes
# up short costs a recheck of every candidate in it. So a phrase counts as this share of it.
_PHRASE_SHARE = 0.25
# The pool's rows (with their vectors when stored inline) are sorted by id; at 4 MB, the
# default, that sort spilled to disk at a million posts.
_WORK_MEM = "32MB"


# Migration 0002's weighted document (title A, source title B, text C), of a bounded prefix of
# the text (store/indexing.py).
_VECTOR = """
    setweight(to_tsvector('english', coalesce(e.title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(s.title, '')), 'B')
    || setweight(to_tsvector('english', left(coalesce(e.text, ''), :chars)), 'C')
"""


def postgres_index(conn: Connection, ids: Sequence[int] | None) -> None:
    """(Re-)compute the search vectors of posts (store/indexing.py). The vector column is not
    one the queueing trigger watches, so this queues nothing again."""
    params: dict[str, Any] = {"chars": INDEX_TEXT_CHARS}
    if ids is None:
        chosen = "SELECT entry_id FROM search_queue"
    else:
        chosen = "SELECT unnest(CAST(:ids AS bigint[]))"
        params["ids"] = list(ids)
    conn.execute(
        text(
            f"""UPDATE entries AS e SET search_vector = {_VECTOR}
            FROM sources AS s WHERE s.id = e.source_id AND e.id IN ({chosen})"""
        ),
        params,
    )


def postgres_search(
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
    filters, params = narrow.sql("e.id")
    params |= {
        "tsq": to_tsquery(parsed),
        # Only what the reader asked for is highlighted: ts_headline marks every word of its
        # query, so the words of an excluded phrase would be marked where they stand apart.
        "hq": to_tsquery(parsed.positive()),
        "limit": limit,
        "offset": offset,
        "tr_from": "<>" + MARK_OPEN + MARK_CLOSE + _LT + _GT,
        "tr_to": _LT + _GT,
        "opts": _HEADLINE,
        # As on SQLite: rank among the newest matches only, so a very common word costs the
        # same at a million posts as at ten thousand (see _search.RANK_POOL).
        "pool": RANK_POOL,
    }
    filters += shown_sql("e", source_id)
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
        params["tsq"] = params["hq"] = _plain_words(parsed)
        rows = _run(conn, "plainto_tsquery('english', :tsq)", filters, params)
    # Snippets come from the text (the title is shown anyway), as in sqlite.py. ts_rank_cd
    # is "higher is better" and SearchHit.rank "lower is better" (bm25), so it is negated.
    return [
        SearchHit(entry=entry_from_row(r), snippet_html=_snippet_html(r.snip), rank=-float(r.rank))
        for r in rows
    ]


def _plain_words(parsed: Query) -> str:
    return " ".join(w for g in parsed.groups for t in g for w in t.words)


def _recent_without(
    conn: Connection,
    parsed: Query,
    limit: int,
    offset: int,
    category_slug: str | None,
    source_id: int | None,
    narrow: Narrow = EVERYTHING,
) -> list[SearchHit]:
    """The newest posts (river order) containing none of the excluded words: the published
    index is walked newest first and each post's vector tested, so a page costs a page."""
    filters, params = filters_sql("e.id", category_slug, source_id, narrow)
    filters += shown_sql("e", source_id)
    params |= {"excl": to_tsquery(parsed.any_excluded()), "limit": limit, "offset": offset}
    sql = text(
        f"""
        SELECT {_COLUMNS}, s.title AS source_title, s.slug AS source_slug
        FROM entries AS e JOIN sources AS s ON s.id = e.source_id
        WHERE NOT (e.search_vector @@ to_tsquery('english', :excl)){filters}
        ORDER BY e.published DESC, e.id DESC
        LIMIT :limit OFFSET :offset
        """
    )
    return listed_hits(conn, sql, params, offset)


def postgres_count(
    conn: Connection,
    query: str,
    *,
    cap: int,
    category_slug: str | None,
    source_id: int | None,
    narrow: Narrow = EVERYTHING,
) -> int:
    """How many posts `postgres_search` can find, counted up to cap + 1 ("more than cap"):
    an exact count of a common word would read every match (~150,000 at a million posts)."""
    parsed = parse_query(query)
    if parsed.empty:
        return 0
    filters, params = filters_sql("e.id", category_slug, source_id, narrow)
    filters += shown_sql("e", source_id)
    params["cap"] = cap + 1
    if parsed.only_exclusions:
        params["tsq"] = to_tsquery(parsed.any_excluded())
        where = "NOT (e.search_vector @@ to_tsquery('english', :tsq))"
    else:
        params["tsq"] = to_tsquery(parsed)
        where = "e.search_vector @@ to_tsquery('english', :tsq)"
    sql = f"SELECT count(*) FROM (SELECT 1 FROM entries AS e WHERE {where}{filters} LIMIT :cap) m"
    try:
        with conn.begin_nested():
            return int(conn.execute(text(sql), params).scalar_one())
    except DBAPIError:  # as in postgres_search: never fail the reader's request
        if parsed.only_exclusions:
            return 0
        params["tsq"] = _plain_words(parsed)
        plain = sql.replace("to_tsquery(", "plainto_tsquery(")
        return int(conn.execute(text(plain), params).scalar_one())


def _snippet_html(snippet: str) -> str:
    return marks_to_html(snippet.replace(_LT, "<").replace(_GT, ">"))


def _run(conn: Connection, tsquery: str, filters: str, params: dict[str, Any]) -> list[Any]:
    """Picking the newest matches from the whole table means reading every match (a GIN
    bitmap is in page order, not id order: 1.2 s for "bgp" at a million posts). So the search
    runs on a range of the newest ids, sized from the planner's estimate of the matches, and
    a range that turns out to hold fewer than RANK_POOL of them is widened by what it held,
    until it holds a full pool or covers the table (which rare words do from the start).
    """
    low, top = conn.execute(text("SELECT min(id), max(id) FROM entries")).one()
    if top is None:
        return []
    conn.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    span = top - low + 1
    plan = conn.execute(text(_ESTIMATE.format(tsquery=tsquery) + filters), params).scalar_one()
    estimate = max(float(plan[0]["Plan"]["Plan Rows"]), 1.0)
    if "<->" in params["tsq"] and tsquery.startswith("to_tsquery"):
        estimate *= _PHRASE_SHARE
    window = max(int(span * min(RANK_POOL / estimate * _MARGIN, 1.0)), 1)
    while True:
        bounded = window < span
        sql = text(
            _SEARCH.format(
                columns=_COLUMNS,
                tsquery=tsquery,
                headline=tsquery.replace(":tsq", ":hq"),
                weights=_WEIGHTS,
                filters=filters,
                bound=" AND e.id > :lo" if bounded else "",
            )
        ).columns(published=UTCDateTime, updated=UTCDateTime, first_seen=UTCDateTime)
        full = RANK_POOL if bounded else 0
        rows = conn.execute(sql, {**params, "lo": top - window, "full": full}).all()
        found = rows[0].pooled
        if found >= full:
            return [r for r in rows if r.id is not None]
        # At least twofold, so that a range that keeps coming up short soon covers the table.
        window = max(2 * window, int(window * RANK_POOL / max(found, 1) * _MARGIN))
