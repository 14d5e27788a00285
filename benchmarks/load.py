"""Warehouse load speed on PostgreSQL: COPY + merge vs row-by-row INSERTs vs psql's \\copy.

    .venv/bin/python benchmarks/load.py [--rows 100000] [--out FILE]

Synthetic articles (~3 KB of text each, fixed seed) are loaded into fresh databases
migrated to head (all indexes, including the full-text GIN index):

- copy+merge: etl.warehouse.load.write_batch, the production path (COPY into a temp
  staging table, INSERT … SELECT … ON CONFLICT (url) DO NOTHING), one transaction per batch;
- the same with the full-text index dropped, to show what that index costs, and then
  that index built once over the loaded rows (what filling it at the end of a run costs);
- row-by-row: one INSERT … ON CONFLICT DO NOTHING statement per row (on fewer rows, see
  --row-rows: the rate is per row and does not depend on the total);
- the ceiling: `psql -c "\\copy …"` of the same rows from a CSV file into a plain table
  (no index, no constraint but NOT NULL), timed as a whole psql process; once with the
  server's default TOAST compression (pglz: the ceiling) and once with lz4 (reference:
  the COPY path compresses with lz4).

Prints a markdown table (also written to --out).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import publish_report
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.records import Article
from etl.warehouse import Warehouse
from etl.warehouse.load import article_row, write_batch
from etl.warehouse.schema import articles

ADMIN_URL = os.environ.get("NEWS_ETL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LANGUAGES = ("fr", "en", "de", "es", "it")
SOURCES = tuple(f"site-{i:02d}" for i in range(12))


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzéèàç"
    return ["".join(rng.choices(letters, k=rng.randint(2, 11))) for _ in range(size)]


def synthetic_articles(n: int, seed: int = 7) -> Iterator[Article]:
    """n realistic-sized articles: ~3 KB texts of sentence-like word runs, varied metadata."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(n):
        sentences = []
        size = 0
        while size < 3000:
            sentence = " ".join(rng.choices(words, k=rng.randint(8, 24))).capitalize() + "."
            sentences.append(sentence)
            size += len(sentence) + 1
        body = "\n".join(" ".join(sentences[j:j + 4]) for j in range(0, len(sentences), 4))
        source = SOURCES[i % len(SOURCES)]
        url = f"https://{source}.example/{2026}/{i % 28 + 1:02d}/story-{i}.html"
        yield Article(
            url=url, source=source, canonical_url=url, language=LANGUAGES[i % len(LANGUAGES)],
            title=" ".join(rng.choices(words, k=9)).capitalize(), author="Jane Doe",
            published_at=start + timedelta(minutes=7 * i), sitename=source,
            description=" ".join(rng.choices(words, k=25)), categories=["world", "politics"],
            tags=rng.sample(words, 4), text=body,
            text_sha256=hashlib.sha256(body.encode()).hexdigest(),
            word_count=len(body.split()), title_source="og", date_source="jsonld",
            author_source="jsonld", extractor_version="bench",
        )


class Databases:
    """Fresh databases for each method, dropped at the end."""

    def __init__(self) -> None:
        self.admin = create_engine(_driver(ADMIN_URL), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, label: str) -> str:
        name = f"news_etl_bench_{label}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def _driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def fts_index_definition(conn: Any) -> str:
    """The migrations' full-text index, as the `CREATE INDEX` statement that makes it."""
    return conn.exec_driver_sql(
        "SELECT pg_get_indexdef('ix_articles_fts'::regclass)").scalar_one()


def _migrated(url: str, drop_fts: bool = False) -> Warehouse:
    wh = Warehouse(url)
    wh.migrate()
    if drop_fts:
        with wh.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_articles_fts")
    return wh


