"""Re-extraction from the raw-page archive: apply a new trafilatura or new rules to history.

Reads the WARC files the fetch stage archived for a source and date range, and runs
extract → validate → dedup → load on them without fetching anything. Articles already
in the warehouse are updated in place (same article_id, new text/metadata and
extractor_version); pages that were never loaded are loaded as new.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from etl.config import SourceConfig
from etl.extract import ExtractStage
from etl.extract.pool import PoolSettings
from etl.fetch.archive import archived_files
from etl.pipeline import (
    BatchLoader,
    CountingSource,
    OutcomeBuffer,
    RunOptions,
    RunSummary,
    SourceReport,
    _data_docs,
    _finish,
    _min_words,
    batched,
    new_run_id,
)
from etl.records import Outcome
from etl.sources.warc import discover_warc
from etl.validate import ValidateStage
from etl.warehouse import Warehouse
from etl.warehouse.load import start_run


def reextract(
    warehouse: Warehouse, source: SourceConfig, *, since: datetime | None = None,
    until: datetime | None = None, run_id: str | None = None,
    options: RunOptions | None = None, archive_root: str | None = None,
) -> RunSummary:
    """Re-run extraction for one source's archived pages in [since, until] (by fetch day)."""
    options = options or RunOptions()
    run_id = run_id or new_run_id("reextract")
    warehouse.ensure_schema()
    started = datetime.now(UTC)
    with warehouse.begin() as conn:
        start_run(conn, run_id, source.name, started)
    sink = OutcomeBuffer()
    files = archived_files(source.name, since, until,
                           root=archive_root or options.archive_root)

    def archived():
        for path in files:
            warc = replace(source, kind="warc", location=path, max_items=None)
            yield from discover_warc(warc, None)

    found = CountingSource(archived())
    extract = ExtractStage(sink, {source.name: source.boilerplate},
                           PoolSettings(workers=options.workers,
                                        timeout_s=options.extract_timeout_s))
    validate = ValidateStage(sink, _min_words(source, options), batch_size=options.batch_size)
    loader = BatchLoader(warehouse, run_id, sink, options.near_dup_threshold,
                         replace_existing=True)
    for batch in batched(validate(extract(found)), options.batch_size):
        loader.load(batch)
    loader.flush()
    report = SourceReport(
        source.name, discovered=found.count,
        outcomes=sink.counts + Counter({Outcome.LOADED: loader.loaded}),
        stage_stats=[extract.stats.as_dict(), validate.stats.as_dict(),
                     loader.dedup.stats.as_dict()],
    )
    report.report_path = _data_docs(validate, run_id, source.name, options.data_docs_dir)
    _finish(warehouse, run_id, source.name, started, report, validate.results)
    return RunSummary(run_id, [report])
