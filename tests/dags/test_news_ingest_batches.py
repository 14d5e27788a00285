"""news_ingest's batches (etl.pipeline.batches): sources discovered many per task, chunks
many per task past a bound, so thousands of feeds stay within Airflow's max_map_length —
with every source still accounted for on its own (its ingest_runs row and counts)."""

import runpy
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from etl.config import load_sources
from etl.pipeline import RunOptions, stage_fetch_extract, stage_load, stage_validate
from etl.pipeline.batches import discover_batch, plan_batches, run_chunks
from etl.pipeline.staging import staged_chunks
from etl.records import OUTCOME_COLUMNS
from etl.sources import SourceError
from etl.warehouse.schema import ingest_runs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dag_module(monkeypatch):
    """dags/news_ingest.py's helpers, with the environment's settings read afresh."""
    for name in [n for n in __import__("os").environ if n.startswith("NEWS_ETL_")]:
        monkeypatch.delenv(name)
    monkeypatch.syspath_prepend(str(REPO / "plugins"))
    sys.modules.pop("news_settings", None)
    yield runpy.run_path(str(REPO / "dags" / "news_ingest.py"))
    sys.modules["news_settings"].settings.cache_clear()
    sys.modules.pop("news_settings", None)


def test_batches_keep_every_item_once_and_in_order() -> None:
    names = [f"s{i}" for i in range(7)]
    assert plan_batches(names, 3, 10) == [["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6"]]
    assert plan_batches(names, 1, 2) == [names[:4], names[4:]]  # grown to fit the cap
    assert plan_batches([], 50, 10) == []
    with pytest.raises(ValueError):
        plan_batches(names, 0, 10)


def test_3000_sources_fit_airflows_max_map_length(dag_module, monkeypatch) -> None:
    from airflow.configuration import conf

    names = [f"feed-{i:05d}" for i in range(3000)]
    cap = conf.getint("core", "max_map_length")
    max_tasks = dag_module["_max_tasks"]()
    assert max_tasks <= cap
    default = plan_batches(names, 50, max_tasks)  # the default NEWS_ETL_SOURCES_PER_TASK
    assert len(default) == 60
    # One source per task is asked for; the cap wins, and every source is still planned.
    monkeypatch.setenv("NEWS_ETL_SOURCES_PER_TASK", "1")
    monkeypatch.setenv("NEWS_ETL_MAX_MAPPED_TASKS", "5000")
    sys.modules["news_settings"].settings.cache_clear()
    settings = sys.modules["news_settings"].settings()
    assert settings.sources_per_task == 1
    assert dag_module["_max_tasks"]() == cap  # never above Airflow's own limit
    batches = plan_batches(names, settings.sources_per_task, dag_module["_max_tasks"]())
    assert len(batches) <= cap
    assert [n for batch in batches for n in batch] == names


def test_sources_yml_is_parsed_by_libyaml() -> None:
    """Every task parses sources.yml; with thousands of sources the pure-Python parser
    alone took seconds per task."""
    import yaml

    from etl.config import SAFE_LOADER

    assert SAFE_LOADER is yaml.CSafeLoader


