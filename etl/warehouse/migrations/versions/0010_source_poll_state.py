"""Adaptive polling: source_poll_state (one row per source) and the view source_poll_health.

source_poll_state holds what etl.polling decided after a source's last poll: active or
suspended, when it is next due, its interval, consecutive whole-source failures and the
kind of the last one (hard | soft), new items per day (exponentially weighted), and when it
last succeeded, was polled, was suspended.

source_poll_health is the operator's view of it, one row per source: `alarm` is 1 for a
suspended source. Not to be confused with source_health (0002: outcome counts per source
and day, from ingest_runs) and its refreshed copy mv_source_health (0003).

See docs/polling.md. The columns are written out here: a migration is a frozen snapshot.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Plain SQL that reads the same on both databases.
SOURCE_POLL_HEALTH = """
    SELECT source, state,
           CASE WHEN state = 'suspended' THEN 1 ELSE 0 END AS alarm,
           next_due_at, interval_s, CAST(interval_s AS REAL) / 60 AS interval_min,
           consecutive_failures, last_failure_kind, last_error,
           items_per_day, last_new_items, last_success_at, last_polled_at, suspended_at
    FROM source_poll_state
"""


def upgrade() -> None:
    op.create_table(
        "source_poll_state",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_kind", sa.String(8)),
        sa.Column("last_error", sa.Text()),
        sa.Column("items_per_day", sa.Float()),
        sa.Column("last_new_items", sa.Integer()),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_polled_at", sa.DateTime(timezone=True)),
        sa.Column("suspended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_source_poll_state_next_due_at", "source_poll_state", ["next_due_at"])
    op.execute(f"CREATE VIEW source_poll_health AS {SOURCE_POLL_HEALTH}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS source_poll_health")
    op.drop_index("ix_source_poll_state_next_due_at", table_name="source_poll_state")
    op.drop_table("source_poll_state")
