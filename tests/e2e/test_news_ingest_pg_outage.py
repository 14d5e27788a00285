"""PostgreSQL is down when news_ingest needs it: the task fails cleanly, Airflow's retry
succeeds once the server is back, and nothing is lost or half-written."""

from __future__ import annotations

import subprocess
import threading

import pytest
from sqlalchemy import create_engine, func, select
from support.postgres import ThrowawayPostgres

from etl.warehouse.schema import articles, ingest_runs

from .conftest import BIN, REPO, airflow_env

pytestmark = pytest.mark.slow


def test_task_fails_while_postgres_is_down_and_the_retry_succeeds(airflow_home, tmp_path):
    pg = ThrowawayPostgres()  # our own server: stopping the shared one would break others
    try:
        pg.start()
        pg.stop("immediate")  # down before the run touches the warehouse
        staging = tmp_path / "staging"
        env = airflow_env(
            airflow_home, NEWS_ETL_STAGING_DIR=str(staging),
            # Room to start the server (pg_ctl -w: a few seconds) between a failed try and
            # its retry; news_ingest's second retry, as long again, is the margin.
            NEWS_ETL_TASK_RETRY_DELAY_S="5",
            AIRFLOW_CONN_WAREHOUSE_DEFAULT=f"postgresql://postgres@127.0.0.1:{pg.port}/postgres")
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
            # Await the first failed try on the refused connection, then bring the server
            # up: the retry must succeed.
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
        engine = create_engine(pg.url)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
            runs = conn.execute(select(ingest_runs)).mappings().all()
        engine.dispose()
        assert {r["source"] for r in runs} == {"1scandal", "newsroom-samples"}
        for r in runs:
            assert r["status"] == "success"
            assert r["discovered"] == r["loaded"] + r["duplicates"] + r["rejected"] + \
                r["failed"] + r["not_modified"]
    finally:
        pg.destroy()


