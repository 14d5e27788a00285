"""The `sitemap` source: XML sitemaps, sitemap indexes, gzipped and Google News sitemaps.

- `location`: a sitemap or sitemap index URL/file, possibly gzipped (.gz or gzip bytes;
  decompressed size capped at http.max_decompressed_bytes), or a robots.txt whose
  `Sitemap:` lines are followed. Plain-text sitemaps (one URL per line) are read too.
- Sitemaps are parsed incrementally (etl.sources.sitemap_stream): a 50,000-URL sitemap
  or an index of thousands costs the fetched body plus a bounded parser state, never a
  list of its entries. Items are yielded as they are read.
- Indexes are followed depth-first to `max_depth` levels (default 3); every sitemap URL
  is visited at most once, so self-references and cycles terminate.
- Google News sitemaps give `news:title` and `news:publication_date` as hints; otherwise
  `lastmod` is used only for the date window (it is a modification date, not a
  publication date). A child sitemap whose index `lastmod` is before the window's lower
  bound (the requested interval's start, else the maximum age) is not read: nothing in it
  changed since.
- With a `memory` (etl.sources.sitemap_memory), a child whose index `lastmod` is not
  after its last full read is not read either. Children without `lastmod` are always read.
- Every child left unread is named to `on_note(reason)` (the discover stage's notes), so
  no skip is silent: sitemap_unchanged_since_last_read, sitemap_older_than_window,
  sitemap_beyond_max_depth, sitemap_child_failed.
- XML is parsed by lxml with entity resolution, DTD loading and network access off.
- The root sitemap failing is a SourceError (also part-way: the items read before it
  stand); a failing child is logged and skipped, from where it failed.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from etl.config import SourceConfig
from etl.fetch.decompress import DecompressedTooLarge
from etl.records import Article
from etl.sources._web import (
    DateWindow,
    SkipSink,
    is_url,
    item_limit,
    read_location,
    skip_entry,
)
from etl.sources.errors import SourceError
from etl.sources.sitemap_memory import UNCHANGED, SitemapMemory
from etl.sources.sitemap_stream import (
    SitemapEntry,
    StreamedSitemap,
    body_chunks,
    open_sitemap,
)

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

__all__ = ["SitemapEntry", "discover_sitemap", "parse_sitemap"]

log = logging.getLogger(__name__)

DEFAULT_MAX_DEPTH = 3
OLDER_THAN_WINDOW = "sitemap_older_than_window"
BEYOND_MAX_DEPTH = "sitemap_beyond_max_depth"
CHILD_FAILED = "sitemap_child_failed"
NoteSink = Callable[[str], None]


def parse_sitemap(body: bytes, base_url: str,
                  max_decompressed: int = 200_000_000) -> tuple[str, list[SitemapEntry]]:
    """(kind, entries) of a whole sitemap — a convenience for small documents and tests;
    discovery streams instead. Raises ValueError when unusable."""
    parsed = open_sitemap(body_chunks(body, max_decompressed), base_url)
    return parsed.kind, list(parsed.entries)


def _open(source: SourceConfig, fetcher: Fetcher | None, location: str) -> StreamedSitemap:
    """Read one sitemap and start parsing it; SourceError when that fails."""
    body, final, _ = read_location(source, fetcher, location, accept="sitemap")
    try:
        return open_sitemap(body_chunks(body, source.http.max_decompressed_bytes), final)
    except (ValueError, zlib.error) as exc:  # DecompressedTooLarge is a ValueError
        raise _failure(source, location, exc) from exc


def _failure(source: SourceConfig, location: str, exc: ValueError | zlib.error
             ) -> SourceError:
    name = source.name
    if isinstance(exc, DecompressedTooLarge):
        return SourceError(f"source {name!r}: {location} decompresses to more than "
                           f"{source.http.max_decompressed_bytes} bytes")
    if isinstance(exc, zlib.error):
        return SourceError(f"source {name!r}: {location} is corrupt gzip: {exc}")
    return SourceError(f"source {name!r}: {location} is not a sitemap: {exc}")


def _entries(source: SourceConfig, location: str, parsed: StreamedSitemap
             ) -> Iterator[SitemapEntry]:
    """The entries, with a failure part-way turned into a SourceError."""
    try:
        yield from parsed.entries
    except (ValueError, zlib.error) as exc:
        raise _failure(source, location, exc) from exc


def _key(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(),
                          fragment="").geturl()


def discover_sitemap(
    source: SourceConfig,
    fetcher: Fetcher | None,
    *,
    window: DateWindow | None = None,
    max_items: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    on_skip: SkipSink | None = None,
    memory: SitemapMemory | None = None,
    on_note: NoteSink | None = None,
) -> Iterator[Article]:
    """Yield one Article per page URL in the sitemap tree, in document order.

    The date window uses news:publication_date, else lastmod; undated entries are taken.
    Entries outside it go to `on_skip` with their reason. `memory` skips children unchanged
    since their last full read, and records the reads of this run (only when the run asks
    for no interval). Raises SourceError when the root sitemap cannot be read or is not a
    sitemap.
    """
    limit = item_limit(source, max_items)
    window = window or DateWindow()
    lower = window.lower
    remember = memory is not None and window.since is None and window.until is None
    visited: set[str] = set()
    count = 0
    sitemaps_read = 0

    def note(reason: str) -> None:
        if on_note is not None:
            on_note(reason)

    def follow(location: str, child: SitemapEntry, depth: int) -> bool:
        """Whether to read the index entry `child`; a skip is logged and noted."""
        if _key(child.url) in visited:
            log.info("source %s: sitemap %s already visited", source.name, child.url)
            return False
        if depth + 1 > max_depth:
            log.warning("source %s: not following %s beyond depth %d", source.name,
                        child.url, max_depth)
            note(BEYOND_MAX_DEPTH)
            return False
        if lower is not None and child.lastmod and child.lastmod < lower:
            log.info("source %s: not reading %s, unchanged since %s (before %s)",
                     source.name, child.url, child.lastmod, lower)
            note(OLDER_THAN_WINDOW)
            return False
        if is_url(location) and not is_url(child.url):
            log.warning("source %s: remote index points to non-http %s; ignored",
                        source.name, child.url)
            return False
        read_at = memory.unchanged(child.url, child.lastmod) if memory else None
        if read_at is not None:
            log.info("source %s: not reading %s, lastmod %s is not after its last read "
                     "at %s", source.name, child.url, child.lastmod, read_at)
            note(UNCHANGED)
            return False
        return True

    def walk(location: str, depth: int) -> Iterator[Article]:
        """Yields the items; returns whether the sitemap was read in full."""
        nonlocal count, sitemaps_read
        visited.add(_key(location))
        started = datetime.now(UTC)
        try:
            parsed = _open(source, fetcher, location)
            sitemaps_read += 1
            if parsed.kind == "index":
                complete = yield from _walk_index(location, parsed, depth)
            else:
                complete = yield from _walk_urlset(location, parsed)
        except SourceError:
            if depth == 0:
                raise
            log.warning("source %s: skipping child sitemap %s", source.name, location,
                        exc_info=True)
            note(CHILD_FAILED)
            return False
        if complete and remember and depth > 0:
            assert memory is not None
            memory.read_in_full(location, started)
        return complete

    def _walk_index(location: str, parsed: StreamedSitemap, depth: int
                    ) -> Iterator[Article]:
        complete = True
        for child in _entries(source, location, parsed):
            if limit is not None and count >= limit:
                return False
            if follow(location, child, depth):
                complete = (yield from walk(child.url, depth + 1)) and complete
        return complete

    def _walk_urlset(location: str, parsed: StreamedSitemap) -> Iterator[Article]:
        nonlocal count
        for entry in _entries(source, location, parsed):
            if limit is not None and count >= limit:
                return False
            item = Article(url=entry.url, source=source.name,
                           expected_language=source.language, hint_title=entry.title,
                           hint_published_at=entry.published)
            why = window.excludes(entry.published or entry.lastmod)
            if why is not None:
                skip_entry(source, item, why, on_skip)
                continue
            count += 1
            yield item
        return True

    yield from walk(source.location, 0)
    if memory is not None:
        memory.flush()
    log.info("source %s: %d URL(s) from %d sitemap(s)", source.name, count, sitemaps_read)
