"""Hostile inputs through every source kind: each item ends with one outcome and a clear
reason, the run goes on, the accounting adds up and memory stays bounded."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from werkzeug import Response

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse

from .conftest import (
    BIG_BYTES,
    assert_balanced,
    big_page,
    hostile_pages,
    outcomes,
    write_file,
)

WORDS = "expect_column_pair_values_a_to_be_greater_than_b[word_count,min_words]"
# What each hostile page must end as, whatever source read it (HTTP differs, below).
EXPECTED = {
    "empty": ("failed", "empty"),
    "png": ("failed", "decode_error"),
    "pdf": ("failed", "decode_error"),
    "gzip": ("failed", "decode_error"),
    "nested": ("failed", "no_article"),
    "js_only": ("failed", "no_article"),
    "paywall": ("rejected", WORDS),
    "block_page": ("rejected", WORDS),
    "big": ("failed", "too_large"),
}
READABLE = ("invalid_utf8", "mixed_encodings")  # real articles with bad bytes: kept


def options(tmp_path: Path, **knobs) -> RunOptions:
    """RunOptions whose archive stays in the test's folder; no Data Docs (never read
    here: the validation results stay in the warehouse)."""
    return RunOptions(archive_root=str(tmp_path / "archive"),
                      data_docs_dir=str(tmp_path / "docs"), data_docs=False, **knobs)


@pytest.fixture(scope="module")
def big() -> bytes:
    return big_page()


class PeakRss:
    """Samples this process tree's RSS while a block runs: peak growth in bytes."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = self.base = self._rss()
        self._stop = threading.Event()

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def __enter__(self) -> PeakRss:
        def sample() -> None:
            while not self._stop.wait(0.05):
                self.peak = max(self.peak, self._rss())
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


def by_name(found: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html"): o
            for url, o in found.items()}


def check(found: dict[str, tuple[str, str]], expected: dict[str, tuple[str, str]]) -> None:
    named = by_name(found)
    for name, outcome in expected.items():
        assert named.get(name) == outcome, (name, named.get(name))
    for name in READABLE:
        assert named[name][0] in ("loaded", "duplicate"), (name, named[name])


def test_files_source_hostile_corpus_with_a_50mb_page(tmp_path, sqlite_url, big):
    pages = tmp_path / "src" / "pages"
    for name, body in hostile_pages().items():
        write_file(pages / f"{name}.html", body)
    write_file(pages / "big.html", big)
    secret = write_file(tmp_path / "outside" / "secret.html", b"<p>secret</p>")
    (pages / "escape.html").symlink_to(secret)
    sources = tmp_path / "src" / "sources.yml"
    sources.write_text("sources:\n- {name: hostile, kind: files, location: pages}\n")
    wh = Warehouse(sqlite_url)
    with PeakRss() as rss:
        ingest(load_sources(sources), wh, run_id="files",
               options=options(tmp_path, workers=1, batch_size=50))
    assert rss.growth < 1.5 * 2**30, rss.growth
    check(outcomes(wh, "files"), {**EXPECTED,
                                  "escape": ("failed", "outside_source_folder")})
    [run] = assert_balanced(wh, "files")
    assert run["discovered"] == len(hostile_pages()) + 2


@pytest.mark.slow
def test_a_50mb_page_allowed_in_is_bounded_by_the_pool_time_limit(tmp_path, sqlite_url, big):
    """With the size cap lifted, the pool's per-document time limit still ends it."""
    write_file(tmp_path / "pages" / "big.html", big)
    write_file(tmp_path / "pages" / "ok.html", hostile_pages()["invalid_utf8"])
    sources = tmp_path / "sources.yml"
    sources.write_text("http: {max_bytes: 67108864}\n"
                       "sources:\n- {name: huge, kind: files, location: pages}\n")
    wh = Warehouse(sqlite_url)
    started = time.monotonic()
    with PeakRss() as rss:
        ingest(load_sources(sources), wh, run_id="huge",
               options=options(tmp_path, workers=2, extract_timeout_s=3, batch_size=10))
    assert time.monotonic() - started < 90
    assert rss.growth < 1.5 * 2**30, rss.growth
    named = by_name(outcomes(wh, "huge"))
    assert named["big"] == ("failed", "extract_timeout")
    assert named["ok"] == ("loaded", "")
    assert_balanced(wh, "huge")


