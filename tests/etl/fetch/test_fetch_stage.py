"""FetchStage: HTTP fields, decoding of legacy charsets, drops with reasons, 304s."""

from __future__ import annotations

from dataclasses import replace

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch import Fetcher, FetchStage
from etl.records import Article, Dropped, Outcome

LATIN1 = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
          'charset=iso-8859-1"><title>Élections</title></head><body><p>Le président a '
          'annoncé à Paris que les élections auront lieu en été.</p></body></html>')
CP1252 = ('<html><head><meta charset="windows-1252"><title>“Quotes”</title></head><body>'
          '<p>It costs 5 € — naïve façade, déjà vu.</p></body></html>')
SJIS = ('<html><head><title>ニュース</title></head><body><p>東京都は今日、新しい交通計画を'
        '発表しました。この計画では、公共交通機関の利用を促進するために、バスと電車の運賃を'
        '引き下げることが含まれています。市民からは歓迎の声が上がっています。</p></body></html>')


def _run(stage: FetchStage, urls: list[str]) -> dict[str, Article]:
    return {a.url: a for a in stage(Article(url=u, source="s") for u in urls)}


def test_legacy_charsets_without_header_charset(server: HTTPServer,
                                                settings: HttpSettings) -> None:
    # Content-Type without charset: meta (latin-1, cp1252) or detection (Shift_JIS) decides.
    for path, text, codec in [("/latin1", LATIN1, "latin-1"), ("/cp1252", CP1252, "cp1252"),
                              ("/sjis", SJIS, "shift_jis")]:
        server.expect_request(path).respond_with_data(text.encode(codec),
                                                      content_type="text/html")
    drops: list[Dropped] = []
    out = _run(FetchStage(drops.append, Fetcher(settings)),
               [server.url_for(p) for p in ("/latin1", "/cp1252", "/sjis")])
    assert drops == []
    assert out[server.url_for("/latin1")].html == LATIN1
    assert out[server.url_for("/cp1252")].html == CP1252
    assert out[server.url_for("/sjis")].html == SJIS


def test_header_charset_wins(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/h").respond_with_data(
        "<p>Größe</p>".encode("iso-8859-15"), content_type="text/html; charset=ISO-8859-15")
    out = _run(FetchStage(lambda d: None, Fetcher(settings)), [server.url_for("/h")])
    assert out[server.url_for("/h")].html == "<p>Größe</p>"


def test_fields_filled_and_failures_dropped(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/ok").respond_with_response(Response(
        "<html>ok</html>", content_type="text/html; charset=utf-8",
        headers={"ETag": '"e1"', "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    server.expect_request("/moved").respond_with_response(
        Response(status=301, headers={"Location": "/ok"}))
    server.expect_request("/missing").respond_with_data("nope", status=404)
    server.expect_request("/bin").respond_with_data(b"\x00\x01\x02PNG" * 10,
                                                    content_type="text/html")
    drops: list[Dropped] = []
    stage = FetchStage(drops.append, Fetcher(settings))
    urls = [server.url_for(p) for p in ("/ok", "/moved", "/missing", "/bin")]
    out = _run(stage, [*urls, "javascript:alert(1)"])
    ok = out[server.url_for("/ok")]
    assert ok.raw == b"<html>ok</html>" and ok.html == "<html>ok</html>"
    assert ok.http_status == 200 and ok.content_type == "html"
    assert ok.etag == '"e1"' and ok.last_modified == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert ok.fetched_at is not None
    moved = out[server.url_for("/moved")]
    assert moved.final_url == server.url_for("/ok")
    reasons = {d.article.url: (d.outcome, d.reasons, d.stage) for d in drops}
    assert reasons[server.url_for("/missing")] == (Outcome.FAILED, ["http_404"], "fetch")
    assert reasons[server.url_for("/bin")] == (Outcome.FAILED, ["decode_error"], "fetch")
    assert reasons["javascript:alert(1)"] == (Outcome.FAILED, ["bad_url"], "fetch")
    assert stage.stats.received == 5 and stage.stats.forwarded == 2
    assert stage.stats.dropped == {"http_404": 1, "decode_error": 1, "bad_url": 1}


def test_conditional_get_drops_not_modified(server: HTTPServer, settings: HttpSettings) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v7"':
            return Response(status=304)
        return Response("<html>new</html>", content_type="text/html", headers={"ETag": '"v8"'})

    server.expect_request("/a").respond_with_handler(handler)
    server.expect_request("/b").respond_with_handler(handler)
    known = {server.url_for("/a"): ('"v7"', None)}
    drops: list[Dropped] = []
    stage = FetchStage(drops.append, Fetcher(settings),
                       conditional=lambda url: known.get(url, (None, None)))
    out = _run(stage, [server.url_for("/a"), server.url_for("/b")])
    assert list(out) == [server.url_for("/b")]
    assert out[server.url_for("/b")].etag == '"v8"'
    assert len(drops) == 1
    assert drops[0].outcome == Outcome.NOT_MODIFIED and drops[0].reasons == ["not_modified"]
    assert drops[0].article.http_status == 304


def test_many_items_bounded_window(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/p").respond_with_data("<html>p</html>", content_type="text/html")
    pulled = 0

    def items():
        nonlocal pulled
        for i in range(60):
            pulled += 1
            yield Article(url=server.url_for(f"/p?i={i}"), source="s")

    stage = FetchStage(lambda d: None, Fetcher(replace(settings, workers=3)))
    gen = stage(items())
    first = next(gen)
    assert first.html == "<html>p</html>"
    assert pulled <= 2 * 3 + 1  # input is consumed lazily, not all at once
    assert len(list(gen)) == 59
    gen.close()


def test_items_with_raw_are_passed_through(settings: HttpSettings) -> None:
    stage = FetchStage(lambda d: None, Fetcher(settings))
    article = Article(url="http://example.invalid/x", source="w",
                      raw="<p>café</p>".encode(), http_status=200)
    out = list(stage([article]))
    assert out[0].html == "<p>café</p>"
