"""news_ingest then news_analytics through real Airflow (`airflow dags test`): the seeds
loaded into PostgreSQL through the `warehouse_default` connection (twice: the second run
loads nothing new), summaries refreshed from that warehouse, and a reject-rate spike or a
failed source fails loudly. The first run starts while PostgreSQL is down: its task fails
cleanly, Airflow's retry succeeds once the server is back, and nothing is lost or
half-written.

Each `airflow dags test` costs a process start and an Airflow import: a test goes on from
the warehouse an earlier run left instead of loading it again, and one run checks what
several scenarios need (a failed source is alarmed in the same run that refreshes the
summaries through the connection)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select, text
from support.postgres import ThrowawayPostgres

from etl.polling.rule import FailureKind, PollResult
from etl.polling.store import record_poll
from etl.records import OUTCOME_COLUMNS, Outcome
from etl.warehouse import Warehouse
from etl.warehouse.load import finish_run
from etl.warehouse.schema import articles, ingest_runs

from .conftest import BIN, REPO, airflow, airflow_env

SECRET = "Zq8-not-a-real-password-3x"


def record(warehouse: Warehouse, run_id: str, source: str, status: str,
           error: str | None = None) -> None:
    """An ingest run of `source` with 3 items, all loaded or all failed."""
    with warehouse.begin() as conn:
        finish_run(conn, run_id, source, started_at=datetime.now(UTC), discovered=3,
                   outcomes={Outcome.LOADED if status == "success" else Outcome.FAILED: 3},
                   status=status, error=error)


def suspend(warehouse: Warehouse, source: str) -> None:
    """Three hard failures in a row: the polling rule suspends `source`."""
    gone = PollResult(error=f"source {source!r}: http_410 (GONE)", failure_kind=FailureKind.HARD)
    for _ in range(3):
        record_poll(warehouse, source, gone, datetime.now(UTC))


@pytest.fixture
def down_postgres() -> Iterator[ThrowawayPostgres]:
    """Our own PostgreSQL server (stopping the shared one would break other tests), down
    before the first run touches the warehouse."""
    pg = ThrowawayPostgres()
    try:
        pg.start()
        pg.stop("immediate")
        yield pg
    finally:
        pg.destroy()


def ingest_through_an_outage(pg: ThrowawayPostgres, env: dict[str, str]) -> str:
    """`airflow dags test news_ingest` while `pg` is down: await the first failed try on
    the refused connection, then bring the server up; the retry must succeed. The output."""
    run = subprocess.Popen([str(BIN / "airflow"), "dags", "test", "news_ingest"], env=env,
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    lines: list[str] = []
    failed_once = threading.Event()

    def read_output() -> None:
        assert run.stdout is not None
        for line in run.stdout:
            lines.append(line)
            if "up_for_retry" in line.lower():
                failed_once.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        assert failed_once.wait(300), "".join(lines)[-4000:]
        pg.start()
        run.wait(timeout=600)
        reader.join(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    output = "".join(lines)
    assert run.returncode == 0, output[-4000:]
    assert "up_for_retry" in output.lower(), "no task failed while PostgreSQL was down"
    return output


@pytest.mark.long(290)
@pytest.mark.slow
def test_ingest_twice_then_analytics_through_airflow(airflow_home, tmp_path,
                                                     down_postgres) -> None:
    pg_database = down_postgres.url
    # PostgreSQL trusts local logins, so any password works — and it must never be logged.
    conn_uri = pg_database.replace("postgresql+psycopg://postgres@",
                                   f"postgresql://postgres:{SECRET}@")
    with_conn = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=conn_uri)
    # Room to start the server (pg_ctl -w: a few seconds) between a failed try and its
    # retry; news_ingest's second retry, as long again, is the margin.
    output = ingest_through_an_outage(down_postgres, {
        **with_conn, "NEWS_ETL_STAGING_DIR": str(tmp_path / "staging"),
        "NEWS_ETL_TASK_RETRY_DELAY_S": "5"})  # `dags test` prints every task's log
    assert "data docs for" in output and SECRET not in output
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        runs = conn.execute(select(ingest_runs)).mappings().all()
    assert {r["source"] for r in runs} == {"1scandal", "newsroom-samples"}
    assert all(r["run_id"].startswith("manual__") for r in runs)
    assert sum(r["loaded"] for r in runs) == 5
    for r in runs:  # the retried run: nothing lost or half-written
        assert r["status"] == "success"
        assert r["discovered"] == sum(r[col] for col in OUTCOME_COLUMNS.values())

    # Again, one source: nothing new is loaded.
    airflow(with_conn, "dags", "test", "news_ingest", "-c", json.dumps({"sources": ["1scandal"]}))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        latest = conn.execute(select(ingest_runs).order_by(ingest_runs.c.started_at.desc())
                              ).mappings().first()
    assert latest["source"] == "1scandal" and latest["loaded"] == 0
    assert latest["not_modified"] == 1

    # The load task of each run published the Asset with that run's counts.
    db = sqlite3.connect(airflow_home / "airflow.db")
    extras = {e["run_id"]: e for e in (json.loads(x) for (x,) in db.execute(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id "
        "WHERE a.name = 'news_articles'"))}
    db.close()
    first_run = next(r["run_id"] for r in runs)
    assert extras[first_run]["loaded"] == 5 and extras[latest["run_id"]]["loaded"] == 0

    # news_analytics through the connection (common-sql hook): summaries match the articles.
    # A source failed in an ingest run: news_analytics fails, naming it (and a suspended
    # one, below), and the reject-rate check, independent, still ran and passed.
    warehouse = Warehouse(pg_database)
    warehouse.migrate()  # migrated by news_ingest already: sets up the instance
    record(warehouse, "ingest-1", "gone", "source_failed", "feed unreachable (connect)")
    # A seeded source the polling rule has suspended alarms too, though no run of it is in
    # view; one suspended after leaving sources.yml does not.
    suspend(warehouse, "newsroom-samples")
    suspend(warehouse, "retired")
    plain_url = pg_database.replace("postgresql+psycopg://", "postgresql://")
    result = airflow(with_conn, "dags", "test", "news_analytics", check=False)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-4000:]
    assert "AirflowFailException" in log and "source(s) failed:" in log
    assert "gone: source_failed in run ingest-1 (3/3 items failed): feed unreachable" in log
    assert "source(s) suspended, probed daily until they answer:" in log
    assert "newsroom-samples: suspended since" in log and "retired" not in log
    record_poll(warehouse, "newsroom-samples", PollResult(new_items=1), datetime.now(UTC))
    assert "reject rates within threshold" in log and SECRET not in log
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one()
        assert loaded == 5
        assert conn.execute(text("SELECT SUM(articles) FROM mv_daily_articles")).scalar() \
            == loaded
        assert conn.execute(text("SELECT SUM(loaded) FROM mv_source_health")).scalar() \
            == loaded
        # A source's layout changes: its newest run rejects 35 of 40 items.
        conn.execute(text(
            "INSERT INTO ingest_runs (run_id, source, started_at, finished_at, status, "
            "discovered, loaded, duplicates, rejected, failed, not_modified) VALUES "
            "('layout-change', '1scandal', :now, :now, 'success', 40, 5, 0, 35, 0, 0)"),
            {"now": datetime.now(UTC)})
        conn.commit()
    engine.dispose()
    # The failed source recovers in a later run: no alarm for it any more.
    record(warehouse, "ingest-2", "gone", "success")
    warehouse.dispose()

    # Without the connection: etl's fallback (NEWS_ETL_WAREHOUSE_URL) finds the warehouse,
    # and the run fails loudly, naming the source.
    fallback = airflow_env(airflow_home, NEWS_ETL_WAREHOUSE_URL=plain_url)
    failed = airflow(fallback, "dags", "test", "news_analytics", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    assert "AirflowFailException" in output
    assert "1scandal: 35/40 rejected (88% > 50%" in output
    assert "no failed source in the latest runs" in output
    # The threshold is a Param: raised above the same spike, the run passes — checked in
    # the SQLite-connection run below (one `airflow dags test` less).


@pytest.mark.long(80)
@pytest.mark.slow
def test_analytics_reads_a_sqlite_connection_and_refuses_an_in_memory_one(airflow_home,
                                                                        tmp_path) -> None:
    """news_analytics reads the warehouse through a SQLite `warehouse_default` connection
    (no SQL provider is installed for sqlite: the connection's URI is used, as news_ingest
    uses it, instead of failing on "Unknown hook type"); a source that failed and then
    recovered is no alarm, and the reject-rate spike that fails the run on PostgreSQL
    above passes with the `reject_threshold` Param raised above it. An in-memory SQLite
    connection is refused at once. (A failed source failing the DAG is checked on
    PostgreSQL above, in the same run as the summaries.)"""
    path = tmp_path / "warehouse.db"
    url = f"sqlite:///{path}"
    warehouse = Warehouse(url)
    warehouse.migrate()
    record(warehouse, "ingest-1", "wire", "success")
    record(warehouse, "ingest-1", "gone", "source_failed", "feed unreachable (connect)")

    # The source recovers in a later run: no alarm any more, read through the connection
    # (NEWS_ETL_WAREHOUSE_URL names another file: the connection must win).
    record(warehouse, "ingest-2", "gone", "success")
    # The spike of the PostgreSQL test above (35 of 40 rejected, over the default 0.5),
    # which the threshold Param raised to 0.9 lets pass: the whole DAG passes.
    with warehouse.begin() as conn:
        finish_run(conn, "layout-change", "wire", started_at=datetime.now(UTC), discovered=40,
                   outcomes={Outcome.LOADED: 5, Outcome.REJECTED: 35}, status="success")
    warehouse.dispose()
    good = airflow_env(airflow_home, AIRFLOW_CONN_WAREHOUSE_DEFAULT=url,
                       NEWS_ETL_WAREHOUSE_URL=f"sqlite:///{tmp_path / 'elsewhere' / 'w.db'}")
    passed = airflow(good, "dags", "test", "news_analytics", "-c",
                     json.dumps({"reject_threshold": 0.9}))
    output = passed.stdout + passed.stderr
    assert "no failed source in the latest runs" in output
    assert "reject rates within threshold for every source" in output
    assert not (tmp_path / "elsewhere" / "w.db").exists()

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
