"""`news-etl search`: ranked full-text search over the loaded articles."""

from __future__ import annotations

import argparse
import json
import sys

from etl.cli.common import EXIT_OK, EXIT_USAGE, WAREHOUSE_HELP, positive_int
from etl.settings import Settings

ORDER = 50


def since_type(value: str):
    """argparse type for --since (a bad date is a usage error, exit 2)."""
    from etl.warehouse.search import parse_since

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search", help="ranked full-text search over the loaded articles",
        description="Ranked full-text search over the loaded articles (bm25 on SQLite, "
                    "ts_rank on PostgreSQL). QUERY: words (all must match), \"a phrase\", "
                    "-excluded, `or` between alternatives.")
    p.add_argument("query", help='e.g. \'drones -toy\' or \'"night train" or ferry\'')
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--source", help="only this source")
    p.add_argument("--language", help="only articles in this language (ISO 639-1, e.g. fr); "
                                      "on PostgreSQL the query is stemmed in it")
    p.add_argument("--since", type=since_type, metavar="DATE",
                   help="only articles published (else ingested) on or after DATE "
                        "(YYYY-MM-DD or ISO 8601, UTC)")
    p.add_argument("--limit", type=positive_int, default=20, help="at most N results (20)")
    p.add_argument("--json", action="store_true", help="one JSON object per result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.warehouse.existing import open_existing
    from etl.warehouse.search import SearchQueryError, search

    warehouse = open_existing(settings.warehouse_url,
                              origin=settings.env_name("warehouse_url"))
    try:
        hits = search(warehouse, args.query, source=args.source, language=args.language,
                      since=args.since, limit=args.limit)
    except SearchQueryError as exc:
        print(f"news-etl: search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        warehouse.dispose()
    for hit in hits:
        if args.json:
            print(json.dumps({**hit.__dict__, "dated": hit.dated.isoformat()},
                             ensure_ascii=False))
        else:
            print(f"{hit.rank:8.4f}  {hit.dated:%Y-%m-%d}  [{hit.source}/{hit.language}]  "
                  f"{hit.title}\n{'':10}{hit.url}")
    if not hits:
        print("news-etl: no article matches", file=sys.stderr)
    return EXIT_OK
