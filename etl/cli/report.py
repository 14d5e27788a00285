"""`news-etl report`: a run's accounting and top reject reasons per source."""

from __future__ import annotations

import argparse

from etl.cli.common import WAREHOUSE_HELP, positive_int, print_rows
from etl.settings import Settings

ORDER = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="a run's accounting and top reject reasons per source")
    p.add_argument("run_id", nargs="?", help="default: the latest run")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--rows", type=int, default=0, help="also print the N latest articles")
    p.add_argument("--html", metavar="OUT",
                   help="also write the run as a self-contained HTML page (renders offline)")
    p.add_argument("--history", type=positive_int, default=20, metavar="N",
                   help="runs in the HTML page's time series (default 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.report import print_report
    from etl.warehouse.existing import open_existing

    # Read-only: a missing warehouse is refused (exit 2), never created empty.
    warehouse = open_existing(settings.warehouse_url, origin=settings.env_name("warehouse_url"))
    code = print_report(warehouse, args.run_id)
    if code == 0 and args.rows:
        print_rows(warehouse, args.rows)
    if code == 0 and args.html:
        from etl.report_html import write_html_report

        path = write_html_report(warehouse, args.html, args.run_id, history=args.history)
        print(f"HTML report: {path.resolve() if path else 'not written (no such run)'}")
    return code
