"""Fetch-ledger validators count only once their body's outcome is recorded; outcome rows
keyed per item.

fetch_ledger gains `body_run_id` (the run that fetched the body its ETag, Last-Modified and
content hash describe) and `body_settled` (that run's load recorded the body's outcome).
A row whose body was never settled — the fetch committed, the load did not — proves
nothing, so its URL is fetched again instead of answering 304. Existing rows are settled
when their URL is stored, or recorded as a duplicate or reject of the same source; the
others are fetched once more.

article_duplicates, article_rejects and article_failures were unique on (run, URL): a
second source reaching the URL in the same run, or a source listing it twice, lost its row
while the run's counts included it. They are now unique on (run, source, URL, occurrence),
`occurrence` numbering the records of one (run, source, URL) in load order (a retried run
numbers them the same way, so it adds nothing twice). Existing rows get occurrence 1.

SQLite rebuilds the three tables (batch mode); views over them are dropped and recreated
from their stored SQL around it, since SQLite checks views when a table is renamed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# table → (old unique constraint name, its columns, new name)
ITEM_KEYS = {
    "article_duplicates": ("uq_article_duplicates_run_url", ["run_id", "url"],
                           "uq_article_duplicates_item"),
    "article_rejects": ("uq_article_rejects_run_url_stage", ["run_id", "url", "stage"],
                        "uq_article_rejects_item"),
    "article_failures": ("uq_article_failures_run_url", ["run_id", "url"],
                         "uq_article_failures_item"),
}
NEW_KEY = ["run_id", "source", "url", "occurrence"]


def _sqlite_views() -> list[tuple[str, str]]:
    """(name, CREATE VIEW statement) of every SQLite view, in creation order."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid").all()
    return [(name, sql) for name, sql in rows]


def _rebuild(change) -> None:
    """Run `change()`; on SQLite, with the views set aside while tables are rebuilt."""
    if op.get_bind().dialect.name != "sqlite":
        change()
        return
    views = _sqlite_views()
    for name, _ in reversed(views):
        op.execute(f'DROP VIEW "{name}"')
    change()
    for _, sql in views:
        op.execute(sql)


def upgrade() -> None:
    with op.batch_alter_table("fetch_ledger") as batch:
        batch.add_column(sa.Column("body_run_id", sa.String(250)))
        batch.add_column(sa.Column("body_settled", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.execute("""
        UPDATE fetch_ledger SET body_settled = TRUE
        WHERE url IN (SELECT url FROM articles)
           OR EXISTS (SELECT 1 FROM article_duplicates AS d
                      WHERE d.url = fetch_ledger.url AND d.source = fetch_ledger.source)
           OR EXISTS (SELECT 1 FROM article_rejects AS r
                      WHERE r.url = fetch_ledger.url AND r.source = fetch_ledger.source)
    """)

    def change() -> None:
        for table, (old, _, new) in ITEM_KEYS.items():
            with op.batch_alter_table(table) as batch:
                batch.add_column(sa.Column("occurrence", sa.Integer, nullable=False,
                                           server_default="1"))
                batch.drop_constraint(old, type_="unique")
                batch.create_unique_constraint(new, NEW_KEY)

    _rebuild(change)


def downgrade() -> None:
    def change() -> None:
        for table, (old, columns, new) in ITEM_KEYS.items():
            # Keep the first row of each old key; the others cannot be held by it.
            key = ", ".join(columns)
            op.execute(f"DELETE FROM {table} WHERE id NOT IN "
                       f"(SELECT MIN(id) FROM {table} GROUP BY {key})")
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(new, type_="unique")
                batch.create_unique_constraint(old, columns)
                batch.drop_column("occurrence")

    _rebuild(change)
    with op.batch_alter_table("fetch_ledger") as batch:
        batch.drop_column("body_settled")
        batch.drop_column("body_run_id")
