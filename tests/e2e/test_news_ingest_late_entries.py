"""news_ingest through real Airflow (`airflow dags test` with a logical date, so the run has
a data interval): a feed entry dated before that interval is loaded, an entry older than
max_age_days is accounted for with its reason, and a URL two sources share is loaded once
(the second source records a duplicate). Then a run with the `only_interval` Param keeps
to its interval and accounts for every entry it leaves out."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from support.dated_feed import Feed, serve_stories, title

from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse.schema import article_duplicates, articles, ingest_runs

from .conftest import airflow, airflow_env

pytestmark = pytest.mark.slow
OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns


def test_late_entries_and_shared_urls_through_airflow(airflow_home, httpserver, tmp_path):
    now = datetime.now(UTC)
    logical = (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    serve_stories(httpserver)
    first = Feed(httpserver, "/first.xml", [
        ("ferry", now - timedelta(days=3)),  # three days late for this run's interval
        ("bakery", now - timedelta(hours=30)),
        ("bridge", None),
        ("archive", now - timedelta(days=40)),  # older than max_age_days (30)
    ])
    second = Feed(httpserver, "/second.xml", [("orchard", now - timedelta(days=2)),
                                              ("ferry", now - timedelta(days=3)),
                                              ("bakery", now - timedelta(hours=30))])
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, timeout_s: 5}\n"
        "sources:\n"
        f"- {{name: first, kind: feed, location: '{first.url}', language: en, min_words: 20}}\n"
        f"- {{name: second, kind: feed, location: '{second.url}', language: en, "
        "min_words: 20}\n")
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = airflow_env(airflow_home, NEWS_ETL_SOURCES_FILE=str(sources),
                      NEWS_ETL_WAREHOUSE_URL=warehouse_url,
                      NEWS_ETL_ARCHIVE_ROOT=str(tmp_path / "archive"))

    airflow(env, "dags", "test", "news_ingest", logical.isoformat())
    interval = dag_run(airflow_home, logical)
    assert interval["start"] is not None and interval["start"] < interval["end"]
    assert now - timedelta(days=3) < interval["start"]  # the entry predates the interval

    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        kept = dict(conn.execute(select(articles.c.title, articles.c.source)).tuples().all())
        dups = conn.execute(select(article_duplicates.c.source, article_duplicates.c.kind)
                            ).tuples().all()
    assert kept == {title("ferry"): "first", title("bakery"): "first",
                    title("bridge"): "first", title("orchard"): "second"}
    assert sorted(dups) == [("second", "url"), ("second", "url")]
    runs = run_counts(engine, interval["run_id"])
    assert runs == {"first": (4, 3, 0, 0, 0, 1), "second": (3, 1, 2, 0, 0, 0)}
    assert left_out(engine, interval["run_id"], "first") == {"older_than_max_age": 1}

    # only_interval: every entry dated outside the run's interval is left out, with its
    # reason; the undated one is taken (it was loaded already: not_modified).
    first.entries.append(("orchard", now - timedelta(days=1)))
    later = logical + timedelta(hours=1)
    airflow(env, "dags", "test", "news_ingest", later.isoformat(),
            "-c", json.dumps({"sources": ["first"], "only_interval": True}))
    run_id = dag_run(airflow_home, later)["run_id"]
    assert run_counts(engine, run_id) == {"first": (5, 0, 0, 0, 0, 5)}
    assert left_out(engine, run_id, "first") == {"outside_interval": 4}
    engine.dispose()


def dag_run(home, logical: datetime) -> dict:
    db = sqlite3.connect(home / "airflow.db")
    try:
        run_id, start, end = db.execute(
            "SELECT run_id, data_interval_start, data_interval_end FROM dag_run "
            "WHERE dag_id = 'news_ingest' AND logical_date = ?",
            (logical.strftime("%Y-%m-%d %H:%M:%S.%f"),)).fetchone()
    finally:
        db.close()

    def parse(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    return {"run_id": run_id, "start": parse(start), "end": parse(end)}


def run_counts(engine, run_id: str) -> dict[str, tuple[int, ...]]:
    with engine.connect() as conn:
        runs = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                            ).mappings().all()
    for run in runs:
        assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), dict(run)
    return {r["source"]: (r["discovered"], *(r[c] for c in OUTCOME_COLUMNS)) for r in runs}


def left_out(engine, run_id: str, source: str) -> dict[str, int]:
    with engine.connect() as conn:
        stats = conn.execute(select(ingest_runs.c.stage_stats).where(
            ingest_runs.c.run_id == run_id, ingest_runs.c.source == source)).scalar_one()
    [discover] = [s for s in stats if s["stage"] == "discover"]
    return discover["dropped"]
