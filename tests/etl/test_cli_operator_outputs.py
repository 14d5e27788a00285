"""Where `news-etl` writes its files, and when it writes Data Docs, through the CLI.

Archive, Data Docs and staging default to folders beside a SQLite warehouse's file (for
PostgreSQL: ./data), never the current directory; NEWS_ETL_* variables still choose. Data
Docs are written for a run that validated something, not for one where every item was
not_modified."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from support.local_site import serve_site
from support.operator import clear_environment, newsroom

from etl.cli import main
from etl.settings import Settings
from etl.warehouse.schema import ingest_runs, validation_results


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the directory the command is started from


def report_paths(url: str) -> dict[str, str | None]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(ingest_runs.c.run_id, ingest_runs.c.report_path)).all()
    engine.dispose()
    return dict(rows)


def test_files_go_beside_a_sqlite_warehouse_not_the_current_directory(tmp_path, httpserver,
                                                                      capsys) -> None:
    serve_site(httpserver)
    home = tmp_path / "store"
    home.mkdir()
    url = f"sqlite:///{home / 'warehouse.db'}"
    sources = tmp_path / "web.yml"
    sources.write_text(
        "http: {allow_hosts: [127.0.0.1], obey_robots: false, min_delay_s: 0, retries: 0}\n"
        "sources:\n"
        f"- {{name: local, kind: feed, location: '{httpserver.url_for('/feed.xml')}'}}\n")
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "web-1"]) == 0
    assert list((home / "archive").rglob("*__local.warc.gz")), "archive beside the warehouse"
    assert (home / "data-docs" / "web-1" / "local" / "index.html").is_file()
    assert report_paths(url)["web-1"] == str(home / "data-docs" / "web-1" / "local" /
                                             "index.html")
    assert list((tmp_path / "elsewhere").iterdir()) == [], "nothing in the current directory"
    assert Settings.load(warehouse_url=url).staging_dir == home / "staging"


def test_postgresql_files_go_under_dot_data(pg_migrated_database, tmp_path, capsys) -> None:
    sources = newsroom(tmp_path)
    assert main(["ingest", str(sources), "--warehouse", pg_migrated_database,
                 "--workers", "1", "--run-id", "pg-1"]) == 0
    assert (tmp_path / "elsewhere" / "data" / "data-docs" / "pg-1" / "desk" /
            "index.html").is_file()
    assert Settings.load(warehouse_url=pg_migrated_database).staging_dir == Path("data/staging")


def test_variables_still_choose(monkeypatch, tmp_path, sqlite_url, capsys) -> None:
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS_DIR", str(tmp_path / "docs-here"))
    assert main(["ingest", str(newsroom(tmp_path)), "--warehouse", sqlite_url,
                 "--workers", "1", "--run-id", "v-1"]) == 0
    assert (tmp_path / "docs-here" / "v-1" / "desk" / "index.html").is_file()
    assert not (tmp_path / "data-docs").exists()


def test_no_data_docs_for_a_run_where_everything_was_not_modified(migrated_warehouse_url,
                                                                   tmp_path, monkeypatch,
                                                                   capsys) -> None:
    docs = tmp_path / "docs"
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS_DIR", str(docs))
    sources = newsroom(tmp_path, stub=False)
    url = migrated_warehouse_url
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "first"]) == 0
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "again", "--json"]) == 0
    assert '"not_modified": 2' in capsys.readouterr().out  # the same two pages again
    assert (docs / "first" / "desk" / "index.html").is_file()
    assert not (docs / "again").exists()
    assert report_paths(url) == {"first": str(docs / "first" / "desk" / "index.html"),
                                 "again": None}
    # A new page is validated: that run has its Data Docs.
    (tmp_path / "desk" / "stub.html").write_text("<html><body><p>A stub.</p></body></html>")
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "changed"]) == 0
    assert (docs / "changed" / "desk" / "index.html").is_file()


# Each way on one warehouse: how the setting is read does not depend on the warehouse, and
# both warehouses still show the results recorded without a site.
@pytest.mark.parametrize(("how", "migrated_warehouse_url"),
                         [("flag", "postgresql"), ("variable", "sqlite")],
                         indirect=["migrated_warehouse_url"])
def test_data_docs_can_be_turned_off(how, migrated_warehouse_url, tmp_path, monkeypatch,
                                     capsys) -> None:
    """--no-data-docs or NEWS_ETL_DATA_DOCS=false: no site, no report_path, and the
    validation results are still recorded."""
    docs = tmp_path / "docs"
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS_DIR", str(docs))
    flags = ["--no-data-docs"] if how == "flag" else []
    if how == "variable":
        monkeypatch.setenv("NEWS_ETL_DATA_DOCS", "false")
    url = migrated_warehouse_url
    assert main(["ingest", str(newsroom(tmp_path)), "--warehouse", url, "--workers", "1",
                 "--run-id", "quiet", *flags]) == 0
    assert not docs.exists()
    assert report_paths(url) == {"quiet": None}
    engine = create_engine(url)
    with engine.connect() as conn:
        recorded = conn.execute(select(validation_results.c.run_id)).scalars().all()
    engine.dispose()
    assert recorded and set(recorded) == {"quiet"}
