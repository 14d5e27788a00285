"""`news-etl migrate`: apply the warehouse schema migrations."""

from __future__ import annotations

import argparse

from etl.cli.common import WAREHOUSE_HELP, open_warehouse
from etl.settings import Settings
from etl.warehouse import safe_url

ORDER = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply the warehouse schema migrations")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--revision", default="head")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    warehouse = open_warehouse(settings)
    warehouse.migrate(args.revision)
    print(f"warehouse {safe_url(warehouse.url)} is at revision {args.revision}")
    return 0
