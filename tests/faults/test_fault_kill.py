"""SIGKILL mid-load, then run again: the warehouse ends exactly as an undisturbed run's
(same url, title and text hash set) — nothing lost, nothing twice. SQLite and PostgreSQL."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from etl.config import load_sources
from etl.pipeline import ingest
from etl.warehouse import Warehouse

from .conftest import (
    in_process_options,
    snapshot,
    start_ingest,
    wait_for_rows,
    write_corpus,
)

pytestmark = pytest.mark.slow
N = 60


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, set]:
    """The corpus and what an undisturbed run of it stores."""
    tmp = tmp_path_factory.mktemp("kill")
    sources = write_corpus(tmp / "pages", N)
    url = f"sqlite:///{tmp / 'reference.db'}"
    warehouse = Warehouse(url)
    ingest(load_sources(sources), warehouse, run_id="reference",
           options=in_process_options(tmp, batch_size=10))
    warehouse.dispose()
    reference = snapshot(url)
    assert len(reference) == N
    return sources, reference


@pytest.mark.long(50)
@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_sigkill_mid_load_then_rerun_equals_an_undisturbed_run(db, corpus, tmp_path,
                                                                request):
    sources, reference = corpus
    url = (f"sqlite:///{tmp_path / 'wh.db'}" if db == "sqlite"
           else request.getfixturevalue("pg_database"))
    proc = start_ingest(sources, url, tmp_path, "--run-id", "killed")
    try:
        wait_for_rows(url, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    partial = snapshot(url)
    assert 0 < len(partial) < N, "the kill must land mid-load"
    assert partial <= reference
    # The rerun in this process (the kill needed a process of its own; this does not).
    warehouse = Warehouse(url)
    rerun = ingest(load_sources(sources), warehouse, run_id="again",
                   options=in_process_options(tmp_path, batch_size=50))
    warehouse.dispose()
    assert [r.status for r in rerun.reports] == ["success"]
    assert snapshot(url) == reference
