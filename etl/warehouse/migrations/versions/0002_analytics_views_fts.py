"""Analytics views (daily_articles, source_health, reject_reasons); PostgreSQL full-text index.

Views are plain SQL over the contract tables, so they are always current. On PostgreSQL
an IMMUTABLE function maps an article's ISO 639-1 language to a text-search
configuration, and a GIN expression index over title + text makes language-aware
full-text search fast (queries must use the same expression, see docs/queries.md).

The SQL is written out here, not imported from etl code: a migration is a frozen
snapshot of the schema at that revision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# ISO 639-1 code → PostgreSQL text-search configuration (stemmer + stop words). Only the
# configurations the server actually has are used (checked at migration time), since a
# cast of a missing name would fail at plan time even in an untaken CASE branch.
TS_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}

# Day of an article: its publication date (UTC), or the ingestion date when the page
# states none, so every article is counted on some day.
DAILY_ARTICLES = {
    "postgresql": """
        SELECT (COALESCE(published_at, ingested_at) AT TIME ZONE 'UTC')::date AS day,
               source, language, COUNT(*) AS articles
        FROM articles
        GROUP BY 1, source, language
    """,
    "sqlite": """
        SELECT date(COALESCE(published_at, ingested_at)) AS day,
               source, language, COUNT(*) AS articles
        FROM articles
        GROUP BY 1, source, language
    """,
}

# Rates are over the items processed (loaded + duplicates + rejected + failed): items that
# were not modified since the last run were not looked at, so they dilute nothing.
_HEALTH_BODY = """
        source, {day} AS day,
        SUM(discovered) AS discovered, SUM(loaded) AS loaded, SUM(duplicates) AS duplicates,
        SUM(rejected) AS rejected, SUM(failed) AS failed, SUM(not_modified) AS not_modified,
        CAST(SUM(rejected) AS {real})
            / NULLIF(SUM(loaded) + SUM(duplicates) + SUM(rejected) + SUM(failed), 0)
            AS reject_rate,
        CAST(SUM(duplicates) AS {real})
            / NULLIF(SUM(loaded) + SUM(duplicates) + SUM(rejected) + SUM(failed), 0)
            AS duplicate_rate
    FROM ingest_runs
    GROUP BY source, 2
"""
SOURCE_HEALTH = {
    "postgresql": "SELECT" + _HEALTH_BODY.format(
        day="(started_at AT TIME ZONE 'UTC')::date", real="double precision"),
    "sqlite": "SELECT" + _HEALTH_BODY.format(day="date(started_at)", real="REAL"),
}

# `reasons` is a JSON list of failed expectation names: one output row per name.
REJECT_REASONS = {
    "postgresql": """
        SELECT r.source, reason.value AS reason, COUNT(*) AS count
        FROM article_rejects AS r
        CROSS JOIN LATERAL json_array_elements_text(r.reasons) AS reason(value)
        GROUP BY r.source, reason.value
    """,
    "sqlite": """
        SELECT r.source, reason.value AS reason, COUNT(*) AS count
        FROM article_rejects AS r, json_each(r.reasons) AS reason
        GROUP BY r.source, reason.value
    """,
}

VIEWS = {
    "daily_articles": DAILY_ARTICLES,
    "source_health": SOURCE_HEALTH,
    "reject_reasons": REJECT_REASONS,
}

FTS_DOCUMENT = "(COALESCE(title, '') || ' ' || text)"


def _create_ts_config_function() -> None:
    available = {
        row[0] for row in op.get_bind().exec_driver_sql("SELECT cfgname FROM pg_ts_config")
    }
    branches = "\n".join(
        f"        WHEN '{code}' THEN 'pg_catalog.{name}'::regconfig"
        for code, name in sorted(TS_CONFIGS.items()) if name in available
    )
    # 'fr', 'FR', 'fr-CA' and 'fr_CA' all map to french; NULL and unknown codes to simple.
    # IMMUTABLE (the mapping never depends on data) so it can appear in an index.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION news_ts_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE lower(split_part(replace(language, '_', '-'), '-', 1))
{branches}
            ELSE 'pg_catalog.simple'::regconfig
        END
        $$
    """)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql[dialect]}")
    if dialect == "postgresql":
        _create_ts_config_function()
        op.execute(
            "CREATE INDEX ix_articles_fts ON articles USING gin "
            f"(to_tsvector(news_ts_config(language), {FTS_DOCUMENT}))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_fts")
        op.execute("DROP FUNCTION IF EXISTS news_ts_config(text)")
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
