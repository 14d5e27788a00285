"""Fetcher against a local server: redirects, retries, caps, content types, 304s."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch import Fetcher

HTML = "<html><head><title>t</title></head><body><p>hello</p></body></html>"


def _html(body: str = HTML, status: int = 200, **headers: str) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8",
                    headers=headers)


def test_ok_page(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/a").respond_with_response(_html(ETag='"v1"'))
    result = Fetcher(settings).fetch(server.url_for("/a"))
    assert result.reason is None and result.ok
    assert result.status == 200
    assert result.body == HTML.encode()
    assert result.headers["etag"] == '"v1"'
    assert result.charset == "utf-8"
    assert result.fetched_at.tzinfo is not None
    assert result.redirects == []
    assert server.log[0][0].headers["User-Agent"] == settings.user_agent


def test_redirect_chain_301_302(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/mid"}))
    server.expect_request("/mid").respond_with_response(
        Response(status=302, headers={"Location": server.url_for("/new")}))
    server.expect_request("/new").respond_with_response(_html())
    result = Fetcher(settings).fetch(server.url_for("/old"))
    assert result.reason is None
    assert result.final_url == server.url_for("/new")
    assert result.redirects == [server.url_for("/mid"), server.url_for("/new")]


def test_redirect_loop(server: HTTPServer, settings: HttpSettings) -> None:
    for here, there in (("/a", "/b"), ("/b", "/a")):
        server.expect_request(here).respond_with_response(
            Response(status=302, headers={"Location": there}))
    result = Fetcher(settings).fetch(server.url_for("/a"))
    assert result.reason == "redirect_loop"
    assert result.body is None


def test_too_many_redirects(server: HTTPServer, settings: HttpSettings) -> None:
    for i in range(5):
        server.expect_request(f"/r{i}").respond_with_response(
            Response(status=307, headers={"Location": f"/r{i + 1}"}))
    result = Fetcher(replace(settings, max_redirects=3)).fetch(server.url_for("/r0"))
    assert result.reason == "redirect_loop"
    assert len(result.redirects) == 3


@pytest.mark.parametrize("status", [404, 410])
def test_client_errors_not_retried(server: HTTPServer, settings: HttpSettings,
                                   status: int) -> None:
    server.expect_request("/gone").respond_with_response(_html(status=status))
    result = Fetcher(settings).fetch(server.url_for("/gone"))
    assert result.reason == f"http_{status}"
    assert result.status == status
    assert len(server.log) == 1


def test_500_then_200_is_retried(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_ordered_request("/flaky").respond_with_response(_html(status=500))
    server.expect_ordered_request("/flaky").respond_with_response(_html())
    result = Fetcher(settings).fetch(server.url_for("/flaky"))
    assert result.reason is None and result.status == 200
    assert len(server.log) == 2


def test_500_exhausts_retries(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/down").respond_with_response(_html(status=503))
    result = Fetcher(replace(settings, retries=2)).fetch(server.url_for("/down"))
    assert result.reason == "http_503"
    assert len(server.log) == 3


def test_429_honours_retry_after(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_ordered_request("/busy").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "1"}))
    server.expect_ordered_request("/busy").respond_with_response(_html())
    start = time.monotonic()
    result = Fetcher(settings).fetch(server.url_for("/busy"))
    assert result.reason is None
    assert time.monotonic() - start >= 0.95  # waited as asked, not backoff_s


def test_429_retry_after_beyond_cap_gives_up(server: HTTPServer,
                                             settings: HttpSettings) -> None:
    server.expect_request("/busy").respond_with_response(
        Response("later", status=429, headers={"Retry-After": "86400"}))
    start = time.monotonic()
    result = Fetcher(settings).fetch(server.url_for("/busy"))
    assert result.reason == "http_429"
    assert time.monotonic() - start < 1
    assert len(server.log) == 1


def test_slow_response_times_out(server: HTTPServer, settings: HttpSettings) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return _html()

    server.expect_request("/slow").respond_with_handler(slow)
    result = Fetcher(replace(settings, timeout_s=0.3, retries=0)).fetch(server.url_for("/slow"))
    assert result.reason == "timeout"


def test_connection_refused(settings: HttpSettings) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = Fetcher(replace(settings, retries=1)).fetch(f"http://127.0.0.1:{port}/")
    assert result.reason == "connect"


def test_body_over_cap_with_content_length(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/big").respond_with_response(_html("x" * 5000))
    result = Fetcher(replace(settings, max_bytes=1000)).fetch(server.url_for("/big"))
    assert result.reason == "too_large"
    assert result.body is None


def test_streamed_body_over_cap_without_length(server: HTTPServer,
                                               settings: HttpSettings) -> None:
    def chunks():
        for _ in range(100):
            yield b"y" * 1000

    server.expect_request("/stream").respond_with_response(
        Response(chunks(), content_type="text/html"))
    result = Fetcher(replace(settings, max_bytes=10_000)).fetch(server.url_for("/stream"))
    assert result.reason == "too_large"


def test_gzip_content_encoding_decoded_and_capped(server: HTTPServer,
                                                  settings: HttpSettings) -> None:
    small = gzip.compress(HTML.encode())
    bomb = gzip.compress(b"<html>" + b" " * 5_000_000)
    server.expect_request("/gz").respond_with_response(
        Response(small, content_type="text/html", headers={"Content-Encoding": "gzip"}))
    server.expect_request("/bomb").respond_with_response(
        Response(bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}))
    fetcher = Fetcher(replace(settings, max_decompressed_bytes=100_000))
    assert fetcher.fetch(server.url_for("/gz")).body == HTML.encode()
    assert len(bomb) < 100_000
    result = fetcher.fetch(server.url_for("/bomb"))
    assert result.reason == "too_large"


def test_corrupt_gzip_is_decode_error(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/bad").respond_with_response(
        Response(b"not gzip at all", content_type="text/html",
                 headers={"Content-Encoding": "gzip"}))
    assert Fetcher(settings).fetch(server.url_for("/bad")).reason == "decode_error"


def test_content_type_checks(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/doc.pdf").respond_with_data(b"%PDF-1.4", content_type="application/pdf")
    server.expect_request("/feed").respond_with_data(b"<rss/>", content_type="application/rss+xml")
    server.expect_request("/x").respond_with_data(b"<html/>",
                                                  content_type="application/xhtml+xml")
    fetcher = Fetcher(settings)
    assert fetcher.fetch(server.url_for("/doc.pdf")).reason == "not_html"
    assert fetcher.fetch(server.url_for("/feed")).reason == "not_html"
    assert fetcher.fetch(server.url_for("/feed"), accept="feed").reason is None
    assert fetcher.fetch(server.url_for("/doc.pdf"), accept="feed").reason == "not_html"
    assert fetcher.fetch(server.url_for("/x")).reason is None


def test_etag_flow_ends_in_304(server: HTTPServer, settings: HttpSettings) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"abc"':
            return Response(status=304, headers={"ETag": '"abc"'})
        return _html(ETag='"abc"')

    server.expect_request("/p").respond_with_handler(handler)
    fetcher = Fetcher(settings)
    first = fetcher.fetch(server.url_for("/p"))
    assert first.ok and first.headers["etag"] == '"abc"'
    second = fetcher.fetch(server.url_for("/p"), etag=first.headers["etag"])
    assert second.status == 304
    assert second.reason is None
    assert second.not_modified is True
    assert second.body is None


def test_last_modified_flow_ends_in_304(server: HTTPServer, settings: HttpSettings) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return _html(**{"Last-Modified": stamp})

    server.expect_request("/p").respond_with_handler(handler)
    fetcher = Fetcher(settings)
    first = fetcher.fetch(server.url_for("/p"))
    assert first.headers["last-modified"] == stamp
    second = fetcher.fetch(server.url_for("/p"), last_modified=stamp)
    assert second.not_modified and second.status == 304 and second.reason is None


def test_stream_returns_file_object(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/big.bin").respond_with_data(b"z" * 50_000,
                                                        content_type="application/warc")
    fetcher = Fetcher(replace(settings, max_bytes=1000))  # stream() is not capped
    with fetcher.stream(server.url_for("/big.bin")) as fh:
        assert len(fh.read()) == 50_000


def test_fetch_never_raises_for_garbage(settings: HttpSettings) -> None:
    fetcher = Fetcher(settings)
    for url in ["", "   ", "http://", "http://[::1", "http://127.0.0.1:99999/"]:
        result = fetcher.fetch(url)
        assert result.reason == "bad_url", url
