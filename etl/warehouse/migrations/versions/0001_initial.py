"""Initial warehouse: articles, duplicates, rejects, failures, runs, validation results.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("article_id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published_at", TZ),
        sa.Column("language", sa.String(8)),
        sa.Column("sitename", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("categories", sa.JSON),
        sa.Column("tags", sa.JSON),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("title_source", sa.String(32)),
        sa.Column("date_source", sa.String(32)),
        sa.Column("author_source", sa.String(32)),
        sa.Column("extractor_version", sa.String(64)),
        sa.Column("cluster_id", sa.String(32)),
        sa.Column("ingested_at", TZ, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
    )
    for column in ("canonical_url", "source", "published_at", "text_sha256", "cluster_id",
                   "run_id"):
        op.create_index(f"ix_articles_{column}", "articles", [column])

    op.create_table(
        "article_duplicates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("duplicate_of", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("similarity", sa.Float),
        sa.Column("title", sa.Text),
        sa.Column("published_at", TZ),
        sa.Column("cluster_id", sa.String(32)),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.UniqueConstraint("run_id", "url", name="uq_article_duplicates_run_url"),
    )
    for column in ("duplicate_of", "cluster_id", "run_id", "url"):
        op.create_index(f"ix_article_duplicates_{column}", "article_duplicates", [column])

    op.create_table(
        "article_rejects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("rejected_at", TZ, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("language", sa.String(8)),
        sa.Column("word_count", sa.Integer),
        sa.Column("published_at", TZ),
        sa.Column("resolved_run_id", sa.String(250)),
        sa.UniqueConstraint("run_id", "url", "stage", name="uq_article_rejects_run_url_stage"),
    )
    for column in ("source", "run_id"):
        op.create_index(f"ix_article_rejects_{column}", "article_rejects", [column])

    op.create_table(
        "article_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("failed_at", TZ, nullable=False),
        sa.UniqueConstraint("run_id", "url", name="uq_article_failures_run_url"),
    )
    for column in ("source", "run_id"):
        op.create_index(f"ix_article_failures_{column}", "article_failures", [column])

    op.create_table(
        "ingest_runs",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("discovered", sa.Integer, nullable=False),
        sa.Column("loaded", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("not_modified", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("stage_stats", sa.JSON),
        sa.Column("report_path", sa.Text),
    )

    op.create_table(
        "validation_results",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("batch", sa.Integer, primary_key=True),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("evaluated", sa.Integer, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("validation_results", "ingest_runs", "article_failures", "article_rejects",
                  "article_duplicates", "articles"):
        op.drop_table(table)
