"""The `urls` source: a list of page URLs, inline (`urls:`) and/or in a text file.

The file (local path or http(s) URL at `location`) holds one URL per line; blank lines
and lines starting with `#` are ignored. Every other line is yielded as-is, even when it
is not a valid URL: the fetch stage then fails it with `bad_url`, so nothing read from
the list disappears without a recorded outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from etl.config import SourceConfig
from etl.records import Article
from etl.sources._web import item_limit, read_location

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

log = logging.getLogger(__name__)


def _lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def discover_urls(
    source: SourceConfig,
    fetcher: Fetcher | None,
    *,
    max_items: int | None = None,
) -> Iterator[Article]:
    """Yield one Article per listed URL (inline list first, then the file).

    URL lists carry no dates, so no date window applies. Raises SourceError when the list
    file cannot be read.
    """
    limit = item_limit(source, max_items)

    def candidates() -> Iterable[str]:
        yield from (u.strip() for u in source.urls if u.strip())
        if source.location:
            body, _, _ = read_location(source, fetcher, source.location, accept="text")
            yield from _lines(body.decode("utf-8-sig", errors="replace"))

    count = 0
    for url in candidates():
        if limit is not None and count >= limit:
            return
        count += 1
        yield Article(url=url, source=source.name, expected_language=source.language)
    log.info("source %s: %d URL(s) listed", source.name, count)
