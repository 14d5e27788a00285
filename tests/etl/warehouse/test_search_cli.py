"""`news-etl search` through the command a person runs, on both warehouses; and the
read-only commands (report, search, export) refuse a warehouse that does not exist —
exit 2, one line, nothing created."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PG_ADMIN_URL

from etl.cli import main

CLI = Path(sys.executable).parent / "news-etl"
SEED_TITLE = "Moscou et Téhéran prévoient une installation d’usine de drones iraniens en Russie"
READ_ONLY = {
    "report": [],
    "search": ["drones"],
    "export": ["--format", "jsonl", "out.jsonl"],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, seeded_warehouses) -> str:
    """The URL of a warehouse holding the seed run; shared, read only."""
    return seeded_warehouses(request.param)


def test_search_prints_ranked_hits(seeded, capsys):
    assert main(["search", "drones", "--warehouse", seeded]) == 0
    out = capsys.readouterr().out.splitlines()
    assert SEED_TITLE in out[0] and "[1scandal/fr]" in out[0]
    assert out[1].strip().startswith("file://") and out[1].strip().endswith(".txt")
    assert len(out) == 2
    assert main(["search", "drone", "--warehouse", seeded]) == 0
    assert SEED_TITLE in capsys.readouterr().out  # "drone" finds "drones" on both


def test_search_json_and_filters(seeded, capsys):
    assert main(["search", "ferry or drones", "--json", "--warehouse", seeded]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # The kept harbour article and its mirrored copy's source are both newsroom pages;
    # only the kept one is an article.
    assert sorted(h["source"] for h in hits) == ["1scandal", "newsroom-samples"]
    assert hits[0]["rank"] >= hits[1]["rank"] > 0
    assert main(["search", "ferry or drones", "--json", "--language", "en", "--warehouse",
                 seeded]) == 0
    assert [json.loads(x)["language"] for x in capsys.readouterr().out.splitlines()] == ["en"]
    assert main(["search", "ferry or drones", "--json", "--source", "1scandal",
                 "--warehouse", seeded]) == 0
    assert [json.loads(x)["source"] for x in capsys.readouterr().out.splitlines()] == [
        "1scandal"]
    assert main(["search", "ferry or drones", "--json", "--limit", "1",
                 "--warehouse", seeded]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    # The ferry page is dated 2026-10-14; the seed article is undated (ingested today).
    assert main(["search", "ferry", "--since", "2026-11-01", "--warehouse", seeded]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "news-etl: no article matches"


def test_search_usage_errors_exit_2(seeded, capsys):
    assert main(["search", "--warehouse", seeded, "--", "-drones"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("news-etl: search: nothing to search for")
    with pytest.raises(SystemExit) as exc:
        main(["search", "drones", "--since", "last week", "--warehouse", seeded])
    assert exc.value.code == 2
    assert "not a date: 'last week'" in capsys.readouterr().err


def test_search_the_real_command(seeded_warehouses, tmp_path):
    """The installed command, on SQLite: the search it runs is the one the tests above run
    in process on both warehouses; a second process would only pay the imports."""
    seeded = seeded_warehouses("sqlite")
    result = subprocess.run([str(CLI), "search", "drone", "--warehouse", seeded],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={"PATH": str(CLI.parent), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert SEED_TITLE in result.stdout


# --- read-only commands and a warehouse that does not exist --------------------------------

def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_a_missing_sqlite_file_is_refused_and_not_created(command, tmp_path, capsys,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere" / "warehouse.db"
    assert main([command, *READ_ONLY[command], "--warehouse", f"sqlite:///{missing}"]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"news-etl: bad warehouse URL: no warehouse at sqlite:///{missing}")
    assert "does not exist" in line and "news-etl ingest" in line
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_the_default_warehouse_is_not_created_in_the_current_folder(command, tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWS_ETL_WAREHOUSE_URL", raising=False)
    assert main([command, *READ_ONLY[command]]) == 2
    assert "no warehouse at sqlite:///data/warehouse.db" in _one_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_the_environment_variable_is_named_when_it_points_nowhere(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.setenv("NEWS_ETL_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'gone.db'}")
    assert main(["search", "drones"]) == 2
    assert "(from NEWS_ETL_WAREHOUSE_URL)" in _one_line(capsys)


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_an_unmigrated_database_is_refused(command, warehouse_url, tmp_path, capsys,
                                           monkeypatch):
    """An empty SQLite file, or an empty PostgreSQL database."""
    monkeypatch.chdir(tmp_path)
    if warehouse_url.startswith("sqlite"):
        Path(warehouse_url.removeprefix("sqlite:///")).touch()
    assert main([command, *READ_ONLY[command], "--warehouse", warehouse_url]) == 2
    line = _one_line(capsys)
    assert "has no warehouse tables (never migrated)" in line and "news-etl migrate" in line


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_a_missing_postgresql_database_is_refused(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/news_etl_no_such_database"
    assert main([command, *READ_ONLY[command], "--warehouse", url]) == 2
    assert "the database does not exist" in _one_line(capsys)


def test_the_real_command_refuses_a_missing_warehouse(tmp_path):
    result = subprocess.run([str(CLI), "report"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path,
                            env={"PATH": str(CLI.parent), "HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("news-etl: bad warehouse URL: no warehouse at")
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_search_on_a_warehouse_older_than_the_index_says_to_migrate(sqlite_url, capsys):
    from etl.warehouse import Warehouse

    old = Warehouse(sqlite_url)
    old.migrate("0006")
    old.dispose()
    assert main(["search", "drones", "--warehouse", sqlite_url]) == 1
    line = _one_line(capsys)
    assert "no full-text index yet (migration 0007)" in line and "news-etl migrate" in line
    assert main(["migrate", "--warehouse", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["search", "drones", "--warehouse", sqlite_url]) == 0
    assert capsys.readouterr().err.strip() == "news-etl: no article matches"
