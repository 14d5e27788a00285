"""Per-host politeness in one process: start gaps per host, concurrency cap per host, hosts
independent, and one limiter for every Fetcher of the process (as the chunk tasks of an
Airflow worker each build their own Fetcher). Across processes: test_limiter_redis.py."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from dataclasses import replace

from pytest_httpserver import HTTPServer
from support.pacing import assert_paced
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch import Fetcher, FetchStage, HostLimiter
from etl.records import Article


def test_min_delay_per_host_while_hosts_interleave(server: HTTPServer,
                                                   settings: HttpSettings) -> None:
    starts: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            starts[request.host.split(":")[0]].append(time.monotonic())
        return Response("<html><body>ok</body></html>", content_type="text/html")

    server.expect_request("/p").respond_with_handler(handler)
    port = server.port
    urls = [f"http://{host}:{port}/p?i={i}" for i in range(4)
            for host in ("127.0.0.1", "localhost")]
    fetcher = Fetcher(replace(settings, min_delay_s=0.5, max_per_host=2, workers=8))
    stage = FetchStage(lambda d: None, fetcher)
    out = list(stage(Article(url=u, source="t") for u in urls))
    assert len(out) == 8
    for host in ("127.0.0.1", "localhost"):
        times = sorted(starts[host])
        assert len(times) == 4
        # Arrivals lag their grants (thread scheduling, localhost trying ::1 first).
        assert_paced(times, 0.5, lateness=0.3)
    # The two hosts proceed concurrently: their request streams overlap in time.
    a, b = sorted(starts["127.0.0.1"]), sorted(starts["localhost"])
    assert a[0] < b[-1] and b[0] < a[-1]
    span = max(a[-1], b[-1]) - min(a[0], b[0])
    assert span < 0.5 * 7, span  # serialising all 8 requests would take at least 3.5 s


def test_max_per_host_concurrency(server: HTTPServer, settings: HttpSettings) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.15)
        with lock:
            active -= 1
        return Response("<html></html>", content_type="text/html")

    server.expect_request("/slow").respond_with_handler(handler)
    fetcher = Fetcher(replace(settings, min_delay_s=0.0, max_per_host=2, workers=6))
    stage = FetchStage(lambda d: None, fetcher)
    items = [Article(url=server.url_for(f"/slow?i={i}"), source="t") for i in range(6)]
    assert len(list(stage(items))) == 6
    assert peak == 2


def test_limiter_unit_gaps_and_independent_hosts() -> None:
    limiter = HostLimiter(min_delay_s=0.1, max_per_host=5)
    stamps: dict[str, list[float]] = defaultdict(list)

    def go(host: str) -> None:
        with limiter.slot(host):
            stamps[host].append(time.monotonic())

    threads = [threading.Thread(target=go, args=(h,)) for h in ("a", "b") * 3]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for host in ("a", "b"):
        times = sorted(stamps[host])
        assert all(y - x >= 0.095 for x, y in itertools.pairwise(times))
    assert time.monotonic() - start < 0.5  # a and b did not wait for each other


def test_fetchers_of_one_process_share_the_host_limits(server: HTTPServer,
                                                      settings: HttpSettings) -> None:
    """Three Fetchers (three chunk tasks) fetch one host at once: together they keep its
    gap and its concurrency cap, instead of each keeping them on its own."""
    starts: list[float] = []
    active = peak = 0
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        nonlocal active, peak
        with lock:
            starts.append(time.monotonic())
            active += 1
            peak = max(peak, active)
        time.sleep(0.5)
        with lock:
            active -= 1
        return Response("<html><body>ok</body></html>", content_type="text/html")

    server.expect_request("/p").respond_with_handler(handler)
    polite = replace(settings, min_delay_s=0.2, max_per_host=2, workers=4)

    def chunk_task(task: int) -> None:
        fetcher = Fetcher(polite)
        stage = FetchStage(lambda d: None, fetcher)
        items = [Article(url=server.url_for(f"/p?task={task}&i={i}"), source="t")
                 for i in range(4)]
        assert len(list(stage(items))) == 4
        fetcher.close()

    tasks = [threading.Thread(target=chunk_task, args=(t,)) for t in range(3)]
    for t in tasks:
        t.start()
    for t in tasks:
        t.join()
    assert len(starts) == 12
    assert_paced(starts, 0.2, lateness=0.15)
    assert peak == 2


def test_callers_with_different_settings_share_one_host_state() -> None:
    """A Fetcher with no delay still queues behind a reservation made with a delay, and
    a Crawl-delay raise is seen by every limiter of the process."""
    polite = HostLimiter(min_delay_s=0.3, max_per_host=1)
    eager = HostLimiter(min_delay_s=0.0, max_per_host=1)
    with polite.slot("shared.example"):
        pass
    started = time.monotonic()
    with polite.slot("shared.example"):  # waits out its own 0.3 s gap
        pass
    assert time.monotonic() - started >= 0.28
    eager.set_delay("Shared.Example", 0.5)
    assert polite.delay("shared.example") == 0.5 and eager.delay("shared.example") == 0.5
    assert eager.delay("other.example") == 0.0


def test_release_without_acquire_frees_nothing() -> None:
    first = HostLimiter(min_delay_s=0.0, max_per_host=1)
    other = HostLimiter(min_delay_s=0.0, max_per_host=1)
    first.acquire("one.example")
    other.release("one.example")  # holds nothing: must not free first's slot
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (other.acquire("one.example"), got.set()))
    waiter.start()
    assert not got.wait(0.3)
    first.release("one.example")
    assert got.wait(5)
    waiter.join()
    other.release("one.example")