def _serve(httpserver: HTTPServer, prefix: str, big: bytes) -> list[str]:
    """Hostile pages under /<prefix>/<name>; returns their URLs."""
    urls = []
    for name, body in hostile_pages().items():
        status = 403 if name == "block_page" else 200
        httpserver.expect_request(f"/{prefix}/{name}").respond_with_data(
            body, status=status, content_type="text/html; charset=utf-8")
        urls.append(httpserver.url_for(f"/{prefix}/{name}"))
    httpserver.expect_request(f"/{prefix}/big").respond_with_data(big,
                                                                  content_type="text/html")

    def stream(_request):  # no Content-Length: the cap must hold while reading
        chunk = b"<p>" + b"x" * (1024 * 1024) + b"</p>"
        return Response((chunk for _ in range(BIG_BYTES // len(chunk) + 1)),
                        content_type="text/html")

    httpserver.expect_request(f"/{prefix}/big_stream").respond_with_handler(stream)
    return [*urls, *(httpserver.url_for(f"/{prefix}/{n}") for n in ("big", "big_stream"))]


HTTP_EXPECTED = {**EXPECTED, "block_page": ("failed", "http_403"),
                 "big_stream": ("failed", "too_large")}


def test_web_sources_hostile_corpus_urls_feed_sitemap(tmp_path, sqlite_url, httpserver, big,
                                                     http_settings_yaml):
    u, f, s = (_serve(httpserver, p, big) for p in ("u", "f", "s"))
    items = "".join(f"<item><title>t</title><link>{x}</link></item>" for x in f)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>h</title>{items}"
        "</channel></rss>", content_type="application/rss+xml")
    locs = "".join(f"<url><loc>{x}</loc></url>" for x in s)
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"{locs}</urlset>", content_type="application/xml")
    url_list = "".join(f"\n    - '{x}'" for x in u)
    sources = tmp_path / "sources.yml"
    sources.write_text(
        http_settings_yaml + "sources:\n"
        f"  - name: list\n    kind: urls\n    urls:{url_list}\n"
        f"  - {{name: feed, kind: feed, location: '{httpserver.url_for('/feed.xml')}'}}\n"
        f"  - {{name: map, kind: sitemap, location: '{httpserver.url_for('/sitemap.xml')}'}}\n")
    wh = Warehouse(sqlite_url)
    started = time.monotonic()
    with PeakRss() as rss:
        ingest(load_sources(sources), wh, run_id="web", options=options(tmp_path, workers=1))
    assert time.monotonic() - started < 60
    assert rss.growth < 1.5 * 2**30, rss.growth
    found = outcomes(wh, "web")
    for prefix in ("u", "f", "s"):
        check({k: v for k, v in found.items() if f"/{prefix}/" in k}, HTTP_EXPECTED)
    runs = assert_balanced(wh, "web")
    assert {r["source"]: r["discovered"] for r in runs} == {
        "list": len(u), "feed": len(f), "map": len(s)}


def test_warc_source_hostile_corpus(tmp_path, sqlite_url, big):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for name, body in [*hostile_pages().items(), ("big", big)]:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            f"http://news.example/{name}", "response", payload=io.BytesIO(body),
            http_headers=headers, warc_headers_dict={"WARC-Date": "2026-06-10T12:00:00Z"}))
    write_file(tmp_path / "archive.warc.gz", buf.getvalue())
    sources = tmp_path / "sources.yml"
    sources.write_text("sources:\n- {name: arch, kind: warc, location: archive.warc.gz}\n")
    wh = Warehouse(sqlite_url)
    ingest(load_sources(sources), wh, run_id="warc", options=options(tmp_path, workers=1))
    check(outcomes(wh, "warc"), EXPECTED)  # the 50 MB record is counted, not skipped
    [run] = assert_balanced(wh, "warc")
    assert run["discovered"] == len(hostile_pages()) + 1


