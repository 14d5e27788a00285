"""Alembic owns the schema: upgrades work on both databases, with data, and match schema.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, inspect, text
from support.migrations import downgrade

from etl.records import Outcome
from etl.warehouse import MIGRATIONS_DIR, Warehouse
from etl.warehouse.load import article_row, finish_run
from etl.warehouse.schema import ARTICLES_FTS, metadata

VIEWS = {"daily_articles", "source_health", "reject_reasons"}
SUMMARIES = {"mv_daily_articles", "mv_source_health"}


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def _version(wh: Warehouse) -> str:
    with wh.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_chain_is_linear_from_0001() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    revisions = [r.revision for r in script.walk_revisions("base", "heads")]
    # One sequence, one style: "0001", "0002", … and each file is named after its id.
    assert revisions[::-1] == [f"{i:04d}" for i in range(1, len(revisions) + 1)]
    for revision in script.walk_revisions("base", "heads"):
        assert revision.path.rsplit("/", 1)[-1].startswith(revision.revision + "_")


def test_a_warehouse_stamped_with_a_legacy_revision_id_keeps_upgrading(
        warehouse_url: str) -> None:
    """Ids of the old mixed style ("0011_fetch_ledger") are re-stamped, not lost."""
    wh = Warehouse(warehouse_url)
    wh.migrate("0005")
    with wh.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0011_fetch_ledger'"))
    wh.migrate()
    assert _version(wh) == _head()
    assert "body_settled" in {c["name"] for c in inspect(wh.engine).get_columns("fetch_ledger")}
    wh.dispose()


def test_upgrade_empty_to_head(warehouse_url: str) -> None:
    wh = Warehouse(warehouse_url)
    wh.migrate()
    wh.migrate()  # idempotent
    assert _version(wh) == _head()
    insp = inspect(wh.engine)
    assert set(insp.get_view_names()) >= VIEWS
    with wh.engine.connect() as conn:
        for name in VIEWS | SUMMARIES:
            assert conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one() == 0
    wh.dispose()


def test_upgrade_from_0001_with_data(warehouse_url: str, make_article, make_reject) -> None:
    wh = Warehouse(warehouse_url)
    wh.migrate("0001")
    assert _version(wh) == "0001"
    started = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with wh.begin() as conn:
        loaded = [make_article(i, language="fr") for i in range(3)]
        # Rows in the shape of revision 0001 (today's write_batch writes newer columns).
        _insert_as_stored(conn, "articles",
                          [article_row(a, "run-1", started) for a in loaded])
        reject = make_reject(1, ["min_words", "language"])
        _insert_as_stored(conn, "article_rejects", [{
            "url": reject.article.url, "source": reject.article.source, "stage": "validate",
            "reasons": reject.reasons, "detail": reject.detail, "run_id": "run-1",
            "rejected_at": started, "record": {"url": reject.article.url}}])
        finish_run(conn, "run-1", "wire", started_at=started, discovered=4,
                   outcomes={Outcome.LOADED: 3, Outcome.REJECTED: 1}, status="success")

    wh.migrate()
    assert _version(wh) == _head()
    with wh.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == 3
        daily = conn.execute(text(
            "SELECT CAST(day AS VARCHAR(10)), source, language, articles FROM daily_articles"
        )).all()
        assert [tuple(r) for r in daily] == [("2026-11-20", "wire", "fr", 3)]
        health = conn.execute(text(
            "SELECT source, discovered, loaded, rejected, reject_rate FROM source_health"
        )).one()
        assert tuple(health) == ("wire", 4, 3, 1, pytest.approx(0.25))
        reasons = conn.execute(text(
            "SELECT source, reason, count FROM reject_reasons ORDER BY reason")).all()
        assert [tuple(r) for r in reasons] == [("wire", "language", 1), ("wire", "min_words", 1)]
        # Summaries are filled when they are created, from the data already there.
        assert conn.execute(text("SELECT articles FROM mv_daily_articles")).scalar_one() == 3
        assert conn.execute(text("SELECT rejected FROM mv_source_health")).scalar_one() == 1
    wh.dispose()




def _insert_as_stored(conn, table: str, rows: list[dict]) -> None:
    """Insert `rows` into the table as the database holds it now (its columns only)."""
    stored = Table(table, MetaData(), autoload_with=conn)
    conn.execute(stored.insert(), [{k: v for k, v in row.items() if k in stored.c}
                                   for row in rows])


def _include_for(dialect: str):
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and name == "alembic_version":  # Alembic's own bookkeeping
            return False
        if dialect != "postgresql":
            # The FTS5 virtual table and its shadow tables (SQLite only, migration 0007).
            return not (type_ == "table"
                        and (name == ARTICLES_FTS or name.startswith(ARTICLES_FTS + "_")))
        # PostgreSQL-only objects that schema.py cannot express portably: the summaries
        # are materialized views there (views are not compared), and the full-text index
        # is an expression index (checked by test_fts.py).
        if type_ == "index" and name == "ix_articles_fts":
            return False
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return not (table is not None and table.info.get("summary"))

    return include


def test_head_matches_schema_module(warehouse_url: str) -> None:
    wh = Warehouse(warehouse_url)
    wh.migrate()
    with wh.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _include_for(conn.dialect.name)})
        diffs = compare_metadata(context, metadata)
    assert diffs == []
    wh.dispose()


def test_upgrade_from_0005_settles_processed_ledger_rows_and_keys_items(
        warehouse_url: str, make_article) -> None:
    """0012: ledger rows of stored, duplicate or rejected URLs are settled, others are
    not (fetched again once); outcome rows get occurrence 1 and per-item keys, which the
    downgrade folds back."""
    wh = Warehouse(warehouse_url)
    wh.migrate("0005")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    story, copy, turned_down, lost = (f"https://news.example/wire/{n}" for n in range(4))
    with wh.begin() as conn:
        _insert_as_stored(conn, "articles", [article_row(make_article(0), "run-1", now)])
        _insert_as_stored(conn, "article_duplicates", [{
            "url": copy, "source": "wire", "duplicate_of": "x", "kind": "text",
            "run_id": "run-1", "recorded_at": now}])
        _insert_as_stored(conn, "article_rejects", [{
            "url": turned_down, "source": "wire", "stage": "validate", "reasons": ["x"],
            "run_id": "run-1", "rejected_at": now, "record": {}}])
        _insert_as_stored(conn, "article_failures", [{
            "url": lost, "source": "wire", "stage": "extract", "reason": "extract_timeout",
            "run_id": "run-1", "failed_at": now}])
        _insert_as_stored(conn, "fetch_ledger", [{
            "url": url, "source": "wire", "etag": '"v1"', "last_status": 200,
            "last_fetched_at": now, "consecutive_failures": 0}
            for url in (story, copy, turned_down, lost)])

    wh.migrate()
    with wh.engine.connect() as conn:
        settled = dict(conn.execute(text("SELECT url, body_settled FROM fetch_ledger")).all())
        assert {u: bool(v) for u, v in settled.items()} == {
            story: True, copy: True, turned_down: True, lost: False}
        for table in ("article_duplicates", "article_rejects", "article_failures"):
            assert conn.execute(text(f"SELECT occurrence FROM {table}")).scalars().all() == [1]
        assert set(inspect(conn).get_view_names()) >= VIEWS | {"story_clusters"}
    # A second source's and a second listing's rows fit now.
    with wh.begin() as conn:
        _insert_as_stored(conn, "article_duplicates", [{
            "url": copy, "source": source, "duplicate_of": "x", "kind": "text",
            "run_id": "run-1", "recorded_at": now, "occurrence": n}
            for source, n in (("other", 1), ("wire", 2))])

    downgrade(wh, "0005")
    assert _version(wh) == "0005"
    with wh.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM article_duplicates")).scalar() == 1
    wh.migrate()
    assert _version(wh) == _head()
    wh.dispose()
