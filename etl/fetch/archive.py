"""The raw-page archive: every fetched body, with its URL, status, headers and fetch time.

Stored as WARC (ISO 28500), the web-archiving standard, gzip-compressed per record, so
pywb, warcio, Common Crawl tooling — and our own `warc` source — can read it. One file
per run and source under `<root>/YYYY/MM/DD/`. The root is a local folder by default or
any fsspec URL (s3://bucket/news-archive, with s3fs installed) in production.

Why WARC rather than content-addressed blobs: it keeps the HTTP response (status and
headers, which decide the charset) together with the body, re-extraction reads it with
the same code path as any WARC backfill, and other tools read it unchanged.
"""

from __future__ import annotations

import io
import os
import zlib
from datetime import UTC, datetime
from typing import Any

from etl.records import safe_name

DEFAULT_ARCHIVE_ROOT = "data/archive"
# warcio gzips at zlib's level 9. On news pages level 6 makes an archive within 1 % of that
# size for a third less CPU, spent in the process that also fetches and loads
# (benchmarks/warc_compression.py).
COMPRESSION_LEVEL = 6


def gzip_member(data: bytes, level: int = COMPRESSION_LEVEL) -> bytes:
    """`data` as one complete gzip member (a WARC.gz holds one per record)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def archive_root(root: str | None = None) -> str:
    """`root` (a folder or an fsspec URL), else the local default data/archive."""
    return root or DEFAULT_ARCHIVE_ROOT


class WarcArchive:
    """Appends response records to one WARC file for a (run, source), each record its own
    gzip member (as warcio writes them, so readers can seek to any record). Not
    thread-safe: the fetch stage calls it from its consuming thread."""

    def __init__(self, run_id: str, source: str, root: str | None = None,
                 now: datetime | None = None, level: int = COMPRESSION_LEVEL) -> None:
        now = now or datetime.now(UTC)
        base = archive_root(root).rstrip("/")
        self.path = f"{base}/{now:%Y/%m/%d}/{safe_name(run_id)}__{safe_name(source)}.warc.gz"
        self._file: Any = None
        self._writer: Any = None
        self._record = io.BytesIO()  # the record being written, before its compression
        self.level = level  # zlib's compression level
        self.records = 0

    def _open(self) -> None:
        import fsspec
        from warcio.warcwriter import WARCWriter

        if "://" not in self.path:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # A retried task appends to the same run's file; readers take the latest record.
        self._file = fsspec.open(self.path, "ab").open()
        self._writer = WARCWriter(self._record, gzip=False)  # compressed by `store`

    def store(self, url: str, status: int, headers: dict[str, str], body: bytes,
              fetched_at: datetime) -> str:
        """Write one response record; returns the archive file's path."""
        from warcio.statusandheaders import StatusAndHeaders

        if self._writer is None:
            self._open()
        http_headers = StatusAndHeaders(
            f"{status} OK", [(k, v) for k, v in headers.items()
                             if k.lower() not in ("content-encoding", "transfer-encoding",
                                                  "content-length")],
            protocol="HTTP/1.1")
        record = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": fetched_at.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")},
        )
        self._writer.write_record(record)
        self._file.write(gzip_member(self._record.getvalue(), self.level))
        self._record.seek(0)
        self._record.truncate()
        self.records += 1
        return self.path

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None


def archived_files(source: str, since: datetime | None = None, until: datetime | None = None,
                   root: str | None = None) -> list[str]:
    """The archive's WARC files of one source whose day falls in [since, until]."""
    import fsspec

    base = archive_root(root).rstrip("/")
    fs, _, [path] = fsspec.get_fs_token_paths(base)
    pattern = f"{path}/*/*/*/*__{safe_name(source)}.warc.gz"
    found = []
    for name in sorted(fs.glob(pattern)):
        parts = name.rsplit("/", 4)
        try:
            day = datetime(int(parts[-4]), int(parts[-3]), int(parts[-2]), tzinfo=UTC)
        except (ValueError, IndexError):
            continue
        if since and day.date() < since.date():
            continue
        if until and day.date() > until.date():
            continue
        found.append(name if "://" not in base else f"{base.split('://')[0]}://{name}")
    return found
