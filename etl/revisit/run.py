"""`revisit()`: the revisit run, the chain from fetch on with the due stored articles as
the source (etl.revisit.state), one source after another, each with an `ingest_runs`
record whose counts add up like any run's:

- loaded: a new version was stored (changed text or title, unpublished, restored);
- not_modified: unchanged (`not_modified` 304, `unchanged_body`, `unchanged_text`,
  `still_unpublished`);
- rejected: the new version failed validation (quarantined; the current one stays);
- failed: the page could not be fetched or extracted this time (it stays as it is).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from itertools import chain

from etl.config import SourceConfig
from etl.pipeline.accounting import OutcomeBuffer
from etl.pipeline.chain import RunContext
from etl.pipeline.options import RunOptions, new_run_id
from etl.pipeline.reports import RunSummary, SourceReport
from etl.pipeline.runner import Runner, begin_source
from etl.records import utcnow
from etl.revisit.state import RevisitState
from etl.sources import needs_fetch
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


def revisitable(source: SourceConfig) -> bool:
    """Web sources with a schedule: files and WARC archives have no URL to ask again."""
    return bool(source.revisit) and needs_fetch(source)


def revisit_source(warehouse: Warehouse, source: SourceConfig, run_id: str,
                   options: RunOptions, now: datetime, everything: bool = False
                   ) -> SourceReport | None:
    """Revisit one source's due stored articles (`everything`: all of them). None when
    nothing is due: no run record (an hourly run over thousands of sources would
    otherwise write thousands of empty ones)."""
    state = RevisitState(warehouse, source, now, everything)
    items = state.items()
    first = next(items, None)
    if first is None:
        return None
    started = begin_source(warehouse, run_id, source.name)
    ctx = RunContext.for_source(source, run_id, options, OutcomeBuffer(), warehouse=warehouse,
                                replace_existing=True, revisions=state)
    with Runner(ctx) as runner:
        runner.run(chain([first], items), start="fetch")
    # Data Docs are left to ingest runs: a revisit validates a handful of revisions.
    report = runner.finish_run(started, data_docs=False)
    state.write_schedule()  # after the outcomes: a crashed run revisits again
    return report


def revisit(warehouse: Warehouse, sources: Iterable[SourceConfig], *,
            everything: bool = False, now: datetime | None = None, run_id: str | None = None,
            options: RunOptions | None = None) -> RunSummary:
    """Revisit what is due at `now` (default: the clock) for every source that has
    revisits; `everything`: every stored article of those sources, now. The summary lists
    the sources that had something to revisit."""
    options = options or RunOptions()
    run_id = run_id or new_run_id("revisit")
    now = now or utcnow()
    warehouse.ensure_schema()
    reports = []
    for source in sources:
        if not revisitable(source):
            log.info("source %s: no revisits (revisit: [] or not a web source)", source.name)
            continue
        report = revisit_source(warehouse, source, run_id, options, now, everything)
        if report is not None:
            reports.append(report)
    return RunSummary(run_id, reports)
