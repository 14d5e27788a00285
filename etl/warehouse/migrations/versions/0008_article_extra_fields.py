"""Fields analysts ask for: the updated date, the publisher's offset and day of the
published date, the lead image, paywall and live-blog flags, each with its provenance.

articles gains, all nullable (rows loaded before stay NULL until re-extracted):

- modified_at / modified_source: the updated date the page states (never the published
  date copied over).
- published_utc_offset_min: minutes east of UTC stated with the published date (NULL when
  the statement had no zone); published_local_date: the published date in the publisher's
  calendar, indexed so analysts count by the publisher's day with plain GROUP BY.
- image_url / image_source, is_paywalled / paywall_source, is_liveblog / liveblog_source.

Columns are added in place on both databases (SQLite ALTER TABLE ADD COLUMN), so the
articles table is not rebuilt and migration 0007's FTS5 triggers and rowids stay as they
are. The downgrade drops them the same way (SQLite >= 3.35).

See docs/fields.md. The column list is written out here: a migration is a frozen snapshot.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (
    ("modified_at", sa.DateTime(timezone=True)),
    ("modified_source", sa.String(32)),
    ("published_utc_offset_min", sa.Integer()),
    ("published_local_date", sa.Date()),
    ("image_url", sa.Text()),
    ("image_source", sa.String(32)),
    ("is_paywalled", sa.Boolean()),
    ("paywall_source", sa.String(32)),
    ("is_liveblog", sa.Boolean()),
    ("liveblog_source", sa.String(32)),
)
LOCAL_DATE_INDEX = "ix_articles_published_local_date"


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("articles", sa.Column(name, type_, nullable=True))
    op.create_index(LOCAL_DATE_INDEX, "articles", ["published_local_date"])


def downgrade() -> None:
    op.drop_index(LOCAL_DATE_INDEX, table_name="articles")
    for name, _ in reversed(COLUMNS):
        # Plain ALTER TABLE on both databases: batch mode would rebuild articles on SQLite
        # and lose 0007's triggers.
        op.execute(f'ALTER TABLE articles DROP COLUMN "{name}"')
