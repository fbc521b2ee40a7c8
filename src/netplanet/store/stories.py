"""Story clusters and copies of one post, kept up to date as posts arrive.

Called inside the write transaction that stores new posts (`writes.UpdateWrites`), once for
all the posts of its plans, after they are inserted: one query (per 500 keys) finds the posts
stored before that share a key within the story window (a range of story_keys' primary
key, migration 0010), a second reads those worth relating, the new story keys
(`Entry.story_keys`, enrich/story.py) go into `story_keys`, `enrich.story.relate` decides
(new posts of the transaction are related to each other in memory), and the groups are
written:

- a copy of a post (same post through another feed) gets `duplicate_of` = the first stored
  row of that post, and is collapsed;
- every member of a group of two or more rows has `cluster_id` = the group's smallest id;
- the lead (the newest member that is not a copy) is the one row lists show; every other
  member is collapsed. A newer member takes the lead over.

Nothing is recomputed for the whole table: only the clusters a new post touches are read.
When posts go (a source removed), `reelect` gives each affected cluster a lead again, so no
surviving post stays hidden behind a deleted one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from netplanet.model import Entry
from netplanet.store._rows import as_utc, driver_insert, driver_time
from netplanet.store.schema import entries, story_keys

if TYPE_CHECKING:
    from netplanet.enrich.story import StoryPost

_MAX_IN = 500  # stay under every backend's bound-parameter limit
_DATED = ("c:", "n:", "p:")
"""Keys `relate` weighs only between posts within WINDOW of each other (CVE ids, figures,
names)."""

_POSTS = select(
    entries.c.id,
    entries.c.source_id,
    entries.c.title,
    entries.c.published,
    entries.c.simhash,
    entries.c.cluster_id,
    entries.c.duplicate_of,
    entries.c.collapsed,
).where(entries.c.id.in_(bindparam("ids", expanding=True)))
_MEMBERS = select(
    entries.c.id,
    entries.c.source_id,
    entries.c.published,
    entries.c.cluster_id,
    entries.c.duplicate_of,
    entries.c.collapsed,
).where(entries.c.cluster_id.in_(bindparam("clusters", expanding=True)))
_SET_STATE = (
    update(entries)
    .where(entries.c.id == bindparam("eid"))
    .values(
        cluster_id=bindparam("v_cluster"),
        duplicate_of=bindparam("v_dup"),
        collapsed=bindparam("v_collapsed"),
    )
)


@dataclass(slots=True)
class _Member:
    id: int
    source_id: int
    published: datetime
    cluster: int | None
    dup: int | None
    collapsed: bool
    stored: tuple[int | None, int | None, bool]
    """The state the database holds, so only changed rows are written."""


def _member(r: Any) -> _Member:
    published = as_utc(r.published) or r.published
    state = (r.cluster_id, r.duplicate_of, bool(r.collapsed))
    return _Member(r.id, r.source_id, published, *state, stored=state)


def link_stories(conn: Any, fresh: Sequence[tuple[int, Entry]]) -> None:
    """Index newly stored posts' story keys and put them into their clusters: the posts of
    one write transaction (all its plans) at once, so a cold round's backlog costs a few
    queries per transaction, and posts of one story arriving together cluster together."""
    items = sorted((i, e) for i, e in fresh if e.story_keys)
    if not items:
        return
    # Imported here: the enrich package loads lxml, which commands that only read the store
    # (and import this module through sql.py) never need.
    from netplanet.enrich.story import WINDOW, StoryPost, relate

    # Posts stored before this transaction's, sharing a key within the window: read before
    # the new keys go in, so the new posts (related in memory below) are not read back.
    # CVE ids, figures and names count only between posts within WINDOW of each other
    # (`relate` answers None for posts further apart before it looks at them), so each is
    # looked up within WINDOW of the new posts holding it: a cold round's transaction spans
    # months, and names shared across those months brought ~10 rows a post (~194,000 at
    # 1,000 feeds) that could never relate. The other keys keep the transaction's range.
    dated: dict[str, tuple[datetime, datetime]] = {}
    undated: set[str] = set()
    for _, e in items:
        for k in e.story_keys:
            if k[:2] not in _DATED:
                undated.add(k)
            elif (seen := dated.get(k)) is None:
                dated[k] = (e.published, e.published)
            else:
                dated[k] = (min(seen[0], e.published), max(seen[1], e.published))
    lo = min(e.published for _, e in items) - WINDOW
    hi = max(e.published for _, e in items) + WINDOW
    matched: dict[int, set[str]] = {}
    for key, entry_id in _candidates(conn, sorted(undated), lo, hi):
        matched.setdefault(entry_id, set()).add(key)
    for key, entry_id in _dated_candidates(conn, dated, WINDOW):
        matched.setdefault(entry_id, set()).add(key)
    _insert_keys(conn, items)
    # Only a post sharing evidence `relate` could accept is worth reading: one shared name
    # alone never is (and names are the commonest keys).
    matched = {i: held for i, held in matched.items() if _worth_relating(held)}
    members: dict[int, _Member] = {}
    posts: dict[int, StoryPost] = {}
    found_ids = sorted(matched)
    for start in range(0, len(found_ids), _MAX_IN):
        for r in conn.execute(_POSTS, {"ids": found_ids[start : start + _MAX_IN]}):
            members[r.id] = m = _member(r)
            posts[r.id] = StoryPost(r.source_id, r.title, m.published, r.simhash, frozenset())
    for entry_id, entry in items:
        members[entry_id] = _Member(
            entry_id, entry.source_id, entry.published, None, None, False, (None, None, False)
        )
        posts[entry_id] = StoryPost(
            entry.source_id,
            entry.title,
            entry.published,
            entry.simhash,
            frozenset(entry.story_keys),
        )
        matched[entry_id] = set(entry.story_keys)
    # Who shares a key with whom: by key, the posts holding it (few per key within a window).
    holders: dict[str, list[int]] = {}
    for entry_id, held in matched.items():
        for key in held:
            holders.setdefault(key, []).append(entry_id)
    relations: dict[int, list[tuple[int, str]]] = {}
    for entry_id, _ in items:
        new = posts[entry_id]
        # Earlier posts only: a later post of this batch relates to this one itself.
        others = sorted({o for k in new.keys for o in holders.get(k, ()) if o < entry_id})
        for other in others:
            shared = new.keys.intersection(matched[other])
            if other not in posts or not _worth_relating(shared):
                continue
            found = relate(new, _with_keys(posts[other], frozenset(shared)))
            if found is not None:
                relations.setdefault(entry_id, []).append((other, found))
    if not relations:
        return
    # Every member of the clusters touched, so leads can be elected over whole clusters.
    clusters = {
        m.cluster
        for rels in relations.values()
        for other, _ in rels
        if (m := members[other]).cluster is not None
    }
    _load_clusters(conn, clusters, members)
    groups: dict[int, set[int]] = {}
    for m in members.values():
        if m.cluster is not None:
            groups.setdefault(m.cluster, set()).add(m.id)
    touched: set[int] = set()
    for entry_id in sorted(relations):
        me = members[entry_id]
        labels: set[int] = set()
        for other, relation in relations[entry_id]:
            them = members[other]
            if them.cluster is None:
                them.cluster = other
                groups[other] = {other}
            labels.add(them.cluster)
            root = members.get(them.dup or other)
            # A copy whose original is this post's own source is that source's other post:
            # two posts of one blog are never copies of each other.
            if (
                relation == "same_post"
                and me.dup is None
                and root is not None
                and root.source_id != me.source_id
            ):
                me.dup = root.id
        target = min(labels)
        group = groups.setdefault(target, set())
        for label in labels - {target}:
            for moved in groups.pop(label):
                members[moved].cluster = target
                group.add(moved)
        me.cluster = target
        group.add(entry_id)
        touched.add(target)
    _write(conn, _elect(members, (groups[t] for t in touched if t in groups)))


def _worth_relating(shared: Iterable[str]) -> bool:
    names = 0
    for key in shared:
        if key[0] != "p":
            return True
        names += 1
    return names >= 2


def _insert_keys(conn: Any, items: Sequence[tuple[int, Entry]]) -> None:
    """story_keys rows for the posts, through the driver (~8 rows a post in a cold round)."""
    rows: list[tuple[Any, ...]] = []
    for entry_id, entry in items:
        when = driver_time(conn, entry.published)
        rows.extend((entry_id, key, when) for key in dict.fromkeys(entry.story_keys))
    driver_insert(conn, "story_keys", ("entry_id", "key", "published"), rows)


def _candidates(conn: Any, keys: list[str], lo: datetime, hi: datetime) -> list[tuple[str, int]]:
    """(key, entry id) of the posts sharing a key within [lo, hi], from the index on (key,
    published). Through the driver: a cold round's transaction asks for thousands of keys,
    and SQLAlchemy's expanding-IN rendering and row processing cost more than the lookups."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    bounds = (driver_time(conn, lo), driver_time(conn, hi))
    found: list[tuple[str, int]] = []
    for start in range(0, len(keys), _MAX_IN):
        chunk = keys[start : start + _MAX_IN]
        query = (
            "SELECT key, entry_id FROM story_keys"
            f" WHERE key IN ({', '.join([mark] * len(chunk))})"
            f" AND published >= {mark} AND published <= {mark}"
        )
        found.extend(
            (key, entry_id) for key, entry_id in conn.exec_driver_sql(query, (*chunk, *bounds))
        )
    return found


