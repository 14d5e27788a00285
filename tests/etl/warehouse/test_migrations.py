"""Alembic owns the schema: upgrades work on both databases, with data, and match schema.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from etl.records import Outcome
from etl.warehouse import MIGRATIONS_DIR, Warehouse
from etl.warehouse.load import finish_run, write_batch
from etl.warehouse.schema import metadata

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
    assert revisions[-1] == "0001"
    assert {"0002", "0003"} <= set(revisions)


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
        write_batch(conn, loaded, [make_reject(1, ["min_words", "language"])], "run-1")
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


def _include_for(dialect: str):
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and name == "alembic_version":  # Alembic's own bookkeeping
            return False
        if dialect != "postgresql":
            return True
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
