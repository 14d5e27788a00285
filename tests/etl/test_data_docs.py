"""Data Docs sites (etl.data_docs): GX's pages, with templates compiled once per process."""

from __future__ import annotations

from pathlib import Path

import jinja2

from etl.data_docs import COMPILED_TEMPLATES, write_data_docs
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
    assert len(COMPILED_TEMPLATES) == len(set(compiled))
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