def _dated_candidates(
    conn: Any, spans: dict[str, tuple[datetime, datetime]], window: timedelta
) -> list[tuple[str, int]]:
    """(key, entry id) of the posts holding each key within `window` of its span (the dates
    of the new posts holding it): one range of the primary key per key, OR-ed, a chunk of
    keys per query."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    found: list[tuple[str, int]] = []
    keys = sorted(spans)
    for start in range(0, len(keys), _MAX_IN // 3):
        chunk = keys[start : start + _MAX_IN // 3]
        term = f"(key = {mark} AND published >= {mark} AND published <= {mark})"
        params: list[Any] = []
        for key in chunk:
            first, last = spans[key]
            params += (key, driver_time(conn, first - window), driver_time(conn, last + window))
        query = f"SELECT key, entry_id FROM story_keys WHERE {' OR '.join([term] * len(chunk))}"
        rows = conn.exec_driver_sql(query, tuple(params))
        found.extend((key, entry_id) for key, entry_id in rows)
    return found


def _with_keys(post: StoryPost, keys: frozenset[str]) -> StoryPost:
    return replace(post, keys=keys)


def _load_clusters(conn: Any, clusters: Iterable[int], members: dict[int, _Member]) -> None:
    wanted = sorted(clusters)
    for start in range(0, len(wanted), _MAX_IN):
        for r in conn.execute(_MEMBERS, {"clusters": wanted[start : start + _MAX_IN]}):
            members.setdefault(r.id, _member(r))


def _elect(members: dict[int, _Member], groups: Iterable[set[int]]) -> list[_Member]:
    """Give each group its label (smallest id), its originals and its lead; return every
    member whose state changed."""
    changed: list[_Member] = []
    for ids in groups:
        group = [members[i] for i in sorted(ids)]
        present = set(ids)
        # A copy whose original is gone: the first surviving copy becomes the original.
        promoted: dict[int, int] = {}
        for m in group:
            if m.dup is not None and m.dup not in present:
                gone = m.dup
                m.dup = promoted.get(gone)
                promoted.setdefault(gone, m.id)
        if len(group) < 2:
            for m in group:
                m.cluster, m.dup, m.collapsed = None, None, False
        else:
            label = group[0].id
            originals = [m for m in group if m.dup is None]
            lead = max(originals, key=lambda m: (m.published, m.id)) if originals else None
            for m in group:
                m.cluster = label
                m.collapsed = m is not lead
        changed.extend(m for m in group if (m.cluster, m.dup, m.collapsed) != m.stored)
    return changed


def _write(conn: Any, changed: Sequence[_Member]) -> None:
    if changed:
        conn.execute(
            _SET_STATE,
            [
                {"eid": m.id, "v_cluster": m.cluster, "v_dup": m.dup, "v_collapsed": m.collapsed}
                for m in changed
            ],
        )


def relink_story_keys(conn: Any, changed: Sequence[tuple[int, Entry]]) -> None:
    """Edited posts' keys are replaced (their cluster stays as it is)."""
    ids = [entry_id for entry_id, _ in changed]
    for start in range(0, len(ids), _MAX_IN):
        conn.execute(
            delete(story_keys).where(story_keys.c.entry_id.in_(ids[start : start + _MAX_IN]))
        )
    rows = [
        {"entry_id": i, "key": k, "published": e.published}
        for i, e in changed
        for k in dict.fromkeys(e.story_keys)
    ]
    if rows:
        conn.execute(insert(story_keys), rows)


def clusters_of_source(conn: Any, source_id: int) -> list[int]:
    """The clusters a source's posts belong to (read before the source is deleted)."""
    query = (
        select(entries.c.cluster_id)
        .where(entries.c.source_id == source_id, entries.c.cluster_id.is_not(None))
        .distinct()
    )
    return sorted(conn.execute(query).scalars())


def reelect(conn: Any, clusters: Iterable[int]) -> None:
    """After posts were deleted: each given cluster gets its originals and lead again (or
    dissolves when one post is left)."""
    members: dict[int, _Member] = {}
    _load_clusters(conn, clusters, members)
    groups: dict[int, set[int]] = {}
    for m in members.values():
        groups.setdefault(m.cluster or m.id, set()).add(m.id)
    _write(conn, _elect(members, groups.values()))
