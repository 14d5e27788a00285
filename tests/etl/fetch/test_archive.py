"""The raw-page archive: WARC records, each its own gzip member, read back by warcio."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from etl.fetch.archive import WarcArchive

FETCHED = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
PAGES = {
    f"https://news.example/2026/11/story-{i}.html":
        (f"<html><body><h1>Story {i}</h1>" + "<p>Harbour news, again. </p>" * 300
         + "</body></html>").encode()
    for i in range(3)
}


def _archive(root: Path, pages: dict[str, bytes]) -> str:
    archive = WarcArchive("run-1", "harbour", root=str(root), now=FETCHED)
    for url, body in pages.items():
        path = archive.store(url, 200, {"Content-Type": "text/html; charset=utf-8",
                                        "Content-Encoding": "gzip", "ETag": '"v1"'},
                             body, FETCHED)
    archive.close()
    return path


def test_records_read_back_with_their_headers_and_body(tmp_path: Path) -> None:
    path = _archive(tmp_path, PAGES)
    assert path.endswith("2026/11/30/run-1__harbour.warc.gz")
    with open(path, "rb") as handle:
        records = [(r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_statuscode(),
                    r.http_headers.get_header("ETag"),
                    r.http_headers.get_header("Content-Encoding"),
                    r.rec_headers.get_header("WARC-Date"), r.content_stream().read())
                   for r in ArchiveIterator(handle)]
    # The body is stored decoded, so the transfer headers that described it are dropped.
    assert records == [(url, "200", '"v1"', None, "2026-11-30T08:15:00Z", body)
                       for url, body in PAGES.items()]
    assert Path(path).stat().st_size < sum(map(len, PAGES.values())) / 5  # compressed


def test_each_record_is_its_own_gzip_member_and_a_retry_appends(tmp_path: Path) -> None:
    """Any record can be read from its offset alone (what WARC indexes such as CDX rely
    on), and a retried task appends its records to the same file."""
    first = dict(list(PAGES.items())[:2])
    path = _archive(tmp_path, first)
    _archive(tmp_path, dict(list(PAGES.items())[2:]))  # the retry, same run and source
    data = Path(path).read_bytes()
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle)
        offsets = [(iterator.get_record_offset(), r.rec_headers.get_header("WARC-Target-URI"))
                   for r in iterator]
    assert [url for _, url in offsets] == list(PAGES)
    for offset, url in offsets:
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        record = member.decompress(data[offset:])
        assert member.eof and record.startswith(b"WARC/1.")
        assert f"WARC-Target-URI: {url}\r\n".encode() in record
        assert record.endswith(PAGES[url] + b"\r\n\r\n")
