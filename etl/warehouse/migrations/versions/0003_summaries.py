"""Summary relations refreshed by the news_analytics DAG: mv_daily_articles, mv_source_health.

PostgreSQL: materialized views over the 0002 views, each with a unique index so
`REFRESH MATERIALIZED VIEW CONCURRENTLY` never blocks readers. SQLite has no materialized
views: plain tables of the same names and columns, rebuilt by DELETE + INSERT … SELECT
(etl.analytics.refresh_summaries). Either way analysts query the same names.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SUMMARIES = {
    # name: (source view, columns, unique key)
    "mv_daily_articles": ("daily_articles", ("day", "source", "language", "articles"),
                          ("day", "source", "language")),
    "mv_source_health": ("source_health",
                         ("source", "day", "discovered", "loaded", "duplicates", "rejected",
                          "failed", "not_modified", "reject_rate", "duplicate_rate"),
                         ("source", "day")),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (view, columns, key) in SUMMARIES.items():
            op.execute(f"CREATE MATERIALIZED VIEW {name} AS "
                       f"SELECT {', '.join(columns)} FROM {view} WITH DATA")
            op.execute(f"CREATE UNIQUE INDEX ux_{name} ON {name} ({', '.join(key)})")
        return
    op.create_table(
        "mv_daily_articles",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("articles", sa.Integer, nullable=False),
    )
    op.create_table(
        "mv_source_health",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        *(sa.Column(c, sa.Integer, nullable=False) for c in (
            "discovered", "loaded", "duplicates", "rejected", "failed", "not_modified")),
        sa.Column("reject_rate", sa.Float),
        sa.Column("duplicate_rate", sa.Float),
    )
    for name, (view, columns, _key) in SUMMARIES.items():
        cols = ", ".join(columns)
        op.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in SUMMARIES:
        op.execute(f"DROP {'MATERIALIZED VIEW' if postgresql else 'TABLE'} IF EXISTS {name}")
