"""`news-etl revisit --all` against a site an editor changes between runs: exactly the
expected versions and change kinds, on SQLite and PostgreSQL, with the accounting adding up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from support.operator import clear_environment

from etl.cli import main
from etl.dedup.near_index import index_entry
from etl.records import OUTCOME_COLUMNS, Article
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_signatures, articles, ingest_runs
from etl.warehouse.search import search

from .site import serve_edited_site, sources_yml

DOCS = Path(__file__).resolve().parents[3] / "docs" / "revisits.md"
SLUGS = ["bridge", "orchard", "budget", "festival", "weather", "tram", "market"]


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)  # archives and staging under ./data


def run_counts(engine, run_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        row = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                           ).mappings().one()
    assert row["discovered"] == sum(row[c] for c in OUTCOME_COLUMNS.values()), dict(row)
    return {k: row[k] for k in ("discovered", *OUTCOME_COLUMNS.values()) if row[k]}


def versions(engine) -> dict[str, list[tuple[int, str]]]:
    query = text("SELECT a.url, v.version, v.change_kind FROM article_versions v "
                 "JOIN articles a ON a.article_id = v.article_id ORDER BY a.url, v.version")
    with engine.connect() as conn:
        found: dict[str, list[tuple[int, str]]] = {}
        for url, version, kind in conn.execute(query):
            found.setdefault(url.rsplit("/", 1)[-1], []).append((version, kind))
    return found


def test_revisits_store_each_kind_of_change(migrated_warehouse_url, tmp_path: Path,
                                            httpserver, capsys) -> None:
    site = serve_edited_site(httpserver, SLUGS)
    site.pages["tram"].etag = True
    sources = sources_yml(tmp_path / "sources.yml", site, SLUGS)
    common = ["--warehouse", migrated_warehouse_url]
    assert main(["ingest", sources, *common, "--workers", "1", "--run-id", "load"]) == 0
    engine = create_engine(migrated_warehouse_url.replace(
        "postgresql://", "postgresql+psycopg://", 1))
    assert run_counts(engine, "load") == {"discovered": 7, "loaded": 7}

    # The editor's day.
    pages = site.pages
    pages["bridge"].title = "Old river bridge closure delayed until summer"
    pages["orchard"].paragraphs.append(
        "A second orchard is planned on the old tennis courts, where the soil is being "
        "tested for lead before the first saplings go in next winter.")
    pages["budget"].paragraphs.append(
        "Correction: an earlier version of this story said five schools had leaks; the "
        "inspectors found leaks in four.")
    pages["festival"].status = 410
    pages["weather"].chrome = "Updated 17:45 · Advert: winter tyres, two for one"
    pages["market"].paragraphs = ["The market returns next month."]  # fails min_words
    assert main(["revisit", sources, *common, "--all", "--run-id", "revisit-1"]) == 0
    assert run_counts(engine, "revisit-1") == {
        "discovered": 7, "loaded": 4, "rejected": 1, "not_modified": 2}
    assert versions(engine) == {
        "bridge": [(1, "original"), (2, "headline")],
        "orchard": [(1, "original"), (2, "body")],
        "budget": [(1, "original"), (2, "correction")],
        "festival": [(1, "original"), (2, "unpublished")],
    }

    pages["festival"].status = 200  # back, as it was
    assert main(["revisit", sources, *common, "--all", "--run-id", "revisit-2"]) == 0
    assert run_counts(engine, "revisit-2") == {
        "discovered": 7, "loaded": 1, "not_modified": 6}
    assert versions(engine)["festival"] == [(1, "original"), (2, "unpublished"),
                                            (3, "restored")]

    with engine.connect() as conn:
        stored = {r.url.rsplit("/", 1)[-1]: r for r in conn.execute(select(articles))}
        changes = conn.execute(text(
            "SELECT url, version, change_kind, old_title, new_title, chars_added, "
            "chars_removed FROM article_changes ORDER BY url, version")).all()
        stats = conn.execute(select(ingest_runs.c.stage_stats)
                             .where(ingest_runs.c.run_id == "revisit-1")).scalar_one()
        rejects = conn.execute(text("SELECT url FROM article_rejects")).scalars().all()
        signature = conn.execute(select(article_signatures.c.signature).where(
            article_signatures.c.article_id == stored["orchard"].article_id)).scalar_one()
    assert {s: r.version for s, r in stored.items()} == {
        "bridge": 2, "orchard": 2, "budget": 2, "festival": 3, "weather": 1, "tram": 1,
        "market": 1}
    assert stored["bridge"].title == "Old river bridge closure delayed until summer"
    assert "second orchard" in stored["orchard"].text
    assert "Correction:" in stored["budget"].text
    assert stored["festival"].unpublished_at is None
    # The failing revision is quarantined; the good current version stays.
    assert [u.rsplit("/", 1)[-1] for u in rejects] == ["market"]
    assert "Thirty stalls" in stored["market"].text
    # The timestamp and advert are outside the article: its text did not change.
    by_stage = {s["stage"]: s for s in stats}
    notes = by_stage["detect_changes"]
    assert notes["dropped"] == {"unchanged_text": 1}
    # Changes found (the market's, then rejected by validation, among them).
    assert notes["notes"] == {"headline": 1, "body": 2, "correction": 1}
    assert by_stage["fetch"]["dropped"].get("not_modified") == 1  # the 304 of the page with an ETag

    assert [(c.url.rsplit("/", 1)[-1], c.version, c.change_kind) for c in changes] == [
        ("bridge", 2, "headline"), ("budget", 2, "correction"), ("festival", 2, "unpublished"),
        ("festival", 3, "restored"), ("orchard", 2, "body")]
    bridge = changes[0]
    assert bridge.old_title == "Old river bridge to close for repairs in spring"
    assert bridge.new_title == "Old river bridge closure delayed until summer"
    orchard = changes[-1]
    assert orchard.chars_added > 100 and orchard.chars_removed == 0

    # Full-text search and the near-duplicate signature follow the current version.
    warehouse = Warehouse(migrated_warehouse_url)
    assert [h.url for h in search(warehouse, "tennis courts saplings")] == [site.url("orchard")]
    assert search(warehouse, "bearings summer closure delayed")[0].url == site.url("bridge")
    warehouse.dispose()
    current = Article(url=site.url("orchard"), source="town", text=stored["orchard"].text)
    entry = index_entry(current)
    assert entry is not None and bytes(signature) == entry.signature.tobytes()
    # The documented query "headlines changed in the last 24 hours" finds the rewrite.
    with engine.connect() as conn:
        recent = conn.exec_driver_sql(headline_query(engine.dialect.name)).all()
    assert [(r.url.rsplit("/", 1)[-1], r.new_title) for r in recent] == [
        ("bridge", "Old river bridge closure delayed until summer")]
    engine.dispose()
    capsys.readouterr()


def headline_query(dialect: str) -> str:
    mark = {"postgresql": "-- PostgreSQL", "sqlite": "-- SQLite"}[dialect]
    blocks = re.findall(r"^```sql\n(.*?)^```", DOCS.read_text(), re.MULTILINE | re.DOTALL)
    return next(b for b in blocks if b.startswith(mark) and "24 hours" in b)
