"""news_ingest then news_analytics through real Airflow (`airflow dags test`): summaries
refreshed through the `warehouse_default` connection, and a reject-rate spike fails loudly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from .conftest import airflow, airflow_env


@pytest.mark.slow
def test_ingest_then_analytics_through_airflow(airflow_home, pg_database) -> None:
    plain_url = pg_database.replace("postgresql+psycopg://", "postgresql://")
    with_conn = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=plain_url)
    airflow(with_conn, "dags", "test", "news_ingest")

    # 1. Through the connection (common-sql hook): summaries match the loaded articles.
    result = airflow(with_conn, "dags", "test", "news_analytics")
    log = result.stdout + result.stderr
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
    fallback = airflow_env(airflow_home, NEWS_ETL_WAREHOUSE_URL=plain_url)
    failed = airflow(fallback, "dags", "test", "news_analytics", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    assert "AirflowFailException" in output
    assert "1scandal: 35/40 rejected (88% > 50%" in output
    # The threshold is a Param: raised above the spike, the same data passes.
    airflow(fallback, "dags", "test", "news_analytics", "-c", '{"reject_threshold": 0.9}')


@pytest.mark.slow
def test_analytics_alarms_on_a_failed_source(airflow_home, tmp_path) -> None:
    from etl.records import Outcome
    from etl.warehouse import Warehouse
    from etl.warehouse.load import finish_run

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    warehouse = Warehouse(url)
    warehouse.migrate()

    def record(run_id: str, source: str, status: str, error: str | None = None) -> None:
        with warehouse.begin() as conn:
            finish_run(conn, run_id, source, started_at=datetime.now(UTC), discovered=3,
                       outcomes={Outcome.LOADED if status == "success" else Outcome.FAILED: 3},
                       status=status, error=error)

    record("ingest-1", "wire", "success")
    record("ingest-1", "gone", "source_failed", "feed unreachable (connect)")
    env = airflow_env(airflow_home, NEWS_ETL_WAREHOUSE_URL=url)
    failed = airflow(env, "dags", "test", "news_analytics", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    assert "AirflowFailException" in output and "source(s) failed:" in output
    assert "gone: source_failed in run ingest-1 (3/3 items failed): feed unreachable" in output
    # The reject-rate check, independent, still ran and passed.
    assert "reject rates within threshold" in output

    # The source recovers in a later run: no alarm any more.
    record("ingest-2", "gone", "success")
    passed = airflow(env, "dags", "test", "news_analytics")
    assert "no failed source in the latest runs" in passed.stdout + passed.stderr
    warehouse.dispose()


@pytest.mark.slow
def test_analytics_reads_a_sqlite_connection_and_refuses_an_in_memory_one(airflow_home,
                                                                           tmp_path) -> None:
    import sqlite3

    warehouse = tmp_path / "warehouse.db"
    # No SQL provider is installed for sqlite: the connection's URI is used, as news_ingest
    # uses it, instead of failing on "Unknown hook type".
    good = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=f"sqlite:///{warehouse}")
    airflow(good, "dags", "test", "news_analytics")
    assert warehouse.exists()

    bad = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT="sqlite://")
    failed = airflow(bad, "dags", "test", "news_analytics", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    assert "connection 'warehouse_default': refusing the in-memory SQLite warehouse" in output
    db = sqlite3.connect(airflow_home / "airflow.db")
    [(run_id,)] = db.execute("SELECT run_id FROM dag_run WHERE dag_id = 'news_analytics' "
                             "ORDER BY id DESC LIMIT 1").fetchall()
    states = {t: (s, n) for t, s, n in db.execute(
        "SELECT task_id, state, try_number FROM task_instance WHERE run_id = ?", (run_id,))}
    db.close()
    assert states["refresh_summaries"] == ("failed", 1)  # configuration: never retried
