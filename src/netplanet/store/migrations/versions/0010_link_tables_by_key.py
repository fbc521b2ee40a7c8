"""story_keys and entry_topics keyed the way they are read: fewer index trees per row.

A cold round writes ~5 story_keys rows and ~2.7 entry_topics rows per new post, and every row
went into a table plus three (story_keys) or four (entry_topics) indexes. Now each table's
primary key is the index it is read by — story_keys (key, published, entry_id): the posts
sharing a key within a window; entry_topics (topic_slug, published, entry_id): a topic
archive — and one unique index by post serves deletes, edits and the old uniqueness of a
key (a topic) per post. On SQLite both become WITHOUT ROWID tables (the primary key is the
table: 2 trees instead of 4, 3 instead of 5); PostgreSQL keeps its heap and gets the same
keys and indexes (one index fewer per table).

Rows are copied as they are (SQLite rebuilds the two tables; PostgreSQL swaps the keys in
place); downgrade restores the 0008 layout.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# table -> (its own column besides entry_id and published, the other columns, the
# 0008 secondary index on (own, published[, entry_id]))
_OWN = {"story_keys": "key", "entry_topics": "topic_slug"}
_OLD_RANGE = {
    "story_keys": ("ix_story_keys_key_published", ["key", "published"]),
    "entry_topics": (
        "ix_entry_topics_slug_published_id",
        ["topic_slug", "published", "entry_id"],
    ),
}


def _columns(table: str, new_layout: bool) -> list[sa.Column[object]]:
    fk = sa.ForeignKey("entries.id", ondelete="CASCADE", name=f"fk_{table}_entry_id_entries")
    cols: list[sa.Column[object]] = [sa.Column("entry_id", sa.Integer, fk, nullable=False)]
    if table == "story_keys":
        cols += [
            sa.Column("key", sa.Text, nullable=False),
            sa.Column("published", UTCDateTime, nullable=False),
        ]
        if new_layout:
            # Declared in key order: SQLite 3.40's quick_check wrongly reports "NULL value in
            # story_keys.entry_id" for a WITHOUT ROWID table whose columns are all in its key
            # but declared in another order (integrity_check is right), and restore runs it.
            cols = [*cols[1:], cols[0]]
    else:
        cols += [
            sa.Column("topic_slug", sa.Text, nullable=False),
            sa.Column("score", sa.Float, nullable=False),
            sa.Column("rank", sa.Integer, nullable=False),
            sa.Column("published", UTCDateTime, nullable=False),
            sa.Column("seq", sa.Integer),
        ]
    return cols


def _rebuild_sqlite(table: str, new_layout: bool) -> None:
    own = _OWN[table]
    names = [c.name for c in _columns(table, new_layout)]
    key = [own, "published", "entry_id"] if new_layout else [own, "entry_id"]
    op.create_table(
        f"{table}_rebuilt",
        *_columns(table, new_layout),
        sa.PrimaryKeyConstraint(*key, name=f"pk_{table}"),
        sqlite_with_rowid=not new_layout,
    )
    listed = ", ".join(names)
    op.execute(f"INSERT INTO {table}_rebuilt ({listed}) SELECT {listed} FROM {table}")
    op.drop_table(table)  # and its indexes
    op.rename_table(f"{table}_rebuilt", table)


def _indexes(table: str, new_layout: bool) -> None:
    own = _OWN[table]
    if table == "entry_topics":
        op.create_index("ix_entry_topics_slug_seq", table, ["topic_slug", "seq"], unique=True)
    if new_layout:
        op.create_index(f"ix_{table}_entry", table, ["entry_id", own], unique=True)
    else:
        name, cols = _OLD_RANGE[table]
        op.create_index(name, table, cols)
        op.create_index(f"ix_{table}_entry", table, ["entry_id"])


def _swap_postgres(table: str, new_layout: bool) -> None:
    own = _OWN[table]
    op.drop_constraint(f"pk_{table}", table, type_="primary")
    op.drop_index(f"ix_{table}_entry", table_name=table)
    if new_layout:
        op.drop_index(_OLD_RANGE[table][0], table_name=table)
        op.create_primary_key(f"pk_{table}", table, [own, "published", "entry_id"])
        op.create_index(f"ix_{table}_entry", table, ["entry_id", own], unique=True)
    else:
        op.create_primary_key(f"pk_{table}", table, [own, "entry_id"])
        name, cols = _OLD_RANGE[table]
        op.create_index(name, table, cols)
        op.create_index(f"ix_{table}_entry", table, ["entry_id"])


def _migrate(new_layout: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("story_keys", "entry_topics"):
        if sqlite:
            _rebuild_sqlite(table, new_layout)
            _indexes(table, new_layout)
        else:
            _swap_postgres(table, new_layout)


def upgrade() -> None:
    _migrate(new_layout=True)


def downgrade() -> None:
    _migrate(new_layout=False)
