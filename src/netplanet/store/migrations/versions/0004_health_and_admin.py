"""Feed health and schedule state on sources; the admin area's settings and login failures.

- sources: EWMA response time and size, posting rate, the chosen poll interval, and the
  start of the current run of failures / the time the source was declared dead.
- app_settings: a small key/value table (admin password hash, generated session secret).
- login_failures: failed admin logins per client address, for rate limiting shared by every
  web server of the planet.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from netplanet.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (never batch mode): a batch rebuild of `sources` on SQLite would drop
    # the FTS triggers created in 0001.
    op.add_column("sources", sa.Column("avg_response_ms", sa.Float))
    op.add_column("sources", sa.Column("avg_bytes", sa.Float))
    op.add_column("sources", sa.Column("posts_per_day", sa.Float))
    op.add_column("sources", sa.Column("poll_interval_s", sa.Float))
    op.add_column("sources", sa.Column("failing_since", UTCDateTime))
    op.add_column("sources", sa.Column("dead_since", UTCDateTime))
    # Sources failing now: their run of failures started at the latest at the last attempt.
    op.execute(
        "UPDATE sources SET failing_since = last_fetched_at "
        "WHERE consecutive_failures > 0 AND last_fetched_at IS NOT NULL"
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_at", "login_failures")
    op.drop_table("login_failures")
    op.drop_table("app_settings")
    for name in (
        "dead_since",
        "failing_since",
        "poll_interval_s",
        "posts_per_day",
        "avg_bytes",
        "avg_response_ms",
    ):
        op.drop_column("sources", name)
