"""Writes for the admin area (mixed into SqlStore): app settings, login failures, categories.

- `app_settings` is a small key/value table every process shares: the admin password hash
  and the session secret live there, so any number of web servers agree on them.
- `login_failures` rows are the rate limiter's memory (an attempt is recorded before it is
  evaluated, see `claim_login_attempt`), in the database for the same reason.
- Categories: add, rename (slug and name: the archive moves to the new slug and every post and
  source naming the category follows), reorder, delete.
- `site_generation` (an app setting) is bumped by admin edits that change what public pages
  show without changing the counts `site_version` reads, so cached pages are not served stale.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from netplanet.errors import NotFoundError, UsageError
from netplanet.sources.slug import slugify
from netplanet.store.schema import (
    app_settings,
    categories,
    entries,
    entry_categories,
    login_failures,
    sources,
)

GENERATION_KEY = "site_generation"
_LOGIN_LOCK_KEY = 0x6E70_6C6F_6769_6E  # "nplogin": the advisory lock that orders login claims
# The site's fixed base URL and output-feed id authority (web/origin.py): part of the planet,
# so `netplanet db copy` carries them (feed readers would see every post anew otherwise).
BASE_URL_KEY = "site_base_url"
ID_AUTHORITY_KEY = "feed_id_authority"
PLANET_SETTINGS = (BASE_URL_KEY, ID_AUTHORITY_KEY)


class AdminQueries:
    engine: Engine

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(app_settings.c.value).where(app_settings.c.key == key)
            ).scalar_one_or_none()

    def set_setting(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(app_settings).where(app_settings.c.key == key).values(value=value)
            )
            if done.rowcount == 0:
                conn.execute(insert(app_settings).values(key=key, value=value))

    def setting_or_create(self, key: str, value: str) -> str:
        """The stored value of `key`, storing `value` first if there is none. Two processes
        racing both get the first one stored (the loser's insert fails on the primary key)."""
        found = self.get_setting(key)
        if found is not None:
            return found
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(app_settings).values(key=key, value=value))
        except IntegrityError:
            pass
        stored = self.get_setting(key)
        assert stored is not None
        return stored

    def bump_generation(self) -> None:
        """Mark public pages as changed (see the module docstring)."""
        current = int(self.get_setting(GENERATION_KEY) or 0)
        self.set_setting(GENERATION_KEY, str(current + 1))

    # ------------------------------------------------------------------ login attempts

    def claim_login_attempt(
        self, client: str, at: datetime, since: datetime, *, per_client: int, total: int
    ) -> int | None:
        """Record a sign-in attempt, then say whether it may be evaluated: its row id, or None
        (and no row) when `client` already has `per_client` attempts since `since`, or everyone
        together `total`. A kept row counts as a failure until `forget_login_failures` drops it.

        Record, count and (when over the limit) withdraw run in one transaction that claims take
        in turns, so concurrent requests, threads or processes are granted exactly as many
        evaluations as the limit allows: on SQLite the insert takes the database's write lock
        before the count; on PostgreSQL, whose READ COMMITTED count would not see a concurrent
        claim's uncommitted row, a transaction-scoped advisory lock orders the claims first.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_LOGIN_LOCK_KEY)))
            key = conn.execute(
                insert(login_failures).values(client=client, at=at)
            ).inserted_primary_key
            assert key is not None
            row_id = int(key[0])
            mine, everyone = conn.execute(
                select(
                    func.count().filter(login_failures.c.client == client),
                    func.count(),
                ).where(login_failures.c.at >= since)
            ).one()
            if int(mine) <= per_client and int(everyone) <= total:
                return row_id
            conn.execute(delete(login_failures).where(login_failures.c.id == row_id))
            return None

    def count_login_failures(self, client: str, since: datetime) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(login_failures)
                    .where(login_failures.c.client == client, login_failures.c.at >= since)
                ).scalar_one()
            )

    def forget_login_failures(self, *, client: str | None = None, before: datetime) -> None:
        """Drop a client's failures (after a successful login) or everyone's old ones."""
        where = login_failures.c.at < before
        if client is not None:
            where = login_failures.c.client == client
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(where))

    # ------------------------------------------------------------------ categories

    def add_category(self, name: str) -> str:
        name = " ".join(name.split())
        slug = slugify(name)
        if not name or not slug:
            raise UsageError("a category needs a name with at least one letter or digit")
        with self.engine.begin() as conn:
            if conn.execute(select(categories.c.slug).where(categories.c.slug == slug)).first():
                raise UsageError(f"category {name!r} already exists")
            top = conn.execute(select(func.coalesce(func.max(categories.c.position), -1)))
            conn.execute(
                insert(categories).values(slug=slug, name=name, position=top.scalar_one() + 1)
            )
        self.bump_generation()
        return slug

    def rename_category(self, slug: str, name: str) -> str:
        """Rename a category; its archive moves to the new slug. Returns the new slug."""
        name = " ".join(name.split())
        new_slug = slugify(name)
        if not name or not new_slug:
            raise UsageError("a category needs a name with at least one letter or digit")
        with self.engine.begin() as conn:
            old = conn.execute(select(categories.c.name).where(categories.c.slug == slug)).first()
            if old is None:
                raise NotFoundError(f"no category {slug!r}")
            old_name = old[0]
            if new_slug != slug:
                if conn.execute(
                    select(categories.c.slug).where(categories.c.slug == new_slug)
                ).first():
                    raise UsageError(
                        f"category {name!r} already exists; delete one of the two instead"
                    )
                conn.execute(
                    update(categories).where(categories.c.slug == slug).values(slug=new_slug)
                )
                conn.execute(
                    update(entry_categories)
                    .where(entry_categories.c.category_slug == slug)
                    .values(category_slug=new_slug)
                )
            conn.execute(update(categories).where(categories.c.slug == new_slug).values(name=name))
            conn.execute(
                update(sources).where(sources.c.category == old_name).values(category=name)
            )
            self._rewrite_entry_categories(conn, new_slug, old_name, name)
        self.bump_generation()
        return new_slug

    def move_category(self, slug: str, delta: int) -> None:
        """Move a category up (delta < 0) or down in the navigation."""
        with self.engine.begin() as conn:
            order = list(
                conn.execute(
                    select(categories.c.slug).order_by(categories.c.position, categories.c.name)
                ).scalars()
            )
            if slug not in order:
                raise NotFoundError(f"no category {slug!r}")
            i = order.index(slug)
            j = max(0, min(len(order) - 1, i + delta))
            order.insert(j, order.pop(i))
            for position, each in enumerate(order):
                conn.execute(
                    update(categories).where(categories.c.slug == each).values(position=position)
                )
        self.bump_generation()

    def delete_category(self, slug: str) -> None:
        """Remove a category: from the navigation, its archive, its posts and its sources
        (posts stay on the river and their source pages)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(categories.c.name).where(categories.c.slug == slug)).first()
            if row is None:
                raise NotFoundError(f"no category {slug!r}")
            self._rewrite_entry_categories(conn, slug, row[0], None)
            conn.execute(delete(entry_categories).where(entry_categories.c.category_slug == slug))
            conn.execute(delete(categories).where(categories.c.slug == slug))
            conn.execute(update(sources).where(sources.c.category == row[0]).values(category=""))
        self.bump_generation()

    @staticmethod
    def _rewrite_entry_categories(conn: Any, slug: str, old: str, new: str | None) -> None:
        """Replace (or drop, when `new` is None) a category name in the posts filed under it."""
        ids = list(
            conn.execute(
                select(entry_categories.c.entry_id).where(entry_categories.c.category_slug == slug)
            ).scalars()
        )
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(entries.c.id, entries.c.categories).where(
                    entries.c.id.in_(ids[start : start + 500])
                )
            ).all()
            for entry_id, raw in rows:
                names = json.loads(raw)
                changed = [new if n == old else n for n in names if new is not None or n != old]
                if changed != names:
                    conn.execute(
                        update(entries)
                        .where(entries.c.id == entry_id)
                        .values(categories=json.dumps(changed, ensure_ascii=False))
                    )
