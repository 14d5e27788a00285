"""SIGKILL mid-load, then run again: the warehouse ends exactly as an undisturbed run's
(same url, title and text hash set) — nothing lost, nothing twice. SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse

from .conftest import cli_env, snapshot, start_ingest, wait_for_rows, write_corpus

pytestmark = pytest.mark.slow
N = 60


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, set]:
    """The corpus and what an undisturbed run of it stores."""
    tmp = tmp_path_factory.mktemp("kill")
    sources = write_corpus(tmp / "pages", N)
    url = f"sqlite:///{tmp / 'reference.db'}"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in cli_env(tmp).items():
            if key.startswith(("NEWS_ETL", "GX_")):
                mp.setenv(key, value)
        ingest(load_sources(sources), Warehouse(url), run_id="reference",
               options=RunOptions(workers=1, batch_size=10))
    reference = snapshot(url)
    assert len(reference) == N
    return sources, reference


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
    rerun = subprocess.run(
        [str(Path(proc.args[0])), "ingest", str(sources), "--warehouse", url, "--workers",
         "1", "--batch-size", "50", "--run-id", "again"],
        env=cli_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert snapshot(url) == reference
