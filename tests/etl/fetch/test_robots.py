"""robots.txt per RFC 9309: disallow honoured, 4xx = no rules, 5xx/429/unreachable =
complete disallow (`robots_unavailable`), fetched once per origin per TTL for every Fetcher
of the process, Crawl-delay shared. Through Redis and across processes:
test_limiter_redis.py; through the pipeline: test_robots_pipeline.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytest_httpserver import HTTPServer
from support.robots_servers import ClosingRobotsServer
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch import Fetcher, FetchStage
from etl.fetch.robots import RobotsRecord, user_agent_token
from etl.records import Article

ROBOTS = """\
User-agent: *
Disallow: /everyone-blocked

User-agent: news-etl-test
Disallow: /private/
"""


def _page(server: HTTPServer, path: str) -> None:
    server.expect_request(path).respond_with_data("<html><body>x</body></html>",
                                                  content_type="text/html")


def _paths(server: HTTPServer) -> list[str]:
    return [r.path for r, _ in server.log]


def test_user_agent_token() -> None:
    assert user_agent_token("news-etl/0.1 (+https://x)") == "news-etl/0.1"
    assert user_agent_token("") == "*"


def test_disallowed_path_and_single_robots_fetch(server: HTTPServer,
                                                 settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    _page(server, "/private/secret.html")
    _page(server, "/public/a.html")
    _page(server, "/everyone-blocked")
    fetcher = Fetcher(replace(settings, obey_robots=True, workers=4))
    drops = []
    stage = FetchStage(drops.append, fetcher)
    items = [Article(url=server.url_for(p), source="t") for p in
             ["/private/secret.html", "/public/a.html", "/public/a.html?2",
              "/private/secret.html?2"]]
    out = list(stage(items))
    assert {a.url for a in out} == {server.url_for("/public/a.html"),
                                    server.url_for("/public/a.html?2")}
    assert sorted(d.reasons[0] for d in drops) == ["robots_disallowed"] * 2
    paths = _paths(server)
    assert paths.count("/robots.txt") == 1  # cached, across threads
    assert "/private/secret.html" not in paths
    # Our own group applies, not "*": /everyone-blocked is allowed for news-etl-test.
    assert fetcher.fetch(server.url_for("/everyone-blocked")).reason is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_robots_means_no_rules(server: HTTPServer, settings: HttpSettings,
                                   status: int) -> None:
    server.expect_request("/robots.txt").respond_with_data("no", status=status)
    _page(server, "/private/x")
    fetcher = Fetcher(replace(settings, obey_robots=True))
    assert fetcher.fetch(server.url_for("/private/x")).reason is None
    assert fetcher.fetch(server.url_for("/private/x")).reason is None
    assert _paths(server).count("/robots.txt") == 1  # a 4xx answer is cached too


def test_too_many_robots_redirects_means_no_rules(server: HTTPServer,
                                                  settings: HttpSettings) -> None:
    for i in range(4):
        server.expect_request(f"/r{i}").respond_with_response(
            Response(status=301, headers={"Location": f"/r{i + 1}"}))
    server.expect_request("/robots.txt").respond_with_response(
        Response(status=301, headers={"Location": "/r0"}))
    _page(server, "/a")
    fetcher = Fetcher(replace(settings, obey_robots=True, max_redirects=3))
    assert fetcher.fetch(server.url_for("/a")).reason is None


@pytest.fixture
def closing_server() -> Iterator[ClosingRobotsServer]:
    srv = ClosingRobotsServer()
    yield srv
    srv.close()


UNREACHABLE = ["http_500", "http_503", "http_429", "timeout", "connection_closed"]


class _SlowRobots:
    """A robots.txt handler that answers only when released (long after the timeout)."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.arrived: list[str] = []
        self.released = threading.Event()

    def __call__(self, request: Request) -> Response:
        self.arrived.append(request.path)
        self.released.wait(10)
        return Response("User-agent: *\nDisallow:\n", content_type="text/plain")

    def finish(self) -> None:
        """Let the handlers end and land in the server log before the next test."""
        self.released.set()
        deadline = time.monotonic() + 5
        while len(self.server.log) < len(self.arrived) and time.monotonic() < deadline:
            time.sleep(0.01)


def _serve_unreachable_robots(kind: str, server: HTTPServer, closing: ClosingRobotsServer
                              ) -> tuple[str, _SlowRobots | None]:
    """Make robots.txt unreachable in the way `kind` says; returns the base URL (and the
    slow handler, to release at the end)."""
    slow = None
    if kind == "connection_closed":
        return closing.url(""), None
    if kind == "timeout":
        slow = _SlowRobots(server)
        server.expect_request("/robots.txt").respond_with_handler(slow)
    else:
        server.expect_request("/robots.txt").respond_with_data("down", status=int(kind[5:]))
    _page(server, "/news/a")
    _page(server, "/news/b")
    return server.url_for("").rstrip("/"), slow


