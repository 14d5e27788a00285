"""Every duplicate, reject and failure a run counts has its row: outcome rows are keyed
per item — (run, source, URL, occurrence) — not per (run, URL).

One run of four feed sources against pages on 127.0.0.1, on SQLite and PostgreSQL,
through the CLI path and the Airflow staged path:
- three sources reach one story: the first loads it, the other two record a duplicate
  each, and the third lists it twice (two duplicates);
- three sources reach one missing page: three failures;
- a source expecting another language lists a story twice: two rejects.
Each source's counts add up and equal its rows; a retried run (same run id) counts the
same and adds no row."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from support.dated_feed import serve_stories
from support.local_site import feed

from etl.config import SourcesFile, load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse.schema import (
    article_duplicates,
    article_failures,
    article_rejects,
    articles,
    ingest_runs,
)

OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns
ROWS = {"duplicates": article_duplicates, "rejected": article_rejects,
        "failed": article_failures}
FEEDS = {  # source → (language, its feed's entries, in order)
    "first": ("en", ["ferry", "bridge", "gone"]),
    "second": ("en", ["ferry", "orchard", "gone"]),
    "third": ("en", ["ferry", "ferry", "gone"]),
    "fourth": ("fr", ["bakery", "bakery"]),
}
# source → (discovered, loaded, duplicates, rejected, failed, not_modified)
EXPECTED = {
    "first": (3, 2, 0, 0, 1, 0),   # ferry and bridge loaded; gone: http_404
    "second": (3, 1, 1, 0, 1, 0),  # ferry a duplicate of first's; gone waits its backoff
    "third": (3, 0, 2, 0, 1, 0),   # ferry listed twice: two duplicates
    "fourth": (2, 0, 0, 2, 0, 0),  # an English story listed twice, French expected
}


def sources_file(tmp_path: Path, server: HTTPServer) -> SourcesFile:
    serve_stories(server)
    server.expect_request("/news/gone").respond_with_data("gone", status=404)
    base = server.url_for("").rstrip("/")
    lines = ["http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
             "timeout_s: 20, retries: 0, max_per_host: 8}", "sources:"]
    for name, (language, slugs) in FEEDS.items():  # entries dated yesterday
        server.expect_request(f"/{name}.xml").respond_with_data(
            feed(base, slugs), content_type="application/rss+xml")
        lines.append(f"- {{name: {name}, kind: feed, location: "
                     f"'{server.url_for(f'/{name}.xml')}', language: {language}, "
                     "min_words: 20}")
    path = tmp_path / "sources.yml"
    path.write_text("\n".join(lines) + "\n")
    return load_sources(path)


def counts_and_rows(warehouse, run_id: str) -> dict[str, tuple[int, ...]]:
    """source → its counts; checks that they add up and that each duplicate, reject and
    failure counted has its row."""
    out = {}
    with warehouse.engine.connect() as conn:
        for run in conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                                ).mappings():
            assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), dict(run)
            for column, table in ROWS.items():
                rows = conn.execute(select(func.count()).select_from(table).where(
                    table.c.run_id == run_id, table.c.source == run["source"])).scalar()
                assert rows == run[column], (run["source"], column)
            out[run["source"]] = (run["discovered"], *(run[c] for c in OUTCOME_COLUMNS))
    return out


def row_totals(warehouse) -> dict[str, int]:
    with warehouse.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (articles, *ROWS.values())}


# Inline extraction, no Data Docs: nothing here reads them (the validation results stay
# in the warehouse), and building them is most of a small run's CPU.
QUIET = RunOptions(workers=1, data_docs=False)
TOTALS = {"articles": 3, "article_duplicates": 3, "article_rejects": 2,
          "article_failures": 3}


def test_cli_run_keeps_a_row_for_every_outcome_counted(server, warehouse, tmp_path,
                                                        monkeypatch):
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    sources = sources_file(tmp_path, server)
    options = QUIET

    summary = ingest(sources, warehouse, run_id="items-1", options=options)
    assert all(r.balanced for r in summary.reports)
    assert counts_and_rows(warehouse, "items-1") == EXPECTED
    assert row_totals(warehouse) == TOTALS
    with warehouse.engine.connect() as conn:
        dups = conn.execute(select(article_duplicates.c.source, article_duplicates.c.url)
                            .order_by(article_duplicates.c.source)).tuples().all()
    ferry = server.url_for("/news/ferry")
    assert dups == [("second", ferry), ("third", ferry), ("third", ferry)]

    # The run retried with the same run id: the same counts, not one row more.
    ingest(sources, warehouse, run_id="items-1", options=options)
    assert counts_and_rows(warehouse, "items-1") == EXPECTED
    assert row_totals(warehouse) == TOTALS


def test_staged_run_keeps_a_row_for_every_outcome_counted(server, warehouse, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    sources = sources_file(tmp_path, server)
    root, run_id, names = tmp_path / "staging", "scheduled__items", list(FEEDS)
    for name in names:  # one source after the other, as the DAG's mapped tasks may run
        [source] = sources.select([name])
        for chunk in stage_discover(source, run_id, root):
            stage_validate(stage_fetch_extract(chunk, source, run_id, QUIET, warehouse),
                           {name: source.min_words})
    summary = stage_load(run_id, root, names, warehouse, options=QUIET)
    assert all(r.balanced for r in summary.reports)
    assert counts_and_rows(warehouse, run_id) == EXPECTED
    assert row_totals(warehouse) == TOTALS

    # The load task retried: the same counts, not one row more.
    stage_load(run_id, root, names, warehouse, options=QUIET)
    assert counts_and_rows(warehouse, run_id) == EXPECTED
    assert row_totals(warehouse) == TOTALS
