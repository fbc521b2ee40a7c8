"""The weekly digest's store (mixed into SqlStore): a week's posts and their story clusters,
the frozen list of each finished week, and operators' pins and drops.

A week's posts are the posts dated in [Monday 00:00 UTC, next Monday) whose date is known
(a post placed by guesswork, `date_known` false, has no week), that are not sponsored and
not another feed's copy of a post (`duplicate_of`). Their clusters' other posts (of any week,
copies left out) come with them, so "covered by N sources" can be counted and linked.

Freezing writes that whole read, and the week's picks, as one JSON document into
`digest_weeks` (migration 0009), once: the first freeze wins (a second writer's insert
conflicts and reads the first one's), so a frozen week's digest never changes, whatever is
later backfilled, edited or deleted. Grouping and ordering are publish/weekly.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from netplanet.errors import NotFoundError, UsageError
from netplanet.model import StoryMember, WeekData, WeekPost
from netplanet.store._rows import as_utc
from netplanet.store.base import PICK_CHOICES, valid_id
from netplanet.store.schema import digest_picks, digest_weeks, entries, id_param, sources

_MAX_IN = 500  # stay under every backend's bound-parameter limit
FORMAT = 1
"""The frozen document's format: a reader of a newer format refuses it instead of guessing."""


def _primary(topics: str) -> str:
    found = json.loads(topics or "[]")
    return str(found[0][0]) if found else ""


