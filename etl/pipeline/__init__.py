"""The pipeline: sources → fetch → extract → validate → dedup → load.

The stage chain is defined in ONE place, `etl.pipeline.chain.CHAIN`: an ordered list of
steps with named checkpoints between them. Everything else runs segments of it through
`etl.pipeline.runner.Runner`:

- `ingest()` (runner.py) streams every source through the whole chain (the CLI);
- `stage_discover()`, `stage_chunk()` (fetch, extract and validate one chunk in one pass;
  `stage_fetch_extract()` and `stage_validate()` are its two halves) and `stage_load()`
  (staging.py) each run one segment and stop at a checkpoint, handing over through JSONL
  files in a staging folder (the Airflow DAG: tasks pass paths, not data);
- `reextract()` and `revalidate()` (reruns.py) start the chain at extract with the
  raw-page archive as the source, and at validate with the quarantine as the source.

Every item a source yields ends in exactly one `Outcome`; `SourceReport.balanced` checks
that discovered == loaded + duplicates + rejected + failed + not_modified (reports.py,
accounting.py). The load step (loader.py) dedups and writes one transaction per batch.
"""

from etl.pipeline.accounting import CountingSource, JsonlSink, OutcomeBuffer
from etl.pipeline.chain import CHAIN, Checkpoint, RunContext, Step
from etl.pipeline.loader import BatchLoader
from etl.pipeline.options import RunOptions, new_run_id, requested_interval
from etl.pipeline.reports import RunSummary, SourceReport
from etl.pipeline.reruns import reextract, revalidate
from etl.pipeline.runner import Runner, ingest, ingest_source
from etl.pipeline.staging import (
    CHUNK_SIZE,
    DEFAULT_STAGING_DIR,
    stage_chunk,
    stage_discover,
    stage_extract,
    stage_fetch_extract,
    stage_load,
    stage_validate,
    staged_chunks,
    staging_root,
)

__all__ = [
    "CHAIN", "CHUNK_SIZE", "DEFAULT_STAGING_DIR", "BatchLoader", "Checkpoint", "CountingSource",
    "JsonlSink", "OutcomeBuffer", "RunContext", "RunOptions", "RunSummary", "Runner",
    "SourceReport", "Step", "ingest", "ingest_source", "new_run_id", "reextract",
    "requested_interval", "revalidate", "stage_chunk", "stage_discover", "stage_extract",
    "stage_fetch_extract", "stage_load", "stage_validate", "staged_chunks", "staging_root",
]
