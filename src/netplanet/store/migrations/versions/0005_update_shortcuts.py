"""Shortcuts for the update pipeline: raw entry hashes and how long a posting rate holds.

- entries.raw_hash: hash of the parsed fields an entry was enriched from (update/digest.py).
  A poll finding a stored hash skips enriching and rewriting that entry. Rows stored before
  this migration have none; they get one the next time they are polled.
- sources.rate_valid_until: `posts_per_day` stays exact until then without counting entries
  again (the oldest counted post leaves the 30-day window), unless a poll changes entries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): a batch rebuild on SQLite would drop the FTS
    # triggers created in 0001.
    op.add_column("entries", sa.Column("raw_hash", sa.Text))
    op.create_index("ix_entries_source_raw_hash", "entries", ["source_id", "raw_hash"])
    op.add_column("sources", sa.Column("rate_valid_until", UTCDateTime))


def downgrade() -> None:
    op.drop_column("sources", "rate_valid_until")
    op.drop_index("ix_entries_source_raw_hash", "entries")
    op.drop_column("entries", "raw_hash")
