"""What one run is configured with: per-run options, run ids, the requested interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class RunOptions:
    """Per-run knobs (CLI flags / DAG Params)."""

    batch_size: int = 200
    min_words: int | None = None  # for sources that set none; None: validate's default (50)
    max_items: int | None = None  # per source, overrides the source's own max_items
    workers: int = 0  # extraction processes; 0 = one per core, 1 = inline
    extract_timeout_s: float = 60.0  # hard limit per document (reason extract_timeout)
    archive: bool = True  # store every fetched body in the WARC archive
    # A requested interval for dated feed/sitemap entries (backfills, `only_interval`,
    # `--since/--until`). Without `since`, a run takes every entry up to the source's
    # max_age_days old; the fetch ledger keeps runs incremental.
    since: datetime | None = None
    until: datetime | None = None
    # Near-duplicate similarity threshold; None = the dedup default.
    near_dup_threshold: float | None = None
    # Where fetched bodies and Data Docs go; None = data/archive, data/data-docs. The edges
    # fill these and the two above from etl.settings.Settings (NEWS_ETL_* variables).
    archive_root: str | None = None
    data_docs_dir: str | None = None
    # Render each source's validation results as Data Docs (several MB and ~0.2 s a source
    # and run); off, the results are still kept in `validation_results`.
    data_docs: bool = True


def requested_interval(run_type: str | None, only_interval: bool, start: datetime | None,
                       end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """(since, until) for an orchestrated run: the data interval [start, end) only for a
    backfill or a run that asks for it (`only_interval`), else (None, None): the run takes
    every entry not seen yet, up to each source's max_age_days. Feeds lag and publishers
    backdate, so keeping scheduled runs to their interval would lose entries for good."""
    if (run_type == "backfill" or only_interval) and start and end and start < end:
        return start, end
    return None, None


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
