"""Re-extraction and re-validation: the same chain, started at another step, with another
source (etl.pipeline.chain).

- `reextract`: the raw-page archive (etl.sources.archive) from extract on, after an
  upgrade of trafilatura or of the metadata rules. Nothing is fetched. Articles already in
  the warehouse are updated in place (same article_id, new text/metadata and
  extractor_version, signature and band keys replaced); pages never loaded load as new.
- `revalidate`: the quarantine (etl.warehouse.quarantine) from validate on, after a rule
  change. Rows that now pass go through dedup and load like any new item and are marked
  resolved, so a second re-validation loads nothing again; rows that still fail stay
  quarantined as they are.

Each source gets an `ingest_runs` record whose counts add up like any run's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from etl.config import SourceConfig
from etl.pipeline.accounting import OutcomeBuffer
from etl.pipeline.chain import RunContext
from etl.pipeline.options import RunOptions, new_run_id
from etl.pipeline.reports import RunSummary
from etl.pipeline.runner import Runner, begin_source
from etl.records import Dropped, Outcome
from etl.sources.archive import read_archive
from etl.validate import DEFAULT_MIN_WORDS
from etl.warehouse import Warehouse
from etl.warehouse.quarantine import mark_resolved, read_quarantine


def reextract(
    warehouse: Warehouse, source: SourceConfig, *, since: datetime | None = None,
    until: datetime | None = None, run_id: str | None = None,
    options: RunOptions | None = None, archive_root: str | None = None,
) -> RunSummary:
    """Re-run extraction for one source's archived pages in [since, until] (by fetch day)."""
    options = options or RunOptions()
    run_id = run_id or new_run_id("reextract")
    warehouse.ensure_schema()
    started = begin_source(warehouse, run_id, source.name)
    pages = read_archive(source, since, until, root=archive_root or options.archive_root)
    ctx = RunContext.for_source(source, run_id, options, OutcomeBuffer(), warehouse=warehouse,
                                replace_existing=True)
    with Runner(ctx) as runner:
        runner.run(pages, start="extract")
    return RunSummary(run_id, [runner.finish_run(started)])


class RequarantineFilter(OutcomeBuffer):
    """Rows that still fail validation are counted, not quarantined a second time; the
    filter remembers them so the others can be marked resolved."""

    def __init__(self) -> None:
        super().__init__()
        self.still_rejected: set[int] = set()  # id() of the articles

    def __call__(self, dropped: Dropped) -> None:
        if dropped.outcome is Outcome.REJECTED and dropped.stage == "validate":
            self.counts[dropped.outcome] += 1
            self.still_rejected.add(id(dropped.article))
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
    options = RunOptions(batch_size=batch_size, near_dup_threshold=near_dup_threshold)
    reports = []
    for source, rows in sorted(read_quarantine(warehouse, sources).items()):
        started = begin_source(warehouse, run_id, source)
        sink = RequarantineFilter()
        ctx = RunContext(source, run_id, options, sink, warehouse=warehouse,
                         min_words=min_words or {}, default_min_words=default_min_words)
        with Runner(ctx) as runner:
            runner.run((row.article for row in rows), start="validate")
            runner.finish()
        # Everything that passed validation left quarantine (loaded, or a duplicate of
        # something loaded): every row of its URL is marked, so it is never loaded twice.
        ids_by_url: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            ids_by_url[row.article.url].append(row.row_id)
        mark_resolved(warehouse, [row_id for row in rows
                                  if id(row.article) not in sink.still_rejected
                                  for row_id in ids_by_url[row.article.url]], run_id)
        reports.append(runner.finish_run(started, data_docs=False))
    return RunSummary(run_id, reports)
