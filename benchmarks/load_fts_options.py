"""Ways of keeping PostgreSQL's full-text index up to date during a bulk load, compared.

    .venv/bin/python benchmarks/load_fts_options.py [--rows 10000] [--out FILE]

Each variant loads the same synthetic articles (benchmarks/load.py) through the production
path (etl.warehouse.load.write_batch, 1,000 rows per transaction) into a fresh database at
migration head, with the full-text GIN index set up one way, and ends with the index
complete (pending entries merged, or the index built): rows/s over the whole.

- `today`: the migration's index (fastupdate on, the server's 4 MB pending list);
- `pending-64MB`, `pending-256MB`: a larger pending list, merged at the end
  (gin_clean_pending_list), with work_mem 512 MB for the merges;
- `fastupdate-off`: every row's entries go straight into the index;
- `built-at-end`: loaded without the index, then CREATE INDEX with maintenance_work_mem 1 GB
  (the bound of a separate search table, a partition attached, a column indexed late).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import publish_report
from load import ADMIN_URL, _driver, _migrated, synthetic_articles
from sqlalchemy import create_engine

from etl.warehouse.load import write_batch

DOCUMENT = "to_tsvector(news_ts_config(language), (COALESCE(title, '') || ' ' || text))"
INDEX = f"CREATE INDEX ix_articles_fts ON articles USING gin ({DOCUMENT})"
# name → (index DDL before the load or None, SQL before each batch, SQL at the end)
VARIANTS: dict[str, tuple[str | None, list[str], list[str]]] = {
    "today": ("", [], []),
    "pending-64MB": (f"{INDEX} WITH (fastupdate = on, gin_pending_list_limit = 65536)",
                     ["SET LOCAL work_mem = '512MB'"],
                     ["SET LOCAL work_mem = '512MB'",
                      "SELECT gin_clean_pending_list('ix_articles_fts')"]),
    "pending-256MB": (f"{INDEX} WITH (fastupdate = on, gin_pending_list_limit = 262144)",
                      ["SET LOCAL work_mem = '512MB'"],
                      ["SET LOCAL work_mem = '512MB'",
                       "SELECT gin_clean_pending_list('ix_articles_fts')"]),
    "fastupdate-off": (f"{INDEX} WITH (fastupdate = off)", [], []),
    "built-at-end": (None, [], ["SET LOCAL maintenance_work_mem = '1GB'", INDEX]),
}


def run_variant(name: str, items: list, batch: int) -> float:
    """rows/s of loading `items` and completing the index, the `name` way."""
    before, per_batch, after = VARIANTS[name]
    database = f"news_etl_fts_{name.replace('-', '_').lower()}"
    admin = create_engine(_driver(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {database}")
    wh = _migrated(ADMIN_URL.rsplit("/", 1)[0] + "/" + database, drop_fts=before != "")
    try:
        if before:
            with wh.begin() as conn:
                conn.exec_driver_sql(before)
        started = time.perf_counter()
        for i in range(0, len(items), batch):
            with wh.begin() as conn:
                for sql in per_batch:
                    conn.exec_driver_sql(sql)
                write_batch(conn, items[i:i + batch], [], "bench")
        with wh.begin() as conn:
            for sql in after:
                conn.exec_driver_sql(sql)
        return len(items) / (time.perf_counter() - started)
    finally:
        wh.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    items = list(synthetic_articles(args.rows))
    lines = [f"Command: `.venv/bin/python benchmarks/load_fts_options.py --rows {args.rows}`",
             "", f"{args.rows:,} synthetic articles, batches of {args.batch_size:,} rows; the "
             "full-text index complete at the end of each load.", "",
             "| full-text index | rows/s |", "|---|---:|"]
    for name in VARIANTS:
        rate = run_variant(name, items, args.batch_size)
        print(f"{name}: {rate:,.0f} rows/s", file=sys.stderr)
        lines.append(f"| {name} | {rate:,.0f} |")
    report = "\n".join(lines)
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
