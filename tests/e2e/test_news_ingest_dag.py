"""news_ingest through real Airflow (`airflow dags test`). One run with a logical date (so
it has a data interval) checks what several scenarios need — each run is a process start
and an Airflow import:
- a locally served feed is loaded, and two failed sources fail the run after the others
  are loaded;
- a feed entry dated before the run's interval is loaded, an entry older than
  max_age_days is accounted for with its reason, and a URL two sources share is loaded
  once (the second source records a duplicate).
Then a run with the `only_interval` Param keeps to its interval and accounts for every
entry it leaves out; bad params fail a run at once. The seeds loaded into PostgreSQL
through the `warehouse_default` connection (twice: the second run loads nothing new) are
in test_news_analytics_dag.py, which goes on from that warehouse."""

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


@pytest.mark.long(130)
def test_served_feeds_late_entries_and_failed_sources_through_airflow(airflow_home, httpserver,
                                                                     tmp_path):
    """One news_ingest run with a logical date: a locally served feed is loaded (its 404
    item counted as failed, its responses archived), late and shared entries of two dated
    feeds are accounted for, and two failed sources fail the run — after the good sources
    were loaded and the Asset published. Then an `only_interval` run of one dated feed."""
    from support.local_site import STORY, page, serve_site

    now = datetime.now(UTC)
    logical = (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    serve_site(httpserver)
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
        "- {name: broken, kind: files, location: broken, http: {max_bytes: 2000}}\n"
        f"- {{name: first, kind: feed, location: '{first.url}', language: en, min_words: 20}}\n"
        f"- {{name: second, kind: feed, location: '{second.url}', language: en, "
        "min_words: 20}\n")
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = airflow_env(airflow_home, NEWS_ETL_SOURCES_FILE=str(sources),
                      NEWS_ETL_WAREHOUSE_URL=warehouse_url,
                      NEWS_ETL_ARCHIVE_ROOT=str(tmp_path / "archive"),
                      NEWS_ETL_DATA_DOCS_DIR=str(tmp_path / "docs"))
    result = airflow(env, "dags", "test", "news_ingest", logical.isoformat(), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]

    run_id, state, tasks = _latest_run(airflow_home)
    assert state == "failed"
    # Everything the good sources produced was loaded and announced before the run failed.
    assert tasks["load"] == [("success", 1)]
    assert tasks["check_sources"] == [("failed", 1)]  # no retry: the data would not change
    assert "2 source(s) failed in run" in output
    assert "vanished: source_failed:" in output and "broken: all_failed:" in output
    interval = dag_run(airflow_home, logical)
    assert interval["run_id"] == run_id
    assert interval["start"] is not None and interval["start"] < interval["end"]
    assert now - timedelta(days=3) < interval["start"]  # the entry predates the interval

    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        titles: dict[str, set[str]] = {}
        for source, name in conn.execute(select(articles.c.source, articles.c.title)):
            titles.setdefault(source, set()).add(name)
        runs = {r["source"]: r for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()}
        dups = conn.execute(select(article_duplicates.c.source, article_duplicates.c.kind)
                            ).tuples().all()
    # The served feed: two articles loaded, the 404 failed, the responses archived. The
    # dated feeds: the late entry loaded, the shared URLs loaded once (by the first source).
    assert titles == {"local-news": {"Night trains every thirty minutes",
                                     "Library opens on Sundays"},
                      "newsroom": {"Hourly ferry through the winter"},
                      "first": {title("ferry"), title("bakery"), title("bridge")},
                      "second": {title("orchard")}}
    assert sorted(dups) == [("second", "url"), ("second", "url")]
    feed_run = runs["local-news"]
    assert (feed_run["discovered"], feed_run["loaded"], feed_run["failed"]) == (3, 2, 1)
    assert list((tmp_path / "archive").rglob("*.warc.gz"))
    assert {s: r["status"] for s, r in runs.items()} == {
        "local-news": "success", "newsroom": "success", "vanished": "source_failed",
        "broken": "all_failed", "first": "success", "second": "success"}
    assert "no-such-folder" in runs["vanished"]["error"]
    counts = run_counts(engine, run_id)  # nothing lost: every source's counts add up
    assert (counts["first"], counts["second"]) == ((4, 3, 0, 0, 0, 1), (3, 1, 2, 0, 0, 0))
    assert left_out(engine, run_id, "first") == {"older_than_max_age": 1}
    db = sqlite3.connect(airflow_home / "airflow.db")
    [(extra,)] = db.execute(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id "
        "WHERE a.name = 'news_articles' AND ae.source_run_id = ?", (run_id,)).fetchall()
    db.close()
    assert json.loads(extra)["loaded"] == 7

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
    """Each source's (discovered, *outcomes) in the run; the outcomes add up to discovered."""
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


# Every problem of a run's configuration is named in its one failed run (a broken
# sources.yml leaves the source names unchecked: it needs a run of its own).
@pytest.mark.parametrize("conf, sources_text, messages", [
    ({"sources": ["nope"], "colour": "blue"}, None,
     ["unknown source(s) ['nope']", "unknown parameter(s) ['colour'] in the run's conf"]),
    ({}, "sources:\n- {name: x, kind: telepathy, location: in}\n", ["field 'kind'"]),
])
@pytest.mark.long(35)
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
        t: {"upstream_failed"} for t in ("discover", "plan_chunks", "extract", "load",
                                         "check_sources")}
    db = sqlite3.connect(airflow_home / "airflow.db")
    retried = db.execute("SELECT COUNT(*) FROM task_instance_history WHERE run_id = ? "
                         "AND task_id = 'plan_sources'", (run_id,)).fetchone()[0]
    db.close()
    assert retried == 0
    assert not warehouse.exists()  # no work was done
