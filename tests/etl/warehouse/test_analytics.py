"""Summary refresh and the reject-rate alarm, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from etl.analytics import check_reject_rates, refresh_summaries
from etl.records import Outcome
from etl.warehouse.load import finish_run, write_batch

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _run(wh, run_id, source, started, *, loaded=0, rejected=0, duplicates=0, failed=0,
         not_modified=0, status="success", reject_rows=()):
    with wh.begin() as conn:
        if reject_rows:
            write_batch(conn, [], list(reject_rows), run_id)
        finish_run(conn, run_id, source, started_at=started,
                   discovered=loaded + rejected + duplicates + failed + not_modified,
                   outcomes={Outcome.LOADED: loaded, Outcome.REJECTED: rejected,
                             Outcome.DUPLICATE: duplicates, Outcome.FAILED: failed,
                             Outcome.NOT_MODIFIED: not_modified},
                   status=status)


def _rows(wh, sql):
    with wh.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_refresh_summaries_follows_the_data(warehouse, make_article):
    day1 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with warehouse.begin() as conn:
        write_batch(conn, [make_article(i, language="fr", published_at=day1)
                           for i in range(3)], [], "run-1")
    _run(warehouse, "run-1", "wire", day1, loaded=3, rejected=1, not_modified=4)
    # Materialized: stale until refreshed.
    assert _rows(warehouse, "SELECT COUNT(*) FROM mv_daily_articles") == [(0,)]
    assert refresh_summaries(warehouse) == {"mv_daily_articles": 1, "mv_source_health": 1}
    assert _rows(warehouse, "SELECT CAST(day AS VARCHAR(10)), source, language, articles "
                            "FROM mv_daily_articles") == [("2026-11-20", "wire", "fr", 3)]
    health = _rows(warehouse, "SELECT source, CAST(day AS VARCHAR(10)), discovered, loaded, "
                              "rejected, not_modified, reject_rate, duplicate_rate "
                              "FROM mv_source_health")
    # Not-modified items were not processed: the rate is 1 rejected of 4 processed.
    assert health == [("wire", "2026-11-20", 8, 3, 1, 4, pytest.approx(0.25), 0.0)]

    # New data on another day and language; a second refresh replaces, never appends.
    day2 = day1 + timedelta(days=1)
    with warehouse.begin() as conn:
        write_batch(conn, [make_article(10 + i, language="en", published_at=day2)
                           for i in range(2)], [], "run-2")
    _run(warehouse, "run-2", "wire", day2, loaded=2)
    assert refresh_summaries(warehouse) == {"mv_daily_articles": 2, "mv_source_health": 2}
    assert refresh_summaries(warehouse) == {"mv_daily_articles": 2, "mv_source_health": 2}
    assert _rows(warehouse, "SELECT language, articles FROM mv_daily_articles "
                            "ORDER BY language") == [("en", 2), ("fr", 3)]


def test_alarm_on_latest_run_above_threshold(warehouse, make_reject):
    # Healthy history, then the layout changes: 30 of 40 rejected.
    _run(warehouse, "r1", "lemonde", NOW - timedelta(days=2), loaded=38, rejected=2)
    _run(warehouse, "r2", "lemonde", NOW - timedelta(hours=1), loaded=10, rejected=30,
         reject_rows=[make_reject(i, ["min_words", "has_title"] if i % 2 else ["min_words"],
                                  source="lemonde") for i in range(30)])
    _run(warehouse, "r2", "healthy", NOW - timedelta(hours=1), loaded=50, rejected=5)
    alerts = check_reject_rates(warehouse, threshold=0.5, window=timedelta(days=7),
                                min_items=20, now=NOW)
    assert [(a.source, a.run_id, a.rejected, a.processed) for a in alerts] == [
        ("lemonde", "r2", 30, 40)]
    alert = alerts[0]
    assert alert.reject_rate == pytest.approx(0.75)
    assert alert.baseline_rate == pytest.approx(2 / 40)
    assert alert.top_reasons == [("min_words", 30), ("has_title", 15)]
    assert "lemonde: 30/40 rejected (75% > 50%" in str(alert)
    # The threshold is configurable.
    assert check_reject_rates(warehouse, threshold=0.8, min_items=20, now=NOW) == []


def test_alarm_judges_only_latest_recent_big_enough_runs(warehouse):
    # A bad run followed by a recovered one: no alarm (only the latest run counts).
    _run(warehouse, "a1", "recovered", NOW - timedelta(hours=5), rejected=40)
    _run(warehouse, "a2", "recovered", NOW - timedelta(hours=1), loaded=40)
    # Too few items to judge.
    _run(warehouse, "b1", "tiny", NOW - timedelta(hours=1), loaded=1, rejected=3)
    # Bad but outside the window.
    _run(warehouse, "c1", "stale", NOW - timedelta(days=10), rejected=100)
    # Still running: counts are not final.
    _run(warehouse, "d1", "running", NOW - timedelta(minutes=5), rejected=100,
         status="running")
    # Not-modified items do not dilute the rate: 25 rejected of 30 processed.
    _run(warehouse, "e1", "cached", NOW - timedelta(hours=1), loaded=5, rejected=25,
         not_modified=1000)
    alerts = check_reject_rates(warehouse, threshold=0.5, window=timedelta(days=7),
                                min_items=20, now=NOW)
    assert [a.source for a in alerts] == ["cached"]
    assert alerts[0].baseline_rate is None
    assert [a.source for a in check_reject_rates(
        warehouse, threshold=0.5, min_items=4, now=NOW)] == ["cached", "tiny"]
    assert [a.source for a in check_reject_rates(
        warehouse, threshold=0.5, window=timedelta(days=30), min_items=20, now=NOW)] == [
        "cached", "stale"]