def _timed(fn: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - started


def bench_copy_merge(url: str, items: list[Article], batch: int, drop_fts: bool) -> float:
    wh = _migrated(url, drop_fts)

    def run() -> int:
        total = 0
        for i in range(0, len(items), batch):
            with wh.begin() as conn:
                total += write_batch(conn, items[i:i + batch], [], "bench")
        return total

    count, seconds = _timed(run)
    assert count == len(items), (count, len(items))
    # A retried load is a no-op (and much faster: nothing to insert).
    with wh.begin() as conn:
        assert write_batch(conn, items[:batch], [], "bench") == 0
    wh.dispose()
    return count / seconds


def bench_tsvector(url: str, rows: int) -> float:
    """rows/s of computing the full-text document alone (the index's expression, no index
    write) over a loaded table, in one backend: what any index kept current must pay."""
    engine = create_engine(_driver(url))
    with engine.connect() as conn:
        started = time.perf_counter()
        conn.exec_driver_sql(
            "SELECT sum(length(to_tsvector(news_ts_config(language), "
            "COALESCE(title, '') || ' ' || text))) FROM articles").scalar()
        seconds = time.perf_counter() - started
    engine.dispose()
    return rows / seconds


def bench_index_at_end(url: str, indexed_url: str, rows: int, load_rate: float) -> float:
    """rows/s of the load at `load_rate` without the full-text index, plus building that
    index once afterwards (its definition read from `indexed_url`, at migration head): the
    lower bound of every way of bringing the index up to date at the end of a run (a
    separate search table, a partition attached, a stored tsvector column indexed late)."""
    engine = create_engine(_driver(indexed_url))
    with engine.connect() as conn:
        definition = fts_index_definition(conn)
    engine.dispose()
    engine = create_engine(_driver(url))
    with engine.begin() as conn:
        started = time.perf_counter()
        conn.exec_driver_sql(definition)
        seconds = time.perf_counter() - started
    engine.dispose()
    return rows / (rows / load_rate + seconds)


def bench_row_by_row(url: str, items: list[Article], batch: int, drop_fts: bool) -> float:
    wh = _migrated(url, drop_fts)
    stmt = postgresql.insert(articles).on_conflict_do_nothing(index_elements=["url"])
    now = datetime.now(UTC)

    def run() -> int:
        for i in range(0, len(items), batch):
            with wh.begin() as conn:
                for item in items[i:i + batch]:  # one statement, one round trip per row
                    conn.execute(stmt, article_row(item, "bench", now))
        return len(items)

    count, seconds = _timed(run)
    with wh.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar() == count
    wh.dispose()
    return count / seconds


def loaded_columns() -> list[str]:
    """The articles columns the load path writes (the others keep their defaults)."""
    sample = article_row(next(synthetic_articles(1)), "bench", datetime.now(UTC))
    return [c.name for c in articles.columns if c.name in sample]


def write_csv(items: list[Article], path: Path) -> int:
    columns = loaded_columns()
    now = datetime.now(UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for item in items:
            row = article_row(item, "bench", now)
            writer.writerow([
                json.dumps(row[c], ensure_ascii=False) if c in ("categories", "tags")
                else ("" if row[c] is None else row[c]) for c in columns])
    return path.stat().st_size


def bench_psql_copy(url: str, items: list[Article], path: Path, compression: str) -> float:
    wh = _migrated(url)
    columns = loaded_columns()
    with wh.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ceiling_articles (LIKE articles INCLUDING DEFAULTS)")
    wh.dispose()
    command = (f"\\copy ceiling_articles ({', '.join(columns)}) FROM '{path}' "
               "WITH (FORMAT csv)")
    env = {**os.environ, "PGOPTIONS": f"-c default_toast_compression={compression}"}
    started = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", command],
                   check=True, env=env)
    seconds = time.perf_counter() - started
    check = create_engine(_driver(url))
    with check.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ceiling_articles")).scalar() == len(items)
    check.dispose()
    return len(items) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--row-rows", type=int, default=5_000,
                        help="rows for the (slow) row-by-row method")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    items = list(synthetic_articles(args.rows))
    mean_text = sum(len(a.text.encode()) for a in items) / len(items)
    print(f"generated {len(items)} articles (mean text {mean_text:.0f} bytes) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)

    dbs = Databases()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "articles.csv"
            csv_bytes = write_csv(items, path)
            ceiling = bench_psql_copy(dbs.create("ceiling"), items, path, "pglz")
            print(f"psql \\copy: {ceiling:,.0f} rows/s", file=sys.stderr)
            ceiling_lz4 = bench_psql_copy(dbs.create("ceilinglz4"), items, path, "lz4")
            print(f"psql \\copy lz4: {ceiling_lz4:,.0f} rows/s", file=sys.stderr)
        indexed_url = dbs.create("copy")
        copy_full = bench_copy_merge(indexed_url, items, args.batch_size, False)
        print(f"copy+merge: {copy_full:,.0f} rows/s", file=sys.stderr)
        nofts_url = dbs.create("copynofts")
        copy_nofts = bench_copy_merge(nofts_url, items, args.batch_size, True)
        print(f"copy+merge without FTS index: {copy_nofts:,.0f} rows/s", file=sys.stderr)
        tsvector = bench_tsvector(nofts_url, len(items))
        print(f"to_tsvector alone: {tsvector:,.0f} rows/s", file=sys.stderr)
        at_end = bench_index_at_end(nofts_url, indexed_url, len(items), copy_nofts)
        print(f"copy+merge, then the index built: {at_end:,.0f} rows/s", file=sys.stderr)
        row_rows = min(args.row_rows, len(items))
        row = bench_row_by_row(dbs.create("rows"), items[:row_rows], args.batch_size, False)
        print(f"row-by-row: {row:,.0f} rows/s", file=sys.stderr)
        row_nofts = bench_row_by_row(dbs.create("rowsnofts"), items[:row_rows],
                                     args.batch_size, True)
        print(f"row-by-row without FTS index: {row_nofts:,.0f} rows/s", file=sys.stderr)
        # Index maintenance (the GIN index above all) gets dearer as the table grows, so
        # row-by-row is also compared with COPY + merge on the same first rows.
        copy_small = bench_copy_merge(dbs.create("copysmall"), items[:row_rows],
                                      args.batch_size, False)
        copy_small_nofts = bench_copy_merge(dbs.create("copysmallnofts"), items[:row_rows],
                                            args.batch_size, True)
        print(f"copy+merge on {row_rows}: {copy_small:,.0f} / {copy_small_nofts:,.0f} rows/s",
              file=sys.stderr)
    finally:
        dbs.drop_all()

    command = " ".join(["benchmarks/load.py", *map(shlex.quote, argv or sys.argv[1:])])
    n = f"{len(items):,}"
    lines = [
        f"Command: `.venv/bin/python {command}`",
        "",
        f"{n} synthetic articles, mean text {mean_text:,.0f} bytes (CSV "
        f"{csv_bytes / 1e6:,.0f} MB); batches of {args.batch_size:,} rows per transaction; "
        "PostgreSQL 15 on 127.0.0.1, each method into a fresh database at migration head.",
        "",
        "| method | rows | rows/s | % of \\copy ceiling |",
        "|---|---:|---:|---:|",
        f"| psql `\\copy` CSV → plain table, no indexes (ceiling) | {n} | {ceiling:,.0f} "
        "| 100% |",
        f"| psql `\\copy` as above, lz4 TOAST compression (for reference) | {n} | "
        f"{ceiling_lz4:,.0f} | {ceiling_lz4 / ceiling:.0%} |",
        f"| COPY + merge (`write_batch`), all indexes incl. full-text GIN | {n} | "
        f"{copy_full:,.0f} | {copy_full / ceiling:.0%} |",
        f"| COPY + merge (`write_batch`), without the full-text GIN index | {n} | "
        f"{copy_nofts:,.0f} | {copy_nofts / ceiling:.0%} |",
        f"| COPY + merge without the full-text GIN index, then that index built once "
        f"(`CREATE INDEX`: the bound of any index brought up to date at the end of a run) "
        f"| {n} | {at_end:,.0f} | {at_end / ceiling:.0%} |",
        f"| `to_tsvector` of title + text alone, one backend, no write (the floor of any "
        f"full-text index kept current) | {n} | {tsvector:,.0f} | {tsvector / ceiling:.0%} |",
        f"| row-by-row INSERT … ON CONFLICT, all indexes incl. full-text GIN | {row_rows:,} "
        f"(extrapolated: {n} in ~{len(items) / row / 60:,.1f} min) | {row:,.0f} | "
        f"{row / ceiling:.0%} |",
        f"| row-by-row INSERT … ON CONFLICT, without the full-text GIN index | {row_rows:,} "
        f"(extrapolated: {n} in ~{len(items) / row_nofts / 60:,.1f} min) | "
        f"{row_nofts:,.0f} | {row_nofts / ceiling:.0%} |",
        f"| COPY + merge on the same first {row_rows:,} rows, all indexes incl. full-text GIN "
        f"| {row_rows:,} | {copy_small:,.0f} | {copy_small / ceiling:.0%} |",
        f"| COPY + merge on the same first {row_rows:,} rows, without the full-text GIN index "
        f"| {row_rows:,} | {copy_small_nofts:,.0f} | {copy_small_nofts / ceiling:.0%} |",
    ]
    report = "\n".join(lines)
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
