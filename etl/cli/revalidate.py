"""`news-etl revalidate`: re-validate quarantined rows with the current rules."""

from __future__ import annotations

import argparse

from etl.cli.common import WAREHOUSE_HELP, open_warehouse, print_summary
from etl.settings import Settings

ORDER = 30


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("revalidate", help="re-validate quarantined rows with the current "
                       "rules and load those that now pass (exactly once)")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--sources", help="sources.yml whose per-source min_words apply")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
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
    print_summary(summary)
    return 0
