"""The whole pipeline on the seeds and on bad input, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from support.stories import STORIES, story_page

from etl.config import load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_chunk,
    stage_discover,
    stage_extract,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.pipeline.chain import STEP_NAMES, segment
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse import Warehouse
from etl.warehouse.schema import (
    article_bands,
    article_duplicates,
    article_failures,
    article_rejects,
    article_signatures,
    articles,
    ingest_runs,
    validation_results,
)

SEED_TITLE = "Moscou et Téhéran prévoient une installation d’usine de drones iraniens en Russie"
SEED_LAST = ("affirmant que les livraisons avaient eu lieu avant le début de la guerre.")
OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns
# The default run (an extraction process per core) without Data Docs: nothing here reads
# them (the validation results stay in the warehouse), and building them is most of a
# small run's CPU.
NO_DOCS = RunOptions(data_docs=False)
INLINE = RunOptions(workers=1, data_docs=False)


def assert_runs_balance(warehouse, run_id: str) -> list[dict]:
    with warehouse.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()]
    assert runs
    for run in runs:
        assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), run
        assert run["finished_at"] is not None
    return runs


def test_seed_run_retried_then_rerun_loads_nothing_twice(warehouse, seeds_dir: Path) -> None:
    """A run, the same run retried (same run id), then a new run: one set-up of the seeds
    serves the three, as each needs the run before it."""
    sources = load_sources(seeds_dir / "sources.yml")
    first = ingest(sources, warehouse, run_id="run-1", options=NO_DOCS)
    assert first.totals()["loaded"] == 5 and first.totals()["discovered"] == 5
    with warehouse.engine.connect() as conn:
        seed = conn.execute(
            select(articles).where(articles.c.source == "1scandal")).mappings().one()
    assert seed["title"] == SEED_TITLE
    assert seed["language"] == "fr"
    assert seed["published_at"] is None
    assert seed["text"].endswith(SEED_LAST)
    assert "1scandal" not in seed["text"] and "©" not in seed["text"]
    assert seed["url"] == f"file://{seeds_dir / '000_aae610589fe5d917.txt'}"
    assert_runs_balance(warehouse, "run-1")

    # Retrying the same run is idempotent.
    again = ingest(sources, warehouse, run_id="run-1", options=NO_DOCS)
    assert again.totals()["loaded"] == 5  # the retry counts what the run stored, once
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
    assert_runs_balance(warehouse, "run-1")

    second = ingest(sources, warehouse, run_id="run-2", options=NO_DOCS)
    assert second.totals()["loaded"] == 0
    assert second.totals()["not_modified"] == 5
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        assert conn.execute(select(func.count()).select_from(validation_results)).scalar() >= 2
    assert_runs_balance(warehouse, "run-2")


def test_bad_input_is_accounted_for_with_reasons(warehouse, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    body = " ".join(["The council approved the new cycle lanes after a long debate."] * 8)
    (folder / "good.txt").write_text(f"Cycle lanes approved\n{body}")
    (folder / "copy.txt").write_text(f"Same story, other headline\n{body}")
    (folder / "empty.html").write_bytes(b"")
    (folder / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (folder / "stub.txt").write_text("Subscribe\nPlease subscribe to read this article.")
    (folder / "german.txt").write_text(
        "Radwege beschlossen\n" + " ".join(["Der Rat hat die neuen Radwege beschlossen."] * 12))
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n- {name: local, kind: files, location: in, language: en}\n")
    summary = ingest(load_sources(config), warehouse, run_id="bad", options=NO_DOCS)
    totals = summary.totals()
    assert totals == {"discovered": 6, "loaded": 1, "duplicate": 1, "rejected": 2, "failed": 2,
                      "not_modified": 0}
    assert_runs_balance(warehouse, "bad")
    with warehouse.engine.connect() as conn:
        rejects = {Path(r.url).name: r.reasons for r in conn.execute(select(article_rejects))}
        failures = {Path(r.url).name: r.reason for r in conn.execute(select(article_failures))}
    assert any("word_count" in r for r in rejects["stub.txt"])
    assert any("expected_language" in r for r in rejects["german.txt"])
    assert failures == {"empty.html": "empty", "image.html": "decode_error"}


def other_warehouse(request, warehouse, tmp_path: Path) -> Warehouse:
    """A second, empty warehouse of the same kind as `warehouse`."""
    if warehouse.engine.dialect.name == "postgresql":
        other = Warehouse(request.getfixturevalue("pg_database"))
    else:
        other = Warehouse(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    request.addfinalizer(other.dispose)
    return other


def snapshot(warehouse) -> dict[str, list]:
    """Everything a run decided, without the times it happened at."""
    volatile = {"ingested_at", "recorded_at", "rejected_at", "failed_at", "started_at",
                "finished_at", "created_at", "id", "report_path", "last_fetched_at",
                "fetched_at", "next_attempt_at", "result"}
    tables = {"articles": articles, "duplicates": article_duplicates,
              "rejects": article_rejects, "failures": article_failures, "runs": ingest_runs,
              "signatures": article_signatures, "bands": article_bands,
              "validation": validation_results}
    out = {}
    with warehouse.engine.connect() as conn:
        for name, table in tables.items():
            rows = [{k: v for k, v in row.items() if k not in volatile}
                    for row in conn.execute(select(table)).mappings()]
            for row in rows:  # a reject's record: the extracted article, fetch time and all
                if isinstance(row.get("record"), dict):
                    row["record"] = {k: v for k, v in row["record"].items() if k not in volatile}
            out[name] = sorted(rows, key=repr)
    return out


def local_feed(server: HTTPServer, tmp_path: Path) -> Path:
    """A feed whose entries end in every outcome: loaded, duplicate (near and exact),
    rejected, failed, and not_modified (older than max_age_days)."""
    now = datetime.now(UTC)
    pages = {
        "ferry": (now - timedelta(hours=5), story_page("Ferry back", STORIES["ferry"])),
        "ferry-copy": (now - timedelta(hours=4), story_page(
            "Ferry back", [*STORIES["ferry"], "Follow our island coverage for more."])),
        "ferry-print": (now - timedelta(hours=3), story_page("Ferry back", STORIES["ferry"])),
        "bakery": (now - timedelta(hours=2), story_page("Bakery prize", STORIES["bakery"])),
        "short": (now - timedelta(hours=2), story_page("Brief", ["Only a few words."])),
        "gone": (now - timedelta(hours=1), None),
        "old": (now - timedelta(days=90), story_page("Old news", STORIES["wetland"])),
    }
    items = ""
    for slug, (published, html) in pages.items():
        url = server.url_for(f"/news/{slug}")
        items += (f"<item><title>{slug}</title><link>{url}</link>"
                  f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>")
        if html is None:
            server.expect_request(f"/news/{slug}").respond_with_data("gone", status=404)
        else:
            server.expect_request(f"/news/{slug}").respond_with_data(
                html, content_type="text/html")
    server.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Local</title>{items}"
        "</channel></rss>", content_type="application/rss+xml")
    path = tmp_path / "feed.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 2, retries: 0}\n"
        f"sources:\n- {{name: local-feed, kind: feed, location: '{server.url_for('/feed.xml')}', "
        "language: en, max_age_days: 30}\n")
    return path


@pytest.mark.parametrize("kind", ["files", "feed"])
@pytest.mark.parametrize("passes", ["one pass", "two tasks"])
def test_staged_steps_give_the_same_warehouse_as_streaming(request, warehouse, seeds_dir,
                                                           tmp_path, httpserver, kind, passes):
    """The CLI (streaming) and the Airflow tasks (stopping at checkpoints of the chain)
    run the one chain: the same run of the same source gives the same warehouse, row for
    row, and the run record lists the steps in the chain's order — whether a chunk is
    fetched, extracted and validated in one pass (the DAG's task) or in two."""
    if kind == "files":
        sources = load_sources(seeds_dir / "sources.yml")
    else:
        sources = load_sources(local_feed(httpserver, tmp_path))
    names = [s.name for s in sources.sources]
    options = RunOptions(workers=1, archive_root=str(tmp_path / "archive"),
                         data_docs_dir=str(tmp_path / "docs"), data_docs=False)
    streamed = ingest(sources, warehouse, run_id="same-run", options=options)

    staged_warehouse = other_warehouse(request, warehouse, tmp_path)
    for source in sources.sources:
        if passes == "one pass":
            for chunk in stage_discover(source, "same-run", tmp_path / "staging", options):
                stage_chunk(chunk, source, "same-run", options, staged_warehouse)
                assert not (Path(chunk) / "extracted.jsonl").exists()
            continue
        for chunk in stage_extract(source, "same-run", tmp_path / "staging", options,
                                   staged_warehouse):
            stage_validate(chunk)
    staged = stage_load("same-run", tmp_path / "staging", names, staged_warehouse,
                        options=options)

    assert staged.as_dict() == streamed.as_dict()
    if kind == "files":
        assert streamed.totals()["loaded"] == 5
    else:
        assert streamed.totals() == {"discovered": 7, "loaded": 2, "duplicate": 2,
                                     "rejected": 1, "failed": 1, "not_modified": 1}
    for wh in (warehouse, staged_warehouse):
        assert_runs_balance(wh, "same-run")
    assert snapshot(staged_warehouse) == snapshot(warehouse)
    chain_order = [*(n for n in STEP_NAMES if n != "load"), "dedup_exact", "dedup_near"]
    for report in (*streamed.reports, *staged.reports):
        steps = [s["stage"] for s in report.stage_stats]
        assert steps == [n for n in chain_order if n in steps]
        assert steps[-2:] == ["dedup_exact", "dedup_near"] and "extract" in steps


def test_segments_of_the_chain() -> None:
    """Runs start at a step or resume at a checkpoint, and stop at a checkpoint."""
    assert [s.name for s in segment()] == list(STEP_NAMES)
    assert [s.name for s in segment("discover", "discovered")] == ["discover"]
    assert [s.name for s in segment("discovered", "extracted")] == ["fetch", "extract"]
    assert [s.name for s in segment("extract")] == ["extract", "detect_changes", "validate",
                                                    "load"]
    assert [s.name for s in segment("validated")] == ["load"]
    for start, stop in (("load", "validated"), ("nowhere", None), ("discover", "load")):
        with pytest.raises(ValueError):
            segment(start, stop)


def test_a_source_whose_every_item_failed_is_flagged(warehouse, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.html", "b.html"):
        (folder / name).write_bytes(b"")
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n- {name: broken, kind: files, location: in}\n")
    [report] = ingest(load_sources(config), warehouse, run_id="broken",
                      options=INLINE).reports
    assert report.status == "all_failed" and "empty ×2" in report.error
    [run] = assert_runs_balance(warehouse, "broken")
    assert run["status"] == "all_failed" and run["failed"] == 2


def test_staged_chunks_and_unfinished_chunks_are_accounted_for(warehouse, seeds_dir, tmp_path):
    """Airflow maps fetch/extract over chunks; a chunk whose task never completed is
    recorded as failed, item by item, so the counts still add up."""
    source = load_sources(seeds_dir / "sources.yml").select(["newsroom-samples"])[0]
    chunks = stage_discover(source, "chunked", tmp_path / "staging", chunk_size=3)
    assert [Path(c).name for c in chunks] == ["chunk-00000", "chunk-00001"]
    stage_validate(stage_fetch_extract(chunks[0], source, "chunked", INLINE))
    # chunks[1]: its extract task "crashed" and never wrote its output.
    [report] = stage_load("chunked", tmp_path / "staging", [source.name], warehouse,
                          options=INLINE).reports
    assert report.discovered == 4 and report.balanced
    assert report.outcomes["loaded"] == 3 and report.outcomes["failed"] == 1
    with warehouse.engine.connect() as conn:
        [reason] = conn.execute(select(article_failures.c.reason)).scalars().all()
    assert reason == "extract_task_failed"


def test_a_one_pass_chunk_cut_short_before_its_last_record_counts_as_failed(
        warehouse, seeds_dir, tmp_path):
    """stage_chunk writes validation.json, then extract.json: a task that died between the
    two left validated items but no extracted ones, so every discovered item of the chunk
    is recorded as failed, once — its validation drops are not counted a second time."""
    source = load_sources(seeds_dir / "sources.yml").select(["newsroom-samples"])[0]
    source = replace(source, min_words=10_000)  # every page rejected by validation
    [chunk] = stage_discover(source, "cut", tmp_path / "staging")
    stage_chunk(chunk, source, "cut", INLINE)
    rejects = (Path(chunk) / "dropped-validate.jsonl").read_text().splitlines()
    assert len(rejects) == 4 and (Path(chunk) / "dropped-extract.jsonl").read_text() == ""
    (Path(chunk) / "extract.json").unlink()  # the task died before its last record
    [report] = stage_load("cut", tmp_path / "staging", [source.name], warehouse,
                          options=INLINE).reports
    assert report.discovered == 4 and report.balanced
    assert report.outcomes["failed"] == 4 and report.outcomes["rejected"] == 0
