"""fetch_ledger: per-URL HTTP state for conditional GET, change detection and retry backoff.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetch_ledger",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_reason", sa.String(64)),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("archive_path", sa.Text),
    )
    op.create_index("ix_fetch_ledger_source", "fetch_ledger", ["source"])


def downgrade() -> None:
    op.drop_table("fetch_ledger")
