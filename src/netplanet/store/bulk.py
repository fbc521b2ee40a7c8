"""Adding many sources at once (mixed into SqlStore): what an OPML import stores.

`add_source` costs a transaction, a duplicate check and a slug lookup per source; for 50,000
sources that took minutes (the slug lookup was a LIKE scan of the whole table). Here:
- the slugs in use are read once, and new ones are handed out in memory (`SlugAllocator`);
- sources go in chunks of `CHUNK`, one transaction each: one query finds the chunk's feed URLs
  already stored, one executemany inserts the rest, one query and one executemany add the
  chunk's missing categories;
- a chunk that hits a unique constraint (another process added a source or took a slug
  meanwhile) re-reads the slugs and is tried once more; then each source of it is added alone,
  so a conflict loses at most that source.
Progress is reported after each chunk, so a caller can show it and a reader of the database
sees the sources arrive chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from netplanet.errors import DuplicateSourceError, StoreError
from netplanet.model import SourceSpec
from netplanet.sources.bounds import bound_category, bound_title
from netplanet.sources.slug import SlugAllocator, slugify
from netplanet.store._rows import db_reason
from netplanet.store.schema import categories, sources

CHUNK = 500
"""Sources per transaction; also under every backend's limit of bound parameters per IN list."""


def bounded(spec: SourceSpec) -> SourceSpec:
    """`spec` with its title and category within the lengths of `sources.bounds`."""
    title, category = bound_title(spec.title), bound_category(spec.category)
    if (title, category) == (spec.title, spec.category):
        return spec
    return SourceSpec(spec.feed_url, title, spec.site_url, category)


def slug_base(spec: SourceSpec) -> str:
    """What a new source's slug is made from: its title, else its site's or feed's host."""
    if spec.title:
        return slugify(spec.title)
    url = spec.site_url or spec.feed_url
    host = urlsplit(url).hostname or url
    return slugify(host.removeprefix("www."))


class BulkSources:
    engine: Engine
    _clock: Callable[[], datetime]

    def add_source(self, spec: SourceSpec) -> Any: ...  # SqlStore's, for the last resort

    def add_sources(
        self, specs: Sequence[SourceSpec], *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Store the specs whose feed URL is not stored yet (the first of repeated URLs), many
        per transaction. Returns how many were added; `progress` gets the number of specs
        handled so far after each chunk."""
        slugs = self._slug_allocator()
        added = 0
        for start in range(0, len(specs), CHUNK):
            chunk = [bounded(s) for s in specs[start : start + CHUNK]]
            try:
                added += self._add_chunk(chunk, slugs)
            except IntegrityError:
                slugs = self._slug_allocator()
                try:
                    added += self._add_chunk(chunk, slugs)
                except IntegrityError:
                    added += self._add_one_by_one(chunk)
                    slugs = self._slug_allocator()
            except SQLAlchemyError as exc:
                raise StoreError(f"database error adding sources: {db_reason(exc)}") from exc
            if progress is not None:
                progress(min(start + CHUNK, len(specs)))
        return added

    def _slug_allocator(self) -> SlugAllocator:
        try:
            with self.engine.connect() as conn:
                return SlugAllocator(conn.execute(select(sources.c.slug)).scalars())
        except SQLAlchemyError as exc:
            raise StoreError(f"database error reading source slugs: {db_reason(exc)}") from exc

    def _add_chunk(self, chunk: list[SourceSpec], slugs: SlugAllocator) -> int:
        now = self._clock()
        with self.engine.begin() as conn:
            urls = list({s.feed_url for s in chunk})
            present = set(
                conn.execute(select(sources.c.feed_url).where(sources.c.feed_url.in_(urls)))
                .scalars()
                .all()
            )
            rows: list[dict[str, Any]] = []
            names: dict[str, str] = {}  # slug -> name of the chunk's categories
            seen_names: set[str] = set()
            for spec in chunk:
                if spec.feed_url in present:
                    continue
                present.add(spec.feed_url)
                rows.append(
                    {
                        "feed_url": spec.feed_url,
                        "title": spec.title,
                        "site_url": spec.site_url,
                        "category": spec.category,
                        "slug": slugs.take(slug_base(spec)),
                        "enabled": True,
                        "created_at": now,
                    }
                )
                if spec.category and spec.category not in seen_names:
                    seen_names.add(spec.category)
                    names.setdefault(slugify(spec.category), spec.category)
            if rows:
                conn.execute(insert(sources), rows)
            if names:
                _ensure_categories(conn, names)
        return len(rows)

    def _add_one_by_one(self, chunk: list[SourceSpec]) -> int:
        added = 0
        for spec in chunk:
            try:
                self.add_source(spec)
                added += 1
            except DuplicateSourceError:
                pass
        return added


def _ensure_categories(conn: Any, names: dict[str, str]) -> None:
    """Create the categories (slug -> name) that do not exist yet, last in the order."""
    found = set(
        conn.execute(select(categories.c.slug).where(categories.c.slug.in_(list(names))))
        .scalars()
        .all()
    )
    missing = [(slug, name) for slug, name in names.items() if slug not in found]
    if missing:
        position = conn.execute(select(func.count()).select_from(categories)).scalar_one()
        conn.execute(
            insert(categories),
            [
                {"slug": slug, "name": name, "position": position + i}
                for i, (slug, name) in enumerate(missing)
            ],
        )
