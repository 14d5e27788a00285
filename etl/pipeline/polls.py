"""Runs and poll state (etl.polling): which sources a due-only run reads, the report line
of each source it leaves out, and each source's poll recorded after its run.

Both ways to run the chain use these: `ingest()` (the CLI) and the Airflow DAG
(`plan_sources` picks the due sources, `load` records the polls through `stage_load`).
A source left out is never dropped silently: it is in the run's summary with status
`not_due` and when it is due, and its row in source_poll_health says the same. It gets no
`ingest_runs` row — it was not run, and 10,000 feeds would add 10,000 empty rows an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from etl.config import ConfigError, SourcesFile
from etl.pipeline.reports import RunSummary, SourceReport
from etl.polling import NotDue, PollPolicy, poll_result, record_poll, split_due
from etl.polling.rule import DEFAULT_POLICY, PollStatus
from etl.warehouse import Warehouse

NOT_DUE = "not_due"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def due_sources(warehouse: Warehouse, names: list[str], now: datetime
                ) -> tuple[list[str], list[NotDue]]:
    """`names` split into the sources due at `now` and those not due (with when)."""
    warehouse.ensure_schema()
    return split_due(warehouse, names, now)


def due_only_for(run_type: str | None, requested: bool | None) -> bool:
    """Whether a DAG run polls only the due sources: as `requested` (the `due_only` param)
    when given, else a scheduled run does and any other (manual, backfill, asset) forces
    the sources it selects."""
    return requested if requested is not None else run_type == "scheduled"


def run_conf_problems(conf: Mapping[str, Any], declared: Iterable[str], names: list[str],
                      load: Callable[[], SourcesFile]) -> tuple[SourcesFile | None, list[str]]:
    """Every problem of a run's configuration at once, so one failed run shows them all:
    keys of the trigger `conf` that are not declared params, a broken sources file (from
    `load`), source `names` it does not have. Returns the sources file (None when broken)
    and the problems, in that order; none means the run can go on."""
    problems: list[str] = []
    known = sorted(declared)
    unknown = sorted(set(conf) - set(known))
    if unknown:
        problems.append(f"unknown parameter(s) {unknown} in the run's conf; known: {known}")
    sources = None
    try:
        sources = load()
        sources.select(names)
    except ConfigError as exc:
        problems.append(str(exc))
    return sources, problems


def plan_sources(sources: SourcesFile, names: list[str] | None,
                 warehouse: Warehouse | None, *, due_only: bool, now: datetime
                 ) -> tuple[list[str], list[NotDue]]:
    """The sources a run reads (each once, in the order asked) and, when `due_only`, those
    it leaves out as not due at `now` (by the poll state in `warehouse`)."""
    selected = [s.name for s in sources.select(names)]
    if not due_only:
        return selected, []
    if warehouse is None:
        raise ValueError("a due-only plan reads the poll state: give the warehouse")
    return due_sources(warehouse, selected, now)


def not_due_report(skip: NotDue) -> SourceReport:
    """The run summary's line for a source a due-only run left out: nothing discovered."""
    return SourceReport(skip.source, status=NOT_DUE, error=skip.reason)


def record_source_poll(warehouse: Warehouse, report: SourceReport, now: datetime,
                       policy: PollPolicy = DEFAULT_POLICY) -> None:
    """Update the source's poll state from its run's report (new items, or a whole-source
    failure and its kind)."""
    record_poll(warehouse, report.source,
                poll_result(report.status, report.error, report.outcomes), now, policy)


def with_not_due(summary: RunSummary, skipped: list[NotDue]) -> RunSummary:
    """The summary with a `not_due` line for each source left out."""
    return RunSummary(summary.run_id, [*summary.reports, *map(not_due_report, skipped)])


def not_due_to_json(skipped: list[NotDue]) -> list[dict[str, Any]]:
    """For XCom: what a planning task hands to the load task."""
    return [{"source": s.source, "next_due_at": s.next_due_at.isoformat(),
             "status": s.status.value} for s in skipped]


def not_due_from_json(rows: list[dict[str, Any]] | None) -> list[NotDue]:
    return [NotDue(r["source"], datetime.fromisoformat(r["next_due_at"]),
                   PollStatus(r["status"])) for r in rows or []]
