"""Warehouse analytics: summary refresh, the reject-rate, failed-source and suspended-source
alarms, search.

Plain functions on an etl `Warehouse`, so the news_analytics DAG stays thin and the
logic is tested without Airflow, on SQLite and PostgreSQL alike. The views they read
(daily_articles, source_health, reject_reasons) are created by migration 0002, the
summaries (mv_daily_articles, mv_source_health) by migration 0003.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text

from etl.polling.rule import PollStatus
from etl.polling.store import read_states
from etl.warehouse import Warehouse
from etl.warehouse.schema import (
    article_rejects,
    ingest_runs,
    mv_daily_articles,
    mv_source_health,
)

log = logging.getLogger(__name__)

# Summary relation → the view it snapshots.
SUMMARIES: dict[Table, str] = {
    mv_daily_articles: "daily_articles",
    mv_source_health: "source_health",
}

DEFAULT_REJECT_THRESHOLD = 0.5
DEFAULT_MIN_ITEMS = 20
DEFAULT_WINDOW = timedelta(days=7)


def refresh_summaries(warehouse: Warehouse) -> dict[str, int]:
    """Rebuild every summary from its view; returns the row count of each.

    PostgreSQL: REFRESH MATERIALIZED VIEW CONCURRENTLY (readers are never blocked).
    SQLite: DELETE + INSERT … SELECT in one transaction (readers see old or new rows).
    """
    warehouse.ensure_schema()
    counts: dict[str, int] = {}
    with warehouse.begin() as conn:
        for table, view in SUMMARIES.items():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {table.name}")
            else:
                columns = ", ".join(c.name for c in table.columns)
                conn.exec_driver_sql(f"DELETE FROM {table.name}")
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {view}")
            counts[table.name] = conn.execute(
                select(func.count()).select_from(table)).scalar_one()
    log.info("refreshed summaries: %s", counts)
    return counts


@dataclass(frozen=True)
class RejectAlert:
    """A source whose latest run rejected more than the threshold allows."""

    source: str
    run_id: str
    processed: int  # loaded + duplicates + rejected + failed
    rejected: int
    reject_rate: float
    threshold: float
    baseline_rate: float | None  # over the source's earlier runs in the window, if any
    top_reasons: list[tuple[str, int]] = field(default_factory=list)

    def __str__(self) -> str:
        baseline = ("no earlier run" if self.baseline_rate is None
                    else f"baseline {self.baseline_rate:.0%}")
        reasons = ", ".join(f"{r} ×{n}" for r, n in self.top_reasons) or "no reasons recorded"
        return (f"{self.source}: {self.rejected}/{self.processed} rejected "
                f"({self.reject_rate:.0%} > {self.threshold:.0%}; {baseline}) in run "
                f"{self.run_id}; top reasons: {reasons}")


def _processed(row: Any) -> int:
    return row.loaded + row.duplicates + row.rejected + row.failed


def check_reject_rates(
    warehouse: Warehouse,
    threshold: float = DEFAULT_REJECT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
    min_items: int = DEFAULT_MIN_ITEMS,
    now: datetime | None = None,
) -> list[RejectAlert]:
    """Alerts for sources whose latest run (within `window`) rejected > `threshold`.

    A source's latest run is judged only when it processed at least `min_items` items
    (three rejects out of four is noise, not a layout change). Runs older than `window`
    are ignored, so a source that stopped being ingested does not alarm forever. The
    earlier runs in the window give the baseline shown in the alert.
    """
    warehouse.ensure_schema()
    since = (now or datetime.now(UTC)) - window
    with warehouse.engine.connect() as conn:
        runs = conn.execute(
            select(ingest_runs.c.run_id, ingest_runs.c.source, ingest_runs.c.started_at,
                   ingest_runs.c.loaded, ingest_runs.c.duplicates, ingest_runs.c.rejected,
                   ingest_runs.c.failed)
            .where(ingest_runs.c.started_at >= since, ingest_runs.c.status != "running")
            .order_by(ingest_runs.c.source, ingest_runs.c.started_at, ingest_runs.c.run_id)
        ).all()
        by_source: dict[str, list[Any]] = {}
        for run in runs:
            by_source.setdefault(run.source, []).append(run)
        alerts = []
        for source, source_runs in sorted(by_source.items()):
            *earlier, latest = source_runs
            processed = _processed(latest)
            if processed < min_items:
                continue
            rate = latest.rejected / processed
            if rate <= threshold:
                continue
            earlier_processed = sum(_processed(r) for r in earlier)
            baseline = (sum(r.rejected for r in earlier) / earlier_processed
                        if earlier_processed else None)
            reasons: Counter[str] = Counter()
            for (value,) in conn.execute(
                select(article_rejects.c.reasons).where(
                    article_rejects.c.run_id == latest.run_id,
                    article_rejects.c.source == source)
            ):
                reasons.update(value if isinstance(value, list) else json.loads(value))
            alerts.append(RejectAlert(
                source=source, run_id=latest.run_id, processed=processed,
                rejected=latest.rejected, reject_rate=rate, threshold=threshold,
                baseline_rate=baseline, top_reasons=reasons.most_common(3)))
    for alert in alerts:
        log.warning("reject-rate alert: %s", alert)
    return alerts


# A source whose run ended in one of these needs a person: it failed as a whole (feed down,
# folder missing) or every item failed (site broken, layout changed, environment broken).
FAILED_SOURCE_STATUSES = ("source_failed", "all_failed")


def failed_sources(reports: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The per-source rows (`SourceReport.as_dict()`, ingest_runs rows) of failed sources."""
    return [r for r in reports if r.get("status") in FAILED_SOURCE_STATUSES]


