"""Incremental sitemap parsing: entries come out one at a time while the document is read,
so memory does not grow with the number of URLs.

- The body (bytes already capped at http.max_bytes) is decompressed 64 KiB at a time when
  it is gzip (magic bytes, whatever the name says), the total capped at
  http.max_decompressed_bytes: a compression bomb costs one slice, then fails.
- XML goes through lxml's XMLPullParser (the feed-driven form of iterparse) with entity
  resolution, DTD loading and network access off; each <url>/<sitemap> is turned into a
  SitemapEntry and cleared, and the siblings before it are dropped.
- A DOCTYPE that declares entities (billion laughs, XXE) is removed from the prolog and
  the rest is read by a recovering parser, which leaves the undefined references out.
- Text sitemaps (one URL per line) and robots.txt (`Sitemap:` lines) are read line by line.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from etl.fetch.decompress import DecompressedTooLarge
from etl.sources._web import (
    declares_entities,
    element_text,
    local_name,
    parse_machine_date,
    strip_doctype,
)

log = logging.getLogger(__name__)

CHUNK = 64 * 1024  # decompressed bytes handed to the parser at a time
_IN_SLICE = 16 * 1024  # compressed bytes per decompress call (bounds each call's copy)
MAX_LINE = 16 * 1024  # longer lines of a plain-text sitemap are skipped (_lines)
HEAD = 64 * 1024  # bytes read before judging XML vs text and checking the DOCTYPE


@dataclass
class SitemapEntry:
    url: str
    title: str | None = None
    published: datetime | None = None  # news:publication_date
    lastmod: datetime | None = None


@dataclass
class StreamedSitemap:
    """`kind` ("urlset" | "index") is known once the root is read; `entries` are read
    lazily and raise ValueError (malformed XML) or DecompressedTooLarge part-way."""

    kind: str
    entries: Iterator[SitemapEntry]


Chunks = Callable[[], Iterator[bytes]]


def body_chunks(body: bytes, max_decompressed: int) -> Chunks:
    """A re-startable reader of the decoded body in slices (gunzipped, capped, when the
    body is gzip). zlib.error for corrupt gzip; DecompressedTooLarge past the cap."""
    if body[:2] == b"\x1f\x8b":
        return lambda: _gunzip(body, max_decompressed)
    return lambda: (body[i:i + CHUNK] for i in range(0, len(body), CHUNK))


def _gunzip(data: bytes, limit: int) -> Iterator[bytes]:
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size = 0
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        pending: bytes = bytes(view[pos:pos + _IN_SLICE])
        pos += _IN_SLICE
        while pending:
            out = decomp.decompress(pending, CHUNK)
            size += len(out)
            if size > limit:
                raise DecompressedTooLarge(f"decompressed body over {limit} bytes")
            if out:
                yield out
            pending = decomp.unconsumed_tail
            if not pending and decomp.eof and decomp.unused_data:
                pending = decomp.unused_data  # concatenated gzip members
                decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)


def _head(chunks: Iterator[bytes]) -> bytes:
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= HEAD:
            break
    return head


def open_sitemap(chunks: Chunks, base_url: str) -> StreamedSitemap:
    """Start reading a sitemap; ValueError when it is neither a sitemap XML document nor a
    list of URLs (judged from its beginning)."""
    stream = chunks()
    head = _head(stream)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _open_text(chunks, base_url)
    recover = False
    if b"<!doctype" in head.lower() and declares_entities(head):
        # Billion laughs / XXE: drop the DTD so nothing can be expanded or loaded; the
        # references left behind are undefined, which only a recovering parser accepts.
        log.warning("sitemap %s declares XML entities; ignoring its DOCTYPE", base_url)
        stripped = strip_doctype(head)
        if stripped == head:
            raise ValueError("declares XML entities and its DOCTYPE cannot be removed")
        head, recover = stripped, True
    events = _xml_events(head, stream, recover)
    first = next(events, None)
    if not isinstance(first, str):
        raise ValueError("no root element")
    if first not in ("urlset", "sitemapindex"):
        raise ValueError(f"root element <{first}> is not <urlset> or <sitemapindex>")
    kind = "urlset" if first == "urlset" else "index"
    wanted = "url" if kind == "urlset" else "sitemap"
    entries = (_entry(node, base_url) for node in events
               if not isinstance(node, str) and local_name(node.tag) == wanted)
    return StreamedSitemap(kind, (e for e in entries if e is not None))


def _xml_events(head: bytes, rest: Iterable[bytes], recover: bool
                ) -> Iterator[str | etree._Element]:
    """The root's local name, then each child of the root once it is complete (cleared
    right after the consumer has it)."""
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False,
        load_dtd=False, dtd_validation=False, remove_comments=True, remove_pis=True,
        recover=recover)
    depth = 0
    root: etree._Element | None = None

    def drain() -> Iterator[str | etree._Element]:
        nonlocal depth, root
        for event, node in parser.read_events():
            if event == "start":
                depth += 1
                if depth == 1:
                    root = node
                    yield local_name(node.tag)
                continue
            depth -= 1
            if depth == 1:
                yield node
                node.clear(keep_tail=False)
                while node.getprevious() is not None and root is not None:
                    del root[0]

    def feed(data: bytes) -> Iterator[str | etree._Element]:
        try:
            parser.feed(data)
        except etree.XMLSyntaxError as exc:
            raise ValueError(f"malformed XML: {exc}") from exc
        yield from drain()

    yield from feed(head)
    for chunk in rest:
        yield from feed(chunk)
    try:
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc}") from exc
    yield from drain()


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _absolute(base_url: str, loc: str) -> str:
    """urljoin, skipped for the usual absolute URL without dot segments (it would return
    it unchanged, and costs a third of the parse)."""
    if loc.startswith(("http://", "https://")) and "/." not in loc:
        return loc
    return urljoin(base_url, loc)


def _entry(node: etree._Element, base_url: str) -> SitemapEntry | None:
    loc = element_text(_child(node, "loc"))
    if not loc:
        return None
    entry = SitemapEntry(_absolute(base_url, loc),
                         lastmod=parse_machine_date(element_text(_child(node, "lastmod"))))
    news = _child(node, "news")
    if news is not None:
        entry.title = element_text(_child(news, "title"))
        entry.published = parse_machine_date(element_text(_child(news, "publication_date")))
    return entry


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The body's lines. A line longer than MAX_LINE cannot be a URL or a `Sitemap:` line:
    it is skipped as it streams by, so a body without newlines (a decompression bomb of
    zeros, say) costs one pass instead of copying an ever longer remainder."""
    carry = b""
    overlong = False
    for chunk in chunks:
        *complete, rest = chunk.split(b"\n")
        if complete:
            if not overlong:
                yield (carry + complete[0]).decode("utf-8", errors="replace").strip()
            for line in complete[1:]:
                yield line.decode("utf-8", errors="replace").strip()
            carry, overlong = b"", False
        if not overlong:
            carry += rest
            if len(carry) > MAX_LINE:
                carry, overlong = b"", True
    if carry:
        yield carry.decode("utf-8", errors="replace").strip()


def _sitemap_line(line: str) -> str | None:
    key, _, value = line.partition(":")
    return value.strip() if key.strip().lower() == "sitemap" and value.strip() else None


def _open_text(chunks: Chunks, base_url: str) -> StreamedSitemap:
    """robots.txt (`Sitemap:` lines: an index of them) or one URL per line. One pass to
    tell which, one to read."""
    has_sitemaps = has_urls = False
    for line in _lines(chunks()):
        if _sitemap_line(line):
            has_sitemaps = True
            break
        has_urls = has_urls or line.startswith(("http://", "https://"))
    if has_sitemaps:
        found = (_sitemap_line(line) for line in _lines(chunks()))
        return StreamedSitemap("index", (SitemapEntry(urljoin(base_url, s))
                                         for s in found if s))
    if has_urls:
        return StreamedSitemap("urlset", (SitemapEntry(line) for line in _lines(chunks())
                                          if line.startswith(("http://", "https://"))))
    raise ValueError("neither XML nor a list of URLs")
