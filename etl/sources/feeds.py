"""The `feed` source: RSS 0.9x/1.0/2.0, Atom and JSON Feed, with autodiscovery.

`location` is a feed URL, a local feed file, or an HTML homepage whose
`<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">` names the feed.

Safety: feedparser only ever sees bytes we fetched (it never fetches by itself). A
document whose DTD declares entities (billion laughs, XXE) has its DOCTYPE removed
before parsing, so such references stay unexpanded text and no file is read.

Conditional GET: with a `FeedLedger` (etl.fetch.ledger), a feed URL is requested with the
ETag / Last-Modified of its last read. A 304 is not parsed at all: the feed's entries
were all accounted for by that read, and the run accounts for the feed itself as one
item, not_modified with reason `feed_not_modified` (in the run report's discover stage).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser
import lxml.html

from etl.config import SourceConfig
from etl.records import Article
from etl.sources._web import (
    DateWindow,
    SkipSink,
    declares_entities,
    is_url,
    item_limit,
    parse_machine_date,
    read_location,
    skip_entry,
    strip_doctype,
)
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher
    from etl.fetch.ledger import FeedLedger

log = logging.getLogger(__name__)

FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
                   "application/rdf+xml", "application/json")
_XML_FEED_ROOT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?(rss|feed|RDF)[\s>/]")
_HTML_ROOT = re.compile(rb"<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
FEED_NOT_MODIFIED = "feed_not_modified"


class FeedNotModified(Exception):
    """The feed is the one read last time (a 304): nothing to parse."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(detail)
        self.url = url
        self.detail = detail


@dataclass
class FeedEntry:
    url: str
    title: str | None
    published: datetime | None


def _sniff(body: bytes, media_type: str) -> str:
    """'json', 'xml' or 'html' from the bytes first, then the declared media type."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "json"
    if _XML_FEED_ROOT.search(head):
        return "xml"
    if _HTML_ROOT.search(head) or media_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if "json" in media_type:
        return "json"
    return "xml"


def autodiscover(body: bytes, base_url: str) -> list[str]:
    """Feed URLs advertised by an HTML page, in document order, resolved absolutely."""
    try:
        doc = lxml.html.document_fromstring(body)
    except Exception:  # not HTML at all
        return []
    base = base_url
    for href in doc.xpath("//base/@href"):
        base = urljoin(base_url, str(href).strip())
        break
    found: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in FEED_LINK_TYPES:
            url = urljoin(base, (link.get("href") or "").strip())
            if url not in found:
                found.append(url)
    return found


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_json_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """JSON Feed 1.0/1.1 items. Raises ValueError when it is not a JSON Feed."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ValueError("JSON without an 'items' list is not a JSON Feed")
    if "jsonfeed.org" not in str(data.get("version", "")):
        log.warning("JSON feed without a jsonfeed.org version; reading 'items' anyway")
    entries = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not link and isinstance(item.get("id"), str) and item["id"].startswith("http"):
            link = item["id"]
        if not isinstance(link, str) or not link.strip():
            continue
        title = item.get("title") if isinstance(item.get("title"), str) else None
        published = parse_machine_date(str(item.get("date_published") or "")) or parse_machine_date(
            str(item.get("date_modified") or ""))
        entries.append(FeedEntry(urljoin(base_url, link.strip()), title, published))
    return entries


