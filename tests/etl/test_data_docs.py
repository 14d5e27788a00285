"""Data Docs sites (etl.data_docs): GX's pages, with templates compiled once per process."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from etl.config import load_sources
from etl.data_docs import COMPILED_TEMPLATES, write_data_docs
from etl.pipeline import RunOptions, stage_extract, stage_load, stage_validate
from etl.records import Article
from etl.validate import validate_batch


def results() -> list:
    text = " ".join(["word"] * 80)
    batch = [Article(url=f"https://example.org/{i}", source="desk", title=f"Story {i}",
                     text=text, word_count=80 - 70 * (i == 0), language="en")
             for i in range(3)]
    return [validate_batch(batch).gx_result]


def test_a_second_site_compiles_no_template_again(tmp_path, monkeypatch) -> None:
    """GX builds a new Jinja environment per page; the shared bytecode cache keeps a
    process from compiling the same templates for every site."""
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    COMPILED_TEMPLATES.clear()
    first = write_data_docs(results(), "run-1", "desk", tmp_path)
    assert first is not None and compiled, "the first site compiles its templates"
    # Not necessarily all of them: GX also compiles one unnamed template from a string,
    # outside any bytecode cache, and whether this test sees it depends on what ran before.
    assert 0 < len(COMPILED_TEMPLATES) <= len(set(compiled))
    compiled.clear()
    second = write_data_docs(results(), "run-2", "desk", tmp_path)
    assert second is not None
    assert compiled == []
    # Both sites are whole: index, suite page and the validation page, with the failure.
    for index in (first, second):
        pages = sorted(p.name for p in Path(index).parent.rglob("*.html"))
        assert len(pages) == 3 and "index.html" in pages
    validation = next(p for p in Path(second).parent.rglob("*.html")
                      if "validations" in p.parts).read_text(encoding="utf-8")
    assert "word_count" in validation


def test_no_profiling_section_is_rendered(tmp_path) -> None:
    index = write_data_docs(results(), "run-3", "desk", tmp_path)
    assert index is not None
    site = Path(index).parent
    assert not (site / "profiling").exists()
    assert (site / "validations").is_dir() and (site / "expectations").is_dir()


@pytest.mark.parametrize("data_docs", [True, False])
def test_the_staged_path_follows_the_data_docs_option(data_docs, warehouse, seeds_dir,
                                                      tmp_path) -> None:
    """The Airflow tasks' load step builds a site per source only when the run's options
    ask for one (NEWS_ETL_DATA_DOCS reaches them through Settings.run_options)."""
    sources = load_sources(seeds_dir / "sources.yml")
    source = sources.sources[0]
    options = RunOptions(workers=1, archive=False, data_docs=data_docs,
                         data_docs_dir=str(tmp_path / "docs"))
    for chunk in stage_extract(source, "staged", tmp_path / "staging", options, warehouse):
        stage_validate(chunk)
    summary = stage_load("staged", tmp_path / "staging", [source.name], warehouse,
                         options=options)
    assert summary.totals()["loaded"] > 0
    site = tmp_path / "docs" / "staged" / source.name / "index.html"
    assert site.is_file() is data_docs
    assert summary.reports[0].report_path == (str(site) if data_docs else None)
