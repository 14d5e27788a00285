"""news_analytics: scheduled on news_ingest's Asset; refreshes summaries; fails on reject spikes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    sys.path.insert(0, str(REPO / "plugins"))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_scheduled_on_the_asset_news_ingest_publishes(dagbag) -> None:
    assert dagbag.import_errors == {}
    analytics, ingest = dagbag.dags["news_analytics"], dagbag.dags["news_ingest"]
    [publish] = [t for t in ingest.tasks if t.task_id == "publish"]
    [published] = publish.outlets
    # The very Asset the producer emits (same name and URI), and nothing else.
    assert list(analytics.timetable.asset_condition.objects) == [published]
    assert analytics.tags and all(t.retries >= 1 for t in analytics.tasks)
    assert [t.task_id for t in analytics.topological_sort()] == [
        "refresh_summaries", "check_reject_rates"]
    assert {k: analytics.params[k] for k in ("reject_threshold", "min_items")} == {
        "reject_threshold": 0.5, "min_items": 20}


def _env(home: Path, **extra: str) -> dict[str, str]:
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


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=REPO)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


@pytest.mark.slow
def test_ingest_then_analytics_through_airflow(tmp_path, pg_database) -> None:
    home = tmp_path / "airflow_home"
    home.mkdir()
    plain_url = pg_database.replace("postgresql+psycopg://", "postgresql://")
    with_conn = _env(home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=plain_url)
    _ok(_airflow(with_conn, "db", "migrate"))
    _ok(_airflow(with_conn, "dags", "test", "news_ingest"))

    # 1. Through the connection (common-sql hook): summaries match the loaded articles.
    log = _ok(_airflow(with_conn, "dags", "test", "news_analytics"))
    assert "reject rates within threshold" in log
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one()
        assert loaded > 0
        assert conn.execute(text("SELECT SUM(articles) FROM mv_daily_articles")).scalar() \
            == loaded
        assert conn.execute(text("SELECT SUM(loaded) FROM mv_source_health")).scalar() \
            == loaded
        # 2. A source's layout changes: its newest run rejects 35 of 40 items.
        conn.execute(text(
            "INSERT INTO ingest_runs (run_id, source, started_at, finished_at, status, "
            "discovered, loaded, duplicates, rejected, failed, not_modified) VALUES "
            "('layout-change', '1scandal', :now, :now, 'success', 40, 5, 0, 35, 0, 0)"),
            {"now": datetime.now(UTC)})
        conn.commit()
    engine.dispose()

    # Without the connection: etl's fallback (NEWS_ETL_WAREHOUSE_URL) finds the warehouse,
    # and the run fails loudly, naming the source.
    fallback = _env(home, NEWS_ETL_WAREHOUSE_URL=plain_url)
    failed = _airflow(fallback, "dags", "test", "news_analytics")
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    assert "AirflowFailException" in output
    assert "1scandal: 35/40 rejected (88% > 50%" in output
    # The threshold is a Param: raised above the spike, the same data passes.
    _ok(_airflow(fallback, "dags", "test", "news_analytics", "-c",
                 '{"reject_threshold": 0.9}'))
