"""news_ingest through real Airflow (`airflow dags test`), loading into PostgreSQL via the
`warehouse_default` connection, twice: the second run must load nothing new."""

import json
import sqlite3

import pytest
from sqlalchemy import create_engine, func, select

from etl.warehouse.schema import articles, ingest_runs

from .conftest import airflow, airflow_env

pytestmark = pytest.mark.slow
SECRET = "Zq8-not-a-real-password-3x"


def test_news_ingest_runs_through_airflow_into_the_warehouse(airflow_home, pg_database):
    # PostgreSQL trusts local logins, so any password works — and it must never be logged.
    conn_uri = pg_database.replace("postgresql+psycopg://postgres@",
                                   f"postgresql://postgres:{SECRET}@")
    env = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=conn_uri)
    result = airflow(env, "dags", "test", "news_ingest")
    output = result.stdout + result.stderr  # `dags test` prints every task's log here
    assert "data docs for" in output and SECRET not in output
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        runs = conn.execute(select(ingest_runs)).mappings().all()
    assert {r["source"] for r in runs} == {"1scandal", "newsroom-samples"}
    assert all(r["run_id"].startswith("manual__") for r in runs)
    assert sum(r["loaded"] for r in runs) == 5

    airflow(env, "dags", "test", "news_ingest", "-c", json.dumps({"sources": ["1scandal"]}))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        latest = conn.execute(select(ingest_runs).order_by(ingest_runs.c.started_at.desc())
                              ).mappings().first()
    assert latest["source"] == "1scandal" and latest["loaded"] == 0
    assert latest["not_modified"] == 1
    engine.dispose()

    # The final task of each run published the Asset with that run's counts.
    db = sqlite3.connect(airflow_home / "airflow.db")
    extras = {e["run_id"]: e for e in (json.loads(x) for (x,) in db.execute(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id "
        "WHERE a.name = 'news_articles'"))}
    first_run = next(r["run_id"] for r in runs)
    assert extras[first_run]["loaded"] == 5 and extras[latest["run_id"]]["loaded"] == 0


def test_news_ingest_on_a_locally_served_feed(airflow_home, httpserver, tmp_path):
    from support.local_site import serve_site

    serve_site(httpserver)
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, timeout_s: 5}\n"
        f"sources:\n- {{name: local-news, kind: feed, "
        f"location: '{httpserver.url_for('/feed.xml')}', language: en}}\n")
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = airflow_env(airflow_home, NEWS_ETL_SOURCES_FILE=str(sources),
                      NEWS_ETL_WAREHOUSE_URL=warehouse_url,
                      NEWS_ETL_ARCHIVE_ROOT=str(tmp_path / "archive"))
    airflow(env, "dags", "test", "news_ingest")
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        titles = set(conn.execute(select(articles.c.title)).scalars())
        [run] = conn.execute(select(ingest_runs)).mappings().all()
    assert titles == {"Night trains every thirty minutes", "Library opens on Sundays"}
    assert (run["discovered"], run["loaded"], run["failed"]) == (3, 2, 1)
    assert list((tmp_path / "archive").rglob("*.warc.gz"))
    engine.dispose()
