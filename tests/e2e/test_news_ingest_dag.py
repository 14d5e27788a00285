"""news_ingest through real Airflow (`airflow dags test`): a locally served feed, a failed
source failing the run after the others are loaded, bad params failing it at once. The
seeds loaded into PostgreSQL through the `warehouse_default` connection (twice: the second
run loads nothing new) are in test_news_analytics_dag.py, which goes on from that warehouse."""

import json
import sqlite3

import pytest
from sqlalchemy import create_engine, select

from etl.warehouse.schema import articles, ingest_runs

from .conftest import airflow, airflow_env

pytestmark = pytest.mark.slow


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


# --- failures are visible: a failed source fails the run; bad params fail it at once -------

def _latest_run(home) -> tuple[str, str, dict[str, list[tuple[str, int]]]]:
    """The latest news_ingest run in Airflow's metadata DB: run id, state, and per task
    its (state, try_number) for each map index."""
    db = sqlite3.connect(home / "airflow.db")
    run_id, state = db.execute(
        "SELECT run_id, state FROM dag_run WHERE dag_id = 'news_ingest' "
        "ORDER BY id DESC LIMIT 1").fetchone()
    tasks: dict[str, list[tuple[str, int]]] = {}
    for task_id, ti_state, try_number in db.execute(
            "SELECT task_id, state, try_number FROM task_instance "
            "WHERE dag_id = 'news_ingest' AND run_id = ? ORDER BY task_id, map_index",
            (run_id,)):
        tasks.setdefault(task_id, []).append((ti_state, try_number))
    db.close()
    return run_id, state, tasks


def test_a_failed_source_fails_the_run_after_the_others_are_loaded(airflow_home, tmp_path):
    from support.local_site import STORY, page

    newsroom = tmp_path / "newsroom"
    newsroom.mkdir()
    (newsroom / "trains.html").write_text(page("Night trains every thirty minutes", STORY))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "huge.html").write_text(page("Huge", STORY * 20))  # over its 2000-byte cap
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "sources:\n"
        "- {name: newsroom, kind: files, location: newsroom}\n"
        "- {name: vanished, kind: files, location: no-such-folder}\n"
        "- {name: broken, kind: files, location: broken, http: {max_bytes: 2000}}\n")
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = airflow_env(airflow_home, NEWS_ETL_SOURCES_FILE=str(sources),
                      NEWS_ETL_WAREHOUSE_URL=warehouse_url,
                      NEWS_ETL_DATA_DOCS_DIR=str(tmp_path / "docs"))
    result = airflow(env, "dags", "test", "news_ingest", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]

    run_id, state, tasks = _latest_run(airflow_home)
    assert state == "failed"
    # Everything the good source produced was loaded and announced before the run failed.
    assert tasks["load"] == [("success", 1)] and tasks["publish"] == [("success", 1)]
    assert tasks["check_sources"] == [("failed", 1)]  # no retry: the data would not change
    assert "2 source(s) failed in run" in output
    assert "vanished: source_failed:" in output and "broken: all_failed:" in output
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        titles = set(conn.execute(select(articles.c.title)).scalars())
        runs = {r["source"]: r for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()}
    engine.dispose()
    assert titles == {"Night trains every thirty minutes"}
    assert {s: r["status"] for s, r in runs.items()} == {
        "newsroom": "success", "vanished": "source_failed", "broken": "all_failed"}
    assert "no-such-folder" in runs["vanished"]["error"]
    for run in runs.values():  # nothing lost
        assert run["discovered"] == sum(run[c] for c in (
            "loaded", "duplicates", "rejected", "failed", "not_modified")), dict(run)
    db = sqlite3.connect(airflow_home / "airflow.db")
    [(extra,)] = db.execute(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id "
        "WHERE a.name = 'news_articles' AND ae.source_run_id = ?", (run_id,)).fetchall()
    db.close()
    assert json.loads(extra)["loaded"] == 1


@pytest.mark.parametrize("conf, sources_text, message", [
    ({"sources": ["nope"]}, None, "unknown source(s) ['nope']"),
    ({"sources": [], "colour": "blue"}, None,
     "unknown parameter(s) ['colour'] in the run's conf"),
    ({}, "sources:\n- {name: x, kind: telepathy, location: in}\n", "field 'kind'"),
])
def test_bad_params_fail_the_run_at_once_without_retries(airflow_home, tmp_path, conf,
                                                         sources_text, message):
    warehouse = tmp_path / "warehouse.db"
    extra = {}
    if sources_text is not None:  # a broken sources.yml is configuration too
        (tmp_path / "sources.yml").write_text(sources_text)
        extra["NEWS_ETL_SOURCES_FILE"] = str(tmp_path / "sources.yml")
    env = airflow_env(airflow_home, NEWS_ETL_WAREHOUSE_URL=f"sqlite:///{warehouse}", **extra)
    result = airflow(env, "dags", "test", "news_ingest", "-c", json.dumps(conf), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert message in output and "AirflowFailException" in output
    assert "TypeError" not in output

    run_id, state, tasks = _latest_run(airflow_home)
    assert state == "failed"
    assert tasks.pop("plan_sources") == [("failed", 1)]  # first try, never retried
    # Nothing else ran: every other task is upstream_failed, all_done ones included.
    assert {t: {s for s, _ in tis} for t, tis in tasks.items()} == {
        t: {"upstream_failed"} for t in ("discover", "plan_chunks", "extract", "validate",
                                         "load", "publish", "check_sources")}
    db = sqlite3.connect(airflow_home / "airflow.db")
    retried = db.execute("SELECT COUNT(*) FROM task_instance_history WHERE run_id = ? "
                         "AND task_id = 'plan_sources'", (run_id,)).fetchone()[0]
    db.close()
    assert retried == 0
    assert not warehouse.exists()  # no work was done
