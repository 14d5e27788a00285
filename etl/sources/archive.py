"""The raw-page archive as a source: the pages the fetch stage archived (etl.fetch.archive)
for one source and a range of fetch days, read as WARC records without fetching anything.
Re-extraction runs the chain from extract on them (etl.pipeline.reruns)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from etl.config import SourceConfig
from etl.fetch.archive import archived_files
from etl.records import Article
from etl.sources.warc import discover_warc


def read_archive(source: SourceConfig, since: datetime | None = None,
                 until: datetime | None = None, root: str | None = None) -> Iterator[Article]:
    """The archived pages of `source` fetched in [since, until] (by day), file by file."""
    files = archived_files(source.name, since, until, root=root)
    return _records(source, files)


def _records(source: SourceConfig, files: list[str]) -> Iterator[Article]:
    for path in files:
        warc = replace(source, kind="warc", location=path, max_items=None)
        yield from discover_warc(warc, None)