def test_hostile_urls_credentials_schemes_idn_and_length(tmp_path, sqlite_url, httpserver,
                                                         http_settings_yaml, monkeypatch):
    port = httpserver.port
    httpserver.expect_request("/idn").respond_with_data(hostile_pages()["invalid_utf8"],
                                                        content_type="text/html")
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):  # the IDN host (punycode) is served locally; no DNS
        if host == "xn--bcher-kva.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        if host == "nowhere.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    hostile = {
        "creds": f"http://user:pa55@127.0.0.1:{port}/idn",
        "file": "file:///etc/passwd",
        "js": "javascript:alert(1)",
        "data": "data:text/html,<p>hi</p>",
        "long": f"http://127.0.0.1:{port}/" + "a" * 5000,
        "ftp": "ftp://127.0.0.1/x",
        "nohost": "http:///path",
        "space": f"http://127.0.0.1:{port}/a b",
        "dns": "http://nowhere.test/x",
        "v6loop": "http://[::1]/x",
        "idn": f"http://bücher.test:{port}/idn",
    }
    sources = tmp_path / "sources.yml"
    listed = "".join(f"\n    - {u!r}" for u in hostile.values())
    sources.write_text(http_settings_yaml + f"sources:\n  - name: bad\n    kind: urls\n"
                       f"    urls:{listed}\n")
    wh = Warehouse(sqlite_url)
    ingest(load_sources(sources), wh, run_id="urls", options=options(tmp_path, workers=1))
    found = outcomes(wh, "urls")
    reason = {name: found[url] for name, url in hostile.items()}
    for name in ("creds", "file", "js", "data", "long", "ftp", "nohost", "space"):
        assert reason[name] == ("failed", "bad_url"), name
    assert reason["dns"] == ("failed", "dns")
    assert reason["v6loop"] == ("failed", "blocked_address")
    assert reason["idn"] == ("loaded", "")
    [run] = assert_balanced(wh, "urls")
    assert run["discovered"] == len(hostile)


@pytest.mark.slow
def test_ten_thousand_feed_entries_add_up(tmp_path, sqlite_url, httpserver, http_settings_yaml):
    """10,000 entries: 10 served pages, the rest refused at once by the SSRF guard
    (private addresses, no network), so the run is quick and every entry is counted."""
    httpserver.expect_request("/p").respond_with_data(hostile_pages()["invalid_utf8"],
                                                      content_type="text/html")
    links = [httpserver.url_for("/p") + f"?n={i}" for i in range(10)]
    links += [f"http://10.{i // 65536}.{i // 256 % 256}.{i % 256}/story" for i in range(9990)]
    items = "".join(f"<item><link>{x}</link></item>" for x in links)
    httpserver.expect_request("/big-feed.xml").respond_with_data(
        f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>",
        content_type="application/rss+xml")
    sources = tmp_path / "sources.yml"
    sources.write_text(http_settings_yaml + "sources:\n"
                       f"- {{name: many, kind: feed, location: "
                       f"'{httpserver.url_for('/big-feed.xml')}'}}\n")
    wh = Warehouse(sqlite_url)
    started = time.monotonic()
    ingest(load_sources(sources), wh, run_id="many",
           options=options(tmp_path, workers=1, batch_size=500))
    assert time.monotonic() - started < 90
    [run] = assert_balanced(wh, "many")
    assert run["discovered"] == 10_000
    found = outcomes(wh, "many")
    assert sum(1 for o in found.values() if o == ("failed", "blocked_address")) == 9990
    assert run["loaded"] + run["duplicates"] == 10  # same text: one loaded, nine duplicates
    assert run["loaded"] == 1


def test_symlinked_source_folder_escape_and_parent_traversal(tmp_path):
    """`location: ../..` needs allow_outside; a symlink escaping is read as nothing."""
    from etl.config import ConfigError

    config = tmp_path / "conf" / "sources.yml"
    config.parent.mkdir()
    config.write_text("sources:\n- {name: t, kind: files, location: ../../etc}\n")
    with pytest.raises(ConfigError, match="outside the sources file's folder"):
        load_sources(config)
    config.write_text("sources:\n- {name: t, kind: warc, location: '../x/../../a.warc'}\n")
    with pytest.raises(ConfigError, match="allow_outside"):
        load_sources(config)
    config.write_text("sources:\n- {name: t, kind: files, location: ../../etc, "
                      "allow_outside: true}\n")
    assert load_sources(config).sources[0].location == str(tmp_path / "conf" / "../../etc")
    config.write_text("sources:\n- {name: t, kind: files, location: a/../b}\n")
    assert load_sources(config).sources[0].location.endswith("a/../b")
    config.write_text("sources:\n- {name: t, kind: files, location: x, allow_outside: 1}\n")
    with pytest.raises(ConfigError, match="allow_outside"):
        load_sources(config)
