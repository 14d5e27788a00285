"""The news_ingest DAG's plan_sources task checks the run's configuration with
run_conf_problems: every problem is named at once, so one failed run shows them all."""

from __future__ import annotations

from pathlib import Path

from etl.config import load_sources
from etl.pipeline.polls import run_conf_problems

PARAMS = ("sources", "limit", "only_interval", "due_only")


def test_every_problem_of_the_conf_at_once(tmp_path: Path) -> None:
    good = tmp_path / "sources.yml"
    good.write_text("sources:\n- {name: a, kind: files, location: in}\n")
    broken = tmp_path / "broken.yml"
    broken.write_text("sources:\n- {name: x, kind: telepathy, location: in}\n")

    sources, problems = run_conf_problems({"sources": ["a"]}, PARAMS, ["a"],
                                          lambda: load_sources(good))
    assert problems == [] and [s.name for s in sources.select(["a"])] == ["a"]

    # An unknown key and two unknown sources: both problems, in one message each.
    sources, problems = run_conf_problems(
        {"sources": ["nope", "a", "gone"], "colour": "blue", "size": 2}, PARAMS,
        ["nope", "a", "gone"], lambda: load_sources(good))
    assert sources is not None
    assert problems == [
        "unknown parameter(s) ['colour', 'size'] in the run's conf; known: "
        "['due_only', 'limit', 'only_interval', 'sources']",
        "unknown source(s) ['nope', 'gone']; known: ['a']"]

    # A broken sources file: the source names cannot be checked, the conf's keys still are.
    sources, problems = run_conf_problems({"colour": "blue"}, PARAMS, ["a"],
                                          lambda: load_sources(broken))
    assert sources is None and len(problems) == 2
    assert problems[0].startswith("unknown parameter(s) ['colour'] in the run's conf")
    assert "field 'kind'" in problems[1] and "telepathy" in problems[1]