def monday_of(when: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding `when`."""
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _post_json(p: WeekPost) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "url": p.url,
        "source_id": p.source_id,
        "source_title": p.source_title,
        "source_slug": p.source_slug,
        "published": _iso(p.published),
        "excerpt_html": p.excerpt_html,
        "topic": p.topic,
        "podcast": p.podcast,
        "cluster_id": p.cluster_id,
    }


def _member_json(m: StoryMember) -> dict[str, Any]:
    return {
        "id": m.id,
        "cluster_id": m.cluster_id,
        "title": m.title,
        "url": m.url,
        "source_id": m.source_id,
        "source_title": m.source_title,
        "source_slug": m.source_slug,
        "published": _iso(m.published),
    }


def to_document(data: WeekData) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "posts": [_post_json(p) for p in data.posts],
            "members": [_member_json(m) for m in data.members],
            "picks": [list(pick) for pick in data.picks],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def from_document(week: str, text: str, frozen_at: datetime) -> WeekData:
    doc = json.loads(text)
    if doc.get("format") != FORMAT:
        raise ValueError(f"digest of {week} was frozen in format {doc.get('format')!r}")

    def when(value: str) -> datetime:
        return datetime.fromisoformat(value).astimezone(UTC)

    return WeekData(
        week=week,
        posts=tuple(WeekPost(**{**p, "published": when(p["published"])}) for p in doc["posts"]),
        members=tuple(
            StoryMember(**{**m, "published": when(m["published"])}) for m in doc["members"]
        ),
        picks=tuple((int(i), str(c)) for i, c in doc["picks"]),
        frozen_at=frozen_at,
    )


def _story_columns() -> tuple[Any, ...]:
    """What a line of a digest shows of a post and its source, for posts and story members."""
    return (
        entries.c.id,
        entries.c.cluster_id,
        entries.c.title,
        entries.c.url,
        entries.c.source_id,
        sources.c.title.label("source_title"),
        sources.c.slug,
        sources.c.site_url,
        sources.c.feed_url,
        entries.c.published,
    )


def _source_name(row: Any) -> str:
    return str(row.source_title or row.site_url or row.feed_url)


class WeeklyQueries:
    engine: Engine
    _clock: Callable[[], datetime]

    # ------------------------------------------------------------------ reads

    def _read_week(self, conn: Any, week: str, since: datetime, until: datetime) -> WeekData:
        rows = conn.execute(
            select(
                *_story_columns(),
                entries.c.excerpt_html,
                entries.c.topics,
                entries.c.podcast,
            )
            .join(sources, sources.c.id == entries.c.source_id)
            .where(
                entries.c.published >= since,
                entries.c.published < until,
                entries.c.date_known.is_(True),
                entries.c.sponsored.is_(False),
                entries.c.duplicate_of.is_(None),
            )
            .order_by(entries.c.published, entries.c.id)
        ).all()
        posts = tuple(
            WeekPost(
                id=r.id,
                title=r.title,
                url=r.url,
                source_id=r.source_id,
                source_title=_source_name(r),
                source_slug=r.slug,
                published=r.published,
                excerpt_html=r.excerpt_html,
                topic=_primary(r.topics),
                podcast=bool(r.podcast),
                cluster_id=r.cluster_id,
            )
            for r in rows
        )
        clusters = sorted({p.cluster_id for p in posts if p.cluster_id is not None})
        members: list[StoryMember] = []
        for start in range(0, len(clusters), _MAX_IN):
            members.extend(
                StoryMember(
                    id=r.id,
                    cluster_id=r.cluster_id,
                    title=r.title,
                    url=r.url,
                    source_id=r.source_id,
                    source_title=_source_name(r),
                    source_slug=r.slug,
                    published=r.published,
                )
                for r in conn.execute(
                    select(*_story_columns())
                    .join(sources, sources.c.id == entries.c.source_id)
                    .where(
                        entries.c.cluster_id.in_(clusters[start : start + _MAX_IN]),
                        entries.c.duplicate_of.is_(None),
                    )
                    .order_by(entries.c.id)
                )
            )
        picks = tuple(
            (r.entry_id, r.choice)
            for r in conn.execute(
                select(digest_picks.c.entry_id, digest_picks.c.choice)
                .where(digest_picks.c.week == week)
                .order_by(digest_picks.c.at, digest_picks.c.entry_id)
            )
        )
        return WeekData(week=week, posts=posts, members=tuple(members), picks=picks)

    def week_data(self, week: str, since: datetime, until: datetime) -> WeekData:
        with self.engine.connect() as conn:
            return self._read_week(conn, week, since, until)

    def frozen_week(self, week: str) -> WeekData | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(digest_weeks.c["items"], digest_weeks.c.frozen_at).where(
                    digest_weeks.c.week == week
                )
            ).first()
        return None if row is None else from_document(week, row[0], row.frozen_at)

    def frozen_at(self, week: str) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(digest_weeks.c.frozen_at).where(digest_weeks.c.week == week)
            ).scalar()

    def freeze_week(self, week: str, since: datetime, until: datetime) -> WeekData:
        found = self.frozen_week(week)
        if found is not None:
            return found
        try:
            with self.engine.begin() as conn:
                data = self._read_week(conn, week, since, until)
                now = self._clock()
                conn.execute(
                    insert(digest_weeks).values(week=week, frozen_at=now, items=to_document(data))
                )
        except IntegrityError:  # another process froze it first: theirs is the one
            pass
        found = self.frozen_week(week)
        assert found is not None
        return found

    def digest_weeks(self, *, before: datetime | None = None, limit: int) -> list[datetime]:
        # A skip-scan down the published index: the newest dated post below the bound gives a
        # week, whose Monday is the next bound. One probe per week listed.
        out: list[datetime] = []
        bound = before
        with self.engine.connect() as conn:
            while len(out) < limit:
                query = (
                    select(entries.c.published)
                    .where(entries.c.date_known.is_(True))
                    .order_by(entries.c.published.desc())
                    .limit(1)
                )
                if bound is not None:
                    query = query.where(entries.c.published < bound)
                newest = conn.execute(query).scalar()
                if newest is None:
                    break
                bound = monday_of(newest)
                out.append(bound)
        return out

    def oldest_dated_post(self) -> datetime | None:
        query = (
            select(entries.c.published)
            .where(entries.c.date_known.is_(True))
            .order_by(entries.c.published)
            .limit(1)
        )
        with self.engine.connect() as conn:
            return as_utc(conn.execute(query).scalar())

    # ------------------------------------------------------------------ picks

    def set_digest_pick(self, week: str, entry_id: int, choice: str | None) -> None:
        if choice is not None and choice not in PICK_CHOICES:
            raise UsageError(f"unknown digest choice {choice!r}; use pin or drop")
        if not valid_id(entry_id):
            raise NotFoundError(f"no post {entry_id}")
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(entries.c.id).where(entries.c.id == id_param(entry_id))
            ).scalar()
            if exists is None:
                raise NotFoundError(f"no post {entry_id}")
            where = (digest_picks.c.week == week, digest_picks.c.entry_id == id_param(entry_id))
            if choice is None:
                conn.execute(delete(digest_picks).where(*where))
                return
            changed = conn.execute(update(digest_picks).where(*where).values(choice=choice))
            if changed.rowcount:
                return
            try:
                # A savepoint: another operator's same pick, committed meanwhile, makes the
                # insert conflict; then theirs is updated to this choice instead.
                with conn.begin_nested():
                    conn.execute(
                        insert(digest_picks).values(
                            week=week, entry_id=entry_id, choice=choice, at=self._clock()
                        )
                    )
            except IntegrityError:
                conn.execute(update(digest_picks).where(*where).values(choice=choice))
