"""The revisit schedule on a simulated clock: decaying delays from the first store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from etl.config import DEFAULT_REVISIT, ConfigError, load_sources
from etl.revisit.schedule import first_visit_window, next_revisit

STORED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_default_schedule_decays_then_stops() -> None:
    points, now = [], STORED
    while (due := next_revisit(STORED, DEFAULT_REVISIT, now)) is not None:
        points.append(due - STORED)
        now = due  # revisited exactly when due
    assert points == [H, 6 * H, 24 * H, 72 * H, 168 * H]


def test_missed_points_are_skipped_not_replayed() -> None:
    # The scheduler was down for two days: one revisit, then the 3-day point.
    assert next_revisit(STORED, DEFAULT_REVISIT, STORED + 50 * H) == STORED + 72 * H
    assert next_revisit(STORED, DEFAULT_REVISIT, STORED + 8 * 24 * H) is None
    assert next_revisit(STORED, (), STORED) is None


def test_first_visit_window() -> None:
    now = STORED + 2 * H
    assert first_visit_window(DEFAULT_REVISIT, now) == (now - 168 * H, now - H)
    assert first_visit_window((), now) is None


def _sources(tmp_path, revisit: str):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n- {name: wire, kind: urls, urls: ['http://x.example/a']"
                    f"{revisit}}}\n")
    return load_sources(path)


def test_revisit_field(tmp_path) -> None:
    assert _sources(tmp_path, "").sources[0].revisit == DEFAULT_REVISIT
    assert _sources(tmp_path, ", revisit: []").sources[0].revisit == ()
    assert _sources(tmp_path, ", revisit: [30m, 2h, 1w]").sources[0].revisit == (
        timedelta(minutes=30), 2 * H, timedelta(days=7))


@pytest.mark.parametrize(("value", "message"), [
    ("6h", "must be a list of delays"),
    ("[6h, 1h]", "delays must grow"),
    ("[soon]", "'soon' is not a delay"),
    ("[0h]", "'0h' is not a delay"),
    ("[3]", "3 is not a delay"),
])
def test_bad_revisit_values_name_the_source_and_field(tmp_path, value, message) -> None:
    with pytest.raises(ConfigError) as error:
        _sources(tmp_path, f", revisit: {value}")
    assert "source 'wire'" in str(error.value) and "field 'revisit'" in str(error.value)
    assert message in str(error.value)
