"""The `warc` source: HTML pages already captured in WARC/ARC files (gzipped or not).

`location` is a WARC/ARC file, a folder of them (*.warc, *.warc.gz, *.arc, *.arc.gz,
read in name order), or an http(s) URL streamed through the Fetcher (no size cap on
the archive itself; each record is capped at http.max_bytes).

Only `response` records with a 2xx HTTP status and an HTML Content-Type are yielded;
they come with `raw`, `final_url`, `http_status`, `fetched_at` (the WARC-Date),
etag/last_modified from the captured headers, `content_type="html"` and `html` decoded
with the captured header charset when possible (left None otherwise, so the next stage
reports decode_error). Other records are skipped and counted in the log.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warcio.archiveiterator import ArchiveIterator

from etl.config import SourceConfig
from etl.decode import DecodeError, decode_page
from etl.records import Article
from etl.sources._web import is_url, item_limit, local_path, parse_machine_date
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _archives(source: SourceConfig) -> list[str]:
    location = source.location
    if is_url(location):
        return [location]
    path = local_path(location)
    if path.is_dir():
        found = sorted(str(p) for p in path.iterdir()
                       if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES))
        if not found:
            raise SourceError(f"source {source.name!r}: no WARC/ARC files in {path}")
        return found
    if not path.is_file():
        raise SourceError(f"source {source.name!r}: {path} does not exist")
    return [str(path)]


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _records(source: SourceConfig, stream: IO[bytes], name: str,
             skipped: Counter[str]) -> Iterator[Article]:
    max_bytes = source.http.max_bytes
    for record in ArchiveIterator(stream, arc2warc=True):
        if record.rec_type != "response":
            skipped[f"record_{record.rec_type}"] += 1
            continue
        http = record.http_headers
        url = record.rec_headers.get_header("WARC-Target-URI")
        if http is None or not url:
            skipped["no_http_headers"] += 1
            continue
        try:
            status = int(http.get_statuscode() or 0)
        except ValueError:
            status = 0
        if not 200 <= status < 300:
            skipped[f"status_{status}"] += 1
            continue
        content_type = http.get_header("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
            skipped["not_html"] += 1
            continue
        raw = record.content_stream().read(max_bytes + 1)  # de-chunked and decompressed
        if len(raw) > max_bytes:
            # An HTML page, only too big: an item that fails (too_large), not one that is
            # silently left out of the run's accounting.
            log.warning("source %s: %s in %s is over %d bytes", source.name, url, name,
                           max_bytes)
            yield Article(url=url, source=source.name, content_type="html",
                          expected_language=source.language, final_url=url,
                          http_status=status, read_error=("too_large",
                                                          f"record over {max_bytes} bytes"))
            continue
        article = Article(
            url=url,
            source=source.name,
            raw=raw,
            content_type="html",
            expected_language=source.language,
            final_url=url,
            http_status=status,
            fetched_at=parse_machine_date(record.rec_headers.get_header("WARC-Date")),
            etag=http.get_header("ETag"),
            last_modified=http.get_header("Last-Modified"),
        )
        # Undecodable: leave html None so FetchStage/extract report decode_error.
        with contextlib.suppress(DecodeError):
            article.html, how, _ = decode_page(raw, _charset(content_type))
            article.notes.append(f"charset_{how}")  # counted by the extract stage
        yield article


def discover_warc(
    source: SourceConfig,
    fetcher: Fetcher | None,
    *,
    max_items: int | None = None,
) -> Iterator[Article]:
    """Yield one Article per captured HTML page. Captures carry no publication date, so
    no date window applies (a capture's WARC-Date is when it was fetched, not published).
    Raises SourceError when an archive cannot be opened or is not a WARC/ARC file."""
    limit = item_limit(source, max_items)
    count = 0
    skipped: Counter[str] = Counter()
    for name in _archives(source):
        with ExitStack() as stack:
            if is_url(name):
                if fetcher is None:
                    raise SourceError(f"source {source.name!r}: {name} is a URL but no "
                                      "fetcher was given")
                from etl.fetch.result import FetchError

                try:
                    stream = stack.enter_context(fetcher.stream(name))
                except FetchError as exc:
                    raise SourceError(f"source {source.name!r}: cannot fetch {name}: "
                                      f"{exc.result.reason} ({exc.result.detail})") from exc
            else:
                try:
                    stream = stack.enter_context(Path(name).open("rb"))
                except OSError as exc:
                    raise SourceError(f"source {source.name!r}: cannot read {name}: "
                                      f"{exc.strerror or exc}") from exc
            try:
                for article in _records(source, stream, name, skipped):
                    if limit is not None and count >= limit:
                        return
                    count += 1
                    yield article
            except SourceError:
                raise
            except Exception as exc:
                # warcio raises its own errors, zlib/OS errors, and on some malformed
                # headers plain AttributeError/ValueError: each is this file being
                # unreadable, never a crash of the run.
                raise SourceError(f"source {source.name!r}: {name} is not a readable WARC/"
                                  f"ARC file: {exc}") from exc
    log.info("source %s: %d HTML page(s) from WARC; skipped %s", source.name, count,
                dict(skipped) or "none")
