"""Topics of stored posts (mixed into SqlStore): counts per topic, the reads and writes of
re-classification (and of the podcast label it re-computes), and an operator's override of
one post's topics.

`entries.topics` (JSON, primary first) is what pages and the command line show;
`entry_topics` (one row per topic and post, with the post's date and an archive position)
is what topic archives walk. Both are written together, in one transaction, by every path
here, as the update writes (store/writes.py) do for new and edited posts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, func, not_, select, update

from netplanet.errors import NotFoundError
from netplanet.model import Enclosure
from netplanet.store.base import ClassifyRow, valid_id
from netplanet.store.schema import entries, entry_topics, id_param, sources
from netplanet.store.writes import relink_topic_rows

_MAX_IN = 500  # stay under every backend's bound-parameter limit


def topics_json(topics: Sequence[tuple[str, float]]) -> str:
    """entries.topics as the update writes store it (scores rounded to 4 places)."""
    return json.dumps([[slug, round(score, 4)] for slug, score in topics])


def _first(values: str) -> str:
    found = json.loads(values or "[]")
    return str(found[0]) if found else ""


class TopicQueries:
    engine: Engine

    def topic_counts(self) -> dict[str, int]:
        query = select(entry_topics.c.topic_slug, func.count()).group_by(entry_topics.c.topic_slug)
        with self.engine.connect() as conn:
            return {slug: int(n) for slug, n in conn.execute(query)}

    def last_entry_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(entries.c.id))).scalar() or 0)

    def entries_to_classify(
        self, *, after_id: int, limit: int, text_chars: int, manual: bool = False
    ) -> list[ClassifyRow]:
        # A keyset by id over the primary key: each batch costs the same, however far in.
        query = (
            select(
                entries.c.id,
                entries.c.title,
                func.substr(entries.c.text, 1, text_chars).label("text"),
                entries.c.tags,
                entries.c.categories,
                entries.c.topics,
                entries.c.url,
                entries.c.enclosure_url,
                entries.c.enclosure_type,
                entries.c.enclosure_length,
                entries.c.duration_s,
                entries.c.podcast,
                sources.c.title.label("source_title"),
            )
            .join(sources, sources.c.id == entries.c.source_id)
            .where(entries.c.id > id_param(max(after_id, 0)))
            .order_by(entries.c.id)
            .limit(limit)
        )
        if not manual:
            query = query.where(not_(entries.c.topics_manual))
        with self.engine.connect() as conn:
            return [
                ClassifyRow(
                    id=r.id,
                    title=r.title,
                    text=r.text or "",
                    tags=tuple(json.loads(r.tags or "[]")),
                    source_title=r.source_title or "",
                    category=_first(r.categories),
                    topics=tuple((slug, float(score)) for slug, score in json.loads(r.topics)),
                    url=r.url,
                    enclosure=(
                        Enclosure(r.enclosure_url, r.enclosure_type or "", r.enclosure_length)
                        if r.enclosure_url
                        else None
                    ),
                    duration_s=r.duration_s,
                    podcast=bool(r.podcast),
                )
                for r in conn.execute(query)
            ]

    def rewrite_topics(self, changes: Sequence[tuple[int, Sequence[tuple[str, float]]]]) -> int:
        if not changes:
            return 0
        wanted = {entry_id: tuple(topics) for entry_id, topics in changes}
        ids = sorted(wanted)
        with self.engine.begin() as conn:
            # Only posts still classified automatically, read in this transaction: an operator
            # may have chosen topics since the batch was read.
            found: dict[int, Any] = {}
            for start in range(0, len(ids), _MAX_IN):
                chunk = ids[start : start + _MAX_IN]
                for r in conn.execute(
                    select(entries.c.id, entries.c.published).where(
                        entries.c.id.in_(chunk), not_(entries.c.topics_manual)
                    )
                ):
                    found[r.id] = r.published
            items = [(i, wanted[i], found[i]) for i in ids if i in found]
            if not items:
                return 0
            conn.execute(
                update(entries)
                .where(entries.c.id == bindparam("eid"))
                .values(topics=bindparam("topics")),
                [{"eid": i, "topics": topics_json(t)} for i, t, _ in items],
            )
            relink_topic_rows(conn, items, keep_manual=False)
        return len(items)

    def set_podcast(self, changes: Sequence[tuple[int, bool]]) -> int:
        if not changes:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                update(entries)
                .where(entries.c.id == bindparam("eid"))
                .values(podcast=bindparam("flag")),
                [{"eid": entry_id, "flag": flag} for entry_id, flag in changes],
            )
        return len(changes)

    def set_topics(
        self, entry_id: int, topics: Sequence[tuple[str, float]], *, manual: bool
    ) -> None:
        if not valid_id(entry_id):
            raise NotFoundError(f"no post {entry_id}")
        with self.engine.begin() as conn:
            published = conn.execute(
                select(entries.c.published).where(entries.c.id == id_param(entry_id))
            ).scalar()
            if published is None:
                raise NotFoundError(f"no post {entry_id}")
            conn.execute(
                update(entries)
                .where(entries.c.id == id_param(entry_id))
                .values(topics=topics_json(topics), topics_manual=manual)
            )
            relink_topic_rows(conn, [(entry_id, tuple(topics), published)], keep_manual=False)
