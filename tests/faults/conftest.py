"""Fault-injection helpers: a generated corpus of distinct articles, warehouse snapshots,
the news-etl CLI as a subprocess and a throw-away PostgreSQL server of our own."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from support.local_site import STORY
from support.postgres import ThrowawayPostgres

from etl.pipeline import RunOptions
from etl.warehouse.schema import articles

CLI = Path(sys.executable).parent / "news-etl"


def write_corpus(folder: Path, count: int, seed: int = 7) -> Path:
    """`count` distinct, valid English-looking articles as .txt files (no near-copies)."""
    rng = random.Random(seed)
    vocab = sorted({w.strip(".,").lower() for p in STORY for w in p.split()})
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        words = " ".join(rng.choice(vocab) for _ in range(120))
        (folder / f"{i:05d}.txt").write_text(f"Story number {i}\n\n{words}.\n")
    sources = folder.parent / "sources.yml"
    sources.write_text(f"sources:\n- {{name: corpus, kind: files, location: {folder.name}, "
                       "min_words: 20}\n")
    return sources


def snapshot(url: str) -> set[tuple[str, str, str]]:
    """(url, title, text_sha256) of every stored article."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(articles.c.url, articles.c.title,
                                           articles.c.text_sha256)).tuples())
    finally:
        engine.dispose()


def count_articles(url: str) -> int:
    try:
        return len(snapshot(url))
    except Exception:  # tables not created yet, database locked, server gone
        return 0


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_ETL")}
    env.update(NEWS_ETL_DATA_DOCS_DIR=str(tmp / "docs"), NEWS_ETL_ARCHIVE_ROOT=str(tmp / "arc"),
               NEWS_ETL_STAGING_DIR=str(tmp / "staging"), GX_ANALYTICS_ENABLED="false")
    return env


def in_process_options(tmp: Path, batch_size: int) -> RunOptions:
    """What `start_ingest`'s command runs with, for an ingest in this process: one
    extraction process (inline), the same folders, the default settings."""
    return RunOptions(workers=1, batch_size=batch_size, archive_root=str(tmp / "arc"),
                      data_docs_dir=str(tmp / "docs"))


def start_ingest(sources: Path, url: str, tmp: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CLI), "ingest", str(sources), "--warehouse", url, "--workers", "1",
         "--batch-size", "10", "--json", *extra],
        env=cli_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(url: str, proc: subprocess.Popen, at_least: int = 1,
                  timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = count_articles(url)
        if n >= at_least:
            return n
        assert proc.poll() is None, f"ingest ended before any row: {proc.communicate()}"
        time.sleep(0.05)
    raise AssertionError("no rows appeared")


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()
