"""Revisits and versions (docs/revisits.md): an article's revision history and schedule.

- articles.version: the number of the version articles holds (existing rows: 1);
  articles.unpublished_at: when a revisit found the URL answering 404/410 (the text is
  kept), NULL again once it is restored.
- article_versions: one row per stored version, keyed (article_id, version). Written
  lazily: an article's history starts at its first change, when version 1 (copied from
  articles, change_kind 'original') and version 2 are written in one transaction. An
  article that never changed has no rows here and articles is its whole history.
- article_revisits: the revisit schedule, one row per article revisited so far
  (next_revisit_at NULL: the schedule is over). A table of its own rather than columns
  on articles: the ingest path writes nothing new, articles (the analysts' table, with
  its FTS triggers on SQLite) is not rewritten each time a revisit moves the schedule,
  and the due query is an index range scan on (source, next_revisit_at).
- article_changes: one row per version after the first, with the previous title.

Columns are added to articles in place (as 0008), so 0007's FTS5 triggers stay.
The SQL is written out here: a migration is a frozen snapshot.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ARTICLE_CHANGES = """
    SELECT a.url, a.source, v.version, v.change_kind, v.fetched_at,
           p.title AS old_title, v.title AS new_title, v.chars_added, v.chars_removed
    FROM article_versions v
    JOIN articles a ON a.article_id = v.article_id
    JOIN article_versions p ON p.article_id = v.article_id AND p.version = v.version - 1
    WHERE v.version > 1
"""


def upgrade() -> None:
    op.add_column("articles", sa.Column("version", sa.Integer(), nullable=False,
                                        server_default="1"))
    op.add_column("articles", sa.Column("unpublished_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.create_table(
        "article_versions",
        sa.Column("article_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("change_kind", sa.String(16), nullable=False),
        sa.Column("chars_added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("chars_removed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_id", sa.String(250), nullable=False),
    )
    op.create_index("ix_article_versions_fetched_at", "article_versions", ["fetched_at"])
    op.create_table(
        "article_revisits",
        sa.Column("article_id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("next_revisit_at", sa.DateTime(timezone=True)),
        sa.Column("last_revisit_at", sa.DateTime(timezone=True)),
        sa.Column("revisits", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_article_revisits_due", "article_revisits",
                    ["source", "next_revisit_at"])
    op.execute(f"CREATE VIEW article_changes AS {ARTICLE_CHANGES}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS article_changes")
    op.drop_index("ix_article_revisits_due", table_name="article_revisits")
    op.drop_table("article_revisits")
    op.drop_index("ix_article_versions_fetched_at", table_name="article_versions")
    op.drop_table("article_versions")
    for name in ("unpublished_at", "version"):
        # Plain ALTER TABLE on both databases: batch mode would rebuild articles on SQLite
        # and lose 0007's triggers.
        op.execute(f'ALTER TABLE articles DROP COLUMN "{name}"')
