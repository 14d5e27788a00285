"""Poll state in the warehouse, on SQLite and PostgreSQL, with a simulated clock: a dead
source is suspended with an alarm (ERROR log, source_poll_health), probed daily, and
resumed; due-only selection; the Airflow load step records polls too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from etl.pipeline import stage_load
from etl.pipeline.polls import not_due_from_json, not_due_to_json
from etl.polling import (
    DEFAULT_POLICY,
    PollResult,
    PollStatus,
    failure_kind,
    read_states,
    record_poll,
    record_polls,
    split_due,
)
from etl.warehouse import Warehouse

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
GONE = "source 'wire': cannot fetch http://127.0.0.1:1/feed.xml: http_410 (GONE)"


def health(warehouse: Warehouse, source: str) -> dict:
    with warehouse.engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT state, alarm, next_due_at, interval_s, consecutive_failures, "
            "last_failure_kind, items_per_day, last_success_at, suspended_at "
            "FROM source_poll_health WHERE source = :s"), {"s": source}).mappings().one())


def test_a_dead_source_is_suspended_alarmed_probed_daily_and_resumed(
        warehouse: Warehouse, caplog) -> None:
    now = T0
    record_poll(warehouse, "wire", PollResult(3), now)
    now += timedelta(hours=1)
    record_poll(warehouse, "wire", PollResult(2), now)
    assert health(warehouse, "wire")["state"] == "active"
    gone = PollResult(error=GONE, failure_kind=failure_kind(GONE))
    with caplog.at_level(logging.WARNING, logger="etl.polling"):
        for _ in range(DEFAULT_POLICY.suspend_after_hard):
            now += timedelta(hours=2)
            state = record_poll(warehouse, "wire", gone, now)
    alarms = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alarms) == 1 and "wire suspended after 3 consecutive failures" in (
        alarms[0].getMessage())
    row = health(warehouse, "wire")
    assert (row["state"], row["alarm"], row["consecutive_failures"],
            row["last_failure_kind"]) == ("suspended", 1, 3, "hard")
    assert state.next_due_at == now + timedelta(days=1)
    assert _utc(row["suspended_at"]) == now and _utc(row["next_due_at"]) == now + (
        timedelta(days=1))

    with warehouse.engine.connect() as conn:  # the probe is due a day later, not before
        assert split_due(warehouse, ["wire"], now + timedelta(hours=23))[0] == []
        assert split_due(warehouse, ["wire"], now + timedelta(days=1))[0] == ["wire"]
        assert read_states(conn)["wire"].status == PollStatus.SUSPENDED

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="etl.polling"):
        now += timedelta(days=1)
        record_poll(warehouse, "wire", gone, now)  # still dead: no second alarm
        now += timedelta(days=1)
        record_poll(warehouse, "wire", PollResult(1), now)  # back
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]
    assert "wire resumed" in caplog.records[-1].getMessage()
    row = health(warehouse, "wire")
    assert (row["state"], row["alarm"], row["consecutive_failures"], row["suspended_at"],
            row["last_failure_kind"]) == ("active", 0, 0, None, None)
    assert _utc(row["last_success_at"]) == now


def test_due_split_keeps_order_and_says_when(warehouse: Warehouse) -> None:
    record_poll(warehouse, "busy", PollResult(1), T0)  # first poll: due again after 1 h
    due, later = split_due(warehouse, ["new", "busy"], T0 + timedelta(minutes=30))
    assert due == ["new"]  # never polled: due
    [skip] = later
    assert (skip.source, skip.next_due_at, skip.status) == (
        "busy", T0 + timedelta(hours=1), PollStatus.ACTIVE)
    assert skip.reason == "next due at 2026-03-02 07:00:00 UTC"
    assert not_due_from_json(not_due_to_json(later)) == later
    assert split_due(warehouse, ["new", "busy"], T0 + timedelta(hours=1))[0] == [
        "new", "busy"]


def test_a_cycle_over_many_sources_is_recorded_in_one_batch(warehouse: Warehouse) -> None:
    """More sources than one IN (…) list holds (SQLite's parameter limit), and a source
    polled twice in the batch: applied in order."""
    names = [f"feed-{i:04d}" for i in range(1200)]
    record_polls(warehouse, [(n, PollResult(1)) for n in names], T0)
    later = T0 + timedelta(hours=1)
    states = record_polls(warehouse, [*((n, PollResult(i % 2)) for i, n in enumerate(names)),
                                      ("feed-0000", PollResult(5))], later)
    assert len(states) == 1201
    with warehouse.engine.connect() as conn:
        stored = read_states(conn, names)
    assert len(stored) == 1200
    assert stored["feed-0001"].interval == timedelta(minutes=30)  # found one: halved
    assert stored["feed-0002"].interval == timedelta(minutes=90)  # found none
    assert stored["feed-0000"].interval == timedelta(minutes=45)  # none, then five
    due, not_due = split_due(warehouse, names, later + timedelta(minutes=30))
    assert len(due) == 600 and len(not_due) == 600


def test_the_airflow_load_step_records_each_sources_poll(warehouse: Warehouse,
                                                         tmp_path: Path) -> None:
    """stage_load records the poll of every source it closes: here one whose discover
    task never ran (a whole-source failure)."""
    summary = stage_load("scheduled__1", tmp_path, ["lost"], warehouse,
                         clock=lambda: T0)
    assert summary.reports[0].status == "source_failed"
    row = health(warehouse, "lost")
    assert (row["state"], row["consecutive_failures"], row["last_failure_kind"]) == (
        "active", 1, "soft")
    assert _utc(row["next_due_at"]) == T0 + DEFAULT_POLICY.min_interval


def _utc(value: datetime | str | None) -> datetime | None:
    """A timestamp as read through the driver: SQLite gives text, PostgreSQL datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value
