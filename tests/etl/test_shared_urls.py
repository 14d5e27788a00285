"""One URL reached through two sources in the same run is loaded once: the first source
(in load order) loads it, the second records a `duplicate` (duplicate_url) of it. A retried
run (same run id) counts exactly what the first attempt counted. Every source's counts add
up. On SQLite and PostgreSQL, through the CLI path (`ingest`) and the Airflow staged path
(`stage_*`, with the two sources' fetch tasks running at the same time, as Airflow's
mapped tasks do)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from support.dated_feed import Feed, serve_stories

from etl.config import SourcesFile, load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse.load import article_id_for
from etl.warehouse.schema import article_duplicates, articles, ingest_runs

OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns
SHARED = ("ferry", "bakery")
# Data Docs are never read here (the validation results stay in the warehouse); building
# them would be most of a small run's CPU.
QUIET = RunOptions(workers=1, data_docs=False)


def two_feeds(server: HTTPServer) -> tuple[Feed, Feed]:
    """Feeds of two sources sharing two stories; each has one of its own."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    first = Feed(server, "/first.xml", [(s, yesterday) for s in (*SHARED, "bridge")])
    second = Feed(server, "/second.xml", [(s, yesterday) for s in ("orchard", *SHARED)])
    return first, second


def sources_file(tmp_path: Path, first: Feed, second: Feed) -> SourcesFile:
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 20, retries: 0, max_per_host: 8}\n"
        "sources:\n"
        f"- {{name: first, kind: feed, location: '{first.url}', language: en, min_words: 20}}\n"
        f"- {{name: second, kind: feed, location: '{second.url}', language: en, "
        "min_words: 20}\n")
    return load_sources(path)


def counts(warehouse, run_id: str) -> dict[str, tuple[int, ...]]:
    """source → (discovered, loaded, duplicates, rejected, failed, not_modified); checks
    that each source's outcomes add up to what it discovered."""
    with warehouse.engine.connect() as conn:
        runs = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                            ).mappings().all()
    for run in runs:
        assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), dict(run)
    return {r["source"]: (r["discovered"], *(r[c] for c in OUTCOME_COLUMNS)) for r in runs}


def stored(warehouse) -> tuple[dict[str, str], list[tuple]]:
    with warehouse.engine.connect() as conn:
        kept = dict(conn.execute(select(articles.c.url, articles.c.source)).tuples().all())
        dups = conn.execute(select(article_duplicates.c.source, article_duplicates.c.url,
                                   article_duplicates.c.duplicate_of,
                                   article_duplicates.c.kind)
                            .order_by(article_duplicates.c.url)).tuples().all()
    return kept, dups


# first: 3 loaded; second: its own story loaded, the two shared ones duplicates of first's.
EXPECTED = {"first": (3, 3, 0, 0, 0, 0), "second": (3, 1, 2, 0, 0, 0)}


def assert_loaded_once(warehouse, server: HTTPServer) -> None:
    kept, dups = stored(warehouse)
    assert len(kept) == 4 and all(kept[server.url_for(f"/news/{s}")] == "first"
                                  for s in SHARED)
    assert dups == sorted(("second", u, article_id_for(u), "url")
                          for u in (server.url_for(f"/news/{s}") for s in SHARED))


def test_cli_run_loads_a_shared_url_once_and_a_retry_counts_the_same(
        server, warehouse, tmp_path):
    serve_stories(server)
    sources = sources_file(tmp_path, *two_feeds(server))
    options = RunOptions(workers=1, data_docs=False, archive_root=str(tmp_path / "archive"))

    summary = ingest(sources, warehouse, run_id="shared-1", options=options)
    assert all(r.balanced for r in summary.reports)
    assert counts(warehouse, "shared-1") == EXPECTED
    assert_loaded_once(warehouse, server)

    # The same run retried (e.g. `news-etl ingest --run-id shared-1` after a crash): what
    # it stored is counted once again, as loaded; nothing is stored twice.
    ingest(sources, warehouse, run_id="shared-1", options=options)
    assert counts(warehouse, "shared-1") == EXPECTED
    assert_loaded_once(warehouse, server)

    # A later run has nothing new for either source.
    ingest(sources, warehouse, run_id="shared-2", options=options)
    assert counts(warehouse, "shared-2") == {"first": (3, 0, 0, 0, 0, 3),
                                             "second": (3, 0, 0, 0, 0, 3)}


def together(server: HTTPServer) -> None:
    """Hold each request for a shared story until the other source asks for it too (as
    two of Airflow's mapped fetch tasks running at once), so neither source's fetch ledger
    knows the other's before the load."""
    barriers = {slug: threading.Barrier(2, timeout=10) for slug in SHARED}

    def before(slug: str) -> None:
        if slug in barriers:
            barriers[slug].wait()

    serve_stories(server, before)


def fetch_concurrently(chunks: dict[str, list[str]], sources: SourcesFile, run_id: str,
                       warehouse, archive: Path) -> None:
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            [source] = sources.select([name])
            for chunk in chunks[name]:
                stage_validate(stage_fetch_extract(chunk, source, run_id,
                                                   RunOptions(workers=1, data_docs=False,
                                                              archive_root=str(archive)),
                                                   warehouse),
                               {name: source.min_words})
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_staged_run_loads_a_shared_url_once_and_retries_count_the_same(
        server, warehouse, tmp_path):
    together(server)
    sources = sources_file(tmp_path, *two_feeds(server))
    root, run_id, names = tmp_path / "staging", "scheduled__shared", ["first", "second"]

    chunks = {name: stage_discover(sources.select([name])[0], run_id, root)
              for name in names}
    fetch_concurrently(chunks, sources, run_id, warehouse, tmp_path / "archive")
    summary = stage_load(run_id, root, names, warehouse, options=QUIET)
    assert all(r.balanced for r in summary.reports)
    assert counts(warehouse, run_id) == EXPECTED
    assert_loaded_once(warehouse, server)

    # The load task retried: the same counts, nothing stored twice.
    stage_load(run_id, root, names, warehouse, options=QUIET)
    assert counts(warehouse, run_id) == EXPECTED

    # The fetch tasks retried after the load (the run cleared and run again): the pages
    # stored by this run are fetched again and still counted once.
    fetch_concurrently(chunks, sources, run_id, warehouse, tmp_path / "archive")
    stage_load(run_id, root, names, warehouse, options=QUIET)
    assert counts(warehouse, run_id) == EXPECTED
    assert_loaded_once(warehouse, server)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 4
