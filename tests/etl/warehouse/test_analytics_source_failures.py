"""The source alarms of news_analytics, on SQLite and PostgreSQL: sources whose run ended
source_failed or all_failed, and sources the polling rule keeps suspended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from etl.analytics import check_source_failures, check_suspended_sources, failed_sources
from etl.polling.rule import FailureKind, PollResult
from etl.polling.store import record_poll
from etl.records import Outcome
from etl.warehouse.load import finish_run, start_run

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _run(wh, run_id, source, started, *, status="success", error=None, loaded=0, failed=0):
    with wh.begin() as conn:
        finish_run(conn, run_id, source, started_at=started, discovered=loaded + failed,
                   outcomes={Outcome.LOADED: loaded, Outcome.FAILED: failed},
                   status=status, error=error)


def test_the_triggering_runs_failed_sources_alarm(warehouse):
    _run(warehouse, "run-1", "wire", NOW, loaded=5)
    _run(warehouse, "run-1", "gone", NOW, status="source_failed",
         error="source 'gone': feed unreachable (connect)")
    _run(warehouse, "run-1", "broken", NOW, status="all_failed", failed=4,
         error="every item failed (too_large ×4)")
    _run(warehouse, "run-0", "older", NOW - timedelta(hours=1), status="source_failed",
         error="an earlier run, not the one that triggered the check")

    alerts = check_source_failures(warehouse, run_ids=["run-1"], now=NOW)
    assert [(a.source, a.status, a.run_id) for a in alerts] == [
        ("broken", "all_failed", "run-1"), ("gone", "source_failed", "run-1")]
    assert str(alerts[0]) == ("broken: all_failed in run run-1 (4/4 items failed): "
                              "every item failed (too_large ×4)")
    assert "feed unreachable (connect)" in str(alerts[1])
    # Several triggering runs (events collected while the DAG waited) are all judged.
    both = check_source_failures(warehouse, run_ids=["run-1", "run-0"], now=NOW)
    assert {a.source for a in both} == {"broken", "gone", "older"}
    assert check_source_failures(warehouse, run_ids=["no-such-run"], now=NOW) == []


def test_without_runs_each_sources_latest_run_in_the_window_is_judged(warehouse):
    # Failed, then recovered: no alarm. Succeeded, then failed: alarm.
    _run(warehouse, "r1", "recovered", NOW - timedelta(hours=3), status="source_failed",
         error="down")
    _run(warehouse, "r2", "recovered", NOW - timedelta(hours=2), loaded=3)
    _run(warehouse, "r1", "broke", NOW - timedelta(hours=3), loaded=3)
    _run(warehouse, "r2", "broke", NOW - timedelta(hours=2), status="all_failed", failed=2,
         error="every item failed (http_500 ×2)")
    # Failed long ago, not run since: outside the window, silent.
    _run(warehouse, "r0", "retired", NOW - timedelta(days=30), status="source_failed",
         error="down")
    # A run still in progress is not judged; the source's last finished run is.
    with warehouse.begin() as conn:
        start_run(conn, "r3", "broke", NOW - timedelta(minutes=5))

    alerts = check_source_failures(warehouse, window=timedelta(days=7), now=NOW)
    assert [(a.source, a.run_id, a.status) for a in alerts] == [("broke", "r2", "all_failed")]


def test_failed_sources_picks_the_failed_rows_of_a_summary():
    rows = [{"source": "a", "status": "success"}, {"source": "b", "status": "source_failed"},
            {"source": "c", "status": "all_failed"}, {"source": "d", "status": "running"}]
    assert [r["source"] for r in failed_sources(rows)] == ["b", "c"]


def _poll(wh, source, when, error=None):
    """One poll of `source` through the polling rule: a hard failure with `error`, else
    one new item."""
    result = (PollResult(error=error, failure_kind=FailureKind.HARD) if error
              else PollResult(new_items=1))
    record_poll(wh, source, result, when)


def test_a_suspended_source_alarms_on_every_check_until_a_probe_resumes_it(warehouse):
    gone = "source 'dead': cannot fetch https://feeds.example/x.xml: http_410 (GONE)"
    for hour in range(3):  # the third hard failure in a row suspends it
        _poll(warehouse, "dead", NOW + timedelta(hours=hour), gone)
    _poll(warehouse, "wire", NOW, None)
    _poll(warehouse, "flaky", NOW, "source 'flaky': feed unreachable (connect)")  # once

    alerts = check_suspended_sources(warehouse)
    assert [a.source for a in alerts] == ["dead"]
    [alert] = alerts
    assert (alert.consecutive_failures, alert.last_failure_kind) == (3, "hard")
    assert alert.suspended_at == NOW + timedelta(hours=2)
    assert alert.next_probe_at == NOW + timedelta(hours=2, days=1)  # the daily probe
    assert str(alert) == (
        "dead: suspended since 2026-11-25 14:00 UTC after 3 consecutive failures (last, "
        f"hard: {gone}); next probe at 2026-11-26 14:00 UTC")
    # Hours later no run has touched it (not due until the probe): still alarming, whereas
    # the failed-source alarm judges only the runs it is given.
    assert check_suspended_sources(warehouse) == alerts
    assert check_source_failures(warehouse, run_ids=["a-later-hourly-run"]) == []
    # Taken out of the sources file: nothing polls it, no alarm.
    assert check_suspended_sources(warehouse, sources=["wire", "flaky"]) == []
    assert [a.source for a in check_suspended_sources(warehouse, ["dead", "wire"])] == ["dead"]
    # The probe answers: resumed, the alarm stops.
    _poll(warehouse, "dead", NOW + timedelta(days=1, hours=2), None)
    assert check_suspended_sources(warehouse) == []


def test_no_poll_state_no_suspended_alarm(warehouse):
    assert check_suspended_sources(warehouse) == []
    assert check_suspended_sources(warehouse, sources=[]) == []
