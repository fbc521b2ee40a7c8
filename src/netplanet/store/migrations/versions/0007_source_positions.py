"""Per-source stable positions: entries.source_seq, for a source's numbered archive pages.

A source's archive (`/source/<slug>/page/N`) numbers its sealed posts 1, 2, 3, … oldest first,
as the river (`entries.seq`) and categories (`entry_categories.seq`) do. Entries sealed before
this migration get their source positions in the order of their river positions, so the pages
come out exactly as if the column had always been there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): a batch rebuild on SQLite would drop the FTS
    # triggers created in 0001.
    op.add_column("entries", sa.Column("source_seq", sa.Integer))
    # Window functions: SQLite 3.25+ and every supported PostgreSQL.
    op.execute(
        "UPDATE entries SET source_seq = ("
        " SELECT r.n FROM ("
        "  SELECT id, ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY seq) AS n"
        "  FROM entries WHERE seq IS NOT NULL"
        " ) AS r WHERE r.id = entries.id"
        ") WHERE seq IS NOT NULL"
    )
    op.create_index("ix_entries_source_seq", "entries", ["source_id", "source_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_entries_source_seq", "entries")
    op.drop_column("entries", "source_seq")
