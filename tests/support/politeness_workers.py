"""Process entry points for the shared-politeness tests (importable by spawned children)."""

from __future__ import annotations

import os
import time
from typing import Any


def take_slots(url: str, host: str, min_delay_s: float, max_per_host: int, count: int,
               hold_s: float, barrier: Any, out: Any) -> None:
    """Take `count` slots for `host` one after the other, each held `hold_s`; report
    (pid, start, end) wall-clock times."""
    from etl.fetch.politeness import HostLimiter, shared_politeness

    limiter = HostLimiter(min_delay_s, max_per_host, shared_politeness(url)[0])
    barrier.wait(60)
    for _ in range(count):
        limiter.acquire(host)
        start = time.time()
        time.sleep(hold_s)
        end = time.time()
        limiter.release(host)
        out.put((os.getpid(), start, end))


def hold_and_die(url: str, host: str, lease_s: float, out: Any) -> None:
    """Take the host's only slot and die without releasing it (a crashed worker)."""
    from etl.fetch.limiter_redis import redis_politeness

    backend, _ = redis_politeness(url, lease_s=lease_s)
    backend.acquire(host, 0.0, 1)
    out.put(time.time())
    out.close()
    out.join_thread()  # the report reaches the parent; then die at once
    os._exit(0)  # no release, no cleanup, no more lease renewal


def hold_alive(url: str, host: str, lease_s: float, hold_s: float, out: Any) -> None:
    """Take the host's only slot and keep it, alive, for longer than the lease."""
    from etl.fetch.limiter_redis import redis_politeness

    backend, _ = redis_politeness(url, lease_s=lease_s)
    token = backend.acquire(host, 0.0, 1)
    out.put(("held", time.time()))
    time.sleep(hold_s)
    out.put(("releasing", time.time()))
    backend.release(host, token)
    backend.close()


def fetch_urls(settings: dict[str, Any], urls: list[str], barrier: Any, out: Any) -> None:
    """A Fetcher of its own (another worker) fetches `urls` at once; reports the reasons."""
    from concurrent.futures import ThreadPoolExecutor

    from etl.config import HttpSettings
    from etl.fetch.http import Fetcher

    fetcher = Fetcher(HttpSettings(**settings))
    barrier.wait(60)
    with ThreadPoolExecutor(len(urls)) as pool:
        reasons = list(pool.map(lambda u: fetcher.fetch(u).reason, urls))
    fetcher.close()
    out.put(reasons)
