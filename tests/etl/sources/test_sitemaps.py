"""Sitemap discovery: indexes, gzip, Google News, cycles, depth, caps, XML attacks."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from etl.config import HttpSettings, SourceConfig
from etl.fetch import Fetcher
from etl.sources._web import DateWindow
from etl.sources.errors import SourceError
from etl.sources.sitemaps import discover_sitemap

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urlset(*urls: str, lastmod: str | None = None) -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    body = "".join(f"<url><loc>{u}</loc>{mod}</url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{body}</urlset>'


def index(*locs: str, lastmod: str | None = None) -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    body = "".join(f"<sitemap><loc>{u}</loc>{mod}</sitemap>" for u in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{body}</sitemapindex>'


NEWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS} {NEWS_NS}>
 <url><loc>http://127.0.0.1/news/1</loc>
  <news:news><news:publication><news:name>Daily</news:name><news:language>en</news:language>
  </news:publication><news:publication_date>2025-06-10T08:00:00+02:00</news:publication_date>
  <news:title>Big news today</news:title></news:news></url>
 <url><loc>http://127.0.0.1/news/2</loc>
  <news:news><news:publication_date>2025-05-01</news:publication_date>
  <news:title>Older news</news:title></news:news></url>
</urlset>"""


def _source(location: str, **kw: object) -> SourceConfig:
    return SourceConfig(name="maps", kind="sitemap", location=location, **kw)


def _serve(server: HTTPServer, path: str, body: str | bytes,
           ctype: str = "application/xml") -> str:
    server.expect_request(path).respond_with_data(body, content_type=ctype)
    return server.url_for(path)


def test_index_with_gzipped_child_and_news_sitemap(server: HTTPServer,
                                                   settings: HttpSettings) -> None:
    child_gz = gzip.compress(urlset("http://127.0.0.1/a", "http://127.0.0.1/b").encode())
    _serve(server, "/sitemap-pages.xml.gz", child_gz, "application/gzip")
    _serve(server, "/news.xml", NEWS)
    root = _serve(server, "/sitemap_index.xml",
                  index(server.url_for("/sitemap-pages.xml.gz"), "/news.xml"))
    items = list(discover_sitemap(_source(root), Fetcher(settings)))
    assert [a.url for a in items] == ["http://127.0.0.1/a", "http://127.0.0.1/b",
                                      "http://127.0.0.1/news/1", "http://127.0.0.1/news/2"]
    news1 = items[2]
    assert news1.hint_title == "Big news today"
    assert news1.hint_published_at == datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
    assert items[3].hint_published_at == datetime(2025, 5, 1, tzinfo=UTC)
    assert items[0].hint_published_at is None  # lastmod is not a publication date
    assert all(a.source == "maps" for a in items)


def test_gzip_content_encoding_sitemap(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/s.xml").respond_with_data(
        gzip.compress(urlset("http://127.0.0.1/z").encode()), content_type="application/xml",
        headers={"Content-Encoding": "gzip"})
    items = list(discover_sitemap(_source(server.url_for("/s.xml")), Fetcher(settings)))
    assert [a.url for a in items] == ["http://127.0.0.1/z"]


def test_self_referencing_index_terminates(server: HTTPServer, settings: HttpSettings) -> None:
    root = _serve(server, "/self.xml", index("/self.xml", "/a.xml"))
    _serve(server, "/a.xml", index("/b.xml"))
    _serve(server, "/b.xml", index("/a.xml", "/self.xml", "/pages.xml"))  # cycle
    _serve(server, "/pages.xml", urlset("http://127.0.0.1/p"))
    items = list(discover_sitemap(_source(root), Fetcher(settings)))
    assert [a.url for a in items] == ["http://127.0.0.1/p"]
    paths = [r.path for r, _ in server.log]
    assert sorted(paths) == ["/a.xml", "/b.xml", "/pages.xml", "/self.xml"]


def test_depth_is_bounded(server: HTTPServer, settings: HttpSettings) -> None:
    for i in range(6):
        _serve(server, f"/i{i}.xml", index(f"/i{i + 1}.xml"))
    _serve(server, "/i6.xml", urlset("http://127.0.0.1/deep"))
    root = server.url_for("/i0.xml")
    assert list(discover_sitemap(_source(root), Fetcher(settings))) == []
    assert len(server.log) == 4  # root + 3 levels
    items = list(discover_sitemap(_source(root), Fetcher(settings), max_depth=6))
    assert [a.url for a in items] == ["http://127.0.0.1/deep"]


