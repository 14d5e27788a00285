"""`news-etl report`: a run's accounting and top reject reasons per source."""

from __future__ import annotations

import argparse

from etl.cli.common import WAREHOUSE_HELP, open_warehouse, print_rows
from etl.settings import Settings

ORDER = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="a run's accounting and top reject reasons per source")
    p.add_argument("run_id", nargs="?", help="default: the latest run")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--rows", type=int, default=0, help="also print the N latest articles")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.report import print_report

    warehouse = open_warehouse(settings)
    code = print_report(warehouse, args.run_id)
    if code == 0 and args.rows:
        print_rows(warehouse, args.rows)
    return code