@dataclass(frozen=True)
class SourceFailureAlert:
    """A source whose run failed as a whole or failed every item."""

    source: str
    run_id: str
    status: str
    error: str | None
    discovered: int
    failed: int

    def __str__(self) -> str:
        return (f"{self.source}: {self.status} in run {self.run_id} "
                f"({self.failed}/{self.discovered} items failed): "
                f"{self.error or 'no error recorded'}")


def check_source_failures(
    warehouse: Warehouse,
    run_ids: Iterable[str] | None = None,
    window: timedelta = DEFAULT_WINDOW,
    now: datetime | None = None,
) -> list[SourceFailureAlert]:
    """Alerts for sources whose run ended `source_failed` or `all_failed`.

    With `run_ids` (the ingest runs that triggered the check), every source of those runs
    is judged. Without, each source's latest finished run within `window` is: a source
    that failed once and has since succeeded no longer alarms.
    """
    warehouse.ensure_schema()
    columns = (ingest_runs.c.run_id, ingest_runs.c.source, ingest_runs.c.status,
               ingest_runs.c.error, ingest_runs.c.discovered, ingest_runs.c.failed)
    wanted = sorted(set(run_ids or ()))
    with warehouse.engine.connect() as conn:
        if wanted:
            rows = conn.execute(select(*columns).where(ingest_runs.c.run_id.in_(wanted))
                                .order_by(ingest_runs.c.source, ingest_runs.c.run_id)).all()
        else:
            since = (now or datetime.now(UTC)) - window
            latest: dict[str, Any] = {}
            for row in conn.execute(
                select(*columns)
                .where(ingest_runs.c.started_at >= since, ingest_runs.c.status != "running")
                .order_by(ingest_runs.c.source, ingest_runs.c.started_at, ingest_runs.c.run_id)
            ):
                latest[row.source] = row
            rows = [latest[source] for source in sorted(latest)]
    alerts = [SourceFailureAlert(source=r.source, run_id=r.run_id, status=r.status,
                                 error=r.error, discovered=r.discovered, failed=r.failed)
              for r in rows if r.status in FAILED_SOURCE_STATUSES]
    for alert in alerts:
        log.warning("failed-source alert: %s", alert)
    return alerts