def parse_xml_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """RSS/Atom entries via feedparser on our bytes. Raises ValueError when not a feed."""
    if declares_entities(body):
        # Never let a DTD define entities we would expand (billion laughs / XXE).
        log.warning("feed %s declares XML entities; ignoring its DOCTYPE", base_url)
        stripped = strip_doctype(body)
        if stripped == body or declares_entities(stripped):
            raise ValueError("feed declares XML entities and its DOCTYPE cannot be removed")
        body = stripped
    parsed = feedparser.parse(
        body,
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise ValueError(f"not an RSS/Atom feed{f' ({problem})' if problem else ''}")
    if parsed.get("bozo"):
        log.info("feed %s is not well-formed (%s); read leniently", base_url,
                    parsed.get("bozo_exception"))
    entries = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            guid = entry.get("id") or ""
            link = guid if guid.startswith(("http://", "https://")) else None
        if not link:
            continue
        # The entry's own text, parsed strictly: feedparser's *_parsed rounds "2024" to
        # 1 January and rolls "2026-13-45" over into 2027 — invented dates.
        published = (parse_machine_date(entry.get("published"))
                     or parse_machine_date(entry.get("updated")))
        title = (entry.get("title") or "").strip() or None
        entries.append(FeedEntry(urljoin(base_url, link.strip()), title, published))
    return entries


def _parse(body: bytes, kind: str, base_url: str) -> list[FeedEntry]:
    return parse_json_feed(body, base_url) if kind == "json" else parse_xml_feed(body, base_url)


def _read(source: SourceConfig, fetcher: Fetcher | None, url: str,
          ledger: FeedLedger | None) -> tuple[bytes, str, str]:
    """read_location, conditional when there is a ledger and `url` is a URL. Only feed
    bodies are recorded, so validators are sent only for a URL that served a feed (never
    for an HTML page whose 304 would say nothing about the feed it names). Raises
    FeedNotModified for a 304."""
    if ledger is None or fetcher is None or not is_url(url):
        return read_location(source, fetcher, url, accept="feed")
    etag, last_modified = ledger.validators(url)
    result = fetcher.fetch(url, accept="feed", etag=etag, last_modified=last_modified)
    if result.not_modified:
        # Nothing to write: the validators and the run that read the body stand, and the
        # poll itself is recorded in the poll state (a commit per feed saved).
        raise FeedNotModified(url, f"304 Not Modified (sent {_sent(etag, last_modified)})")
    if result.reason is not None or result.body is None:
        raise SourceError(f"source {source.name!r}: cannot fetch {url}: {result.reason}"
                          + (f" ({result.detail})" if result.detail else ""))
    body = result.body
    if _sniff(body, result.media_type) != "html":
        # A 200 is parsed even with the same bytes as last time: only the server's 304
        # says the feed is unchanged (a body hash would also catch feeds without validators).
        ledger.record(url, status=result.status, reason=None, fetched_at=result.fetched_at,
                      final_url=result.final_url, etag=result.headers.get("etag"),
                      last_modified=result.headers.get("last-modified"), body=body)
        ledger.flush()
    return body, result.final_url, result.media_type


def _sent(etag: str | None, last_modified: str | None) -> str:
    sent = [f"If-None-Match {etag}" if etag else "", f"If-Modified-Since {last_modified}"
            if last_modified else ""]
    return ", ".join(s for s in sent if s) or "no validators"


def read_feed(source: SourceConfig, fetcher: Fetcher | None,
              ledger: FeedLedger | None = None) -> tuple[str, list[FeedEntry]]:
    """(feed URL, entries) for a source, following autodiscovery from an HTML page.
    With a ledger, raises FeedNotModified when the feed is unchanged since its last read."""
    body, final, media_type = _read(source, fetcher, source.location, ledger)
    kind = _sniff(body, media_type)
    if kind != "html":
        try:
            return final, _parse(body, kind, final)
        except ValueError as exc:
            raise SourceError(f"source {source.name!r}: {source.location} is not a feed: "
                              f"{exc}") from exc
    candidates = autodiscover(body, final)
    if not candidates:
        raise SourceError(f"source {source.name!r}: {source.location} is an HTML page that "
                          "advertises no feed (<link rel=\"alternate\" type=\"application/"
                          "rss+xml\">)")
    problems = []
    for url in candidates:
        if not is_url(url) and is_url(final):
            problems.append(f"{url}: not an http(s) URL")
            continue
        try:
            body, feed_url, media_type = _read(source, fetcher, url, ledger)
            kind = _sniff(body, media_type)
            if kind == "html":
                raise ValueError("an HTML page, not a feed")
            entries = _parse(body, kind, feed_url)
        except (SourceError, ValueError) as exc:
            problems.append(f"{url}: {exc}")
            continue
        log.info("source %s: autodiscovered feed %s", source.name, feed_url)
        return feed_url, entries
    raise SourceError(f"source {source.name!r}: no usable feed among those advertised by "
                      f"{source.location}: {'; '.join(problems)}")


def discover_feed(
    source: SourceConfig,
    fetcher: Fetcher | None,
    *,
    window: DateWindow | None = None,
    max_items: int | None = None,
    on_skip: SkipSink | None = None,
    ledger: FeedLedger | None = None,
) -> Iterator[Article]:
    """Yield one Article per feed entry with a link, in feed order, capped at
    max_items/source.max_items. Entries dated outside `window` (undated ones are always
    taken) go to `on_skip` with their reason instead.

    With a `ledger`, a feed unchanged since its last read is not parsed: the feed itself
    goes to `on_skip` as one item with reason `feed_not_modified`, and nothing is yielded.
    The ledger is left out when the run takes only part of the feed (an item cap, an
    interval): the read is then not "every entry accounted for".

    Raises SourceError (naming the source) when the feed is unreachable, malformed
    beyond reading, or not a feed.
    """
    limit = item_limit(source, max_items)
    window = window or DateWindow()
    if limit is not None or window.since is not None or window.until is not None:
        # A run that takes part of the feed (a cap, a backfill's interval) must neither
        # send validators nor leave its read as the one a later 304 stands on.
        ledger = None
    try:
        feed_url, entries = read_feed(source, fetcher, ledger)
    except FeedNotModified as unchanged:
        feed = Article(url=unchanged.url, source=source.name)
        skip_entry(source, feed, (FEED_NOT_MODIFIED, f"feed unchanged since its last read: "
                                  f"{unchanged.detail}; entries not read"), on_skip)
        log.info("source %s: feed %s not modified", source.name, unchanged.url)
        return
    count = skipped = 0
    for entry in entries:
        if limit is not None and count >= limit:
            break
        item = Article(url=entry.url, source=source.name, expected_language=source.language,
                       hint_title=entry.title, hint_published_at=entry.published)
        why = window.excludes(entry.published)
        if why is not None:
            skipped += 1
            skip_entry(source, item, why, on_skip)
            continue
        count += 1
        yield item
    log.info("source %s: %d entr(ies) from %s, %d left out by the date window",
                source.name, count, feed_url, skipped)
