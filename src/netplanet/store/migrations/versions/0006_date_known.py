"""Whether an entry's date is known: entries.date_known.

A post whose feed gives no date is placed by the best evidence (update/dating.py). Placed
posts of a source's first fetch are marked date_known = false: pages say "date unknown" and
output feeds claim no publication date for them.

Rows stored before this migration were stamped with the time they were first seen. Those an
undated feed delivered in its source's first fetch (first seen with the source's oldest
rows) had a made-up date: they are marked unknown. Their dates are left as they are (some
already hold a stable page position, see docs/pagination.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): a batch rebuild on SQLite would drop the FTS
    # triggers created in 0001.
    op.add_column(
        "entries", sa.Column("date_known", sa.Boolean, nullable=False, server_default="1")
    )
    entries = sa.table(
        "entries",
        sa.column("id", sa.Integer),
        sa.column("source_id", sa.Integer),
        sa.column("first_seen", sa.DateTime),
        sa.column("date_from_feed", sa.Boolean),
        sa.column("date_known", sa.Boolean),
    )
    first = sa.alias(entries, "first")
    first_poll = (
        sa.select(sa.func.min(first.c.first_seen))
        .where(first.c.source_id == entries.c.source_id)
        .scalar_subquery()
    )
    op.execute(
        entries.update()
        .where(entries.c.date_from_feed == sa.false(), entries.c.first_seen == first_poll)
        .values(date_known=sa.false())
    )


def downgrade() -> None:
    op.drop_column("entries", "date_known")
