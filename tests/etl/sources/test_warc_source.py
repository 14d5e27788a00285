"""WARC discovery: HTML response records only, fields filled, local and remote archives."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from etl.config import HttpSettings, SourceConfig
from etl.fetch import Fetcher
from etl.sources.errors import SourceError
from etl.sources.warc import discover_warc

PAGE = "<html><head><title>Caf\xe9</title></head><body><p>Bonjour</p></body></html>"


def make_warc(gz: bool = True) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)

    def response(url: str, status: str, ctype: str, body: bytes, **extra: str) -> None:
        headers = StatusAndHeaders(status, [("Content-Type", ctype), *extra.items()],
                                   protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=headers,
            warc_headers_dict={"WARC-Date": "2025-06-10T12:00:00Z"})
        writer.write_record(record)

    writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "tests"}))
    response("http://news.example/a", "200 OK", "text/html; charset=iso-8859-1",
             PAGE.encode("latin-1"), ETag='"a1"')
    response("http://news.example/img.png", "200 OK", "image/png", b"\x89PNG\r\n")
    response("http://news.example/moved", "301 Moved", "text/html", b"",
             Location="http://news.example/a")
    response("http://news.example/b", "200 OK", "application/xhtml+xml",
             b"<html><body>b</body></html>")
    writer.write_record(writer.create_warc_record(
        "http://news.example/a", "request", payload=io.BytesIO(b"GET /a HTTP/1.1\r\n\r\n")))
    return buf.getvalue()


def _source(location: str, **kw: object) -> SourceConfig:
    return SourceConfig(name="arch", kind="warc", location=location, language="fr", **kw)


@pytest.mark.parametrize("gz", [True, False])
def test_local_warc(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    path.write_bytes(make_warc(gz))
    items = list(discover_warc(_source(str(path)), None))
    assert [a.url for a in items] == ["http://news.example/a", "http://news.example/b"]
    a = items[0]
    assert a.raw == PAGE.encode("latin-1") and a.html == PAGE
    assert a.final_url == "http://news.example/a" and a.http_status == 200
    assert a.fetched_at == datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    assert a.content_type == "html" and a.etag == '"a1"'
    assert a.source == "arch" and a.expected_language == "fr"


def test_folder_and_max_items(tmp_path: Path) -> None:
    (tmp_path / "1.warc.gz").write_bytes(make_warc())
    (tmp_path / "2.warc").write_bytes(make_warc(gz=False))
    (tmp_path / "notes.txt").write_text("ignored")
    assert len(list(discover_warc(_source(str(tmp_path)), None))) == 4
    assert len(list(discover_warc(_source(str(tmp_path), max_items=3), None))) == 3


def test_remote_warc_is_streamed(server: HTTPServer, settings: HttpSettings) -> None:
    data = make_warc()
    server.expect_request("/crawl.warc.gz").respond_with_data(data,
                                                              content_type="application/warc")
    fetcher = Fetcher(settings)
    items = list(discover_warc(_source(server.url_for("/crawl.warc.gz")), fetcher))
    assert [a.url for a in items] == ["http://news.example/a", "http://news.example/b"]


def test_errors(tmp_path: Path, server: HTTPServer, settings: HttpSettings) -> None:
    with pytest.raises(SourceError, match=r"'arch'.*does not exist"):
        list(discover_warc(_source(str(tmp_path / "missing.warc")), None))
    bad = tmp_path / "bad.warc"
    bad.write_bytes(b"<html>not a warc</html>\n")
    with pytest.raises(SourceError, match=r"'arch'.*not a readable WARC"):
        list(discover_warc(_source(str(bad)), None))
    server.expect_request("/gone.warc").respond_with_data("x", status=404)
    with pytest.raises(SourceError, match=r"'arch'.*http_404"):
        list(discover_warc(_source(server.url_for("/gone.warc")), Fetcher(settings)))
