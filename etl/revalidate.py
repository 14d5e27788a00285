"""`news-etl revalidate`: re-run validation on quarantined rows after a rule change.

Rows in `article_rejects` that were rejected by validation and not yet resolved are
rebuilt from their stored record (no re-fetching), validated with the current suite,
and those that now pass go through dedup and load like any new item. Each source gets
an `ingest_runs` record for the revalidation run, whose counts add up like any run's.
A loaded reject is marked `resolved_run_id`, so a second revalidation loads nothing
again; rows that still fail stay quarantined as they are.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import select, update

from etl.pipeline import BatchLoader, OutcomeBuffer, RunSummary, SourceReport, _finish, new_run_id
from etl.records import Article, Dropped, Outcome
from etl.validate import DEFAULT_MIN_WORDS, ValidateStage
from etl.warehouse import Warehouse
from etl.warehouse.load import start_run
from etl.warehouse.schema import article_rejects


class _RequarantineFilter(OutcomeBuffer):
    """Still-failing rows are counted but not quarantined a second time."""

    def __call__(self, dropped: Dropped) -> None:
        if dropped.outcome is Outcome.REJECTED and dropped.stage == "validate":
            self.counts[dropped.outcome] += 1
            return
        super().__call__(dropped)


def revalidate(
    warehouse: Warehouse, *, sources: list[str] | None = None, run_id: str | None = None,
    batch_size: int = 200, min_words: dict[str, int] | None = None,
    default_min_words: int = DEFAULT_MIN_WORDS, near_dup_threshold: float | None = None,
) -> RunSummary:
    """Re-validate unresolved validation rejects; load those that now pass, exactly once.
    `min_words`: per-source rules; `default_min_words` for the other sources."""
    warehouse.ensure_schema()
    run_id = run_id or new_run_id("revalidate")
    query = select(article_rejects.c.id, article_rejects.c.source, article_rejects.c.record).where(
        article_rejects.c.stage == "validate", article_rejects.c.resolved_run_id.is_(None)
    ).order_by(article_rejects.c.id)
    if sources:
        query = query.where(article_rejects.c.source.in_(sources))
    by_source: dict[str, list[tuple[int, Article]]] = defaultdict(list)
    with warehouse.engine.connect() as conn:
        for row_id, source, record in conn.execute(query):
            data = record if isinstance(record, dict) else json.loads(record)
            by_source[source].append((row_id, Article.from_json(json.dumps(data))))

    reports = []
    for source, rows in sorted(by_source.items()):
        started = datetime.now(UTC)
        with warehouse.begin() as conn:
            start_run(conn, run_id, source, started)
        sink = _RequarantineFilter()
        validate = ValidateStage(sink, min_words, batch_size=batch_size,
                                 default_min_words=default_min_words)
        loader = BatchLoader(warehouse, run_id, sink, near_dup_threshold)
        ids_by_url: dict[str, list[int]] = defaultdict(list)
        for row_id, article in rows:
            ids_by_url[article.url].append(row_id)
        passed = list(validate(a for _, a in rows))
        for i in range(0, len(passed), batch_size):
            loader.load(passed[i:i + batch_size])
        loader.flush()
        # Everything that passed validation left quarantine (loaded, or a duplicate of
        # something loaded): mark it so it is never loaded twice.
        resolved = [row_id for a in passed for row_id in ids_by_url[a.url]]
        with warehouse.begin() as conn:
            for i in range(0, len(resolved), 500):
                conn.execute(update(article_rejects)
                             .where(article_rejects.c.id.in_(resolved[i:i + 500]))
                             .values(resolved_run_id=run_id))
        report = SourceReport(source, discovered=len(rows),
                              outcomes=sink.counts + Counter({Outcome.LOADED: loader.loaded}),
                              stage_stats=[validate.stats.as_dict(), loader.dedup.stats.as_dict()])
        _finish(warehouse, run_id, source, started, report, validate.results)
        reports.append(report)
    return RunSummary(run_id, reports)