def _sources_file(tmp_path: Path, count: int) -> Path:
    from support.local_site import STORY, page

    lines = ["sources:"]
    for i in range(count):
        folder = tmp_path / f"desk-{i}"
        folder.mkdir()
        (folder / "story.html").write_text(page(f"Ferry timetable {i} changes", STORY))
        lines.append(f"- {{name: desk-{i}, kind: files, location: '{folder}'}}")
    lines.append(f"- {{name: vanished, kind: files, location: '{tmp_path / 'nowhere'}'}}")
    path = tmp_path / "sources.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_batched_run_accounts_for_every_source(warehouse, tmp_path) -> None:
    """What the DAG does, task by task in process: 5 sources (one gone) in batches of 2,
    chunks in at most 2 groups; each source gets its own run record, the failed source's
    batch fails after the others are discovered, and its retry rereads only that source.
    (Two a batch and two a group show the batching as four did: half the documents.)"""
    sources = load_sources(_sources_file(tmp_path, 4))
    # No Data Docs: nothing here reads them (a GX site per source was 1/8 of the test).
    root, run_id = tmp_path / "staging", "batched-1"
    options = RunOptions(workers=1, data_docs=False)
    batches = plan_batches([s.name for s in sources.sources], 2, 10)
    assert [len(b) for b in batches] == [2, 2, 1]
    logged: list[str] = []
    for batch in batches[:2]:
        assert discover_batch(sources.select(batch), run_id, root, options, logged.append) == 2
    with pytest.raises(SourceError, match="1 of 1 source"):
        discover_batch(sources.select(batches[2]), run_id, root, options, logged.append)
    # A retry of a batch skips what an earlier try discovered.
    assert discover_batch(sources.select(batches[0]), run_id, root, options,
                          logged.append) == 0
    assert sum("earlier try" in line for line in logged) == 2

    names = [n for batch in batches for n in batch]
    groups = plan_batches(staged_chunks(run_id, root, names), 1, 2)
    assert [len(g) for g in groups] == [2, 2]
    for group in groups:
        run_chunks(group, "extract.json", lambda c: stage_fetch_extract(
            c, sources.select([Path(c).parent.name])[0], run_id, options), logged.append)
        run_chunks(group, "validation.json", stage_validate, logged.append)
    report = stage_load(run_id, root, names, warehouse, options=options)
    assert {r.source: r.status for r in report.reports} == {
        **{f"desk-{i}": "success" for i in range(4)}, "vanished": "source_failed"}
    with warehouse.engine.connect() as conn:
        runs = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                            ).mappings().all()
    assert len(runs) == 5
    for run in runs:
        assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS.values()), dict(run)
    assert sum(r["loaded"] + r["duplicates"] for r in runs) == 4


def test_a_failed_chunk_leaves_the_others_done_and_is_retried_alone(tmp_path) -> None:
    chunks = [str(tmp_path / f"src/chunk-{i:05d}") for i in range(3)]
    for chunk in chunks:
        Path(chunk).mkdir(parents=True)
    calls: list[str] = []

    def step(chunk: str) -> None:
        calls.append(Path(chunk).name)
        if chunk.endswith("1") and calls.count("chunk-00001") == 1:
            raise SourceError("extractor crashed")
        (Path(chunk) / "done.json").write_text("{}")

    with pytest.raises(SourceError, match="1 of 3 chunk"):
        run_chunks(chunks, "done.json", step)
    assert calls == ["chunk-00000", "chunk-00001", "chunk-00002"]
    assert run_chunks(chunks, "done.json", step) == chunks  # the retry
    assert calls[3:] == ["chunk-00001"]


@pytest.mark.parametrize(("chunk_size", "chunks"), [(None, 1), (2, 3), (5, 1)])
def test_discover_splits_a_source_into_chunks_of_the_configured_size(
        tmp_path, chunk_size, chunks) -> None:
    """NEWS_ETL_CHUNK_SIZE (Settings.chunk_size) sets the items per chunk, so per extract
    task; unset, the pipeline's CHUNK_SIZE. Every item is in exactly one chunk."""
    from support.local_site import STORY, page

    folder = tmp_path / "desk"
    folder.mkdir()
    for i in range(5):
        (folder / f"story-{i}.html").write_text(page(f"Ferry timetable {i}", STORY))
    (tmp_path / "sources.yml").write_text(
        f"sources:\n- {{name: desk, kind: files, location: '{folder}'}}\n")
    sources = load_sources(tmp_path / "sources.yml")
    root = tmp_path / "staging"
    assert discover_batch(sources.sources, "sized", root, RunOptions(workers=1),
                          chunk_size=chunk_size) == chunks
    staged = staged_chunks("sized", root, ["desk"])
    items = [line for chunk in staged
             for line in (Path(chunk) / "items.jsonl").read_text().splitlines()]
    assert len(staged) == chunks and len(items) == 5 == len(set(items))


def test_the_chunk_size_setting_reads_the_environment(monkeypatch) -> None:
    from etl.settings import Settings

    monkeypatch.delenv("NEWS_ETL_CHUNK_SIZE", raising=False)
    assert Settings().chunk_size is None
    monkeypatch.setenv("NEWS_ETL_CHUNK_SIZE", "1000")
    assert Settings().chunk_size == 1000
    monkeypatch.setenv("NEWS_ETL_CHUNK_SIZE", "0")
    with pytest.raises(Exception, match="chunk_size"):
        Settings()
