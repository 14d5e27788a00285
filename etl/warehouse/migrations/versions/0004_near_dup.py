"""Near-duplicate index (article_signatures, article_bands) and the story_clusters view.

Every loaded article with enough words gets its MinHash signature (article_signatures)
and one row per LSH band key (article_bands). The primary key (band_key, article_id) is
the probe index: a new batch's candidates are one `WHERE band_key IN (...)` index scan
against all history, so the check costs the same with 10k or 1M stored articles.

story_clusters groups articles and recorded duplicates by cluster_id (the story id: the
article_id of the first-loaded article of a story). Rows from before clustering existed
fall back to their own article_id (articles) or the article they duplicate (duplicates).

The SQL is written out here, not imported from etl code: a migration is a frozen snapshot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Members: distinct URLs (a duplicate seen again in a later run is recorded once per run,
# so rows are de-duplicated by URL before counting).
_MEMBERS = """
    SELECT COALESCE(cluster_id, article_id) AS cluster_id, url, source,
           ingested_at AS seen_at, published_at
    FROM articles
    UNION ALL
    SELECT COALESCE(cluster_id, duplicate_of) AS cluster_id, url, source,
           recorded_at AS seen_at, published_at
    FROM article_duplicates
"""

STORY_CLUSTERS = {
    "postgresql": f"""
        SELECT cluster_id, MIN(seen_at) AS first_seen, MIN(published_at) AS first_published,
               COUNT(DISTINCT url) AS size, COUNT(DISTINCT source) AS sources,
               string_agg(DISTINCT source, ',' ORDER BY source) AS source_list
        FROM ({_MEMBERS}) AS members
        GROUP BY cluster_id
    """,
    # SQLite 3.40 has no ORDER BY inside aggregates: the list order is unspecified.
    "sqlite": f"""
        SELECT cluster_id, MIN(seen_at) AS first_seen, MIN(published_at) AS first_published,
               COUNT(DISTINCT url) AS size, COUNT(DISTINCT source) AS sources,
               group_concat(DISTINCT source) AS source_list
        FROM ({_MEMBERS}) AS members
        GROUP BY cluster_id
    """,
}


def upgrade() -> None:
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.String(32), primary_key=True),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "article_bands",
        sa.Column("band_key", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("article_id", sa.String(32), primary_key=True),
        sqlite_with_rowid=False,  # SQLite: the key is the table (one B-tree, covering probes)
    )
    op.execute(f"CREATE VIEW story_clusters AS {STORY_CLUSTERS[op.get_bind().dialect.name]}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS story_clusters")
    op.drop_table("article_bands")
    op.drop_table("article_signatures")
