"""PostgreSQL stops during a run (our own throw-away server): the run fails cleanly, what
is stored is whole batches only, and a retry of the same run id completes it exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from etl.config import load_sources
from etl.pipeline import ingest
from etl.warehouse import Warehouse
from etl.warehouse.schema import articles, ingest_runs

from .conftest import (
    in_process_options,
    snapshot,
    start_ingest,
    wait_for_rows,
    write_corpus,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
N, BATCH = 60, 10


@pytest.mark.long(40)
def test_postgres_stops_mid_run_then_the_same_run_id_is_retried(own_postgres, tmp_path):
    sources = write_corpus(tmp_path / "pages", N)
    url = own_postgres.url
    proc = start_ingest(sources, url, tmp_path, "--run-id", "pg-stop")
    try:
        wait_for_rows(url, proc)
        own_postgres.stop("immediate")  # a crash, not a polite shutdown
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out
    assert "Traceback" not in err or "OperationalError" in err

    own_postgres.start()
    partial = snapshot(url)
    # Whole batches only: all items are valid and distinct and files are read in name
    # order, so k committed batches are exactly the first k*BATCH files.
    files = sorted((tmp_path / "pages").glob("*.txt"))
    assert 0 < len(partial) < N
    assert len(partial) % BATCH == 0, len(partial)
    assert {u for u, _, _ in partial} == {"file://" + str(p) for p in files[:len(partial)]}

    # The retry in this process (the stop needed a run of its own to break; this does not).
    warehouse = Warehouse(url)
    retry = ingest(load_sources(sources), warehouse, run_id="pg-stop",
                   options=in_process_options(tmp_path, batch_size=BATCH))
    warehouse.dispose()
    assert [r.status for r in retry.reports] == ["success"]
    stored = snapshot(url)
    assert {u for u, _, _ in stored} == {"file://" + str(p) for p in files}
    assert len(stored) == N
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            run = conn.execute(select(ingest_runs)).mappings().one()
            per_run = conn.execute(select(func.count()).select_from(articles)
                                   .where(articles.c.run_id == "pg-stop")).scalar()
    finally:
        engine.dispose()
    assert run["status"] == "success" and run["discovered"] == N
    assert run["loaded"] + run["duplicates"] == N  # retried batches count once, as loaded
    assert per_run == N