def test_failing_child_is_skipped(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/broken.xml").respond_with_data("gone", status=410)
    _serve(server, "/junk.xml", "<html><body>not a sitemap</body></html>")
    _serve(server, "/ok.xml", urlset("http://127.0.0.1/ok"))
    root = _serve(server, "/idx.xml", index("/broken.xml", "/junk.xml", "/ok.xml"))
    items = list(discover_sitemap(_source(root), Fetcher(settings)))
    assert [a.url for a in items] == ["http://127.0.0.1/ok"]


@pytest.mark.parametrize(("status", "body", "match"), [
    (404, "nope", "http_404"),
    (200, "<html><body>hello</body></html>", "not a sitemap"),
    (200, "<urlset><url><loc>broken", "not a sitemap"),
])
def test_root_failure_is_source_error(server: HTTPServer, settings: HttpSettings,
                                      status: int, body: str, match: str) -> None:
    server.expect_request("/s.xml").respond_with_data(body, status=status,
                                                      content_type="application/xml")
    with pytest.raises(SourceError, match=rf"'maps'.*{match}"):
        list(discover_sitemap(_source(server.url_for("/s.xml")), Fetcher(settings)))


def test_gzip_bomb_hits_decompressed_cap(server: HTTPServer, settings: HttpSettings) -> None:
    bomb = gzip.compress(urlset("http://127.0.0.1/x").encode() + b" " * 20_000_000)
    assert len(bomb) < 100_000
    url = _serve(server, "/bomb.xml.gz", bomb, "application/x-gzip")
    source = _source(url, http=replace(settings, max_decompressed_bytes=1_000_000))
    fetcher = Fetcher(source.http)
    with pytest.raises(SourceError, match="decompresses to more than 1000000"):
        list(discover_sitemap(source, fetcher))


def test_gzip_bomb_child_is_skipped_not_fatal(server: HTTPServer,
                                              settings: HttpSettings) -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000)
    _serve(server, "/bomb.xml.gz", bomb, "application/gzip")
    _serve(server, "/ok.xml", urlset("http://127.0.0.1/ok"))
    root = _serve(server, "/idx.xml", index("/bomb.xml.gz", "/ok.xml"))
    source = _source(root, http=replace(settings, max_decompressed_bytes=100_000))
    items = list(discover_sitemap(source, Fetcher(source.http)))
    assert [a.url for a in items] == ["http://127.0.0.1/ok"]


def test_xml_bomb_and_xxe_not_expanded(server: HTTPServer, settings: HttpSettings,
                                       tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY lol0 "lol">{lol}
 <!ENTITY xxe SYSTEM "file://{secret}">
 <!ENTITY remote SYSTEM "{server.url_for('/dtd-fetched')}">]>
<urlset {NS}>
 <url><loc>http://127.0.0.1/a&lol9;</loc></url>
 <url><loc>http://127.0.0.1/b&xxe;</loc></url>
 <url><loc>http://127.0.0.1/c&remote;</loc></url>
