"""What a run reports: one `SourceReport` per source, written to `ingest_runs` with the
validation results and the Great Expectations Data Docs of the run."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etl.data_docs import write_data_docs
from etl.pipeline.accounting import all_failed
from etl.records import Outcome
from etl.warehouse import Warehouse
from etl.warehouse.load import finish_run, write_validation

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """What happened to one source's items in one run."""

    source: str
    discovered: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    status: str = "success"
    error: str | None = None
    stage_stats: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None  # the run's Great Expectations Data Docs (index.html)

    @property
    def balanced(self) -> bool:
        return self.discovered == sum(self.outcomes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "status": self.status, "error": self.error,
            "discovered": self.discovered,
            **{o.value: self.outcomes.get(o, 0) for o in Outcome},
        }


@dataclass
class RunSummary:
    run_id: str
    reports: list[SourceReport]

    def totals(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for report in self.reports:
            totals["discovered"] += report.discovered
            for outcome in Outcome:
                totals[outcome.value] += report.outcomes.get(outcome, 0)
        return dict(totals)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "totals": self.totals(),
                "sources": [r.as_dict() for r in self.reports]}


# Outcomes only a validated item can end in: rejected by validation, or validated and then
# loaded or found to duplicate a stored article.
_VALIDATED_OUTCOMES = (Outcome.LOADED, Outcome.DUPLICATE, Outcome.REJECTED)


def validated_something(report: SourceReport) -> bool:
    """Whether the run's Data Docs would show anything new. A run where every item was
    not_modified (the same pages again) validated nothing worth a site of its own: at
    several MB a site, one per source and run would pile up for nothing."""
    return any(report.outcomes.get(o) for o in _VALIDATED_OUTCOMES)


def finish_source(warehouse: Warehouse, run_id: str, started: datetime, report: SourceReport,
                  results: list[dict[str, Any]], gx_results: list[Any] | None = None,
                  data_docs_dir: str | None = None) -> SourceReport:
    """Close one source's run: the all_failed rule, its Data Docs (from `gx_results`; None =
    none), then its validation results and run record, in one transaction."""
    if report.status == "success":
        report.status, report.error = all_failed(report.discovered, report.outcomes,
                                                 report.stage_stats)
    if gx_results is not None and validated_something(report):
        report.report_path = write_data_docs(gx_results, run_id, report.source, data_docs_dir)
    with warehouse.begin() as conn:
        for i, result in enumerate(results):
            write_validation(conn, run_id, report.source, i, result)
        finish_run(
            conn, run_id, report.source, started_at=started, discovered=report.discovered,
            outcomes=report.outcomes, status=report.status, error=report.error,
            stage_stats=report.stage_stats, report_path=report.report_path,
        )
    if report.report_path:
        log.info("data docs for %s: file://%s", report.source, report.report_path)
    if not report.balanced:  # a bug, never expected: make it loud
        log.error("accounting mismatch for %s: %s", report.source, report.as_dict())
    return report
