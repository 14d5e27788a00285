"""A throw-away Airflow installation (AIRFLOW_HOME in a temp folder) for end-to-end tests."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_ETL"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(REPO / "plugins"),
        "NEWS_ETL_SOURCES_FILE": str(REPO / "seeds" / "sources.yml"),
        "NEWS_ETL_STAGING_DIR": str(home / "staging"),
        # Retries are exercised, not waited for: Airflow's retry after 1 s, not 30 s.
        "NEWS_ETL_TASK_RETRY_DELAY_S": "1",
    })
    env.update(extra)
    return env


def airflow(env: dict[str, str], *args: str, timeout: int = 600,
            check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True,
                            text=True, timeout=timeout, cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(f"airflow {' '.join(args)} failed:\n{result.stdout[-4000:]}\n"
                             f"{result.stderr[-4000:]}")
    return result


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AIRFLOW_HOME with a migrated SQLite metadata DB, shared by this session's e2e tests.

    `airflow db migrate` takes ~20 s of CPU (minutes on a busy machine), so it runs once
    per machine and Airflow version: the first session (or xdist worker) migrates a
    template under a file lock in the system's temp folder, every session copies its
    airflow.db (like the PostgreSQL templates, which outlive a session too)."""
    shared = Path(tempfile.gettempdir()) / "news-etl-test-templates"
    shared.mkdir(exist_ok=True)
    template = shared / f"airflow_home_template_{_airflow_version()}"
    with open(shared / "airflow_home_template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / ".ready").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir()
            env = airflow_env(template)
            airflow(env, "db", "migrate")
            airflow(env, "pools", "set", "news_fetch", "4", "fetch concurrency")
            (template / ".ready").touch()
    home = tmp_path_factory.mktemp("airflow_home")
    shutil.copyfile(template / "airflow.db", home / "airflow.db")
    return home