</urlset>"""
    url = _serve(server, "/bomb.xml", bomb)
    items = list(discover_sitemap(_source(url), Fetcher(settings)))
    urls = [a.url for a in items]
    assert urls == ["http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c"]
    assert [r.path for r, _ in server.log] == ["/bomb.xml"]  # no external entity fetch
    path = tmp_path / "bomb.xml"
    path.write_text(bomb)
    assert [a.url for a in discover_sitemap(_source(str(path)), None)] == urls


def test_date_window_uses_publication_then_lastmod(server: HTTPServer,
                                                   settings: HttpSettings) -> None:
    _serve(server, "/news.xml", NEWS)
    _serve(server, "/old.xml", urlset("http://127.0.0.1/old", lastmod="2024-01-01"))
    _serve(server, "/new.xml", urlset("http://127.0.0.1/new", lastmod="2025-06-05T10:00:00Z"))
    _serve(server, "/undated.xml", urlset("http://127.0.0.1/undated"))
    root = _serve(server, "/idx.xml", index("/news.xml", "/new.xml", "/undated.xml")
                  .replace("</sitemapindex>", "<sitemap><loc>/old.xml</loc>"
                           "<lastmod>2024-01-02</lastmod></sitemap></sitemapindex>"))
    since, until = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    items = list(discover_sitemap(_source(root), Fetcher(settings),
                                  window=DateWindow(since, until)))
    assert [a.url for a in items] == ["http://127.0.0.1/news/1", "http://127.0.0.1/new",
                                      "http://127.0.0.1/undated"]
    assert "/old.xml" not in [r.path for r, _ in server.log]  # skipped by index lastmod


def test_max_age_uses_publication_then_lastmod_and_reports_each_skip(
        server: HTTPServer, settings: HttpSettings) -> None:
    _serve(server, "/map.xml", urlset("http://127.0.0.1/fresh", lastmod="2025-06-18")
           .replace("</urlset>", "<url><loc>http://127.0.0.1/stale</loc><lastmod>2025-04-01"
                                 "</lastmod></url><url><loc>http://127.0.0.1/undated</loc>"
                                 "</url></urlset>"))
    _serve(server, "/news.xml", NEWS)  # published 2025-06-10 and 2025-05-01: both too old
    _serve(server, "/old.xml", urlset("http://127.0.0.1/in-old-child"))
    root = _serve(server, "/idx.xml", index("/map.xml", "/news.xml").replace(
        "</sitemapindex>", "<sitemap><loc>/old.xml</loc><lastmod>2025-01-02</lastmod>"
                           "</sitemap></sitemapindex>"))
    skipped: list[tuple[str, str]] = []
    items = list(discover_sitemap(
        _source(root), Fetcher(settings),
        window=DateWindow.for_run(5, now=datetime(2025, 6, 20, tzinfo=UTC)),
        on_skip=lambda item, reason, _: skipped.append((item.url, reason))))
    assert [a.url for a in items] == ["http://127.0.0.1/fresh", "http://127.0.0.1/undated"]
    assert skipped == [("http://127.0.0.1/stale", "older_than_max_age"),
                       ("http://127.0.0.1/news/1", "older_than_max_age"),
                       ("http://127.0.0.1/news/2", "older_than_max_age")]
    # A child sitemap unchanged since before the bound holds nothing newer: not read.
    assert "/old.xml" not in [r.path for r, _ in server.log]


def test_max_items_stops_early(server: HTTPServer, settings: HttpSettings) -> None:
    _serve(server, "/one.xml", urlset(*(f"http://127.0.0.1/{i}" for i in range(5))))
    _serve(server, "/two.xml", urlset("http://127.0.0.1/never"))
    root = _serve(server, "/idx.xml", index("/one.xml", "/two.xml"))
    items = list(discover_sitemap(_source(root, max_items=3), Fetcher(settings)))
    assert len(items) == 3
    assert "/two.xml" not in [r.path for r, _ in server.log]
    assert len(list(discover_sitemap(_source(root), Fetcher(settings), max_items=6))) == 6


def test_robots_txt_and_text_sitemap(server: HTTPServer, settings: HttpSettings) -> None:
    _serve(server, "/list.txt", "http://127.0.0.1/t1\nhttp://127.0.0.1/t2\n", "text/plain")
    robots = _serve(server, "/robots.txt", "User-agent: *\nDisallow:\nSitemap: /list.txt\n",
                    "text/plain")
    items = list(discover_sitemap(_source(robots), Fetcher(settings)))
    assert [a.url for a in items] == ["http://127.0.0.1/t1", "http://127.0.0.1/t2"]


def test_local_gzipped_sitemap(tmp_path: Path) -> None:
    path = tmp_path / "sitemap.xml.gz"
    path.write_bytes(gzip.compress(NEWS.encode()))
    items = list(discover_sitemap(_source(str(path)), None))
    assert [a.hint_title for a in items] == ["Big news today", "Older news"]


def test_remote_index_cannot_point_at_local_files(server: HTTPServer, settings: HttpSettings,
                                                  tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_text(urlset("http://127.0.0.1/secret-local"))
    root = _serve(server, "/idx.xml", index(f"file://{local}", str(local)))
    assert list(discover_sitemap(_source(root), Fetcher(settings))) == []
