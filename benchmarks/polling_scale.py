"""One polling cycle over 10,000 feeds into PostgreSQL: discovery and poll state only.

A local server (uvicorn, its own process) serves N generated RSS feeds of 20 entries at
/feed/<i>.xml. The benchmark primes every feed once (their first poll), then measures one
hourly cycle on a simulated clock (T0 + 1 h, when every live feed is due again):

    plan        which sources are due (etl.pipeline.polls.plan_sources on the poll state)
    discover    every due feed fetched and parsed (etl.sources.feeds.discover_feed through
                one shared etl.fetch.Fetcher, a thread pool of --workers)
    record      every source's poll written (etl.polling.record_polls: one transaction)

In steady state ~3 % of the feeds have a new entry per cycle, 1 % have died (410: hard),
1 % answer 503 (soft). New entries are counted against the URLs the feed listed in the
previous cycle (held in memory here): the full pipeline leaves that to the fetch ledger
and goes on to fetch, extract and load the new articles — not measured here.

All feeds are on one host (127.0.0.1), so the per-host limiter is set to let --workers
requests in at once with no delay; a real 10,000-feed list spreads over thousands of hosts.

    .venv/bin/python benchmarks/polling_scale.py [--feeds 10000] [--workers 32]
        [--warehouse postgresql://postgres@127.0.0.1:5432/news_etl_polling_bench]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import TreeRssSampler, fmt_load, load_average

ENTRIES = 20
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
DEFAULT_WAREHOUSE = "postgresql://postgres@127.0.0.1:5432/news_etl_polling_bench"


# -- the server (child process) -------------------------------------------------------------

def feed_kind(i: int) -> str:
    """busy (a new entry every cycle), dead (410 once the cycle > 0), flaky (503), quiet."""
    if i % 100 == 0:
        return "dead"
    if i % 100 == 1:
        return "flaky"
    return "busy" if i % 33 == 2 else "quiet"


def feed_xml(port: int, i: int, cycle: int) -> bytes:
    total = ENTRIES + (cycle if feed_kind(i) == "busy" else 0)
    dated = format_datetime(T0, usegmt=True)
    items = "".join(
        f"<item><title>Story {k} of feed {i}</title>"
        f"<link>http://127.0.0.1:{port}/a/{i}/{k}</link><pubDate>{dated}</pubDate></item>"
        for k in range(total - 1, total - ENTRIES - 1, -1))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Feed {i}</title><link>http://127.0.0.1:{port}/</link>{items}"
            f"</channel></rss>").encode()


def serve(port: int) -> None:
    import uvicorn

    state = {"cycle": 0}

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        status, body, ctype = 404, b"not found", b"text/plain"
        if path.startswith("/cycle/"):
            state["cycle"] = int(path.rsplit("/", 1)[1])
            status, body = 200, b"ok"
        elif path.startswith("/feed/") and path.endswith(".xml"):
            i = int(path[len("/feed/"):-len(".xml")])
            kind = feed_kind(i)
            if state["cycle"] > 0 and kind == "dead":
                status, body = 410, b"gone"
            elif state["cycle"] > 0 and kind == "flaky":
                status, body = 503, b"busy"
            else:
                status, body, ctype = 200, feed_xml(port, i, state["cycle"]), (
                    b"application/rss+xml")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                http="httptools", loop="uvloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the feed server did not start")


# -- the cycle ---------------------------------------------------------------------------------

def _sources(port: int, feeds: int, workers: int):
    from etl.config import HttpSettings, SourceConfig

    http = HttpSettings(allow_hosts=("127.0.0.1",), obey_robots=False, min_delay_s=0.0,
                        max_per_host=workers, retries=0, timeout_s=10.0, workers=workers)
    return http, {f"feed-{i:05d}": SourceConfig(
        name=f"feed-{i:05d}", kind="feed", location=f"http://127.0.0.1:{port}/feed/{i}.xml",
        http=http, max_age_days=3650) for i in range(feeds)}


def cycle(sources_file, configs, fetcher, warehouse, seen: dict[str, set[str]], now,
          workers: int, server_pid: int) -> dict[str, float | int]:
    import psutil

    from etl.pipeline.polls import plan_sources
    from etl.polling import FailureKind, PollResult, failure_kind, record_polls
    from etl.sources.errors import SourceError
    from etl.sources.feeds import discover_feed

    server = psutil.Process(server_pid)
    cpu0, server_cpu0 = time.process_time(), sum(server.cpu_times()[:2])
    t0 = time.perf_counter()
    due, not_due = plan_sources(sources_file, None, warehouse, due_only=True, now=now)
    t_plan = time.perf_counter() - t0

    def poll(name: str) -> tuple[str, PollResult]:
        try:
            urls = {a.url for a in discover_feed(configs[name], fetcher)}
        except SourceError as exc:
            return name, PollResult(error=str(exc), failure_kind=failure_kind(str(exc)))
        new = len(urls - seen.get(name, set()))
        seen[name] = urls
        return name, PollResult(new)

    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(poll, due))
    t_discover = time.perf_counter() - t1

    t2 = time.perf_counter()
    record_polls(warehouse, results, now)
    t_record = time.perf_counter() - t2
    failed = [r for _, r in results if r.failed]
    return {
        "due": len(due), "not_due": len(not_due),
        "with_new_entries": sum(1 for _, r in results if r.new_items > 0),
        "new_entries": sum(r.new_items for _, r in results),
        "hard_failures": sum(1 for r in failed if r.failure_kind == FailureKind.HARD),
        "soft_failures": sum(1 for r in failed if r.failure_kind == FailureKind.SOFT),
        "plan_s": round(t_plan, 2), "discover_s": round(t_discover, 2),
        "record_s": round(t_record, 2),
        "total_s": round(t_plan + t_discover + t_record, 2),
        "feeds_per_s": round(len(due) / t_discover, 1) if t_discover else 0.0,
        # CPU seconds over the cycle: this process (plan, HTTP client, parsing, writes)
        # and the feed server's; PostgreSQL's are not counted.
        "client_cpu_s": round(time.process_time() - cpu0, 1),
        "server_cpu_s": round(sum(server.cpu_times()[:2]) - server_cpu0, 1),
    }


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
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--warehouse", default=DEFAULT_WAREHOUSE)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    logging.basicConfig(level=logging.ERROR)  # the suspensions would be 1 % of the feeds
    logging.getLogger("etl").setLevel(logging.CRITICAL)
    from etl.config import SourcesFile
    from etl.fetch import Fetcher
    from etl.warehouse import Warehouse

    server, port = start_server()
    try:
        warehouse = Warehouse(fresh_database(args.warehouse))
        warehouse.migrate()
        t_cfg = time.perf_counter()
        http, configs = _sources(port, args.feeds, args.workers)
        sources_file = SourcesFile(Path("generated.yml"), tuple(configs.values()), http)
        t_cfg = time.perf_counter() - t_cfg
        seen: dict[str, set[str]] = {}
        import urllib.request

        with Fetcher(http) as fetcher, TreeRssSampler(os.getpid()) as rss:
            prime = cycle(sources_file, configs, fetcher, warehouse, seen, T0, args.workers,
                          server.pid)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cycle/1").read()
            load_before = load_average()
            steady = cycle(sources_file, configs, fetcher, warehouse, seen,
                           T0 + timedelta(hours=1), args.workers, server.pid)
            load_after = load_average()
        print(json.dumps({
            "feeds": args.feeds, "workers": args.workers, "cores": os.cpu_count(),
            "build_configs_s": round(t_cfg, 2), "first_poll": prime, "hourly_cycle": steady,
            "peak_rss_mb_with_server": round(rss.peak / 2**20),
            "load_before": fmt_load(load_before), "load_after": fmt_load(load_after),
        }, indent=2))
        warehouse.dispose()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
