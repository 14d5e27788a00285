"""Airflow glue: the run-wide settings (etl.settings.Settings), built once per task process.

The DAGs' edge: the environment (NEWS_ETL_* variables, see etl/settings.py) is read here and
nowhere in `etl/`. It also sets up what a library must not touch in its host process:
Great Expectations' analytics off and its INFO logging quieted.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.config import SourcesFile
    from etl.pipeline import RunOptions
    from etl.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES_FILE = REPO_ROOT / "seeds" / "sources.yml"


@cache
def settings() -> Settings:
    """The process's settings (ConfigError, naming the variable, when one is invalid)."""
    from etl.settings import Settings

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # INFO on import
    return Settings.load()


def sources() -> SourcesFile:
    """NEWS_ETL_SOURCES_FILE (else the repository's seeds/sources.yml), with the
    environment's HTTP overrides applied."""
    current = settings()
    return current.load_sources(current.sources_file or DEFAULT_SOURCES_FILE)


def run_options(**knobs: Any) -> RunOptions:
    """RunOptions for a task: its Params as `knobs`, the settings for the rest. Inside
    Airflow, parallelism is Airflow's job (mapped tasks, worker slots): a process pool per
    task would oversubscribe the cores, so workers = NEWS_ETL_TASK_WORKERS (default 1)."""
    current = settings()
    return current.run_options(**{"workers": current.task_workers, **knobs})


def staging_root() -> Path:
    """Where tasks hand chunks to each other (NEWS_ETL_STAGING_DIR)."""
    return settings().staging_dir


def retry_delay_s() -> float:
    """Seconds Airflow waits before retrying a task (NEWS_ETL_TASK_RETRY_DELAY_S, default 30).
    Read when the DAG file is parsed; settings are light (no heavy import)."""
    return settings().task_retry_delay_s
