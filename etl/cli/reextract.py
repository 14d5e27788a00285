"""`news-etl reextract`: re-extract archived raw pages after an extraction or rule change."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from etl.analytics import failed_sources
from etl.cli.common import (
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    EXIT_USAGE,
    WAREHOUSE_HELP,
    non_negative_int,
    open_warehouse,
    positive_int,
    print_summary,
)
from etl.pipeline import RunSummary, new_run_id, reextract
from etl.settings import Settings

ORDER = 30


def _day(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {value!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reextract", help="re-extract archived raw pages after an extraction or rule change",
        description="Run extract → validate → dedup → load again on the raw pages the fetch "
                    "stage archived (NEWS_ETL_ARCHIVE_ROOT), without fetching anything. "
                    "Stored articles are updated in place; pages never loaded load as new. "
                    "Each source gets a run record like any run.")
    p.add_argument("sources", help="path to sources.yml (the sources' extraction settings)")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="first fetch day")
    p.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="last fetch day")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--batch-size", type=positive_int, default=200)
    p.add_argument("--workers", type=non_negative_int, default=0,
                   help="extraction processes (default 0 = one per core; 1 = inline)")
    p.add_argument("--run-id", help="run id (default: reextract__<timestamp>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.since and args.until and args.since > args.until:
        print("news-etl: --since is after --until: nothing to re-extract", file=sys.stderr)
        return EXIT_USAGE
    sources = settings.load_sources(args.sources)
    chosen = sources.select(list(dict.fromkeys(args.source)) if args.source else None)
    warehouse = open_warehouse(settings)
    options = settings.run_options(batch_size=args.batch_size, workers=args.workers)
    run_id = args.run_id or new_run_id("reextract")
    reports = []
    for source in chosen:
        summary = reextract(warehouse, source, since=args.since, until=args.until,
                            run_id=run_id, options=options)
        reports.extend(summary.reports)
        if summary.reports and summary.reports[0].discovered == 0:
            print(f"news-etl: {source.name}: no archived pages under {settings.archive_root}"
                  + (" for those days" if args.since or args.until else ""), file=sys.stderr)
    summary = RunSummary(run_id, reports)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print_summary(summary)
    failed = failed_sources(summary.as_dict()["sources"])
    if failed:
        for row in failed:
            print(f"news-etl: {row['source']}: {row['status']}: {row['error']}",
                  file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK
