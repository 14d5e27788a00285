"""SQLite full-text search: an FTS5 index over articles (title, text), kept in step by triggers.

`articles_fts` is an external-content FTS5 table: it stores only the index, and reads
title and text back from `articles` (joined on the rowid). Three triggers on `articles`
(after INSERT, after DELETE, after UPDATE OF title/text) keep it in step with every
write, whoever makes it — the loader, re-extraction, or an analyst's own SQL. Existing
rows are indexed once, here ('rebuild').

Tokenizer: `porter unicode61 remove_diacritics 2`. FTS5 ships one stemmer, Porter's
(English); it runs after unicode61, which folds case and diacritics (é = e, Ö = o) in
every language. So English is stemmed (harbours → harbour), and other languages get
the same case/diacritic folding plus English suffix rules, which catch the regular
plurals of French and Spanish (drones → drone) but are no real stemmer for them. The
PostgreSQL warehouse keeps its language-aware stemming (migration 0002: news_ts_config
and the GIN index ix_articles_fts); nothing changes there.

A later migration that rebuilds `articles` on SQLite (batch mode copies the table) drops
these triggers and renumbers the rowids: it must recreate the triggers and run
`INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')` (tests/etl/warehouse/
test_search.py checks the index at head).

The SQL is written out here, not imported from etl code: a migration is a frozen snapshot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TOKENIZE = "porter unicode61 remove_diacritics 2"

# Inserting into the FTS table with the table's own name as a column is an FTS5 command:
# 'delete' removes the old tokens (they must be the values indexed), 'rebuild' reindexes.
_DELETE_OLD = ("INSERT INTO articles_fts(articles_fts, rowid, title, text) "
               "VALUES ('delete', old.rowid, old.title, old.text);")
_INSERT_NEW = ("INSERT INTO articles_fts(rowid, title, text) "
               "VALUES (new.rowid, new.title, new.text);")

TRIGGERS = {
    "articles_fts_insert": f"AFTER INSERT ON articles BEGIN {_INSERT_NEW} END",
    "articles_fts_delete": f"AFTER DELETE ON articles BEGIN {_DELETE_OLD} END",
    "articles_fts_update": f"AFTER UPDATE OF title, text ON articles BEGIN {_DELETE_OLD} "
                           f"{_INSERT_NEW} END",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', "
        f"content_rowid='rowid', tokenize='{TOKENIZE}')")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS articles_fts")
