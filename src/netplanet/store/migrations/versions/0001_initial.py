"""Initial schema: sources, entries, categories, entry_categories, full-text index.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_FTS = [
    # A regular (content-storing) FTS5 table keyed by entry id: snippet() needs the text, and
    # SQLite 3.40 has no contentless delete.
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        title, text, source, tokenize = 'porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER entries_fts_ai AFTER INSERT ON entries BEGIN
        INSERT INTO entries_fts(rowid, title, text, source)
        VALUES (new.id, new.title, new.text,
                (SELECT title FROM sources WHERE id = new.source_id));
    END""",
    """CREATE TRIGGER entries_fts_au AFTER UPDATE OF title, text ON entries BEGIN
        DELETE FROM entries_fts WHERE rowid = old.id;
        INSERT INTO entries_fts(rowid, title, text, source)
        VALUES (new.id, new.title, new.text,
                (SELECT title FROM sources WHERE id = new.source_id));
    END""",
    """CREATE TRIGGER entries_fts_ad AFTER DELETE ON entries BEGIN
        DELETE FROM entries_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER sources_fts_title AFTER UPDATE OF title ON sources BEGIN
        UPDATE entries_fts SET source = new.title
        WHERE rowid IN (SELECT id FROM entries WHERE source_id = new.id);
    END""",
]


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("site_url", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.Text, nullable=False, server_default=""),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.Text),
        sa.Column("last_fetched_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error_class", sa.Text, nullable=False, server_default=""),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("last_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_duration_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("feed_url", name="uq_sources_feed_url"),
        sa.UniqueConstraint("slug", name="uq_sources_slug"),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("guid", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title_date_hash", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False, server_default=""),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False, server_default=""),
        sa.Column("excerpt_html", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("categories", sa.Text, nullable=False, server_default="[]"),
        sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
        sa.Column("enclosure_url", sa.Text),
        sa.Column("enclosure_type", sa.Text),
        sa.Column("enclosure_length", sa.BigInteger),
        sa.Column("duration_s", sa.Integer),
        sa.Column("sponsored", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("date_from_feed", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_entries_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("source_id", "key", name="uq_entries_source_id_key"),
    )
    op.create_index("ix_entries_source_url", "entries", ["source_id", "url"])
    op.create_index("ix_entries_source_tdh", "entries", ["source_id", "title_date_hash"])
    op.create_index("ix_entries_published_id", "entries", ["published", "id"])
    op.create_index("ix_entries_source_published_id", "entries", ["source_id", "published", "id"])
    op.create_index("ix_entries_seq", "entries", ["seq"], unique=True)
    op.create_table(
        "categories",
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("slug", name="pk_categories"),
    )
    op.create_table(
        "entry_categories",
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("category_slug", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("seq", sa.Integer),
        sa.PrimaryKeyConstraint("category_slug", "entry_id", name="pk_entry_categories"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_entry_categories_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_entry_categories_slug_published_id",
        "entry_categories",
        ["category_slug", "published", "entry_id"],
    )
    op.create_index("ix_entry_categories_entry", "entry_categories", ["entry_id"])
    op.create_index(
        "ix_entry_categories_slug_seq", "entry_categories", ["category_slug", "seq"], unique=True
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS entries_fts")
    op.drop_table("entry_categories")
    op.drop_table("categories")
    op.drop_table("entries")
    op.drop_table("sources")
