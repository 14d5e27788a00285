"""Feed discovery: RSS/Atom/JSON Feed, autodiscovery, date window, XML attacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from etl.config import HttpSettings, SourceConfig
from etl.fetch import Fetcher
from etl.sources._web import DateWindow
from etl.sources.errors import SourceError
from etl.sources.feeds import autodiscover, discover_feed

RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>http://x/</link>
<item><title>First story</title><link>/2025/06/first</link>
  <pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
<item><title>Second story</title><link>http://127.0.0.1/2025/05/second</link>
  <pubDate>Thu, 01 May 2025 12:00:00 +0200</pubDate></item>
<item><title>Undated</title><guid isPermaLink="true">http://127.0.0.1/undated</guid></item>
<item><title>No link at all</title><description>skip me</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom news</title>
<id>urn:x</id><updated>2025-06-10T00:00:00Z</updated>
<entry><title>Atom one</title><link rel="alternate" href="http://127.0.0.1/a1"/>
  <id>urn:1</id><published>2025-06-09T08:30:00+02:00</published>
  <updated>2025-06-09T09:00:00Z</updated></entry>
</feed>"""

RSS1 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://127.0.0.1/"><title>RDF</title><link>http://127.0.0.1/</link>
  <items><rdf:Seq><rdf:li resource="http://127.0.0.1/r1"/></rdf:Seq></items></channel>
<item rdf:about="http://127.0.0.1/r1"><title>RDF item</title><link>http://127.0.0.1/r1</link>
  <dc:date>2025-06-01T10:00:00Z</dc:date></item>
</rdf:RDF>"""

RSS091 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><link>http://127.0.0.1/</link>
<description>d</description><language>fr</language>
<item><title>Caf\xe9 story</title><link>http://127.0.0.1/old1</link></item>
</channel></rss>"""

JSONFEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JSON news",
    "items": [
        {"id": "1", "url": "http://127.0.0.1/j1", "title": "Json one",
         "date_published": "2025-06-02T10:00:00Z"},
        {"id": "http://127.0.0.1/j2", "content_text": "no url but id is a URL"},
        {"id": "3", "external_url": "/j3", "date_modified": "2025-01-01T00:00:00+01:00"},
        {"id": "4", "content_text": "no link"},
    ],
}


def _source(location: str, **kw: object) -> SourceConfig:
    return SourceConfig(name="feedsrc", kind="feed", location=location, language="en", **kw)


def _serve(server: HTTPServer, path: str, body: str | bytes, ctype: str) -> str:
    server.expect_request(path).respond_with_data(body, content_type=ctype)
    return server.url_for(path)


def test_rss2(server: HTTPServer, settings: HttpSettings) -> None:
    url = _serve(server, "/rss", RSS2, "application/rss+xml; charset=utf-8")
    items = list(discover_feed(_source(url), Fetcher(settings)))
    assert [a.url for a in items] == [server.url_for("/2025/06/first"),
                                      "http://127.0.0.1/2025/05/second",
                                      "http://127.0.0.1/undated"]
    first = items[0]
    assert first.source == "feedsrc" and first.expected_language == "en"
    assert first.hint_title == "First story"
    assert first.hint_published_at == datetime(2025, 6, 10, 4, 0, tzinfo=UTC)
    assert items[1].hint_published_at == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    assert items[2].hint_published_at is None
    assert all(a.raw is None for a in items)  # pages are fetched later by FetchStage
    assert [r.path for r, _ in server.log] == ["/rss"]


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        (ATOM, "application/atom+xml",
         [("http://127.0.0.1/a1", "Atom one", datetime(2025, 6, 9, 6, 30, tzinfo=UTC))]),
        (RSS1, "application/rdf+xml",
         [("http://127.0.0.1/r1", "RDF item", datetime(2025, 6, 1, 10, tzinfo=UTC))]),
        (RSS091.encode("latin-1"), "text/xml", [("http://127.0.0.1/old1", "Café story", None)]),
        (json.dumps(JSONFEED), "application/feed+json",
         [("http://127.0.0.1/j1", "Json one", datetime(2025, 6, 2, 10, tzinfo=UTC)),
          ("http://127.0.0.1/j2", None, None),
          (None, None, datetime(2024, 12, 31, 23, tzinfo=UTC))]),
    ],
    ids=["atom", "rss1", "rss091", "jsonfeed"],
)
def test_formats(server: HTTPServer, settings: HttpSettings, body: str | bytes, ctype: str,
                 expected: list[tuple[str | None, str | None, datetime | None]]) -> None:
    url = _serve(server, "/feed", body, ctype)
    items = list(discover_feed(_source(url), Fetcher(settings)))
    got = [(a.url, a.hint_title, a.hint_published_at) for a in items]
    expected = [(u or server.url_for("/j3"), t, d) for u, t, d in expected]
    assert got == expected


def test_local_feed_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(ATOM, encoding="utf-8")
    items = list(discover_feed(_source(str(path)), None))
    assert [a.url for a in items] == ["http://127.0.0.1/a1"]


def test_autodiscovery_from_homepage(server: HTTPServer, settings: HttpSettings) -> None:
    home = """<!doctype html><html><head><title>Home</title>
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/rss+xml" title="RSS" href="/feeds/main.xml">
      <link rel="alternate" type="application/atom+xml" href="/atom.xml">
      </head><body><h1>Welcome</h1></body></html>"""
    url = _serve(server, "/", home, "text/html; charset=utf-8")
    _serve(server, "/feeds/main.xml", RSS2, "application/rss+xml")
    items = list(discover_feed(_source(url), Fetcher(settings)))
    assert len(items) == 3
    assert items[0].hint_title == "First story"
    assert [r.path for r, _ in server.log] == ["/", "/feeds/main.xml"]


