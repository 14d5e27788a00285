"""`news-etl revisit`: fetch stored articles again and keep what changed as versions."""

from __future__ import annotations

import argparse
import json
import sys

from etl.analytics import failed_sources
from etl.cli.common import (
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    WAREHOUSE_HELP,
    non_negative_int,
    open_warehouse,
    print_summary,
)
from etl.settings import Settings

ORDER = 25


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "revisit", help="revisit stored articles that are due and store what changed",
        description="Fetch stored articles again (conditional GET) on their source's "
                    "revisit schedule (`revisit:` in sources.yml, default 1h, 6h, 24h, 3d, "
                    "7d after the first store) and store each change as a new version: "
                    "headline, correction, body, unpublished (404/410) or restored. "
                    "See docs/revisits.md.")
    p.add_argument("sources", help="path to sources.yml")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--all", action="store_true", dest="everything",
                   help="every stored article of those sources, now, due or not")
    p.add_argument("--workers", type=non_negative_int, default=1,
                   help="extraction processes (default 1 = inline; 0 = one per core)")
    p.add_argument("--run-id", help="run id (default: revisit__<timestamp>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.revisit import revisit, revisitable

    sources = settings.load_sources(args.sources)
    chosen = sources.select(list(dict.fromkeys(args.source)) if args.source else None)
    for source in chosen:
        if not revisitable(source):
            print(f"news-etl: {source.name}: not revisited ("
                  + ("revisit: []" if not source.revisit else f"kind {source.kind}") + ")",
                  file=sys.stderr)
    warehouse = open_warehouse(settings)
    options = settings.run_options(workers=args.workers)
    summary = revisit(warehouse, chosen, everything=args.everything, run_id=args.run_id,
                      options=options)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    elif not summary.reports:
        print("nothing due for a revisit" + ("" if args.everything else
                                             " (--all revisits every stored article)"))
    else:
        print_summary(summary)
    failed = failed_sources(summary.as_dict()["sources"])
    for row in failed:
        print(f"news-etl: {row['source']}: {row['status']}: {row['error']}", file=sys.stderr)
    return EXIT_SOURCE_FAILED if failed else EXIT_OK
