"""Every ```sql block of README.md and docs/*.md runs as written on both warehouses, after a
real ingest of the seed files — so the documented queries cannot drift from the schema.

A block whose first line is `-- PostgreSQL` or `-- SQLite` runs on that warehouse only;
every other block runs on both. Blocks run through the driver exactly as written (no
SQLAlchemy parameter handling): a `:placeholder` fails as it would for an analyst."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT
from sqlalchemy import create_engine

DIALECT_MARKS = {"-- PostgreSQL": "postgresql", "-- SQLite": "sqlite"}
_BLOCK = re.compile(r"^```sql[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def sql_blocks() -> list[tuple[str, str, str | None]]:
    """(where, sql, dialect or None for both) for every sql block of the documents."""
    blocks = []
    for document in DOCUMENTS:
        content = document.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(content):
            line = content.count("\n", 0, match.start()) + 1
            sql = match.group(1).strip()
            first = sql.splitlines()[0].strip()
            blocks.append((f"{document.relative_to(REPO_ROOT)}:{line}", sql,
                           DIALECT_MARKS.get(first)))
    return blocks


BLOCKS = sql_blocks()


def test_the_documents_have_sql_for_both_warehouses() -> None:
    assert len(BLOCKS) >= 10
    dialects = {dialect for _, _, dialect in BLOCKS}
    assert dialects == {None, "postgresql", "sqlite"}


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, seeded_warehouses):
    """(dialect, engine) on a warehouse holding the seed run (shared, read only: a block's
    statements are never committed)."""
    url = seeded_warehouses(request.param)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield request.param, engine
    engine.dispose()


def _run(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(sql).all()]


# Each block on each warehouse it is written for (a dialect's own block runs only there).
CASES = [(where, sql, dialect) for where, sql, only in BLOCKS
         for dialect in ((only,) if only else ("sqlite", "postgresql"))]


@pytest.mark.parametrize(("where", "sql", "seeded"), CASES, indirect=["seeded"],
                         ids=[f"{where}-{dialect}" for where, _, dialect in CASES])
def test_sql_block_runs_as_written(seeded, where: str, sql: str) -> None:
    _, engine = seeded
    _run(engine, sql)  # raises on any error: unknown function, placeholder, syntax


def _blocks_with(*needles: str) -> list[tuple[str, str | None]]:
    found = [(sql, only) for _, sql, only in BLOCKS if all(n in sql for n in needles)]
    assert found, f"no documented query contains {needles}"
    return found


def _for(dialect: str, *needles: str) -> str:
    return next(sql for sql, only in _blocks_with(*needles) if only in (None, dialect))


def test_the_run_duration_is_measured_on_both(seeded) -> None:
    """`took` used to be `finished_at - started_at`, always 0 on SQLite (text timestamps)."""
    dialect, engine = seeded
    rows = _run(engine, _for(dialect, "took_s", "FROM ingest_runs"))
    assert {r[0] for r in rows} == {"1scandal", "newsroom-samples", "mirror"}
    assert all(float(r[-1]) > 0 for r in rows), rows


def test_full_text_query_finds_the_french_drones_article(seeded) -> None:
    dialect, engine = seeded
    rows = _run(engine, _for(dialect, "drones", "language = 'fr'"))
    assert len(rows) == 1 and "drones" in rows[0][3]


def test_largest_story_lists_the_kept_article_then_its_copy(seeded) -> None:
    dialect, engine = seeded
    rows = _run(engine, _for(dialect, "'kept' AS kind"))
    # The copy carries the page's canonical link: a `url` duplicate of the kept article.
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (0, "newsroom-samples", "kept"), (1, "mirror", "url")]


def test_title_sources_are_aggregated_on_both(seeded) -> None:
    dialect, engine = seeded
    rows = _run(engine, _for(dialect, "AS title_from"))
    by_language = {r[0]: r for r in rows}
    assert set(by_language) == {"fr", "de", "en", "es"}
    # "h1": the French page's only title is its <h1> (etl/extract/metadata/title_chooser.py)
    assert {s.strip() for s in by_language["fr"][-1].split(",")} == {"first_line", "h1"}
