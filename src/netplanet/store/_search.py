"""Search code both backends share: match sentinels and their HTML, the pool size ranking
works on, the reader's category/source/topic/label filters, and the river-ordered listing that
answers a query of only exclusions.

`sqlite.py` and `postgres.py` import these from here and never import each other.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from netplanet.model import SearchHit
from netplanet.store._rows import entry_from_row
from netplanet.store.base import ALL_LABELS, Labels
from netplanet.store.schema import UTCDateTime

# Control characters that mark a match in an engine's snippet; they become <mark> only after
# the snippet is HTML-escaped (marks_to_html), so a post's text can never inject markup.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
# A query is ranked among its newest RANK_POOL matches, on both backends (the why is at
# sqlite.sqlite_search, the how on PostgreSQL at postgres._run).
RANK_POOL = 10_000


def marks_to_html(snippet: str) -> str:
    """Escape a snippet and turn the match sentinels into <mark> elements."""
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def plain_snippet(text: str, words: int = 32) -> str:
    """The first words of a post, escaped and without marks (for listings with nothing to
    highlight: a query of only exclusions). The same on both backends."""
    parts = text.split()
    snippet = " ".join(parts[:words]) + ("…" if len(parts) > words else "")
    return html.escape(snippet, quote=False)


@dataclass(frozen=True, slots=True)
class Narrow:
    """The search filters beside category and source: a topic slug, labels left out."""

    topic_slug: str | None = None
    labels: Labels = ALL_LABELS

    def sql(self, alias: str) -> tuple[str, dict[str, Any]]:
        """SQL conditions on `alias` (an entries row id), the same text on both backends."""
        filters, params = "", dict[str, Any]()
        if self.topic_slug is not None:
            filters += (
                f" AND {alias} IN (SELECT entry_id FROM entry_topics WHERE topic_slug = :topic)"
            )
            params["topic"] = self.topic_slug
        # Labelled posts are few: leaving out a small set reads less than keeping a large one.
        if not self.labels.podcasts:
            filters += f" AND {alias} NOT IN (SELECT id FROM entries WHERE podcast)"
        if not self.labels.sponsored:
            filters += f" AND {alias} NOT IN (SELECT id FROM entries WHERE sponsored)"
        return filters, params


EVERYTHING = Narrow()


def filters_sql(
    alias: str, category_slug: str | None, source_id: int | None, narrow: Narrow = EVERYTHING
) -> tuple[str, dict[str, Any]]:
    """SQL conditions on `alias` (an entries row id) for the reader's filters."""
    filters, params = narrow.sql(alias)
    if source_id is not None:
        filters += f" AND {alias} IN (SELECT id FROM entries WHERE source_id = :source_id)"
        params["source_id"] = source_id
    if category_slug is not None:
        filters += (
            f" AND {alias} IN (SELECT entry_id FROM entry_categories WHERE category_slug = :cat)"
        )
        params["cat"] = category_slug
    return filters, params


def shown_sql(alias: str, source_id: int | None) -> str:
    """The condition that leaves out collapsed posts (copies, and story members shown at their
    cluster's lead: store/stories.py) on `alias` (an entries row), except when searching one
    source, whose own posts are all listed, as on its page."""
    return f" AND NOT {alias}.collapsed" if source_id is None else ""


def listed_hits(conn: Connection, sql: Any, params: dict[str, Any], offset: int) -> list[SearchHit]:
    """Run a river-ordered listing of posts (an exclusion-only search, on either backend) and
    rank its rows by their place in it, with plain snippets."""
    sql = sql.columns(published=UTCDateTime, updated=UTCDateTime, first_seen=UTCDateTime)
    rows = conn.execute(sql, params).all()
    return [
        SearchHit(entry=entry_from_row(r), snippet_html=plain_snippet(r.text), rank=float(n))
        for n, r in enumerate(rows, start=offset)
    ]