def test_autodiscovery_falls_back_to_next_candidate(server: HTTPServer,
                                                    settings: HttpSettings) -> None:
    home = """<html><head><base href="/sub/">
      <link rel="alternate" type="application/rss+xml" href="missing.xml">
      <link rel="alternate" type="application/feed+json" href="feed.json">
      </head></html>"""
    url = _serve(server, "/home", home, "text/html")
    server.expect_request("/sub/missing.xml").respond_with_data("gone", status=404)
    _serve(server, "/sub/feed.json", json.dumps(JSONFEED), "application/json")
    items = list(discover_feed(_source(url), Fetcher(settings)))
    assert items[0].url == "http://127.0.0.1/j1"


def test_autodiscover_helper_resolves_and_dedupes() -> None:
    html = b"""<html><head>
      <link rel="alternate" type="application/rss+xml" href="/rss">
      <link rel="ALTERNATE" type="application/rss+xml" href="http://h/rss">
      <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
      </head></html>"""
    assert autodiscover(html, "http://h/page") == ["http://h/rss"]


def test_homepage_without_feed_fails(server: HTTPServer, settings: HttpSettings) -> None:
    url = _serve(server, "/", "<html><head></head><body>hi</body></html>", "text/html")
    with pytest.raises(SourceError, match=r"feedsrc.*advertises no feed"):
        list(discover_feed(_source(url), Fetcher(settings)))


def test_unreachable_feed_fails_naming_source(server: HTTPServer,
                                              settings: HttpSettings) -> None:
    server.expect_request("/rss").respond_with_data("nope", status=404)
    with pytest.raises(SourceError, match=r"'feedsrc'.*http_404"):
        list(discover_feed(_source(server.url_for("/rss")), Fetcher(settings)))


@pytest.mark.parametrize("body", ["just some text, not a feed",
                                  "<?xml version='1.0'?><config><a>1</a></config>",
                                  '{"not": "a feed"}'])
def test_not_a_feed_fails(server: HTTPServer, settings: HttpSettings, body: str) -> None:
    url = _serve(server, "/x", body, "text/plain")
    with pytest.raises(SourceError, match=r"feedsrc.*not a feed"):
        list(discover_feed(_source(url), Fetcher(settings)))


def test_date_window_and_max_items(server: HTTPServer, settings: HttpSettings) -> None:
    url = _serve(server, "/rss", RSS2, "application/rss+xml")
    fetcher = Fetcher(settings)
    since, until = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    skipped: list[tuple[str, str]] = []
    window = list(discover_feed(_source(url), fetcher, window=DateWindow(since, until),
                                on_skip=lambda item, reason, _: skipped.append(
                                    (item.hint_title, reason))))
    # May's story is before `since`: handed to on_skip with its reason; undated is kept.
    assert [a.hint_title for a in window] == ["First story", "Undated"]
    assert skipped == [("Second story", "outside_interval")]
    assert [a.hint_title for a in discover_feed(
        _source(url), fetcher, window=DateWindow(until=datetime(2025, 6, 10, 4, tzinfo=UTC)))
            ] == ["Second story", "Undated"]  # until is exclusive
    assert len(list(discover_feed(_source(url), fetcher, max_items=1))) == 1
    assert len(list(discover_feed(_source(url, max_items=2), fetcher))) == 2


def test_max_age_leaves_out_old_entries_with_their_reason(server: HTTPServer,
                                                          settings: HttpSettings) -> None:
    url = _serve(server, "/rss", RSS2, "application/rss+xml")
    now = datetime(2025, 6, 20, tzinfo=UTC)
    skipped: list[tuple[str, str, str]] = []
    items = list(discover_feed(_source(url), Fetcher(settings),
                               window=DateWindow.for_run(30, now=now),
                               on_skip=lambda item, reason, detail: skipped.append(
                                   (item.hint_title, reason, detail))))
    assert [a.hint_title for a in items] == ["First story", "Undated"]
    [(title, reason, detail)] = skipped
    assert (title, reason) == ("Second story", "older_than_max_age")
    assert "30 day(s)" in detail and "2025-05-01T10:00:00Z" in detail


def test_billion_laughs_and_xxe_not_expanded(server: HTTPServer, settings: HttpSettings,
                                             tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}
 <!ENTITY xxe SYSTEM "file://{secret}">
 <!ENTITY passwd SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Bomb &lol9; here</title><link>http://127.0.0.1/b</link></item>
<item><title>Leak &xxe; &passwd;</title><link>http://127.0.0.1/x</link></item>
</channel></rss>"""
    url = _serve(server, "/bomb", bomb, "application/rss+xml")
    items = list(discover_feed(_source(url), Fetcher(settings)))
    titles = " ".join(a.hint_title or "" for a in items)
    assert [a.url for a in items] == ["http://127.0.0.1/b", "http://127.0.0.1/x"]
    assert "lollol" not in titles
    assert "TOPSECRET" not in titles and "root:" not in titles
    assert len(titles) < 200
    # The same from a local file (feedparser must not resolve file entities either).
    path = tmp_path / "bomb.xml"
    path.write_text(bomb)
    local = " ".join(a.hint_title or "" for a in discover_feed(_source(str(path)), None))
    assert "TOPSECRET" not in local and "lollol" not in local
