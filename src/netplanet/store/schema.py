"""The relational schema, as SQLAlchemy Core tables shared by every backend.

The tables here describe the *current* schema for queries; the migrations under
`store/migrations/versions/` are what create and evolve it (append-only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    literal,
    text,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones, so values are stored as naive UTC text (which sorts correctly);
    PostgreSQL gets timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use UTC-aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw text from SQLite when read outside the ORM types
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def id_param(value: int) -> BindParameter[int]:
    """An id to compare with an id column, bound as BIGINT: the columns are PostgreSQL
    `integer` (32-bit), and an int4 parameter above 2**31 - 1 fails "out of range" where a
    comparison should simply find nothing (or, in a keyset, everything below it)."""
    return literal(value, BigInteger)


sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False, server_default=""),
    Column("site_url", Text, nullable=False, server_default=""),
    Column("category", Text, nullable=False, server_default=""),
    Column("slug", Text, nullable=False, unique=True),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("disabled_reason", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", Text),
    Column("last_fetched_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error_class", Text, nullable=False, server_default=""),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("last_bytes", BigInteger, nullable=False, server_default="0"),
    Column("last_duration_ms", Integer, nullable=False, server_default="0"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UTCDateTime),
    # Set while a `netplanet worker` polls the source (migration 0003); see store/leases.py.
    Column("lease_owner", Text),
    Column("lease_until", UTCDateTime),
    # Health and schedule state (migration 0004); see schedule.py and store/health.py.
    Column("avg_response_ms", Float),
    Column("avg_bytes", Float),
    Column("posts_per_day", Float),
    Column("poll_interval_s", Float),
    Column("failing_since", UTCDateTime),
    Column("dead_since", UTCDateTime),
    # Until when posts_per_day holds without counting again (migration 0005; update/decide.py).
    Column("rate_valid_until", UTCDateTime),
    Index("ix_sources_enabled_next_poll_at", "enabled", "next_poll_at"),
    Index("ix_sources_lease_until", "lease_until"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "source_id",
        Integer,
        ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", Text, nullable=False),
    Column("guid", Text),
    Column("url", Text, nullable=False),
    Column("title_date_hash", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("author", Text, nullable=False, server_default=""),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("content_html", Text, nullable=False, server_default=""),
    Column("excerpt_html", Text, nullable=False, server_default=""),
    Column("text", Text, nullable=False, server_default=""),
    Column("categories", Text, nullable=False, server_default="[]"),
    Column("tags", Text, nullable=False, server_default="[]"),
    Column("enclosure_url", Text),
    Column("enclosure_type", Text),
    Column("enclosure_length", BigInteger),
    Column("duration_s", Integer),
    Column("sponsored", Boolean, nullable=False, server_default="0"),
    Column("date_from_feed", Boolean, nullable=False, server_default="1"),
    Column("fingerprint", Text, nullable=False),
    # Position in the river's stable page numbering, assigned once the entry is old enough that
    # late arrivals are unlikely (see SqlStore.seal_pages); NULL while the entry is recent.
    Column("seq", Integer),
    # Position among its source's entries (the source's numbered pages), given with `seq`
    # (migration 0006).
    Column("source_seq", Integer),
    # Hash of the parsed fields the row was enriched from (migration 0005; update/digest.py).
    Column("raw_hash", Text),
    # False when `published` only places an undated post of a first fetch (migration 0006;
    # update/dating.py): pages say "date unknown".
    Column("date_known", Boolean, nullable=False, server_default="1"),
    # Topics, labels and story clusters (migration 0008): JSON [[slug, score], ...] primary
    # first; `topics_manual` marks an operator's override (re-classification keeps it).
    Column("topics", Text, nullable=False, server_default="[]"),
    Column("topics_manual", Boolean, nullable=False, server_default="0"),
    Column("podcast", Boolean, nullable=False, server_default="0"),
    Column("simhash", BigInteger),
    # The story cluster (the id of its first post), the post this row copies (another feed's
    # copy of one post), and whether lists leave the row out (store/stories.py).
    Column("cluster_id", Integer),
    Column("duplicate_of", Integer),
    Column("collapsed", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("source_id", "key"),
    Index("ix_entries_source_url", "source_id", "url"),
    Index("ix_entries_source_tdh", "source_id", "title_date_hash"),
    Index("ix_entries_published_id", "published", "id"),
    Index("ix_entries_source_published_id", "source_id", "published", "id"),
    Index("ix_entries_seq", "seq", unique=True),
    Index("ix_entries_source_seq", "source_id", "source_seq", unique=True),
    Index("ix_entries_source_raw_hash", "source_id", "raw_hash"),
    # Partial: most posts are on their own, and an index row per post would cost every insert.
    Index(
        "ix_entries_cluster_id",
        "cluster_id",
        sqlite_where=text("cluster_id IS NOT NULL"),
        postgresql_where=text("cluster_id IS NOT NULL"),
    ),
    Index(
        "ix_entries_duplicate_of",
        "duplicate_of",
        sqlite_where=text("duplicate_of IS NOT NULL"),
        postgresql_where=text("duplicate_of IS NOT NULL"),
    ),
)

categories = Table(
    "categories",
    metadata,
    Column("slug", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
)

entry_categories = Table(
    "entry_categories",
    metadata,
    Column(
        "entry_id",
        Integer,
        ForeignKey("entries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("category_slug", Text, nullable=False),
    # Copied from entries.published so a category archive is one keyset range scan.
    Column("published", UTCDateTime, nullable=False),
    Column("seq", Integer),
    PrimaryKeyConstraint("category_slug", "entry_id"),
    Index("ix_entry_categories_slug_published_id", "category_slug", "published", "entry_id"),
    Index("ix_entry_categories_slug_seq", "category_slug", "seq", unique=True),
    Index("ix_entry_categories_entry", "entry_id"),
)

entry_topics = Table(
    "entry_topics",
    metadata,
    Column(
        "entry_id",
        Integer,
        ForeignKey("entries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("topic_slug", Text, nullable=False),
    Column("score", Float, nullable=False),
    # 0 for the primary topic, then 1, 2 for the secondary ones.
    Column("rank", Integer, nullable=False),
    # Copied from entries.published, as entry_categories does: a topic archive is one range scan.
    Column("published", UTCDateTime, nullable=False),
    Column("seq", Integer),
    # Keyed as a topic archive reads it (migration 0010): on SQLite the key is the table
    # (WITHOUT ROWID), so a row costs three trees, not five; the index by post keeps one row
    # per topic and post.
    PrimaryKeyConstraint("topic_slug", "published", "entry_id"),
    Index("ix_entry_topics_slug_seq", "topic_slug", "seq", unique=True),
    Index("ix_entry_topics_entry", "entry_id", "topic_slug", unique=True),
    sqlite_with_rowid=False,
)

# Keys that posts of one story share (Entry.story_keys), each with the post's date, so the
# posts sharing a key within a few days are one index range (store/stories.py).
story_keys = Table(
    "story_keys",
    metadata,
    # Declared in key order (see migration 0010: SQLite 3.40's quick_check misreads otherwise).
    Column("key", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column(
        "entry_id",
        Integer,
        ForeignKey("entries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Keyed as the candidate lookup reads it (migration 0010; WITHOUT ROWID on SQLite: two
    # trees a row, not four); the index by post keeps one row per key and post.
    PrimaryKeyConstraint("key", "published", "entry_id"),
    Index("ix_story_keys_entry", "entry_id", "key", unique=True),
    sqlite_with_rowid=False,
)

# Posts waiting to be (re-)indexed for search (migration 0011; store/indexing.py): filled by
# triggers in the transaction that stores or edits a post, emptied by the indexer.
search_queue = Table(
    "search_queue",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=False),
)

# Small key/value settings kept in the database so every process shares them (migration 0004):
# the admin password hash and the generated session secret (web/auth.py).
app_settings = Table(
    "app_settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Failed admin logins, per client address, for rate limiting across web servers.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("client", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_client_at", "client", "at"),
)

# The weekly digest (migration 0009; store/weekly.py): the frozen item list of each finished
# ISO week ("2026-W48"), and operators' pins and drops ("pin" / "drop") of posts for a week.
digest_weeks = Table(
    "digest_weeks",
    metadata,
    Column("week", Text, primary_key=True),
    Column("frozen_at", UTCDateTime, nullable=False),
    Column("items", Text, nullable=False),
)

digest_picks = Table(
    "digest_picks",
    metadata,
    Column("week", Text, nullable=False),
    Column(
        "entry_id",
        Integer,
        ForeignKey("entries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("choice", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("week", "entry_id"),
    Index("ix_digest_picks_entry", "entry_id"),
)
