"""One hourly polling cycle over 10,000 feeds, end to end, into PostgreSQL.

A local server (uvicorn, its own process) serves N generated RSS feeds of 20 entries at
/feed/<i>.xml, with an ETag and Last-Modified (304 to a conditional request that matches),
and an article page (~300 words of generated text, its own ETag) behind every entry. The
benchmark primes the warehouse with one first poll of every feed, then measures one hourly
cycle on a simulated clock (T0 + 1 h, when every live feed is due again), through the
functions the CLI uses, in --procs worker processes (as the DAG's batched tasks would):

    plan      which sources are due (etl.pipeline.polls.due_sources on the poll state)
    ingest    each due source through the whole chain (etl.pipeline.runner.ingest_source:
              conditional GET of the feed, discover, fetch, extract, validate, load) and
              its poll recorded (record_source_poll) — per source class below
    revisit   the stored articles due for a revisit (etl.revisit.revisit, conditional GET,
              change detection, versions)

Feeds: ~3 % busy (a new entry every cycle), 1 % die (410 from the cycle on: hard), 1 %
answer 503 (soft), the rest quiet (unchanged: 304). Entries older than the sources'
max_age_days (7) stand for what earlier cycles loaded: they are accounted at discover and
not fetched. In the measured cycle the busy feeds' entries of the prime are due for their
1-hour revisit; a fifth of those pages had their headline rewritten.

All feeds are on one host (127.0.0.1), so the per-host limiter lets --workers requests in
at once with no delay; a real 10,000-feed list spreads over thousands of hosts.

    .venv/bin/python benchmarks/polling_scale.py [--feeds 10000] [--procs 4]
        [--warehouse postgresql://postgres@127.0.0.1:5432/news_etl_polling_bench]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import TreeRssSampler, fmt_load, load_average
from benchmarks.polling_scale_site import start_server

DEFAULT_WAREHOUSE = "postgresql://postgres@127.0.0.1:5432/news_etl_polling_bench"
MAX_AGE_DAYS = 7


# -- the cycle (worker processes: one batch of sources each, as a batched DAG task) ----------

def _quiet_logs() -> None:
    logging.basicConfig(level=logging.ERROR)  # the suspensions would be 1 % of the feeds
    logging.getLogger("etl").setLevel(logging.CRITICAL)


def build_sources(port: int, indices: list[int], workers: int) -> list:
    from etl.config import HttpSettings, SourceConfig

    http = HttpSettings(allow_hosts=("127.0.0.1",), obey_robots=False, min_delay_s=0.0,
                        max_per_host=workers, retries=0, timeout_s=10.0, workers=workers)
    return [SourceConfig(name=f"feed-{i:05d}", kind="feed", language="en",
                         location=f"http://127.0.0.1:{port}/feed/{i}.xml", http=http,
                         max_age_days=MAX_AGE_DAYS) for i in indices]


def _options(work: str):
    from etl.pipeline import RunOptions

    return RunOptions(workers=1, archive_root=f"{work}/archive", data_docs_dir=f"{work}/docs")


def _classify(report) -> str:
    discover = next((s for s in report.stage_stats if s["stage"] == "discover"), {})
    if report.status != "success":
        return "feed failed (410/503)"
    if discover.get("dropped", {}).get("feed_not_modified"):
        return "feed 304 (not parsed)"
    loaded = sum(n for o, n in report.outcomes.items() if o.value == "loaded")
    return "feed read, new entries loaded" if loaded else "feed read, nothing new"


def _tally(reports, into: dict) -> None:
    for report in reports:
        into["outcomes"].update({o.value: n for o, n in report.outcomes.items()})
        for stage in report.stage_stats:
            into["reasons"].update({f"{stage['stage']}:{r}": n
                                    for r, n in stage["dropped"].items()})
        into["unbalanced"] += not report.balanced


def ingest_batch(job: tuple) -> dict:
    """The due sources of one batch through the whole chain, each poll recorded."""
    url, port, indices, run_id, now_iso, workers, work = job
    _quiet_logs()
    from etl.dedup.canonical import CanonicalTracker
    from etl.pipeline.polls import record_source_poll
    from etl.pipeline.runner import ingest_source
    from etl.warehouse import Warehouse

    warehouse, now = Warehouse(url), datetime.fromisoformat(now_iso)
    canonicals = CanonicalTracker()  # one per task here; one per run in `ingest`
    out: dict = {"seconds": Counter(), "sources": Counter(), "outcomes": Counter(),
                 "reasons": Counter(), "unbalanced": 0, "cpu_s": time.process_time()}
    for source in build_sources(port, indices, workers):
        start = time.perf_counter()
        report = ingest_source(source, warehouse, run_id, _options(work), canonicals)
        record_source_poll(warehouse, report, now)
        kind = _classify(report)
        out["seconds"][kind] += time.perf_counter() - start
        out["sources"][kind] += 1
        _tally([report], out)
    out["cpu_s"] = time.process_time() - out["cpu_s"]
    warehouse.dispose()
    return out


def revisit_batch(job: tuple) -> dict:
    """`news-etl revisit` over one batch of sources: what is due at `now`."""
    url, port, indices, run_id, now_iso, workers, work = job
    _quiet_logs()
    from etl.revisit import revisit
    from etl.warehouse import Warehouse

    warehouse = Warehouse(url)
    out: dict = {"outcomes": Counter(), "reasons": Counter(), "unbalanced": 0,
                 "cpu_s": time.process_time()}
    summary = revisit(warehouse, build_sources(port, indices, workers), run_id=run_id,
                      now=datetime.fromisoformat(now_iso), options=_options(work))
    out["sources"] = Counter({"with revisits due": len(summary.reports)})
    _tally(summary.reports, out)
    out["cpu_s"] = time.process_time() - out["cpu_s"]
    warehouse.dispose()
    return out


def run_phase(pool, fn, url, port, indices, run_id, now, workers, work, batch) -> dict:
    jobs = [(url, port, indices[b:b + batch], run_id, now.isoformat(), workers, work)
            for b in range(0, len(indices), batch)]
    start = time.perf_counter()
    total: dict = {"seconds": Counter(), "sources": Counter(), "outcomes": Counter(),
                   "reasons": Counter(), "unbalanced": 0, "cpu_s": 0.0}
    for part in pool.map(fn, jobs):
        for key, value in part.items():
            total[key] = total.get(key, 0) + value if not isinstance(value, Counter) else (
                total[key] + value)
    total["wall_s"] = round(time.perf_counter() - start, 1)
    total["cpu_s"] = round(total["cpu_s"], 1)
    total["seconds"] = {k: round(v, 1) for k, v in total["seconds"].items()}
    return {k: dict(v) if isinstance(v, Counter) else v for k, v in total.items()}


def plan(url: str, names: list[str], now: datetime) -> tuple[list[int], float]:
    from etl.pipeline.polls import due_sources
    from etl.warehouse import Warehouse

    warehouse = Warehouse(url)
    start = time.perf_counter()
    due, _ = due_sources(warehouse, names, now)
    took = time.perf_counter() - start
    warehouse.dispose()
    return sorted(int(n.split("-")[1]) for n in due), round(took, 2)


def batch_size(sources: int, procs: int, asked: int) -> int:
    """Sources per batched task: as asked, else four batches per process, at most 250."""
    return asked or max(1, min(250, -(-sources // (4 * procs))))


def cycle(pool, url, port, feeds, now, revisit_now, workers, work, procs, batch,
          server_pid, label) -> dict:
    """plan, ingest and (when `revisit_now`) revisit; the poll clock is `now`."""
    import psutil

    server = psutil.Process(server_pid)
    server_cpu0, load_before, start = sum(server.cpu_times()[:2]), load_average(), \
        time.perf_counter()
    due, plan_s = plan(url, [f"feed-{i:05d}" for i in range(feeds)], now)
    ingest = run_phase(pool, ingest_batch, url, port, due, f"bench__{label}", now, workers,
                       work, batch_size(len(due), procs, batch))
    revisits = (run_phase(pool, revisit_batch, url, port, list(range(feeds)),
                          f"bench-revisit__{label}", revisit_now, workers, work,
                          batch_size(feeds, procs, batch))
                if revisit_now else None)
    return {"due": len(due), "plan_s": plan_s, "ingest": ingest, "revisit": revisits,
            "total_s": round(time.perf_counter() - start, 1),
            "server_cpu_s": round(sum(server.cpu_times()[:2]) - server_cpu0, 1),
            "load_before": fmt_load(load_before), "load_after": fmt_load(load_average())}


def fresh_database(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from etl.warehouse import resolve_url

    target = make_url(resolve_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=4, help="worker processes (batched tasks)")
    parser.add_argument("--workers", type=int, default=8, help="fetch threads per source")
    parser.add_argument("--batch", type=int, default=0,
                        help="sources per batch (default: 4 batches per process, at most 250)")
    parser.add_argument("--warehouse", default=DEFAULT_WAREHOUSE)
    parser.add_argument("--out", type=Path, help="also write the report here (markdown)")
    args = parser.parse_args(argv)
    _quiet_logs()
    from etl.warehouse import Warehouse

    t0 = datetime.now(UTC).replace(microsecond=0)
    server, port = start_server(t0)
    work = tempfile.mkdtemp(prefix="polling-scale-")
    try:
        warehouse = Warehouse(fresh_database(args.warehouse))
        warehouse.migrate()
        warehouse.dispose()
        context = get_context("spawn")
        common = (args.warehouse, port, args.feeds)
        with TreeRssSampler(os.getpid()) as rss, ProcessPoolExecutor(
                args.procs, mp_context=context) as pool:
            prime = cycle(pool, *common, t0, None, args.workers, work, args.procs,
                          args.batch, server.pid, "prime")
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cycle/1").read()
            # One hour later: every live feed is due, and so are the articles the prime
            # stored (their first revisit, 1 h after they were stored).
            hourly = cycle(pool, *common, t0 + timedelta(hours=1),
                           datetime.now(UTC) + timedelta(hours=1), args.workers, work,
                           args.procs, args.batch, server.pid, "hourly")
        report = json.dumps({
            "feeds": args.feeds, "procs": args.procs, "workers": args.workers,
            "batch": args.batch, "cores": os.cpu_count(), "first_poll": prime,
            "hourly_cycle": hourly, "peak_rss_mb_tree": round(rss.peak / 2**20),
            "peak_processes": rss.peak_processes,
        }, indent=2)
        print(report)
        if args.out:
            args.out.write_text(
                f"One hourly cycle over {args.feeds:,} generated feeds into PostgreSQL "
                "(docs/polling.md, Scale, explains every field):\n\n"
                f"```json\n{report}\n```\n", encoding="utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
