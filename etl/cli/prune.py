"""`news-etl prune --keep-days N`: delete Data Docs, staging folders and archived raw pages
older than N days (the retention is in etl/prune.py and docs/operations.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from etl.cli.common import EXIT_OK, WAREHOUSE_HELP, non_negative_int
from etl.prune import KINDS, delete, find_prunable
from etl.settings import Settings

ORDER = 70


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prune", help="delete Data Docs, staging folders and archived pages older than N days",
        description="Delete the files runs leave behind once they are older than N days: "
                    "Data Docs and staging folders (per run, by their newest file) and "
                    "archived raw pages (per WARC file, by fetch day). Never deletes "
                    "warehouse rows. The folders are NEWS_ETL_DATA_DOCS_DIR, "
                    "NEWS_ETL_STAGING_DIR and NEWS_ETL_ARCHIVE_ROOT, by default beside the "
                    "warehouse (see docs/operations.md).")
    p.add_argument("--keep-days", type=non_negative_int, required=True, metavar="N",
                   help="keep what is at most N days old")
    p.add_argument("--dry-run", action="store_true", help="list what would go; delete nothing")
    p.add_argument("--only", action="append", choices=KINDS,
                   help="only this kind (repeatable; default: all three)")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP + "; only to find the default folders")
    p.set_defaults(func=run)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def run(args: argparse.Namespace, settings: Settings) -> int:
    kinds = args.only or list(KINDS)
    items = find_prunable(keep_days=args.keep_days, data_docs_dir=settings.data_docs_dir,
                          staging_dir=settings.staging_dir, archive_root=settings.archive_root,
                          kinds=kinds)
    verb = "would delete" if args.dry_run else "deleting"
    for item in items:
        print(f"{verb} {item.kind:<9} {item.age_days:>6.1f} days  {_size(item.size):>9}  "
              f"{item.path}")
    total = sum(item.size for item in items)
    if not args.dry_run:
        delete(items, archive_root=settings.archive_root)
    roots = (("data-docs", settings.data_docs_dir), ("staging", settings.staging_dir),
             ("archive", settings.archive_root))
    where = ", ".join(f"{k}: {v if '://' in str(v) else Path(str(v)).absolute()}"
                      for k, v in roots if k in kinds)
    done = "would free" if args.dry_run else "freed"
    print(f"{len(items)} item(s) older than {args.keep_days} day(s); {done} {_size(total)} "
          f"({where})")
    return EXIT_OK
