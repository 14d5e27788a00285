"""The Airflow variant: `airflow dags test news_ingest` on a temp AIRFLOW_HOME (migrated
beforehand, not timed), SQLite warehouse; its fixed overhead is the same run on a
one-document source."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from _common import BIN, REPO, load_average
from throughput_runs import Run, bench_env, files_sources


def airflow_env(home: Path, sources: Path, warehouse: str) -> dict[str, str]:
    return bench_env(home, **{
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # This checkout's etl before the installed one: a benchmark run from another
        # worktree measures that worktree's code.
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        "NEWS_ETL_SOURCES_FILE": str(sources),
        "NEWS_ETL_WAREHOUSE_URL": warehouse,
    })


def _airflow(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True,
                            text=True, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-3000:]}")
    return time.perf_counter() - start


def _run_totals(warehouse: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT SUM(discovered), SUM(loaded), SUM(duplicates), SUM(rejected), SUM(failed) "
            "FROM ingest_runs")).one()
    engine.dispose()
    return dict(zip(("discovered", "loaded", "duplicate", "rejected", "failed"),
                    (int(v or 0) for v in row), strict=True))


def run_airflow(tmp: Path, location: Path, tiny: Path, docs: int) -> tuple[Run, Run]:
    """(the one-document run, the full run)."""
    home = tmp / "airflow_home"
    home.mkdir()
    sources = files_sources(tmp / "airflow-sources.yml", location)
    tiny_sources = files_sources(tmp / "airflow-tiny.yml", tiny)
    env = airflow_env(home, sources, f"sqlite:///{tmp / 'airflow-wh.db'}")
    _airflow(env, "db", "migrate")
    _airflow(env, "pools", "set", "news_fetch", "4", "fetch concurrency")
    runs = []
    for name, src, n, db in (("airflow (1 doc)", tiny_sources, 1, "airflow-tiny.db"),
                             ("airflow", sources, docs, "airflow-wh.db")):
        wh = f"sqlite:///{tmp / db}"
        run_env = airflow_env(home, src, wh)
        before = load_average()
        wall = _airflow(run_env, "dags", "test", "news_ingest")
        run = Run(name, n, wall, before, load_average(), _run_totals(wh),
                  command=f"NEWS_ETL_SOURCES_FILE={src} NEWS_ETL_WAREHOUSE_URL={wh} "
                          f"AIRFLOW_HOME={home} airflow dags test news_ingest")
        runs.append(run)
    return runs[0], runs[1]
