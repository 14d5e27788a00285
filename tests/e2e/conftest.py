"""A throw-away Airflow installation (AIRFLOW_HOME in a temp folder) for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """An AIRFLOW_HOME with a migrated SQLite metadata DB, shared by the e2e tests."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = airflow_env(home)
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", "news_fetch", "4", "fetch concurrency")
    return home
