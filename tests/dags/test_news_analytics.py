"""news_analytics: scheduled on news_ingest's Asset; refreshes summaries; fails on reject spikes."""

from __future__ import annotations


def test_scheduled_on_the_asset_news_ingest_publishes(dagbag) -> None:
    assert dagbag.import_errors == {}
    analytics, ingest = dagbag.dags["news_analytics"], dagbag.dags["news_ingest"]
    [load] = [t for t in ingest.tasks if t.task_id == "load"]
    [published] = load.outlets
    # The very Asset the producer emits (same name and URI), and nothing else.
    assert list(analytics.timetable.asset_condition.objects) == [published]
    assert analytics.tags and all(t.retries >= 1 for t in analytics.tasks)
    order = [t.task_id for t in analytics.topological_sort()]
    assert order[0] == "refresh_summaries"
    assert sorted(order[1:]) == ["check_reject_rates", "check_source_failures"]
    assert {k: analytics.params[k] for k in ("reject_threshold", "min_items")} == {
        "reject_threshold": 0.5, "min_items": 20}
