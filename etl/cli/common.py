"""What the command modules share: exit codes, argument types, the summary table."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import text

from etl.pipeline import RunSummary
from etl.settings import Settings
from etl.warehouse import Warehouse, safe_url

WAREHOUSE_HELP = ("SQLAlchemy URL of a SQLite file or PostgreSQL database "
                  "(default: $NEWS_ETL_WAREHOUSE_URL, else sqlite:///data/warehouse.db)")

# Exit codes (also in --help and the README).
EXIT_OK = 0  # every source completed; rejected and failed items included
EXIT_RUN_FAILED = 1  # the run itself could not complete (warehouse unreachable, …)
EXIT_USAGE = 2  # bad command line, sources file or warehouse URL
EXIT_SOURCE_FAILED = 3  # a source failed as a whole, or every item of a source failed

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}  every source completed (rejected and failed items included)
  {EXIT_RUN_FAILED}  the run itself could not complete (e.g. the warehouse is unreachable)
  {EXIT_USAGE}  bad command line, sources file or warehouse URL (nothing was run)
  {EXIT_SOURCE_FAILED}  (ingest) a source failed as a whole (status source_failed: feed down,
     folder missing…) or every item of a source failed (status all_failed); the
     other sources were still loaded
"""


def print_summary(summary: RunSummary, out=None) -> None:
    out = out or sys.stdout
    columns = ("discovered", "loaded", "duplicate", "rejected", "failed", "not_modified")
    print(f"\nRun {summary.run_id}", file=out)
    header = f"{'source':<20}" + "".join(f"{c:>14}" for c in columns) + "  status"
    print(header, file=out)
    print("-" * len(header), file=out)
    for report in summary.reports:
        row = report.as_dict()
        status = row["status"] + (f" ({row['error']})" if row["error"] else "")
        print(f"{report.source:<20}" + "".join(f"{row[c]:>14}" for c in columns)
              + f"  {status}", file=out)
    totals = summary.totals()
    print(f"{'TOTAL':<20}" + "".join(f"{totals.get(c, 0):>14}" for c in columns), file=out)


def print_rows(warehouse: Warehouse, limit: int = 5, out=None) -> None:
    """A few of the latest loaded rows, so a user sees what landed."""
    out = out or sys.stdout
    query = text(
        "SELECT source, language, word_count, title FROM articles "
        "ORDER BY ingested_at DESC, article_id LIMIT :limit"
    )
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query, {"limit": limit}).all()
    print(f"\nLatest articles in {safe_url(warehouse.url)}:", file=out)
    for source, language, words, title in rows:
        print(f"  [{source}/{language}] {words:>5} words  {title}", file=out)


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse at settings.warehouse_url; an unusable URL's error says when it came
    from the environment rather than from --warehouse."""
    return Warehouse(settings.warehouse_url, origin=settings.env_name("warehouse_url"))


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number
