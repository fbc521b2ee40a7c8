"""The catalog: what the static export (export/) needs to know to list and key every page.

One read of narrow columns (no text): every post's id, source, date, positions and a stamp
of everything a page shows of it, every source's stamp, and each post's category and topic
positions. The export derives its page list and its render keys from it, so it can tell
which pages changed without rendering them (export/pages.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import Engine, select

from netplanet.store._rows import as_utc
from netplanet.store.base import Catalog, CatalogEntry, CatalogSource, SearchRow
from netplanet.store.schema import entries, entry_categories, entry_topics, sources


def _stamp(*parts: object) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).hexdigest()


class CatalogQueries:
    """`catalog()`: the export's one read of the whole planet's shape."""

    engine: Engine

    def catalog(self) -> Catalog:
        e = entries.c
        s = sources.c
        with self.engine.connect() as conn:
            source_rows = conn.execute(
                select(
                    s.id, s.slug, s.title, s.site_url, s.feed_url, s.category, s.enabled
                ).order_by(s.id)
            ).all()
            entry_rows = conn.execute(
                select(
                    e.id,
                    e.source_id,
                    e.published,
                    e.updated,
                    e.date_known,
                    e.seq,
                    e.source_seq,
                    e.collapsed,
                    e.cluster_id,
                    e.duplicate_of,
                    e.fingerprint,
                    e.topics,
                    e.sponsored,
                    e.podcast,
                ).order_by(e.id)
            ).all()
            places: dict[int, list[tuple[str, int | None]]] = {}
            ec, et = entry_categories.c, entry_topics.c
            for prefix, query in (
                ("c", select(ec.entry_id, ec.category_slug, ec.seq)),
                ("t", select(et.entry_id, et.topic_slug, et.seq)),
            ):
                for entry_id, slug, seq in conn.execute(query):
                    places.setdefault(entry_id, []).append((f"{prefix}:{slug}", seq))
        out_sources = tuple(
            CatalogSource(
                id=r.id,
                slug=r.slug,
                enabled=bool(r.enabled),
                stamp=_stamp(r.slug, r.title, r.site_url, r.feed_url, r.category, r.enabled),
            )
            for r in source_rows
        )
        out_entries = []
        for r in entry_rows:
            published = as_utc(r.published)
            assert published is not None
            where = tuple(sorted(places.get(r.id, ()), key=lambda p: p[0]))
            out_entries.append(
                CatalogEntry(
                    id=r.id,
                    source_id=r.source_id,
                    published=published,
                    date_known=bool(r.date_known),
                    seq=r.seq,
                    source_seq=r.source_seq,
                    collapsed=bool(r.collapsed),
                    cluster_id=r.cluster_id,
                    places=where,
                    stamp=_stamp(
                        r.fingerprint,
                        r.topics,
                        r.sponsored,
                        r.podcast,
                        r.duplicate_of,
                        r.collapsed,
                        r.cluster_id,
                        published.isoformat(),
                        r.updated,
                        r.date_known,
                        r.seq,
                        r.source_seq,
                        where,
                    ),
                )
            )
        return Catalog(entries=tuple(out_entries), sources=out_sources)

    def search_rows(self, since: datetime, until: datetime) -> list[SearchRow]:
        """The posts shown in lists (not collapsed) published in [since, until), oldest
        first, with what the export's search index holds of them."""
        e = entries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    e.id,
                    e.source_id,
                    e.title,
                    e.url,
                    e.published,
                    e.date_known,
                    e.topics,
                    e.categories,
                    e.excerpt_html,
                )
                .where(e.published >= since, e.published < until, e.collapsed.is_(False))
                .order_by(e.published, e.id)
            ).all()
        out = []
        for r in rows:
            published = as_utc(r.published)
            assert published is not None
            out.append(
                SearchRow(
                    id=r.id,
                    source_id=r.source_id,
                    title=r.title,
                    url=r.url,
                    published=published,
                    date_known=bool(r.date_known),
                    topics=tuple(t[0] for t in json.loads(r.topics or "[]")),
                    categories=tuple(json.loads(r.categories or "[]")),
                    excerpt_html=r.excerpt_html,
                )
            )
        return out
