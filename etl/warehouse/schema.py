"""The warehouse tables, as SQLAlchemy Core metadata.

This is the public contract for downstream SQL analytics: keep the names. The schema
in a database is created and changed only by the Alembic migrations in `migrations/`;
`tests/etl/warehouse/test_migrations.py` checks that head matches this module.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("canonical_url", Text, nullable=False, index=True),
    Column("source", String(64), nullable=False, index=True),
    Column("title", Text),
    Column("author", Text),
    Column("published_at", DateTime(timezone=True), index=True),
    Column("language", String(8)),
    Column("sitename", Text),
    Column("description", Text),
    Column("categories", JSON),
    Column("tags", JSON),
    Column("text", Text, nullable=False),
    Column("text_sha256", String(64), nullable=False, index=True),
    Column("word_count", Integer, nullable=False),
    Column("title_source", String(32)),
    Column("date_source", String(32)),
    Column("author_source", String(32)),
    Column("extractor_version", String(64)),
    Column("cluster_id", String(32), index=True),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(250), nullable=False, index=True),
    # Migration 0008 (docs/fields.md): the updated date, the publisher's offset and day of
    # the published date, the lead image, paywall and live-blog flags, with provenance.
    Column("modified_at", DateTime(timezone=True)),
    Column("modified_source", String(32)),
    Column("published_utc_offset_min", Integer),
    Column("published_local_date", Date, index=True),
    Column("image_url", Text),
    Column("image_source", String(32)),
    Column("is_paywalled", Boolean),
    Column("paywall_source", String(32)),
    Column("is_liveblog", Boolean),
    Column("liveblog_source", String(32)),
    # Migration 0009 (docs/revisits.md): the number of the version this row holds, and
    # when a revisit found the URL gone (404/410; the text is kept).
    Column("version", Integer, nullable=False, server_default="1"),
    Column("unpublished_at", DateTime(timezone=True)),
)

# SQLite only: the FTS5 index over articles.title and .text (migration 0007), kept in step
# by triggers; FTS5 stores it in shadow tables named articles_fts_*. PostgreSQL indexes the
# same text with the expression index ix_articles_fts (migration 0002).
ARTICLES_FTS = "articles_fts"
ARTICLES_FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

article_duplicates = Table(
    "article_duplicates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text),
    Column("source", String(64), nullable=False),
    Column("duplicate_of", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # url | text | near
    Column("similarity", Float),
    Column("title", Text),
    Column("published_at", DateTime(timezone=True)),
    Column("cluster_id", String(32), index=True),
    Column("run_id", String(250), nullable=False, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # The nth record of this (run, source, URL): a source may list a URL twice.
    Column("occurrence", Integer, nullable=False, server_default="1"),
    UniqueConstraint("run_id", "source", "url", "occurrence",
                     name="uq_article_duplicates_item"),
)

article_rejects = Table(
    "article_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("source", String(64), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("reasons", JSON, nullable=False),  # names of the failed expectations
    Column("detail", Text),
    Column("run_id", String(250), nullable=False, index=True),
    Column("rejected_at", DateTime(timezone=True), nullable=False),
    # What was extracted, so a rule change can re-validate without re-fetching.
    Column("record", JSON, nullable=False),
    Column("title", Text),
    Column("language", String(8)),
    Column("word_count", Integer),
    Column("published_at", DateTime(timezone=True)),
    Column("resolved_run_id", String(250)),  # set when a later revalidation loaded it
    Column("occurrence", Integer, nullable=False, server_default="1"),
    UniqueConstraint("run_id", "source", "url", "occurrence", name="uq_article_rejects_item"),
)

article_failures = Table(
    "article_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("source", String(64), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", Text),
    Column("run_id", String(250), nullable=False, index=True),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Column("occurrence", Integer, nullable=False, server_default="1"),
    UniqueConstraint("run_id", "source", "url", "occurrence", name="uq_article_failures_item"),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running | success | source_failed
    Column("discovered", Integer, nullable=False, default=0),
    Column("loaded", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("not_modified", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("stage_stats", JSON),
    Column("report_path", Text),
)

validation_results = Table(
    "validation_results",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("batch", Integer, primary_key=True),
    Column("success", Boolean, nullable=False),
    Column("evaluated", Integer, nullable=False),
    Column("result", JSON, nullable=False),  # the whole Great Expectations result
    Column("created_at", DateTime(timezone=True), nullable=False),
)

Index("ix_article_duplicates_url", article_duplicates.c.url)

# Near-duplicate index (etl.dedup.near): the MinHash signature of every loaded article with
# enough words, and one row per LSH band key. The (band_key, article_id) primary key is the
# probe index, so candidates come from one index scan against all history.
article_signatures = Table(
    "article_signatures",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("signature", LargeBinary, nullable=False),  # little-endian uint32 x num_perm
    Column("created_at", DateTime(timezone=True), nullable=False),
)

article_bands = Table(
    "article_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True, autoincrement=False),
    Column("article_id", String(32), primary_key=True),
    sqlite_with_rowid=False,  # SQLite: the key is the table (one B-tree, covering probes)
)

# Summaries refreshed by the news_analytics DAG (etl.analytics.refresh_summaries): the
# same names and columns on both databases. On PostgreSQL they are materialized views
# (so not tables: the migration test leaves them out there); on SQLite, plain tables.
SUMMARY_INFO = {"summary": "materialized view on PostgreSQL, table on SQLite"}

mv_daily_articles = Table(
    "mv_daily_articles",
    metadata,
    Column("day", Date, nullable=False),
    Column("source", String(64), nullable=False),
    Column("language", String(8)),
    Column("articles", Integer, nullable=False),
    info=SUMMARY_INFO,
)

mv_source_health = Table(
    "mv_source_health",
    metadata,
    Column("source", String(64), nullable=False),
    Column("day", Date, nullable=False),
    *(Column(c, Integer, nullable=False) for c in (
        "discovered", "loaded", "duplicates", "rejected", "failed", "not_modified")),
    Column("reject_rate", Float),
    Column("duplicate_rate", Float),
    info=SUMMARY_INFO,
)

fetch_ledger = Table(
    "fetch_ledger",
    metadata,
    Column("url", Text, primary_key=True),
    Column("source", String(64), nullable=False, index=True),
    Column("final_url", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("content_sha256", String(64)),  # of the last body: an unchanged 200 is not_modified
    Column("last_status", Integer),
    Column("last_reason", String(64)),  # None when the last fetch succeeded
    Column("last_fetched_at", DateTime(timezone=True), nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),  # failed URLs wait (backoff)
    Column("archive_path", Text),  # the WARC file holding the last body
    # The run that fetched the body etag/last_modified/content_sha256 describe, and whether
    # that run's load recorded its outcome (set in the load transaction). Until then the
    # validators prove nothing: a crash between fetch and load must not turn into a 304.
    Column("body_run_id", String(250)),
    Column("body_settled", Boolean, nullable=False, server_default=false()),
)

# Revisits (migration 0009, docs/revisits.md, etl.revisit). An article's history, written
# from its first change on: version 1 (change_kind 'original', copied from articles) and
# each later version. articles holds the latest one and its number (articles.version).
article_versions = Table(
    "article_versions",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("text_sha256", String(64), nullable=False),
    # original | headline | correction | body | unpublished | restored
    Column("change_kind", String(16), nullable=False),
    Column("chars_added", Integer, nullable=False, server_default="0"),
    Column("chars_removed", Integer, nullable=False, server_default="0"),
    Column("run_id", String(250), nullable=False),
    Index("ix_article_versions_fetched_at", "fetched_at"),
)

# The revisit schedule: one row per article revisited so far. No row: not revisited yet
# (due once its first delay has passed); next_revisit_at NULL: its schedule is over.
article_revisits = Table(
    "article_revisits",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("next_revisit_at", DateTime(timezone=True)),
    Column("last_revisit_at", DateTime(timezone=True)),
    Column("revisits", Integer, nullable=False, server_default="0"),
    Index("ix_article_revisits_due", "source", "next_revisit_at"),
)

# Adaptive polling (etl.polling, migration 0010, docs/polling.md): one row per source polled,
# what the rule decided after its last poll. The view source_poll_health reads it.
source_poll_state = Table(
    "source_poll_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # active | suspended
    Column("next_due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("interval_s", Integer, nullable=False),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_failure_kind", String(8)),  # hard | soft; NULL after a success
    Column("last_error", Text),
    Column("items_per_day", Float),  # new items per day, exponentially weighted
    Column("last_new_items", Integer),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_polled_at", DateTime(timezone=True)),
    Column("suspended_at", DateTime(timezone=True)),
)
