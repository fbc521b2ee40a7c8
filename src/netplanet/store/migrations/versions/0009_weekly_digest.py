"""The weekly digest: frozen weeks and operators' picks.

- digest_weeks: one row per finished ISO week (`2026-W48`) whose item list was frozen, with
  the list itself (JSON, store/weekly.py): later backfilled, edited or deleted posts never
  change a frozen week's digest;
- digest_picks: an operator's pin or drop of a post for the digest of the week it belongs to
  (the admin's /admin/digest/); copied into the week's frozen list when it is frozen.

Nothing is frozen by the migration: a finished week is frozen the first time it is read, or
by the sealing timer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_weeks",
        sa.Column("week", sa.Text, nullable=False),
        sa.Column("frozen_at", UTCDateTime, nullable=False),
        sa.Column("items", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_digest_weeks"),
    )
    op.create_table(
        "digest_picks",
        sa.Column("week", sa.Text, nullable=False),
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey(
                "entries.id", ondelete="CASCADE", name="fk_digest_picks_entry_id_entries"
            ),
            nullable=False,
        ),
        sa.Column("choice", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("week", "entry_id", name="pk_digest_picks"),
    )
    op.create_index("ix_digest_picks_entry", "digest_picks", ["entry_id"])


def downgrade() -> None:
    op.drop_table("digest_picks")
    op.drop_table("digest_weeks")
