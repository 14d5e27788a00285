"""Huge sitemaps stream: entries come out while the document is read, in memory that does
not grow with the number of URLs; failures part-way keep what was read before them."""

from __future__ import annotations

import gzip
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from etl.config import HttpSettings, SourceConfig
from etl.sources.errors import SourceError
from etl.sources.sitemap_stream import body_chunks, open_sitemap
from etl.sources.sitemaps import discover_sitemap, parse_sitemap

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
N = 50_000
# Materialising 50,000 entries (the decompressed document, a tree or a list of entries and
# items) takes 40+ MB of Python allocations; streaming holds one 64 KiB slice and a few
# entries. The bound leaves room for the compressed body and interpreter noise.
BOUND = 4_000_000


def big_urlset(n: int) -> bytes:
    rows = "".join(f"<url><loc>http://127.0.0.1/section-{i % 97}/story-{i:06d}.html</loc>"
                   f"<lastmod>2026-11-{1 + i % 28:02d}T10:00:00Z</lastmod></url>"
                   for i in range(n))
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{rows}</urlset>'.encode()


def big_index(n: int) -> bytes:
    rows = "".join(f"<sitemap><loc>http://127.0.0.1/maps/part-{i:06d}.xml.gz</loc>"
                   f"<lastmod>2026-10-{1 + i % 28:02d}</lastmod></sitemap>" for i in range(n))
    return (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{rows}'
            "</sitemapindex>").encode()


def _peak(consume) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = consume()
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fifty_thousand_url_sitemap_streams_in_bounded_memory(tmp_path: Path,
                                                              settings: HttpSettings) -> None:
    path = tmp_path / "sitemap.xml.gz"
    path.write_bytes(gzip.compress(big_urlset(N)))
    # max_bytes only bounds the file read (Python preallocates it); the body is ~280 KB.
    source = SourceConfig(name="big", kind="sitemap", location=str(path),
                          http=replace(settings, max_bytes=1_000_000))
    seen: list[str] = []

    def consume() -> int:
        count = 0
        for item in discover_sitemap(source, None):
            count += 1
            if count in (1, N):
                seen.append(item.url)
        return count

    count, peak = _peak(consume)
    assert count == N
    assert seen == ["http://127.0.0.1/section-0/story-000000.html",
                    f"http://127.0.0.1/section-{(N - 1) % 97}/story-{N - 1:06d}.html"]
    assert peak < BOUND, f"peak {peak / 1e6:.1f} MB while streaming {N} URLs"


def test_index_of_many_children_streams_in_bounded_memory() -> None:
    many = 20_000  # materialised: 7+ MB
    body = gzip.compress(big_index(many))

    def consume() -> int:
        parsed = open_sitemap(body_chunks(body, 50_000_000), "http://127.0.0.1/index.xml")
        assert parsed.kind == "index"
        return sum(1 for entry in parsed.entries if entry.lastmod is not None)

    count, peak = _peak(consume)
    assert count == many
    assert peak < BOUND, f"peak {peak / 1e6:.1f} MB while streaming an index of {many}"


def test_entries_come_out_before_the_end_is_read(tmp_path: Path) -> None:
    """A document broken near its end: what came before is read (streamed), then the root
    sitemap fails as a SourceError."""
    body = big_urlset(2_000)[:-2_000]  # cut inside the last entries
    path = tmp_path / "cut.xml"
    path.write_bytes(body)
    got: list[str] = []
    with pytest.raises(SourceError, match="not a sitemap: malformed XML"):
        for item in discover_sitemap(SourceConfig(name="cut", kind="sitemap",
                                                  location=str(path)), None):
            got.append(item.url)
    assert 1_900 < len(got) < 2_000


def test_gzip_is_decompressed_in_slices_under_the_cap() -> None:
    body = gzip.compress(big_urlset(5_000))
    slices = list(body_chunks(body, 50_000_000)())
    assert b"".join(slices) == big_urlset(5_000)
    assert max(len(s) for s in slices) <= 64 * 1024 and len(slices) > 5
    with pytest.raises(ValueError, match="decompressed body over 100000 bytes"):
        list(body_chunks(body, 100_000)())


def test_doctype_with_entities_is_dropped_when_streaming() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<urlset " + NS.encode() + b"><url><loc>http://127.0.0.1/x&b;</loc></url>"
            + b"".join(b"<url><loc>http://127.0.0.1/%d</loc></url>" % i for i in range(3000))
            + b"</urlset>")
    kind, entries = parse_sitemap(body, "http://127.0.0.1/")
    assert kind == "urlset" and len(entries) == 3001
    assert entries[0].url == "http://127.0.0.1/x"


def test_text_sitemap_and_robots_stream() -> None:
    urls = "".join(f"http://127.0.0.1/t{i}\n" for i in range(20_000)).encode()
    kind, entries = parse_sitemap(urls, "http://127.0.0.1/list.txt")
    assert kind == "urlset" and len(entries) == 20_000 and entries[-1].url.endswith("/t19999")
    robots = b"User-agent: *\nDisallow:\n" + b"x" * 70_000 + b"\nSitemap: /late.xml\n"
    kind, entries = parse_sitemap(robots, "http://127.0.0.1/robots.txt")
    assert kind == "index" and [e.url for e in entries] == ["http://127.0.0.1/late.xml"]


def test_an_endless_line_is_skipped_in_one_pass_with_bounded_memory() -> None:
    """A text body without newlines (a bomb of zeros, say) is not kept as one ever longer
    line: the URLs around it are read and the overlong line is dropped as it streams by."""
    def chunks():
        yield b"http://127.0.0.1/before\n"
        for _ in range(320):  # 20 MB without a newline
            yield b"\0" * (64 * 1024)
        yield b"\nhttp://127.0.0.1/after\n"

    tracemalloc.start()
    try:
        sitemap = open_sitemap(chunks, "http://127.0.0.1/list.txt")
        urls = [e.url for e in sitemap.entries]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sitemap.kind == "urlset"
    assert urls == ["http://127.0.0.1/before", "http://127.0.0.1/after"]
    assert peak < 2 * 2**20, peak
