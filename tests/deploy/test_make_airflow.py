"""`make airflow` sizes Airflow to the machine: the LocalExecutor's task processes
(`[core] parallelism`, Airflow's default 32) and DAG-parsing processes follow the cores."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def planned_env(tmp_path: Path, *overrides: str) -> dict[str, str]:
    """The AIRFLOW__* settings `make airflow` would start `airflow standalone` with (make -n:
    nothing runs; -o: setup and migration count as done)."""
    home = tmp_path / "airflow_home"
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    result = subprocess.run(
        ["make", "-n", "-o", str(BIN / "news-etl"), "-o", str(home / ".migrated"), "airflow",
         *overrides], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    command = result.stdout.replace("\\\n", " ")
    assert "airflow standalone" in command
    return dict(re.findall(r"\b(AIRFLOW__[A-Z_]+)=(\S+)", command))


def test_parallelism_follows_the_core_count(tmp_path):
    cores = os.cpu_count() or 2
    planned = planned_env(tmp_path)
    assert planned["AIRFLOW__CORE__PARALLELISM"] == str(2 * cores)
    assert planned["AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES"] == str(min(cores, 2))
    assert planned_env(tmp_path, "CORES=8")["AIRFLOW__CORE__PARALLELISM"] == "16"
    assert planned_env(tmp_path, "CORES=1")["AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES"] == "1"
    assert planned_env(tmp_path, "AIRFLOW_PARALLELISM=3")["AIRFLOW__CORE__PARALLELISM"] == "3"


@pytest.mark.slow  # two Airflow CLI starts
def test_airflow_reads_the_planned_settings(tmp_path):
    """The variables are Airflow's real option names: Airflow reports the planned values."""
    planned = planned_env(tmp_path, "CORES=3")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(planned, AIRFLOW_HOME=str(tmp_path / "airflow_home"))
    for section, key, expected in (("core", "parallelism", "6"),
                                   ("dag_processor", "parsing_processes", "2")):
        result = subprocess.run([str(BIN / "airflow"), "config", "get-value", section, key],
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == expected
