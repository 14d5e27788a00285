"""The `sitemap` source: XML sitemaps, sitemap indexes, gzipped and Google News sitemaps.

- `location`: a sitemap or sitemap index URL/file, possibly gzipped (.gz or gzip bytes;
  decompressed size capped at http.max_decompressed_bytes), or a robots.txt whose
  `Sitemap:` lines are followed. Plain-text sitemaps (one URL per line) are read too.
- Indexes are followed depth-first to `max_depth` levels (default 3); every sitemap URL
  is visited at most once, so self-references and cycles terminate.
- Google News sitemaps give `news:title` and `news:publication_date` as hints; otherwise
  `lastmod` is used only for the date window (it is a modification date, not a
  publication date). A child sitemap whose index `lastmod` is before the window's lower
  bound (the requested interval's start, else the maximum age) is not read: nothing in it
  changed since.
- XML is parsed by lxml with entity resolution, DTD loading and network access off.
- The root sitemap failing is a SourceError; a failing child is logged and skipped.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lxml import etree

from etl.config import SourceConfig
from etl.fetch.decompress import DecompressedTooLarge, gunzip_capped
from etl.records import Article
from etl.sources._web import (
    DateWindow,
    SkipSink,
    declares_entities,
    element_text,
    is_url,
    item_limit,
    local_name,
    parse_machine_date,
    read_location,
    safe_xml_parser,
    skip_entry,
    strip_doctype,
)
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

log = logging.getLogger(__name__)

DEFAULT_MAX_DEPTH = 3


@dataclass
class SitemapEntry:
    url: str
    title: str | None = None
    published: datetime | None = None  # news:publication_date
    lastmod: datetime | None = None


@dataclass
class ParsedSitemap:
    kind: str  # "urlset" | "index"
    entries: list[SitemapEntry]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def parse_sitemap(body: bytes, base_url: str) -> ParsedSitemap:
    """Parse sitemap bytes (already decompressed). Raises ValueError when unusable."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        # Text sitemap (or robots.txt): one URL per line / "Sitemap: <url>" lines.
        text = body.decode("utf-8", errors="replace")
        sitemaps, urls = [], []
        for line in text.splitlines():
            line = line.strip()
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                sitemaps.append(SitemapEntry(urljoin(base_url, value.strip())))
            elif line.startswith(("http://", "https://")):
                urls.append(SitemapEntry(line))
        if sitemaps:
            return ParsedSitemap("index", sitemaps)
        if urls:
            return ParsedSitemap("urlset", urls)
        raise ValueError("neither XML nor a list of URLs")
    parser = safe_xml_parser()
    if declares_entities(body):
        # Billion laughs / XXE: drop the DTD so nothing can be expanded or loaded; the
        # references left behind are undefined, which only a recovering parser accepts.
        log.warning("sitemap %s declares XML entities; ignoring its DOCTYPE", base_url)
        stripped = strip_doctype(body)
        if stripped == body:
            raise ValueError("declares XML entities and its DOCTYPE cannot be removed")
        body = stripped
        parser = safe_xml_parser(recover=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc}") from exc
    kind = local_name(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"root element <{kind}> is not <urlset> or <sitemapindex>")
    child_tag = "url" if kind == "urlset" else "sitemap"
    entries = []
    for node in root:
        if local_name(node.tag) != child_tag:
            continue
        loc = element_text(_child(node, "loc"))
        if not loc:
            continue
        entry = SitemapEntry(urljoin(base_url, loc),
                             lastmod=parse_machine_date(element_text(_child(node, "lastmod"))))
        news = _child(node, "news")
        if news is not None:
            entry.title = element_text(_child(news, "title"))
            entry.published = parse_machine_date(element_text(_child(news, "publication_date")))
        entries.append(entry)
    return ParsedSitemap("urlset" if kind == "urlset" else "index", entries)


def _read_sitemap(source: SourceConfig, fetcher: Fetcher | None, location: str
                  ) -> ParsedSitemap:
    """Read, decompress and parse one sitemap; SourceError on any failure."""
    body, final, _ = read_location(source, fetcher, location, accept="sitemap")
    if body[:2] == b"\x1f\x8b":  # gzip magic, whatever the name or Content-Type says
        limit = source.http.max_decompressed_bytes
        try:
            body = gunzip_capped(body, limit)
        except DecompressedTooLarge as exc:
            raise SourceError(f"source {source.name!r}: {location} decompresses to more "
                              f"than {limit} bytes") from exc
        except zlib.error as exc:
            raise SourceError(f"source {source.name!r}: {location} is corrupt gzip: "
                              f"{exc}") from exc
    try:
        return parse_sitemap(body, final)
    except ValueError as exc:
        raise SourceError(f"source {source.name!r}: {location} is not a sitemap: "
                          f"{exc}") from exc


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
) -> Iterator[Article]:
    """Yield one Article per page URL in the sitemap tree, in document order.

    The date window uses news:publication_date, else lastmod; undated entries are taken.
    Entries outside it go to `on_skip` with their reason. Raises SourceError when the root
    sitemap cannot be read or is not a sitemap.
    """
    limit = item_limit(source, max_items)
    window = window or DateWindow()
    lower = window.lower
    visited: set[str] = set()
    count = 0
    sitemaps_read = 0

    def walk(location: str, depth: int) -> Iterator[Article]:
        nonlocal count, sitemaps_read
        visited.add(_key(location))
        try:
            parsed = _read_sitemap(source, fetcher, location)
        except SourceError:
            if depth == 0:
                raise
            log.warning("source %s: skipping child sitemap %s", source.name, location,
                           exc_info=True)
            return
        sitemaps_read += 1
        if parsed.kind == "index":
            for child in parsed.entries:
                if _key(child.url) in visited:
                    log.info("source %s: sitemap %s already visited", source.name, child.url)
                    continue
                if depth + 1 > max_depth:
                    log.warning("source %s: not following %s beyond depth %d", source.name,
                                   child.url, max_depth)
                    continue
                if lower is not None and child.lastmod and child.lastmod < lower:
                    log.info("source %s: not reading %s, unchanged since %s (before %s)",
                                source.name, child.url, child.lastmod, lower)
                    continue
                if is_url(location) and not is_url(child.url):
                    log.warning("source %s: remote index points to non-http %s; ignored",
                                   source.name, child.url)
                    continue
                yield from walk(child.url, depth + 1)
                if limit is not None and count >= limit:
                    return
            return
        for entry in parsed.entries:
            if limit is not None and count >= limit:
                return
            item = Article(url=entry.url, source=source.name,
                           expected_language=source.language, hint_title=entry.title,
                           hint_published_at=entry.published)
            why = window.excludes(entry.published or entry.lastmod)
            if why is not None:
                skip_entry(source, item, why, on_skip)
                continue
            count += 1
            yield item

    yield from walk(source.location, 0)
    log.info("source %s: %d URL(s) from %d sitemap(s)", source.name, count, sitemaps_read)
