"""`news-etl ingest`: read, extract, validate, dedup and load sources."""

from __future__ import annotations

import argparse
import json
import sys

from etl.analytics import failed_sources
from etl.cli.common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    WAREHOUSE_HELP,
    non_negative_int,
    open_warehouse,
    positive_float,
    positive_int,
    print_rows,
    print_summary,
)
from etl.pipeline import ingest
from etl.settings import Settings

ORDER = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="read, extract, validate, dedup and load sources",
                       description="Read, extract, validate, dedup and load sources.",
                       epilog=EXIT_CODES_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", help="path to sources.yml")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--limit", type=positive_int, help="at most N items per source")
    p.add_argument("--batch-size", type=positive_int, default=200)
    p.add_argument("--workers", type=non_negative_int, default=0,
                   help="extraction processes (default 0 = one per core; 1 = inline)")
    p.add_argument("--extract-timeout", type=positive_float, default=60.0,
                   help="seconds one document may take to extract (default 60)")
    p.add_argument("--run-id", help="run id (default: cli__<timestamp>)")
    p.add_argument("--due-only", action="store_true",
                   help="only the sources due by their poll state (docs/polling.md); the "
                        "others are listed as not_due. Default: every selected source")
    p.add_argument("--no-data-docs", dest="data_docs", action="store_false", default=None,
                   help="build no Data Docs sites (NEWS_ETL_DATA_DOCS=false); validation "
                        "results are still recorded")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    sources = settings.load_sources(args.sources)
    warehouse = open_warehouse(settings)
    knobs = {} if args.data_docs is None else {"data_docs": args.data_docs}
    options = settings.run_options(batch_size=args.batch_size, max_items=args.limit,
                                   workers=args.workers, extract_timeout_s=args.extract_timeout,
                                   **knobs)
    names = list(dict.fromkeys(args.source)) if args.source else None  # repeats run once
    summary = ingest(sources, warehouse, names=names, run_id=args.run_id, options=options,
                     due_only=args.due_only)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print_summary(summary)
        print_rows(warehouse)
    failed = failed_sources(summary.as_dict()["sources"])
    if failed:
        print(f"news-etl: {len(failed)} source(s) failed in run {summary.run_id}:",
              file=sys.stderr)
        for row in failed:
            print(f"  {row['source']}: {row['status']}: {row['error']}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK
