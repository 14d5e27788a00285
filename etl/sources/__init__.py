"""Sources: turn a configured source into a stream of `Article` items to process.

`files` reads local files; `urls`, `feed`, `sitemap` and `warc` discover items on the
web (see the modules of the same names). `discover(source, ...)` dispatches on kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from etl.config import SourceConfig
from etl.records import Article
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher
    from etl.fetch.ledger import FeedLedger
    from etl.sources._web import DateWindow, SkipSink
    from etl.sources.sitemap_memory import SitemapMemory

__all__ = ["SourceError", "discover", "needs_fetch"]


def needs_fetch(source: SourceConfig) -> bool:
    """Whether items of this source must go through the HTTP fetch stage."""
    return source.kind in ("urls", "feed", "sitemap")


def discover(
    source: SourceConfig,
    fetcher: Fetcher | None = None,
    *,
    window: DateWindow | None = None,
    max_items: int | None = None,
    on_skip: SkipSink | None = None,
    sitemap_memory: SitemapMemory | None = None,
    on_note: Callable[[str], None] | None = None,
    feed_ledger: FeedLedger | None = None,
) -> Iterator[Article]:
    """Yield the items of one source. Raises SourceError when the source fails entirely.

    `window` filters dated feed/sitemap entries (default: every date); each entry it leaves
    out goes to `on_skip(item, reason, detail)` so the run can account for it.
    `sitemap_memory`: sitemaps only, children unchanged since their last full read are not
    read (etl.sources.sitemap_memory); `on_note(reason)` hears of every child left unread.
    `feed_ledger`: feeds only, conditional GET of the feed document (etl.sources.feeds).
    """
    limit = max_items or source.max_items
    if source.kind == "files":
        from etl.sources.files import discover_files

        return discover_files(source, max_items=limit)
    if source.kind == "urls":
        from etl.sources.urls import discover_urls

        return discover_urls(source, fetcher, max_items=limit)
    if source.kind == "feed":
        from etl.sources.feeds import discover_feed

        return discover_feed(source, fetcher, window=window, max_items=limit, on_skip=on_skip,
                             ledger=feed_ledger)
    if source.kind == "sitemap":
        from etl.sources.sitemaps import discover_sitemap

        return discover_sitemap(source, fetcher, window=window, max_items=limit,
                                on_skip=on_skip, memory=sitemap_memory, on_note=on_note)
    if source.kind == "warc":
        from etl.sources.warc import discover_warc

        return discover_warc(source, fetcher, max_items=limit)
    raise SourceError(f"source {source.name!r}: unknown kind {source.kind!r}")
