"""The whole pipeline on the seeds and on bad input, on SQLite and PostgreSQL."""

from pathlib import Path

from sqlalchemy import func, select

from etl.config import load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_extract,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.warehouse.schema import (
    article_failures,
    article_rejects,
    articles,
    ingest_runs,
    validation_results,
)

SEED_TITLE = "Moscou et Téhéran prévoient une installation d’usine de drones iraniens en Russie"
SEED_LAST = ("affirmant que les livraisons avaient eu lieu avant le début de la guerre.")
OUTCOME_COLUMNS = ("loaded", "duplicates", "rejected", "failed", "not_modified")


def assert_runs_balance(warehouse, run_id: str) -> list[dict]:
    with warehouse.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()]
    assert runs
    for run in runs:
        assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), run
        assert run["finished_at"] is not None
    return runs


def test_seed_run_then_rerun_loads_nothing_twice(warehouse, seeds_dir: Path) -> None:
    sources = load_sources(seeds_dir / "sources.yml")
    first = ingest(sources, warehouse, run_id="run-1")
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

    second = ingest(sources, warehouse, run_id="run-2")
    assert second.totals()["loaded"] == 0
    assert second.totals()["not_modified"] == 5
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
        assert conn.execute(select(func.count()).select_from(validation_results)).scalar() >= 2
    assert_runs_balance(warehouse, "run-2")


def test_retrying_the_same_run_is_idempotent(warehouse, seeds_dir: Path) -> None:
    sources = load_sources(seeds_dir / "sources.yml")
    ingest(sources, warehouse, run_id="same")
    again = ingest(sources, warehouse, run_id="same")
    assert again.totals()["loaded"] == 5  # the retry counts what the run stored, once
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 5
    assert_runs_balance(warehouse, "same")


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
    summary = ingest(load_sources(config), warehouse, run_id="bad")
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


def test_staged_steps_give_the_same_warehouse_as_streaming(warehouse, seeds_dir, tmp_path):
    sources = load_sources(seeds_dir / "sources.yml")
    for source in sources.sources:
        for chunk in stage_extract(source, "staged", tmp_path, RunOptions(workers=1)):
            stage_validate(chunk)
    summary = stage_load("staged", tmp_path, [s.name for s in sources.sources], warehouse)
    assert summary.totals()["loaded"] == 5
    assert_runs_balance(warehouse, "staged")
    with warehouse.engine.connect() as conn:
        titles = sorted(conn.execute(select(articles.c.title)).scalars())
    assert SEED_TITLE in titles and len(titles) == 5


def test_a_source_whose_every_item_failed_is_flagged(warehouse, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.html", "b.html"):
        (folder / name).write_bytes(b"")
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n- {name: broken, kind: files, location: in}\n")
    [report] = ingest(load_sources(config), warehouse, run_id="broken",
                      options=RunOptions(workers=1)).reports
    assert report.status == "all_failed" and "empty ×2" in report.error
    [run] = assert_runs_balance(warehouse, "broken")
    assert run["status"] == "all_failed" and run["failed"] == 2


def test_staged_chunks_and_unfinished_chunks_are_accounted_for(warehouse, seeds_dir, tmp_path):
    """Airflow maps fetch/extract over chunks; a chunk whose task never completed is
    recorded as failed, item by item, so the counts still add up."""
    source = load_sources(seeds_dir / "sources.yml").select(["newsroom-samples"])[0]
    chunks = stage_discover(source, "chunked", tmp_path / "staging", chunk_size=3)
    assert [Path(c).name for c in chunks] == ["chunk-00000", "chunk-00001"]
    stage_validate(stage_fetch_extract(chunks[0], source, "chunked", RunOptions(workers=1)))
    # chunks[1]: its extract task "crashed" and never wrote its output.
    [report] = stage_load("chunked", tmp_path / "staging", [source.name], warehouse).reports
    assert report.discovered == 4 and report.balanced
    assert report.outcomes["loaded"] == 3 and report.outcomes["failed"] == 1
    with warehouse.engine.connect() as conn:
        [reason] = conn.execute(select(article_failures.c.reason)).scalars().all()
    assert reason == "extract_task_failed"