@dataclass(frozen=True)
class SuspendedSourceAlert:
    """A source the polling rule suspended (docs/polling.md) and no probe has resumed."""

    source: str
    suspended_at: datetime | None
    consecutive_failures: int
    last_failure_kind: str | None
    last_error: str | None
    next_probe_at: datetime

    def __str__(self) -> str:
        since = f"{self.suspended_at:%Y-%m-%d %H:%M} UTC" if self.suspended_at else "unknown"
        return (f"{self.source}: suspended since {since} after {self.consecutive_failures} "
                f"consecutive failures (last, {self.last_failure_kind or 'unknown'}: "
                f"{self.last_error or 'no error recorded'}); next probe at "
                f"{self.next_probe_at:%Y-%m-%d %H:%M} UTC")


def check_suspended_sources(warehouse: Warehouse, sources: Iterable[str] | None = None
                            ) -> list[SuspendedSourceAlert]:
    """Alerts for every source that is suspended now, on every check until a probe resumes it.

    A failed run alarms once, in the check it triggers; a suspended source is then polled
    only by its daily probe, so the hourly runs in between carry no failure of it and the
    failed-source alarm goes quiet while the source is still dead. This one does not.
    With `sources` (the names the sources file holds), a suspended source that was taken
    out of the file is left out: nothing polls it any more.
    """
    warehouse.ensure_schema()
    with warehouse.engine.connect() as conn:
        states = read_states(conn, sources)
    alerts = [SuspendedSourceAlert(
        source=s.source, suspended_at=s.suspended_at,
        consecutive_failures=s.consecutive_failures,
        last_failure_kind=s.last_failure_kind.value if s.last_failure_kind else None,
        last_error=s.last_error, next_probe_at=s.next_due_at)
        for s in sorted(states.values(), key=lambda s: s.source)
        if s.status == PollStatus.SUSPENDED]
    for alert in alerts:
        log.warning("suspended-source alert: %s", alert)
    return alerts


# Every article in `language` matching `terms` (web-search syntax: words, "phrases", -not,
# or) of the last `days` days: published then, or ingested then when the page states no
# date (as in daily_articles). The WHERE clause repeats the indexed expression of
# ix_articles_fts exactly, which is what lets PostgreSQL use the GIN index.
FTS_QUERY = """
SELECT article_id, COALESCE(published_at, ingested_at) AS dated, source, title,
       ts_rank(to_tsvector(news_ts_config(language), COALESCE(title, '') || ' ' || text),
               websearch_to_tsquery(news_ts_config(:language), :terms)) AS rank
FROM articles
WHERE to_tsvector(news_ts_config(language), COALESCE(title, '') || ' ' || text)
      @@ websearch_to_tsquery(news_ts_config(:language), :terms)
  AND language = :language
  AND COALESCE(published_at, ingested_at) >= now() - make_interval(days => :days)
ORDER BY rank DESC, dated DESC
LIMIT :limit
"""


def search_articles(
    warehouse: Warehouse, terms: str, language: str, days: int = 7, limit: int = 50
) -> list[dict[str, Any]]:
    """Language-aware full-text search. On SQLite, the FTS5 index of migration 0007
    (etl.warehouse.search: bm25, Porter stemming and diacritic folding for every language)."""
    if warehouse.dialect != "postgresql":
        from etl.warehouse.search import search

        since = datetime.now(UTC) - timedelta(days=days)
        return [{"article_id": h.article_id, "dated": h.dated, "source": h.source,
                 "title": h.title, "rank": h.rank}
                for h in search(warehouse, terms, language=language, since=since, limit=limit)]
    with warehouse.engine.connect() as conn:
        rows = conn.execute(text(FTS_QUERY), {"terms": terms, "language": language,
                                              "days": days, "limit": limit})
        return [dict(r) for r in rows.mappings()]
