"""What the news_ingest DAG's plan_sources task decides (it only calls these): scheduled
runs read the due sources, manual runs force the ones they name, `due_only` overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl.config import load_sources
from etl.pipeline.polls import due_only_for, plan_sources
from etl.polling import PollResult, record_poll
from etl.warehouse import Warehouse

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("run_type", "requested", "expected"), [
    ("scheduled", None, True), ("manual", None, False), ("backfill", None, False),
    ("asset_triggered", None, False), (None, None, False),
    ("manual", True, True), ("scheduled", False, False),
])
def test_which_runs_poll_only_due_sources(run_type, requested, expected) -> None:
    assert due_only_for(run_type, requested) is expected


def test_plan_reads_due_sources_or_forces_the_named_ones(warehouse: Warehouse,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n" + "".join(
        f"- {{name: {n}, kind: feed, location: 'http://127.0.0.1:9/{n}.xml'}}\n"
        for n in ("a", "b", "c")))
    sources = load_sources(path)
    record_poll(warehouse, "b", PollResult(1), T0)  # due again at T0 + 1 h
    soon = T0 + timedelta(minutes=10)
    due, later = plan_sources(sources, [], warehouse, due_only=True, now=soon)
    assert due == ["a", "c"] and [s.source for s in later] == ["b"]
    assert plan_sources(sources, ["b", "a"], None, due_only=False, now=soon) == (
        ["b", "a"], [])
    assert plan_sources(sources, ["b"], warehouse, due_only=True,
                        now=T0 + timedelta(hours=1))[0] == ["b"]
