"""robots.txt: disallow honoured, fetched once per host, 4xx/5xx allow, Crawl-delay."""

from __future__ import annotations

from dataclasses import replace

from pytest_httpserver import HTTPServer
from werkzeug import Response

from etl.config import HttpSettings
from etl.fetch import Fetcher, FetchStage
from etl.fetch.robots import user_agent_token
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
    paths = [r.path for r, _ in server.log]
    assert paths.count("/robots.txt") == 1  # cached for the Fetcher, across threads
    assert "/private/secret.html" not in paths
    # Our own group applies, not "*": /everyone-blocked is allowed for news-etl-test.
    assert fetcher.fetch(server.url_for("/everyone-blocked")).reason is None


def test_missing_robots_allows_all(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data("no", status=404)
    _page(server, "/private/x")
    fetcher = Fetcher(replace(settings, obey_robots=True))
    assert fetcher.fetch(server.url_for("/private/x")).reason is None


def test_server_error_robots_allows(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data("oops", status=500)
    _page(server, "/private/x")
    fetcher = Fetcher(replace(settings, obey_robots=True, retries=0))
    assert fetcher.fetch(server.url_for("/private/x")).reason is None


def test_obey_robots_false_skips_robots(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_data(ROBOTS)
    _page(server, "/private/x")
    assert Fetcher(settings).fetch(server.url_for("/private/x")).reason is None
    assert [r.path for r, _ in server.log] == ["/private/x"]


def test_crawl_delay_raises_host_delay(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/robots.txt").respond_with_response(
        Response("User-agent: *\nCrawl-delay: 0.3\n", content_type="text/plain"))
    _page(server, "/a")
    fetcher = Fetcher(replace(settings, obey_robots=True, min_delay_s=0.0))
    assert fetcher.fetch(server.url_for("/a")).reason is None
    assert fetcher.limiter._state("127.0.0.1").delay == 0.3
