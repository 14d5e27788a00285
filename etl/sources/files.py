"""The `files` source: .html/.htm (any charset) and .txt (UTF-8) files under a folder or glob."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

from etl.config import SourceConfig
from etl.records import Article, utcnow
from etl.sources.errors import SourceError

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt"}


def _candidate_paths(location: str) -> list[Path]:
    if any(ch in location for ch in "*?["):
        return [Path(p) for p in glob.glob(location, recursive=True)]
    root = Path(location)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SourceError(f"location {location!r} is neither a folder, a file nor a glob")
    return [p for p in root.rglob("*")]


def _base_dir(location: str) -> Path:
    """The folder a source may read from: symlinks pointing outside it are refused."""
    wild = min((location.find(ch) for ch in "*?[" if ch in location), default=-1)
    base = Path(location[:wild]).parent if wild >= 0 else Path(location)
    return (base if base.is_dir() else base.parent).resolve()


def discover_files(source: SourceConfig, max_items: int | None = None) -> Iterator[Article]:
    """Yield one Article per HTML/text file, sorted by path so runs are reproducible.

    Files of other types are skipped (they are not items of this source). A file that
    cannot be read is still yielded, with `raw=None`, so the extract stage records why.
    """
    try:
        paths = sorted(p for p in _candidate_paths(source.location)
                       if p.suffix.lower() in HTML_SUFFIXES | TEXT_SUFFIXES)
    except SourceError as exc:
        raise SourceError(f"source {source.name!r}: {exc}") from exc
    base = _base_dir(source.location)
    count = 0
    for path in paths:
        if max_items is not None and count >= max_items:
            return
        if path.is_dir():
            continue
        count += 1
        absolute = path.absolute()
        article = Article(
            url="file://" + str(absolute),
            source=source.name,
            content_type="text" if path.suffix.lower() in TEXT_SUFFIXES else "html",
            expected_language=source.language,
            fetched_at=utcnow(),
        )
        real = absolute.resolve()
        if not real.is_relative_to(base):
            article.read_error = ("outside_source_folder", f"{absolute} resolves to {real}")
        else:
            # Capped like a fetched page (http.max_bytes): one huge file must not take the
            # run's memory, nor minutes of extraction.
            limit = source.http.max_bytes
            try:
                with real.open("rb") as fh:
                    data = fh.read(limit + 1)
            except OSError as exc:
                article.read_error = ("unreadable", str(exc.strerror or exc))
            else:
                if len(data) > limit:
                    article.read_error = ("too_large", f"file larger than {limit} bytes")
                else:
                    article.raw = data
        yield article
    if count == 0 and not os.path.exists(source.location) and "*" not in source.location:
        raise SourceError(f"source {source.name!r}: nothing found at {source.location!r}")
