"""Row helpers every query module shares: rows to records, UTC times, driver messages.

The query mixins (writes, pages, leases, health, admin, bulk) and the search backends import
these from here, never from `sql.py`, which imports them all to compose SqlStore.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from netplanet.model import Enclosure, Source, StoredEntry
from netplanet.store.schema import entries, sources

# Execution option for transactions that read and then write (sealing pages, claiming
# sources): sqlite.py begins them with BEGIN IMMEDIATE; PostgreSQL ignores it.
WRITE_FIRST = "netplanet_write_first"


def source_from_row(row: Row[Any]) -> Source:
    m = row._mapping
    return Source(
        id=m["id"],
        feed_url=m["feed_url"],
        title=m["title"],
        site_url=m["site_url"],
        category=m["category"],
        slug=m["slug"],
        enabled=bool(m["enabled"]),
        disabled_reason=m["disabled_reason"],
        created_at=m["created_at"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        body_hash=m["body_hash"],
        last_fetched_at=m["last_fetched_at"],
        last_success_at=m["last_success_at"],
        last_status=m["last_status"],
        last_error_class=m["last_error_class"],
        last_error=m["last_error"],
        last_bytes=m["last_bytes"],
        last_duration_ms=m["last_duration_ms"],
        consecutive_failures=m["consecutive_failures"],
        next_poll_at=m["next_poll_at"],
        avg_response_ms=m["avg_response_ms"],
        avg_bytes=m["avg_bytes"],
        posts_per_day=m["posts_per_day"],
        poll_interval_s=m["poll_interval_s"],
        failing_since=m["failing_since"],
        dead_since=m["dead_since"],
        rate_valid_until=m["rate_valid_until"],
    )


ENTRY_COLUMNS = (
    *entries.c,
    sources.c.title.label("source_title"),
    sources.c.slug.label("source_slug"),
)
"""What `entry_from_row` reads: an entry row with its source's title and slug."""


def entry_from_row(row: Row[Any]) -> StoredEntry:
    m = row._mapping
    enclosure = None
    if m["enclosure_url"]:
        enclosure = Enclosure(
            url=m["enclosure_url"], type=m["enclosure_type"] or "", length=m["enclosure_length"]
        )
    return StoredEntry(
        id=m["id"],
        source_id=m["source_id"],
        source_title=m["source_title"],
        source_slug=m["source_slug"],
        key=m["key"],
        guid=m["guid"],
        url=m["url"],
        title=m["title"],
        author=m["author"],
        published=m["published"],
        updated=m["updated"],
        first_seen=m["first_seen"],
        content_html=m["content_html"],
        excerpt_html=m["excerpt_html"],
        categories=tuple(json.loads(m["categories"])),
        tags=tuple(json.loads(m["tags"])),
        enclosure=enclosure,
        duration_s=m["duration_s"],
        sponsored=bool(m["sponsored"]),
        fingerprint=m["fingerprint"],
        date_known=bool(m["date_known"]),
        topics=tuple((slug, float(score)) for slug, score in json.loads(m["topics"])),
        topics_manual=bool(m["topics_manual"]),
        podcast=bool(m["podcast"]),
        cluster_id=m["cluster_id"],
        duplicate_of=m["duplicate_of"],
        collapsed=bool(m["collapsed"]),
    )


def as_utc(value: Any) -> datetime | None:
    """An aggregate's datetime as aware UTC (SQLite returns the stored naive text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def db_reason(exc: SQLAlchemyError) -> str:
    """The driver's own message when there is one (it names the constraint or the lock)."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def driver_time(conn: Any, value: datetime) -> Any:
    """`value` as UTCDateTime would bind it, for statements sent straight to the driver:
    naive UTC text that sorts on SQLite, the aware datetime on PostgreSQL."""
    value = value.astimezone(UTC)
    if conn.dialect.name == "sqlite":
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"
    return value


def driver_insert(
    conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert plain tuples through the driver (one executemany): a cold round stores several
    link rows per post, and SQLAlchemy's per-row parameter processing cost more than the
    inserts did. Values must already be in the driver's form (see `driver_time`)."""
    if rows:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
