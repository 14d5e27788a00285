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
from dataclasses import dataclass
from pathlib import Path

from _common import publish_report
from load import Databases, _migrated, fts_index_definition, synthetic_articles

from etl.warehouse.load import write_batch


@dataclass(frozen=True)
class Upkeep:
    """One way of keeping the index: its storage parameters when made before the load ("":
    the migration's index as it is), or made after the load; SQL run in each load
    transaction, and at the end."""

    storage: str = ""
    after_load: bool = False
    per_batch: tuple[str, ...] = ()
    at_end: tuple[str, ...] = ()


MERGE_MEMORY = "SET LOCAL work_mem = '512MB'"
CLEAN = "SELECT gin_clean_pending_list('ix_articles_fts')"
VARIANTS: dict[str, Upkeep] = {
    "today": Upkeep(),
    "pending-64MB": Upkeep("fastupdate = on, gin_pending_list_limit = 65536",
                           per_batch=(MERGE_MEMORY,), at_end=(MERGE_MEMORY, CLEAN)),
    "pending-256MB": Upkeep("fastupdate = on, gin_pending_list_limit = 262144",
                            per_batch=(MERGE_MEMORY,), at_end=(MERGE_MEMORY, CLEAN)),
    "fastupdate-off": Upkeep("fastupdate = off"),
    "built-at-end": Upkeep(after_load=True,
                           at_end=("SET LOCAL maintenance_work_mem = '1GB'",)),
}


def run_variant(upkeep: Upkeep, url: str, items: list, batch: int) -> float:
    """rows/s of loading `items` into the fresh database at `url` and completing the
    index, the `upkeep` way."""
    wh = _migrated(url)
    try:
        with wh.begin() as conn:
            definition = fts_index_definition(conn)
            if upkeep.storage or upkeep.after_load:
                conn.exec_driver_sql("DROP INDEX ix_articles_fts")
            if upkeep.storage:
                conn.exec_driver_sql(f"{definition} WITH ({upkeep.storage})")
        started = time.perf_counter()
        for i in range(0, len(items), batch):
            with wh.begin() as conn:
                for sql in upkeep.per_batch:
                    conn.exec_driver_sql(sql)
                write_batch(conn, items[i:i + batch], [], "bench")
        with wh.begin() as conn:
            for sql in upkeep.at_end:
                conn.exec_driver_sql(sql)
            if upkeep.after_load:
                conn.exec_driver_sql(definition)
        return len(items) / (time.perf_counter() - started)
    finally:
        wh.dispose()


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
    dbs = Databases()
    try:
        for name, upkeep in VARIANTS.items():
            rate = run_variant(upkeep, dbs.create(name.replace("-", "_")), items,
                               args.batch_size)
            print(f"{name}: {rate:,.0f} rows/s", file=sys.stderr)
            lines.append(f"| {name} | {rate:,.0f} |")
    finally:
        dbs.drop_all()
    report = "\n".join(lines)
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
