"""Quarantined rows are re-validated after a rule change and loaded exactly once."""

from pathlib import Path

from sqlalchemy import func, select

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest, revalidate
from etl.report import print_report
from etl.warehouse.schema import article_rejects, articles, ingest_runs

BODY = " ".join(["The harbour board voted to extend the night ferry timetable."] * 6)  # 60 words


def test_revalidate_loads_what_now_passes_exactly_once(warehouse, tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(f"Night ferries extended\n{BODY}")
    (folder / "b.txt").write_text("Too short\nOnly a few words here, nothing more.")
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n- {name: local, kind: files, location: in}\n")
    # A strict rule (NEWS_ETL_MIN_WORDS=100 at the edge): both rejected.
    first = ingest(load_sources(config), warehouse, run_id="strict",
                   options=RunOptions(workers=1, min_words=100,
                                      data_docs_dir=str(tmp_path / "docs")))
    assert first.totals()["rejected"] == 2 and first.totals()["loaded"] == 0

    summary = revalidate(warehouse, run_id="reval-1", default_min_words=40)  # rule relaxed
    [report] = summary.reports
    assert report.discovered == 2 and report.balanced
    assert report.outcomes["loaded"] == 1 and report.outcomes["rejected"] == 1
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(articles.c.title)).scalars().all() == ["Night ferries extended"]
        resolved = dict(conn.execute(select(article_rejects.c.title,
                                            article_rejects.c.resolved_run_id)).all())
        assert resolved == {"Night ferries extended": "reval-1", "Too short": None}
        assert conn.execute(select(func.count()).select_from(article_rejects)).scalar() == 2
        run = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == "reval-1")
                           ).mappings().one()
        assert (run["discovered"], run["loaded"], run["rejected"]) == (2, 1, 1)

    again = revalidate(warehouse, run_id="reval-2", default_min_words=40)
    assert again.reports[0].discovered == 1 and again.totals()["loaded"] == 0
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == 1


def test_report_prints_accounting_and_top_reasons(warehouse, tmp_path: Path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "short.txt").write_text("Short\nToo few words.")
    (folder / "empty.html").write_bytes(b"")
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n- {name: local, kind: files, location: in}\n")
    ingest(load_sources(config), warehouse, run_id="r1",
           options=RunOptions(workers=1, data_docs_dir=str(tmp_path / "docs")))
    assert print_report(warehouse, "r1") == 0
    out = capsys.readouterr().out
    assert "local" in out and "word_count" in out and "failed        1  empty" in out
    assert "data docs:" in out
    assert print_report(warehouse, "no-such-run") == 1
