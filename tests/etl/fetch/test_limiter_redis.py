"""Politeness shared through the real Redis (127.0.0.1:6379, a key prefix per test):
start gaps and the concurrency cap hold across threads and processes, leases of a dead
holder expire (and a live holder's are renewed), robots.txt is read once per TTL by every
process, Crawl-delay raises are shared, and a Redis that is down fails fetches clearly."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import asdict, replace
from multiprocessing.context import BaseContext
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from pytest_httpserver import HTTPServer
from support import politeness_workers as workers
from support.pacing import assert_paced
from support.warm_processes import warm_processes
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch import Fetcher
from etl.fetch.limiter_redis import redis_politeness
from etl.fetch.politeness import HostLimiter, reset_shared_politeness, shared_politeness


@pytest.fixture
def separate() -> BaseContext:
    """Separate processes, like separate workers: forked from a warm forkserver
    (support.warm_processes), each with its own connections and politeness state."""
    return warm_processes()


# A start is stamped just after its grant; a busy or descheduled process stamps late
# (support.pacing), never outside the held slot, so the concurrency check is exact.
LATENESS_S = 0.15


def _prefix(url: str) -> str:
    return parse_qs(urlsplit(url).query)["key_prefix"][0]


def _check_gaps_and_peak(stamps: list[tuple[float, float]], min_gap: float,
                         cap: int, lateness: float = LATENESS_S) -> int:
    assert_paced((s for s, _ in stamps), min_gap, lateness)
    events = sorted([(s, 1) for s, _ in stamps] + [(e, -1) for _, e in stamps],
                    key=lambda ev: (ev[0], ev[1]))  # an end before a start at the same time
    peak = max(itertools.accumulate(delta for _, delta in events))
    assert peak <= cap, peak
    return peak


def test_gap_and_cap_across_threads(limiter_url: str) -> None:
    backend = shared_politeness(limiter_url)[0]
    stamps: list[tuple[float, float]] = []
    lock = threading.Lock()

    def fetcher_thread(limiter: HostLimiter) -> None:
        for _ in range(2):
            limiter.acquire("news.example")
            start = time.time()
            time.sleep(0.4)
            with lock:
                stamps.append((start, time.time()))
            limiter.release("news.example")

    # Two Fetchers' limiters, three threads each.
    limiters = [HostLimiter(0.2, 2, backend), HostLimiter(0.2, 2, backend)]
    threads = [threading.Thread(target=fetcher_thread, args=(limiters[i % 2],))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 12
    assert _check_gaps_and_peak(stamps, 0.2, 2) == 2


def test_gap_and_cap_across_processes(limiter_url: str, separate: BaseContext) -> None:
    processes, per_process = 3, 4
    barrier = separate.Barrier(processes)
    out = separate.Queue()
    procs = [separate.Process(target=workers.take_slots,
                              args=(limiter_url, "news.example", 0.3, 2, per_process, 0.5,
                                 barrier, out))
             for _ in range(processes)]
    for p in procs:
        p.start()
    stamps = [out.get(timeout=60) for _ in range(processes * per_process)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len({pid for pid, _, _ in stamps}) == processes
    # Processes stamp their starts on their own: more room for one descheduled a moment.
    assert _check_gaps_and_peak([(s, e) for _, s, e in stamps], 0.3, 2, lateness=0.2) == 2


def test_a_dead_holders_lease_expires(limiter_url: str, separate: BaseContext) -> None:
    out = separate.Queue()
    dying = separate.Process(target=workers.hold_and_die,
                          args=(limiter_url, "news.example", 1.0, out))
    dying.start()
    held_at = out.get(timeout=60)
    dying.join(30)
    backend = shared_politeness(limiter_url)[0]
    token = backend.acquire("news.example", 0.0, 1)  # blocks until the lease expires
    waited = time.time() - held_at
    backend.release("news.example", token)
    assert 0.8 <= waited < 10, waited  # the 1 s lease: not at once, and not forever


def test_a_live_holders_lease_is_renewed(limiter_url: str, separate: BaseContext) -> None:
    out = separate.Queue()
    holder = separate.Process(target=workers.hold_alive,
                              args=(limiter_url, "news.example", 1.5, 4.0, out))
    holder.start()
    assert out.get(timeout=60)[0] == "held"
    backend = shared_politeness(limiter_url)[0]
    token = backend.acquire("news.example", 0.0, 1)
    got_at = time.time()
    backend.release("news.example", token)
    kind, releasing_at = out.get(timeout=30)
    holder.join(30)
    assert kind == "releasing" and got_at >= releasing_at  # 4 s held on a 1.5 s lease


def test_robots_read_once_by_every_process(server: HTTPServer, settings: HttpSettings,
                                           limiter_url: str, separate: BaseContext) -> None:
    robots = "User-agent: *\nDisallow: /private/\n"

    def slow_robots(request: Request) -> Response:
        time.sleep(0.3)  # the other processes ask while it is being fetched
        return Response(robots, content_type="text/plain")

    server.expect_request("/robots.txt").respond_with_handler(slow_robots)
    server.expect_request("/news/a").respond_with_data("<html>a</html>",
                                                       content_type="text/html")
    polite = replace(settings, obey_robots=True, limiter_url=limiter_url, robots_ttl_s=120)
    urls = [server.url_for("/news/a"), server.url_for("/private/b")]
    processes = 3
    barrier = separate.Barrier(processes)
    out = separate.Queue()
    procs = [separate.Process(target=workers.fetch_urls,
                              args=(asdict(polite), urls, barrier, out))
             for _ in range(processes)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in range(processes)]
    for p in procs:
        p.join(30)
    assert results == [[None, "robots_disallowed"]] * processes
    # This process, later: from Redis, not from the site.
    assert Fetcher(polite).fetch(urls[1]).reason == "robots_disallowed"
    paths = [r.path for r, _ in server.log]
    assert paths.count("/robots.txt") == 1, paths
    assert paths.count("/news/a") == processes
    # Stored raw (status and body), parsed by each process; it expires with the TTL.
    client = redis.Redis(host="127.0.0.1", port=6379)
    key = f"{_prefix(limiter_url)}:robots:http://127.0.0.1:{server.port}"
    stored = client.hgetall(key)
    assert stored[b"status"] == b"200" and stored[b"body"] == robots.encode()
    assert 0 < client.pttl(key) <= 120_000
    client.close()


def test_crawl_delay_is_shared_through_redis(server: HTTPServer, settings: HttpSettings,
                                             limiter_url: str) -> None:
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nCrawl-delay: 0.4\n", content_type="text/plain")
    server.expect_request("/a").respond_with_data("<html>a</html>", content_type="text/html")
    polite = replace(settings, obey_robots=True, limiter_url=limiter_url, min_delay_s=0.0)
    assert Fetcher(polite).fetch(server.url_for("/a")).reason is None
    # Another process: its own connection and state, the same Redis.
    reset_shared_politeness()
    other = HostLimiter(0.0, 4, redis_politeness(limiter_url)[0])
    assert other.delay("127.0.0.1") == 0.4
    other.acquire("127.0.0.1")
    first = time.monotonic()
    other.release("127.0.0.1")
    other.acquire("127.0.0.1")
    second = time.monotonic()
    other.release("127.0.0.1")
    assert second - first >= 0.4 - LATENESS_S
    other.backend.close()


@pytest.fixture
def dead_redis_url() -> str:
    """A redis:// URL with a password, on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://:s3cret-pw@127.0.0.1:{port}/0"


@pytest.mark.parametrize("obey_robots", [False, True])
def test_redis_down_fails_the_fetch_clearly(server: HTTPServer, settings: HttpSettings,
                                            dead_redis_url: str, obey_robots: bool) -> None:
    server.expect_request("/a").respond_with_data("<html>a</html>", content_type="text/html")
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    fetcher = Fetcher(replace(settings, limiter_url=dead_redis_url, obey_robots=obey_robots))
    for _ in range(2):
        result = fetcher.fetch(server.url_for("/a"))
        assert (result.reason, result.body) == ("limiter_unavailable", None)
        assert "politeness limiter" in result.detail and "127.0.0.1" in result.detail
        assert "s3cret-pw" not in result.detail
    assert server.log == []  # nothing is fetched without the shared limiter
