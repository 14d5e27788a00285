"""Near-duplicate check-and-insert cost as the warehouse grows (SQLite and PostgreSQL).

For each database and each size N:

1. a fresh, migrated warehouse;
2. BASE real articles loaded through BatchLoader (so they have articles rows, signatures
   and band keys);
3. N synthetic signatures bulk-filled straight into article_signatures / article_bands
   (N x 32 band rows with random 63-bit keys, inserted in key order): PostgreSQL with one
   INSERT … SELECT over generate_series, SQLite with executemany;
4. WARMUP fresh articles loaded (not timed), then MEASURED articles timed through the real
   path, BatchLoader.load (exact dedup, NearDupStage with its one band-key probe per batch,
   write_batch, write_signatures, in one transaction): half unrelated new stories, half
   near-copies of the base articles (which must all be found).

Reported per article: the whole load, and the two near-dup SQL parts alone (the band-key
probe and the signature/band insert). MinHash itself (CPU, independent of N) is in the
whole-load figure. Target: the per-article cost with 1M stored signatures at most 2x
the cost with 10k.

    .venv/bin/python benchmarks/dedup_scale.py [--sizes 10000,100000,1000000]
        [--dbs sqlite,postgresql] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import etl.dedup.near_index as near_index
from etl.dedup.minhash import DEFAULT_SETTINGS
from etl.pipeline import BatchLoader, OutcomeBuffer
from etl.records import Article
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_bands, article_duplicates

PG_ADMIN_URL = os.environ.get(
    "NEWS_ETL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BASE = 250  # real articles stored first; the measured near-copies duplicate these
WARMUP = 50
MEASURED = 500  # half new stories, half near-copies of BASE articles
BANDS = DEFAULT_SETTINGS.bands
SQLITE_ROWS_PER_CHUNK = 1_000_000


# --------------------------------------------------------------------------- synthetic texts

def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)]


def _story(rng: random.Random, vocab: list[str], words: int = 160) -> str:
    return " ".join(rng.choice(vocab) for _ in range(words)) + "."


def _near_copy(rng: random.Random, vocab: list[str], body: str) -> str:
    """A syndicated copy: header, footer and a few edited words (est. Jaccard ~0.7-0.8)."""
    words = body.split()
    for i in rng.sample(range(len(words)), 4):
        words[i] = rng.choice(vocab)
    return "Wire Desk | Updated today. " + " ".join(words) + " Read more at our site."


def _article(n: int, body: str, prefix: str) -> Article:
    import hashlib

    url = f"https://{prefix}.example/{n}"
    return Article(
        url=url, source=prefix, canonical_url=url, title=f"{prefix} {n}", text=body,
        text_sha256=hashlib.sha256(body.encode()).hexdigest(), word_count=len(body.split()),
        published_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n), language="en",
    )


def workload(rounds: int, seed: int = 7
             ) -> tuple[list[Article], list[Article], list[list[Article]]]:
    """(base, warmup, measured per round); identical for every size and database.

    Each round has its own new stories and its own near-copies of the base articles.
    """
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    base_texts = [_story(rng, vocab) for _ in range(BASE)]
    base = [_article(i, t, "base") for i, t in enumerate(base_texts)]
    warmup = [_article(i, _story(rng, vocab), "warm") for i in range(WARMUP)]
    measured = []
    for r in range(rounds):
        new = [_article(i, _story(rng, vocab), f"new{r}") for i in range(MEASURED // 2)]
        copies = [_article(i, _near_copy(rng, vocab, base_texts[i % BASE]), f"copy{r}")
                  for i in range(MEASURED - len(new))]
        measured.append([a for pair in zip(new, copies, strict=True) for a in pair])
    return base, warmup, measured


# --------------------------------------------------------------------------- bulk fill

def fill_postgresql(wh: Warehouse, n: int) -> None:
    """N signatures and N*BANDS band rows, generated server-side, inserted in key order."""
    with wh.begin() as conn:
        conn.execute(text("""
            INSERT INTO article_signatures (article_id, signature, created_at)
            SELECT 's' || lpad(to_hex(i), 31, '0'),
                   decode(repeat(md5(i::text), 32), 'hex'), now()
            FROM generate_series(0, CAST(:n AS bigint) - 1) AS i
        """), {"n": n})
        # Keys: the first 63 bits of md5(row number), sorted so the index fills in order.
        conn.execute(text("""
            INSERT INTO article_bands (band_key, article_id)
            SELECT ('x' || substr(md5('band' || j::text), 1, 16))::bit(64)::bigint
                       & 9223372036854775807,
                   's' || lpad(to_hex(j / CAST(:bands AS bigint)), 31, '0')
            FROM generate_series(0, CAST(:n AS bigint) * :bands - 1) AS j
            ORDER BY 1
            ON CONFLICT DO NOTHING
        """), {"n": n, "bands": BANDS})
    with wh.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE article_bands"))
        conn.execute(text("VACUUM ANALYZE article_signatures"))
        # Flush the fill's dirty pages now, not during the timed loads.
        conn.execute(text("CHECKPOINT"))


def fill_sqlite(path: str, n: int) -> None:
    """Same rows through executemany on the raw sqlite3 driver, in sorted key order."""
    rng = np.random.default_rng(n)
    con = sqlite3.connect(path)
    # Bulk fill only (the timed loads use the warehouse's own settings, WAL included): no
    # WAL, so the timed loads do not start behind a multi-GB log.
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    now = datetime.now(UTC).isoformat()
    sig = bytes(4 * DEFAULT_SETTINGS.num_perm)
    con.executemany(
        "INSERT INTO article_signatures (article_id, signature, created_at) VALUES (?, ?, ?)",
        ((f"s{i:031x}", sig, now) for i in range(n)),
    )
    keys = np.unique(rng.integers(0, 2**63 - 1, size=n * BANDS, dtype=np.int64))
    owners = rng.integers(0, n, size=len(keys))
    for start in range(0, len(keys), SQLITE_ROWS_PER_CHUNK):
        chunk = zip(keys[start:start + SQLITE_ROWS_PER_CHUNK].tolist(),
                    (f"s{o:031x}" for o in owners[start:start + SQLITE_ROWS_PER_CHUNK]),
                    strict=False)
        con.executemany("INSERT INTO article_bands (band_key, article_id) VALUES (?, ?)", chunk)
    con.commit()
    con.execute("ANALYZE")
    con.close()


# --------------------------------------------------------------------------- measurement

@contextmanager
def timed_calls(name: str, totals: dict[str, float]) -> Iterator[None]:
    """Wrap etl.dedup.near_index.<name> (called by BatchLoader through NearIndex) to add
    its wall time to totals."""
    original: Callable[..., Any] = getattr(near_index, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

    setattr(near_index, name, wrapper)
    try:
        yield
    finally:
        setattr(near_index, name, original)


def load_all(wh: Warehouse, items: list[Article], run_id: str, batch_size: int) -> BatchLoader:
    loader = BatchLoader(wh, run_id, OutcomeBuffer())
    for i in range(0, len(items), batch_size):
        loader.load(items[i:i + batch_size])
    return loader


def measure(db: str, n: int, batch_size: int, rounds: int) -> dict[str, Any]:
    base, warmup, measured = workload(rounds)
    with fresh_warehouse(db) as (wh, sqlite_path):
        load_all(wh, base, "bench-base", batch_size)
        started = time.perf_counter()
        if db == "postgresql":
            fill_postgresql(wh, n)
        else:
            wh.dispose()
            fill_sqlite(sqlite_path, n)
        fill_s = time.perf_counter() - started
        with wh.engine.connect() as conn:
            bands = conn.execute(select(func.count()).select_from(article_bands)).scalar_one()
        load_all(wh, warmup, "bench-warmup", batch_size)
        per_round: list[tuple[float, float, float]] = []
        loaded = 0
        for r, items in enumerate(measured):
            totals: dict[str, float] = {}
            with timed_calls("near_candidates", totals), timed_calls("write_signatures",
                                                                     totals):
                started = time.perf_counter()
                loaded += load_all(wh, items, f"bench-measured-{r}", batch_size).loaded
                total_s = time.perf_counter() - started
            per_round.append(tuple(1000 * t / len(items) for t in (
                total_s, totals.get("near_candidates", 0.0),
                totals.get("write_signatures", 0.0))))
        with wh.engine.connect() as conn:
            near = conn.execute(select(func.count()).select_from(article_duplicates).where(
                article_duplicates.c.kind == "near")).scalar_one()
    total_ms, probe_ms, write_ms = (statistics.median(col) for col in zip(*per_round,
                                                                          strict=True))
    return {
        "db": db, "stored": n + BASE + WARMUP, "band_rows": bands, "fill_s": fill_s,
        "loaded": loaded, "near_found": near, "expected_near": rounds * (MEASURED // 2),
        "total_ms": total_ms, "probe_ms": probe_ms, "write_ms": write_ms,
        "rounds_total_ms": [round(r[0], 3) for r in per_round],
    }


@contextmanager
def fresh_warehouse(db: str) -> Iterator[tuple[Warehouse, str]]:
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dedup-scale-") as tmp:
            path = str(Path(tmp) / "warehouse.db")
            wh = Warehouse(f"sqlite:///{path}")
            wh.migrate()
            try:
                yield wh, path
            finally:
                wh.dispose()
        return
    name = f"news_etl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    wh = Warehouse(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        wh.migrate()
        yield wh, ""
    finally:
        wh.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | stored signatures | band rows | fill (s) | per article: whole load (ms)"
        " | near probe (ms) | signature insert (ms) | near-dups found | vs smallest |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    smallest: dict[str, float] = {}
    for r in results:
        ref = smallest.setdefault(r["db"], r["total_ms"])
        lines.append(
            f"| {r['db']} | {r['stored']:,} | {r['band_rows']:,} | {r['fill_s']:.0f} | "
            f"{r['total_ms']:.2f} | {r['probe_ms']:.3f} | {r['write_ms']:.3f} | "
            f"{r['near_found']}/{r['expected_near']} | {r['total_ms'] / ref:.2f}x |"
        )
    return "\n".join(lines)


def pg_memory_settings() -> str:
    """The server's memory settings the band index's cost at scale depends on."""
    admin = create_engine(PG_ADMIN_URL)
    try:
        with admin.connect() as conn:
            return ", ".join(f"{name} = {conn.execute(text(f'SHOW {name}')).scalar()}"
                             for name in ("shared_buffers", "max_wal_size"))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="stored synthetic signatures per run (comma-separated)")
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3,
                        help=f"measured rounds of {MEASURED} articles; medians are reported")
    parser.add_argument("--out", help="also write the markdown report here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    server = pg_memory_settings() if "postgresql" in args.dbs else ""
    results = []
    load_before = os.getloadavg()
    for db in [d.strip() for d in args.dbs.split(",") if d.strip()]:
        for n in sizes:
            result = measure(db, n, args.batch_size, args.rounds)
            print(f"{db} {n:,}: {result}", file=sys.stderr, flush=True)
            results.append(result)
    command = ".venv/bin/python benchmarks/dedup_scale.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    report = "\n".join([
        f"Near-dup check-and-insert cost per article: median of {args.rounds} rounds of "
        f"{MEASURED} articles ({MEASURED // 2} new stories + {MEASURED // 2} near-copies of "
        f"stored ones) loaded through BatchLoader in batches of {args.batch_size}, "
        f"{BANDS} band keys per article, after {WARMUP} warm-up articles. Stored signatures "
        f"= synthetic fill + {BASE} base + {WARMUP} warm-up articles.",
        "", table(results), "",
        *([f"PostgreSQL server: {server} (.ci/services.sh and docker-compose.yml set them: "
           "deploy/postgres-memory.conf).", ""] if server else []),
        f"Host: {os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end (other jobs on the host inflate the timings).",
        "", f"Command: `{command.strip()}`",
    ])
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
