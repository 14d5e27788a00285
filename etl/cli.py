"""`news-etl`: run the pipeline without Airflow.

An edge: `main` assembles the configuration (etl.settings.Settings: environment + flags),
configures logging, and passes values down to the library.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from etl.analytics import failed_sources
from etl.config import ConfigError
from etl.pipeline import RunSummary, ingest
from etl.settings import Settings
from etl.warehouse import (
    Warehouse,
    WarehouseConfigError,
    WarehouseError,
    describe_error,
    resolve_url,
    safe_url,
)

log = logging.getLogger(__name__)

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


def _print_summary(summary: RunSummary, out=None) -> None:
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


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    sources = settings.load_sources(args.sources)
    warehouse = open_warehouse(settings)
    options = settings.run_options(batch_size=args.batch_size, max_items=args.limit,
                                   workers=args.workers, extract_timeout_s=args.extract_timeout)
    names = list(dict.fromkeys(args.source)) if args.source else None  # repeats run once
    summary = ingest(sources, warehouse, names=names, run_id=args.run_id, options=options)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        _print_summary(summary)
        print_rows(warehouse)
    failed = failed_sources(summary.as_dict()["sources"])
    if failed:
        print(f"news-etl: {len(failed)} source(s) failed in run {summary.run_id}:",
              file=sys.stderr)
        for row in failed:
            print(f"  {row['source']}: {row['status']}: {row['error']}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    warehouse = open_warehouse(settings)
    warehouse.migrate(args.revision)
    print(f"warehouse {safe_url(warehouse.url)} is at revision {args.revision}")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from etl.report import print_report

    warehouse = open_warehouse(settings)
    code = print_report(warehouse, args.run_id)
    if code == 0 and args.rows:
        print_rows(warehouse, args.rows)
    return code


def cmd_revalidate(args: argparse.Namespace, settings: Settings) -> int:
    from etl.pipeline import revalidate

    min_words = None
    if args.sources:
        min_words = {s.name: s.min_words for s in settings.load_sources(args.sources).sources
                     if s.min_words is not None}
    summary = revalidate(open_warehouse(settings), sources=args.source or None,
                         min_words=min_words, default_min_words=settings.min_words,
                         near_dup_threshold=settings.near_dup_threshold)
    if not summary.reports:
        print("no quarantined rows to revalidate")
        return 0
    _print_summary(summary)
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-etl", description=__doc__.split("\n")[0], epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read, extract, validate, dedup and load sources",
                       description="Read, extract, validate, dedup and load sources.",
                       epilog=EXIT_CODES_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", help="path to sources.yml")
    p.add_argument("--warehouse", help="SQLAlchemy URL of a SQLite file or PostgreSQL "
                                       "database (default: $NEWS_ETL_WAREHOUSE_URL, else "
                                       "sqlite:///data/warehouse.db)")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--limit", type=positive_int, help="at most N items per source")
    p.add_argument("--batch-size", type=positive_int, default=200)
    p.add_argument("--workers", type=non_negative_int, default=0,
                   help="extraction processes (default 0 = one per core; 1 = inline)")
    p.add_argument("--extract-timeout", type=positive_float, default=60.0,
                   help="seconds one document may take to extract (default 60)")
    p.add_argument("--run-id", help="run id (default: cli__<timestamp>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("migrate", help="apply the warehouse schema migrations")
    p.add_argument("--warehouse")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("revalidate", help="re-validate quarantined rows with the current "
                       "rules and load those that now pass (exactly once)")
    p.add_argument("--warehouse")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--sources", help="sources.yml whose per-source min_words apply")
    p.set_defaults(func=cmd_revalidate)

    p = sub.add_parser("report", help="a run's accounting and top reject reasons per source")
    p.add_argument("run_id", nargs="?", help="default: the latest run")
    p.add_argument("--warehouse")
    p.add_argument("--rows", type=int, default=0, help="also print the N latest articles")
    p.set_defaults(func=cmd_report)
    return parser


def configure_logging(verbose: bool) -> None:
    """The process's logging: the CLI's job, never the library's."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # GX logs at INFO on import (doc decorators); the others are chatty at INFO.
    for noisy in ("great_expectations", "trafilatura", "htmldate", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    settings: Settings | None = None
    try:
        settings = Settings.load(warehouse_url=getattr(args, "warehouse", None))
        return args.func(args, settings)
    except ConfigError as exc:
        print(f"news-etl: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseConfigError as exc:  # before WarehouseError, its base class
        print(f"news-etl: bad warehouse URL: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseError as exc:
        print(f"news-etl: warehouse error: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except SQLAlchemyError as exc:
        # The warehouse went away or refused a statement mid-run: one line, no password,
        # no SQL parameters (article text); -v shows the traceback.
        log.debug("warehouse error", exc_info=True)
        url = resolve_url(settings.warehouse_url) if settings else ""
        print(f"news-etl: warehouse error on {safe_url(url)}: {describe_error(exc, url)}",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
