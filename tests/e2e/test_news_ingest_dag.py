"""news_ingest through real Airflow (`airflow dags test`): a locally served feed and a failed
source failing the run after the others are loaded (one run checks both: each run is a
process start and an Airflow import), bad params failing it at once. The seeds loaded into
PostgreSQL through the `warehouse_default` connection (twice: the second run loads nothing
new) are in test_news_analytics_dag.py, which goes on from that warehouse."""

import json
import sqlite3

import pytest
from sqlalchemy import create_engine, select

from etl.warehouse.schema import articles, ingest_runs

from .conftest import airflow, airflow_env

pytestmark = pytest.mark.slow


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


# A story of the files source's own (the served feed has the night-trains story: the same
# text twice would be a duplicate, and which source keeps it would depend on load order).
FERRY = [
    "The harbour board agreed on Thursday that the ferry to the island will sail every hour "
    "through the winter, instead of three times a day as in previous years.",
    "Islanders who work in the town had collected signatures since the spring, saying the "
    "last boat left too early for anyone finishing a shift at the port or the hospital.",
    "The board expects the extra crossings to cost less than the fuel savings of the new "
    "boat, and it will publish passenger numbers after the first three months of service.",
]


def test_a_served_feed_and_a_failed_source_in_one_run(airflow_home, httpserver, tmp_path):
    """One news_ingest run: a locally served feed is loaded (its 404 item counted as
    failed, its responses archived), and two failed sources fail the run — after the good
    sources were loaded and the Asset published."""
    from support.local_site import STORY, page, serve_site

    serve_site(httpserver)
    newsroom = tmp_path / "newsroom"
    newsroom.mkdir()
    (newsroom / "ferry.html").write_text(page("Hourly ferry through the winter", FERRY))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "huge.html").write_text(page("Huge", STORY * 20))  # over its 2000-byte cap
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, timeout_s: 5}\n"
        "sources:\n"
        f"- {{name: local-news, kind: feed, location: '{httpserver.url_for('/feed.xml')}', "
        "language: en}\n"
        "- {name: newsroom, kind: files, location: newsroom}\n"
        "- {name: vanished, kind: files, location: no-such-folder}\n"
        "- {name: broken, kind: files, location: broken, http: {max_bytes: 2000}}\n")
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = airflow_env(airflow_home, NEWS_ETL_SOURCES_FILE=str(sources),
                      NEWS_ETL_WAREHOUSE_URL=warehouse_url,
                      NEWS_ETL_ARCHIVE_ROOT=str(tmp_path / "archive"),
                      NEWS_ETL_DATA_DOCS_DIR=str(tmp_path / "docs"))
    result = airflow(env, "dags", "test", "news_ingest", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]

    run_id, state, tasks = _latest_run(airflow_home)
    assert state == "failed"
    # Everything the good sources produced was loaded and announced before the run failed.
    assert tasks["load"] == [("success", 1)] and tasks["publish"] == [("success", 1)]
    assert tasks["check_sources"] == [("failed", 1)]  # no retry: the data would not change
    assert "2 source(s) failed in run" in output
    assert "vanished: source_failed:" in output and "broken: all_failed:" in output
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        titles: dict[str, set[str]] = {}
        for source, title in conn.execute(select(articles.c.source, articles.c.title)):
            titles.setdefault(source, set()).add(title)
        runs = {r["source"]: r for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()}
    engine.dispose()
    # The served feed: two articles loaded, the 404 failed, the responses archived.
    assert titles == {"local-news": {"Night trains every thirty minutes",
                                     "Library opens on Sundays"},
                      "newsroom": {"Hourly ferry through the winter"}}
    feed_run = runs["local-news"]
    assert (feed_run["discovered"], feed_run["loaded"], feed_run["failed"]) == (3, 2, 1)
    assert list((tmp_path / "archive").rglob("*.warc.gz"))
    assert {s: r["status"] for s, r in runs.items()} == {
        "local-news": "success", "newsroom": "success", "vanished": "source_failed",
        "broken": "all_failed"}
    assert "no-such-folder" in runs["vanished"]["error"]
    for run in runs.values():  # nothing lost
        assert run["discovered"] == sum(run[c] for c in (
            "loaded", "duplicates", "rejected", "failed", "not_modified")), dict(run)
    db = sqlite3.connect(airflow_home / "airflow.db")
    [(extra,)] = db.execute(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id "
        "WHERE a.name = 'news_articles' AND ae.source_run_id = ?", (run_id,)).fetchall()
    db.close()
    assert json.loads(extra)["loaded"] == 3


# Every problem of a run's configuration is named in its one failed run (a broken
# sources.yml leaves the source names unchecked: it needs a run of its own).
@pytest.mark.parametrize("conf, sources_text, messages", [
    ({"sources": ["nope"], "colour": "blue"}, None,
     ["unknown source(s) ['nope']", "unknown parameter(s) ['colour'] in the run's conf"]),
    ({}, "sources:\n- {name: x, kind: telepathy, location: in}\n", ["field 'kind'"]),
])
def test_bad_params_fail_the_run_at_once_without_retries(airflow_home, tmp_path, conf,
                                                         sources_text, messages):
    warehouse = tmp_path / "warehouse.db"
    extra = {}
    if sources_text is not None:  # a broken sources.yml is configuration too
        (tmp_path / "sources.yml").write_text(sources_text)
        extra["NEWS_ETL_SOURCES_FILE"] = str(tmp_path / "sources.yml")
    env = airflow_env(airflow_home, NEWS_ETL_WAREHOUSE_URL=f"sqlite:///{warehouse}", **extra)
    result = airflow(env, "dags", "test", "news_ingest", "-c", json.dumps(conf), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "AirflowFailException" in output
    for message in messages:
        assert message in output
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
