"""plugins/news_settings.py: the DAG tasks' edge builds Settings from the environment once
per process and hands the library its values (sources with HTTP overrides, RunOptions,
the staging folder)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from etl.config import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def news_settings(monkeypatch):
    for name in [n for n in os.environ if n.upper().startswith("NEWS_ETL_")]:
        monkeypatch.delenv(name)
    monkeypatch.syspath_prepend(str(REPO / "plugins"))
    sys.modules.pop("news_settings", None)
    import news_settings

    yield news_settings
    news_settings.settings.cache_clear()
    sys.modules.pop("news_settings", None)


def test_tasks_get_the_environment_through_the_settings(news_settings, monkeypatch, tmp_path):
    sources = tmp_path / "sources.yml"
    sources.write_text("http: {user_agent: file-agent}\n"
                       "sources:\n- {name: web, kind: urls, urls: ['http://example.org/a']}\n")
    monkeypatch.setenv("NEWS_ETL_SOURCES_FILE", str(sources))
    monkeypatch.setenv("NEWS_ETL_USER_AGENT", "env-agent")
    monkeypatch.setenv("NEWS_ETL_STAGING_DIR", str(tmp_path / "staging"))
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    monkeypatch.setenv("NEWS_ETL_TASK_WORKERS", "2")
    monkeypatch.setenv("NEWS_ETL_MIN_WORDS", "70")

    [source] = news_settings.sources().sources
    assert source.name == "web" and source.http.user_agent == "env-agent"
    assert news_settings.staging_root() == tmp_path / "staging"
    options = news_settings.run_options(max_items=3)
    assert (options.workers, options.min_words, options.max_items, options.archive_root) == (
        2, 70, 3, str(tmp_path / "archive"))
    assert news_settings.run_options(workers=1).workers == 1
    # Built once per process: a later change of the environment is not seen.
    monkeypatch.setenv("NEWS_ETL_MIN_WORDS", "10")
    assert news_settings.settings().min_words == 70
    assert logging.getLogger("great_expectations").level == logging.WARNING


def test_without_a_sources_file_the_seeds_are_used(news_settings):
    names = {s.name for s in news_settings.sources().sources}
    assert "1scandal" in names
    assert news_settings.settings().task_workers == 1


def test_a_bad_variable_fails_as_a_configuration_error(news_settings, monkeypatch):
    monkeypatch.setenv("NEWS_ETL_TASK_WORKERS", "several")
    with pytest.raises(ConfigError, match="NEWS_ETL_TASK_WORKERS"):
        news_settings.settings()