@pytest.mark.parametrize("kind", UNREACHABLE)
def test_unreachable_robots_disallows_the_origin(server: HTTPServer, settings: HttpSettings,
                                                 closing_server, kind: str) -> None:
    base, slow = _serve_unreachable_robots(kind, server, closing_server)
    fetcher = Fetcher(replace(settings, obey_robots=True, retries=0, timeout_s=0.5))
    first = fetcher.fetch(base + "/news/a")
    second = fetcher.fetch(base + "/news/b")
    for result in (first, second):
        assert (result.reason, result.body, result.status) == ("robots_unavailable", None,
                                                                None), result.detail
        assert "robots.txt" in (result.detail or "")
    if kind == "connection_closed":
        requested = closing_server.paths
    elif slow is not None:
        slow.finish()
        requested = slow.arrived + [p for p in _paths(server) if p != "/robots.txt"]
    else:
        requested = _paths(server)
    # No page is requested, and the broken robots.txt is not asked again for each URL.
    assert requested == ["/robots.txt"], requested


def test_unreachable_robots_is_asked_again_after_its_short_ttl(
        server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data("down", status=503)
    _page(server, "/a")
    fetcher = Fetcher(replace(settings, obey_robots=True, retries=0, robots_ttl_s=0.3))
    assert fetcher.fetch(server.url_for("/a")).reason == "robots_unavailable"
    server.clear()
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    _page(server, "/a")
    time.sleep(0.4)
    assert fetcher.fetch(server.url_for("/a")).reason is None
    assert _paths(server) == ["/robots.txt", "/a"]


def test_other_origins_are_not_affected(server: HTTPServer, settings: HttpSettings,
                                        closing_server) -> None:
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    _page(server, "/ok")
    fetcher = Fetcher(replace(settings, obey_robots=True, retries=0, timeout_s=0.5))
    assert fetcher.fetch(closing_server.url("/x")).reason == "robots_unavailable"
    assert fetcher.fetch(server.url_for("/ok")).reason is None


def test_record_kinds() -> None:
    assert RobotsRecord(200, b"").kind == "rules"
    assert RobotsRecord(404, None, "http_404").kind == "allow"
    assert RobotsRecord(429, None, "http_429").kind == "unreachable"
    assert RobotsRecord(502, None, "http_502").kind == "unreachable"
    assert RobotsRecord(None, None, "dns").kind == "unreachable"
    assert RobotsRecord(200, None, "too_large").kind == "unreachable"
    assert RobotsRecord(301, None, "redirect_loop").kind == "allow"


def test_obey_robots_false_skips_robots(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data(ROBOTS)
    _page(server, "/private/x")
    assert Fetcher(settings).fetch(server.url_for("/private/x")).reason is None
    assert _paths(server) == ["/private/x"]


def test_robots_fetched_once_per_ttl_for_every_fetcher_of_the_process(
        server: HTTPServer, settings: HttpSettings) -> None:
    """Each chunk task builds its own Fetcher: robots.txt is still read once per TTL."""
    server.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    _page(server, "/public/a")
    polite = replace(settings, obey_robots=True, robots_ttl_s=0.5)

    def chunk_task() -> None:
        with Fetcher(polite) as fetcher:
            assert fetcher.fetch(server.url_for("/public/a")).reason is None
            assert fetcher.fetch(server.url_for("/private/b")).reason == "robots_disallowed"

    tasks = [threading.Thread(target=chunk_task) for _ in range(4)]
    for t in tasks:
        t.start()
    for t in tasks:
        t.join()
    assert _paths(server).count("/robots.txt") == 1
    time.sleep(0.6)  # past the TTL: read again, once
    chunk_task()
    chunk_task()
    assert _paths(server).count("/robots.txt") == 2


def test_crawl_delay_raises_the_gap_of_every_fetcher(server: HTTPServer,
                                                     settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_response(
        Response("User-agent: *\nCrawl-delay: 0.3\n", content_type="text/plain"))
    _page(server, "/a")
    fetcher = Fetcher(replace(settings, obey_robots=True, min_delay_s=0.0))
    assert fetcher.fetch(server.url_for("/a")).reason is None
    assert fetcher.limiter.delay("127.0.0.1") == 0.3
    # Another Fetcher of the process (robots off, no delay of its own) keeps it too.
    other = Fetcher(replace(settings, min_delay_s=0.0))
    assert other.limiter.delay("127.0.0.1") == 0.3
    started = time.monotonic()
    assert other.fetch(server.url_for("/a")).reason is None
    assert other.fetch(server.url_for("/a")).reason is None
    assert time.monotonic() - started >= 0.28
