"""`news-etl reextract` and `news-etl prune`, as an operator runs them, on both warehouses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from support.local_site import serve_site
from support.operator import clear_environment, newsroom

from etl.cli import main
from etl.records import OUTCOME_COLUMNS
from etl.settings import output_root
from etl.warehouse.schema import articles, ingest_runs

CLI = Path(sys.executable).parent / "news-etl"
DAY = 86400


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)  # PostgreSQL runs keep their files under ./data


def web_sources(path: Path, feed_url: str, boilerplate: str = "") -> Path:
    path.write_text(
        "http: {allow_hosts: [127.0.0.1], obey_robots: false, min_delay_s: 0, retries: 0}\n"
        "sources:\n"
        f"- {{name: local, kind: feed, location: '{feed_url}'{boilerplate}}}\n")
    return path


def texts(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(articles.c.url, articles.c.text)).all())
    engine.dispose()
    return rows


def run_record(url: str, run_id: str) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                           ).mappings().one()
    engine.dispose()
    assert row["discovered"] == sum(row[c] for c in OUTCOME_COLUMNS.values()), row
    return dict(row)


def test_reextract_applies_a_rule_change_to_stored_articles(migrated_warehouse_url, tmp_path,
                                                            httpserver, capsys,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS", "false")  # never read here
    serve_site(httpserver)
    url = migrated_warehouse_url
    sources = web_sources(tmp_path / "sources.yml", httpserver.url_for("/feed.xml"))
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "first"]) == 0
    before = texts(url)
    assert len(before) == 2
    assert any("Subscribe to our newsletter" in t for t in before.values())
    requests_so_far = len(httpserver.log)

    # The rule change: a boilerplate line this source's pages carry.
    web_sources(sources, httpserver.url_for("/feed.xml"),
                ", boilerplate: ['^Subscribe to our newsletter']")
    capsys.readouterr()
    assert main(["reextract", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "again"]) == 0
    out = capsys.readouterr().out
    assert "Run again" in out
    after = texts(url)
    assert set(after) == set(before)  # updated in place: no new rows
    assert not any("Subscribe to our newsletter" in t for t in after.values())
    assert len(httpserver.log) == requests_so_far  # nothing fetched
    record = run_record(url, "again")
    assert record["discovered"] >= 2 and record["status"] == "success"


def test_reextract_says_when_nothing_is_archived(sqlite_url, tmp_path, capsys) -> None:
    sources = newsroom(tmp_path)
    assert main(["reextract", str(sources), "--warehouse", sqlite_url, "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert f"news-etl: desk: no archived pages under {tmp_path / 'archive'}" in err


def age(path: Path, days: float) -> None:
    """Set the modification time of `path` and everything under it to `days` ago."""
    when = time.time() - days * DAY
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            os.utime(os.path.join(dirpath, name), (when, when))
    os.utime(path, (when, when))


def archive_file(root: Path, days_ago: int, name: str) -> Path:
    day = datetime.now(UTC) - timedelta(days=days_ago)
    path = root / f"{day:%Y/%m/%d}" / f"{name}__local.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x1f\x8b" + b"0" * 100)
    return path


def test_prune_keeps_recent_files_and_every_warehouse_row(migrated_warehouse_url, tmp_path,
                                                          capsys) -> None:
    url = migrated_warehouse_url
    assert main(["ingest", str(newsroom(tmp_path)), "--warehouse", url, "--workers", "1",
                 "--run-id", "old-run"]) == 0
    root = output_root(url) if url.startswith("sqlite") else tmp_path / "data"
    docs = root / "data-docs"
    assert (docs / "old-run").is_dir()
    age(docs / "old-run", 40)
    (docs / "new-run").mkdir()
    (docs / "new-run" / "index.html").write_text("<html></html>")
    staging = root / "staging"
    (staging / "old-staged" / "local" / "chunk-00000").mkdir(parents=True)
    (staging / "old-staged" / "local" / "meta.json").write_text("{}")
    age(staging / "old-staged", 31)
    (staging / "busy-run").mkdir()
    (staging / "busy-run" / "meta.json").write_text("{}")  # written now
    age(staging / "busy-run", 60)
    (staging / "busy-run" / "items.jsonl").write_text("{}")  # a file written just now
    old_warc = archive_file(root / "archive", 45, "r1")
    new_warc = archive_file(root / "archive", 2, "r2")
    stray = root / "archive" / "notes.txt"
    stray.write_text("not a WARC file of the layout")
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(articles)).scalar()
    capsys.readouterr()

    assert main(["prune", "--keep-days", "30", "--dry-run", "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert "would delete data-docs" in out and str(docs / "old-run") in out
    assert str(staging / "old-staged") in out and str(old_warc) in out
    assert "busy-run" not in out and "new-run" not in out and str(new_warc) not in out
    assert "3 item(s) older than 30 day(s); would free" in out
    assert (docs / "old-run").exists() and old_warc.exists()  # a dry run deletes nothing

    assert main(["prune", "--keep-days", "30", "--warehouse", url]) == 0
    assert "3 item(s) older than 30 day(s); freed" in capsys.readouterr().out
    assert not (docs / "old-run").exists()
    assert not (staging / "old-staged").exists()
    assert not old_warc.exists() and not old_warc.parent.exists()  # its empty day folder too
    assert (docs / "new-run").exists() and (staging / "busy-run").exists()
    assert new_warc.exists() and stray.exists()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == stored
        assert conn.execute(select(ingest_runs.c.report_path)).scalar()  # the record stays
    engine.dispose()


def test_prune_only_one_kind(tmp_path, sqlite_url, capsys) -> None:
    old_warc = archive_file(tmp_path / "archive", 10, "r1")
    (tmp_path / "data-docs" / "r0").mkdir(parents=True)
    age(tmp_path / "data-docs" / "r0", 10)
    assert main(["prune", "--keep-days", "7", "--only", "data-docs",
                 "--warehouse", sqlite_url]) == 0
    assert old_warc.exists() and not (tmp_path / "data-docs" / "r0").exists()


def test_prune_beside_the_warehouse_and_keep_days_required(tmp_path, capsys) -> None:
    warehouse = f"sqlite:///{tmp_path / 'store' / 'warehouse.db'}"
    old_warc = archive_file(tmp_path / "store" / "archive", 9, "r1")
    assert main(["prune", "--keep-days", "7", "--warehouse", warehouse]) == 0
    assert "deleting archive" in capsys.readouterr().out and not old_warc.exists()
    with pytest.raises(SystemExit) as exc:  # argparse's exit: the process's exit code
        main(["prune", "--warehouse", warehouse])
    assert exc.value.code == 2 and "--keep-days" in capsys.readouterr().err


def test_real_command(tmp_path) -> None:
    """The installed command, in an environment of its own. What prune and reextract do is
    checked above through the CLI's main; a process per command would only pay the
    imports again."""
    env = {"PATH": str(CLI.parent), "HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false"}
    warehouse = f"sqlite:///{tmp_path / 'store' / 'warehouse.db'}"
    sources = newsroom(tmp_path)
    result = subprocess.run([str(CLI), "reextract", str(sources), "--warehouse", warehouse,
                             "--workers", "1", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert '"discovered": 0' in result.stdout
    assert "no archived pages" in result.stderr
