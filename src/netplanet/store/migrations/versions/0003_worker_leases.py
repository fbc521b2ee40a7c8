"""Worker leases: which worker is polling a source, and until when (both backends).

`netplanet worker` processes claim due sources by setting `lease_owner`/`lease_until`; a
completed poll clears them, and a crashed worker's lease simply runs out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): on SQLite a batch rebuild of `sources` would drop
    # the FTS triggers created in 0001.
    op.add_column("sources", sa.Column("lease_owner", sa.Text))
    op.add_column("sources", sa.Column("lease_until", UTCDateTime))
    # Claiming scans enabled sources by due time; held leases are counted per host.
    op.create_index("ix_sources_enabled_next_poll_at", "sources", ["enabled", "next_poll_at"])
    op.create_index("ix_sources_lease_until", "sources", ["lease_until"])


def downgrade() -> None:
    op.drop_index("ix_sources_lease_until", "sources")
    op.drop_index("ix_sources_enabled_next_poll_at", "sources")
    op.drop_column("sources", "lease_until")
    op.drop_column("sources", "lease_owner")
