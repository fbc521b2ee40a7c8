"""Topics, labels and story clusters.

- entries.topics (JSON [[slug, score], ...], primary first), entries.topics_manual (an
  operator's override, kept by re-classification), entries.podcast;
- entry_topics: one row per (topic, post), with the post's date and a stable position per
  topic (`seq`), as entry_categories has for categories: `/topic/<slug>/` archives;
- entries.simhash, story_keys, entries.cluster_id / duplicate_of / collapsed: story clusters
  and copies of one post reached through several feeds (store/stories.py).

Rows stored before this migration have no topics and no story keys: `netplanet topics
reclassify` (run by `netplanet run` when the taxonomy it last used differs) fills them in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FLAGS = ("topics_manual", "podcast", "collapsed")


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): a batch rebuild on SQLite would drop the FTS
    # triggers created in 0001.
    op.add_column("entries", sa.Column("topics", sa.Text, nullable=False, server_default="[]"))
    for name in _FLAGS:
        op.add_column(
            "entries",
            sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false()),
        )
    op.add_column("entries", sa.Column("simhash", sa.BigInteger))
    op.add_column("entries", sa.Column("cluster_id", sa.Integer))
    op.add_column("entries", sa.Column("duplicate_of", sa.Integer))
    # Partial indexes: most posts are on their own, and an index row each would cost inserts.
    for column in ("cluster_id", "duplicate_of"):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_entries_{column}",
            "entries",
            [column],
            sqlite_where=where,
            postgresql_where=where,
        )
    op.create_table(
        "entry_topics",
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey(
                "entries.id", ondelete="CASCADE", name="fk_entry_topics_entry_id_entries"
            ),
            nullable=False,
        ),
        sa.Column("topic_slug", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("seq", sa.Integer),
        sa.PrimaryKeyConstraint("topic_slug", "entry_id", name="pk_entry_topics"),
    )
    op.create_index(
        "ix_entry_topics_slug_published_id", "entry_topics", ["topic_slug", "published", "entry_id"]
    )
    op.create_index("ix_entry_topics_slug_seq", "entry_topics", ["topic_slug", "seq"], unique=True)
    op.create_index("ix_entry_topics_entry", "entry_topics", ["entry_id"])
    op.create_table(
        "story_keys",
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey("entries.id", ondelete="CASCADE", name="fk_story_keys_entry_id_entries"),
            nullable=False,
        ),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", "entry_id", name="pk_story_keys"),
    )
    op.create_index("ix_story_keys_key_published", "story_keys", ["key", "published"])
    op.create_index("ix_story_keys_entry", "story_keys", ["entry_id"])


def downgrade() -> None:
    op.drop_table("story_keys")
    op.drop_table("entry_topics")
    op.drop_index("ix_entries_duplicate_of", "entries")
    op.drop_index("ix_entries_cluster_id", "entries")
    for name in ("duplicate_of", "cluster_id", "simhash", *reversed(_FLAGS), "topics"):
        op.drop_column("entries", name)
