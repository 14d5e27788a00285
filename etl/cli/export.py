"""`news-etl export`: the articles as Parquet, JSON Lines or CSV, streamed in batches."""

from __future__ import annotations

import argparse
import sys

from etl.cli.common import EXIT_OK, EXIT_USAGE, WAREHOUSE_HELP, positive_int
from etl.cli.search import since_type
from etl.settings import Settings

ORDER = 60
FORMATS = ("parquet", "jsonl", "csv")  # etl.export.FORMATS, without importing it for --help


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="write the articles (with story cluster ids) to Parquet, JSONL or CSV",
        description="Write the articles, every column plus their story cluster_id and "
                    "duplicate count, to OUT. Streamed in batches: memory stays bounded "
                    "on any warehouse size.")
    p.add_argument("out", metavar="OUT", help='output file ("-" = stdout, jsonl and csv only)')
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--since", type=since_type, metavar="DATE",
                   help="only articles published (else ingested) on or after DATE "
                        "(YYYY-MM-DD or ISO 8601, UTC)")
    p.add_argument("--source", help="only this source")
    p.add_argument("--batch-size", type=positive_int, default=1000,
                   help="rows read and written at a time (a Parquet row group; 1000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.export import export
    from etl.warehouse.existing import open_existing

    if args.out == "-" and args.format == "parquet":
        print("news-etl: export: Parquet cannot be written to stdout; give a file name",
              file=sys.stderr)
        return EXIT_USAGE
    warehouse = open_existing(settings.warehouse_url,
                              origin=settings.env_name("warehouse_url"))
    try:
        count = export(warehouse, args.out, args.format, since=args.since,
                       source=args.source, batch_size=args.batch_size)
    except OSError as exc:  # OUT's folder missing, not writable, disk full
        print(f"news-etl: export: cannot write {args.out}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    finally:
        warehouse.dispose()
    where = "stdout" if args.out == "-" else args.out
    print(f"exported {count} articles to {where} ({args.format})", file=sys.stderr)
    return EXIT_OK
