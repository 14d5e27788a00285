"""Export the articles to Parquet, JSON Lines or CSV, streamed in batches.

One row per stored article, every column of `articles`, plus what the duplicate tables
add: `cluster_id` is the article's story id as `story_clusters` reads it (its own
article_id when it started the story or predates clustering, see docs/duplicates.md),
and `duplicates` counts the distinct URLs recorded as duplicates of it.

Memory stays bounded on any warehouse size: rows are read `batch_size` at a time
(PostgreSQL: a server-side cursor; SQLite: the cursor steps through the table) and each
batch is written before the next is read — one Parquet row group per batch. The file is
written beside OUT and renamed into place at the end, so a failed export leaves no
half-written OUT.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, and_, distinct, func, select

from etl.records import to_utc
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_duplicates, articles

log = logging.getLogger(__name__)

FORMATS = ("parquet", "jsonl", "csv")
DEFAULT_BATCH_SIZE = 1000

_TIMESTAMPS = ("published_at", "ingested_at")
_LISTS = ("categories", "tags")
_INTEGERS = ("word_count", "duplicates")
# Exported in this order; `cluster_id` replaces the stored (nullable) column.
COLUMNS = ("article_id", "url", "canonical_url", "source", "title", "author",
           "published_at", "language", "sitename", "description", "categories", "tags",
           "text", "text_sha256", "word_count", "title_source", "date_source",
           "author_source", "extractor_version", "ingested_at", "run_id", "cluster_id",
           "duplicates")


def export_query(since: datetime | None = None, source: str | None = None) -> Select:
    """The articles to export, oldest ingestion first (a stable order for diffs)."""
    copies = (select(func.count(distinct(article_duplicates.c.url)))
              .where(article_duplicates.c.duplicate_of == articles.c.article_id)
              .scalar_subquery())
    stored = [articles.c[name] for name in COLUMNS if name in articles.c and name != "cluster_id"]
    stmt = select(*stored,
                  func.coalesce(articles.c.cluster_id, articles.c.article_id).label("cluster_id"),
                  copies.label("duplicates"))
    conditions = []
    if since is not None:
        dated = func.coalesce(articles.c.published_at, articles.c.ingested_at)
        conditions.append(dated >= to_utc(since))
    if source:
        conditions.append(articles.c.source == source)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt.order_by(articles.c.ingested_at, articles.c.article_id)


def iter_batches(warehouse: Warehouse, since: datetime | None = None,
                 source: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[dict[str, Any]]]:
    """The exported rows, `batch_size` at a time, timestamps in UTC."""
    with warehouse.engine.connect() as conn:
        # yield_per: a server-side cursor on PostgreSQL (stream_results), fetchmany batches
        # on SQLite, so neither driver holds the whole result.
        result = conn.execution_options(yield_per=batch_size).execute(
            export_query(since, source))
        for partition in result.mappings().partitions(batch_size):
            yield [_normalise(row) for row in partition]


def _normalise(row) -> dict[str, Any]:
    out = {name: row[name] for name in COLUMNS}
    for name in _TIMESTAMPS:
        if out[name] is not None:
            out[name] = to_utc(out[name])  # SQLite hands back naive UTC
    for name in _LISTS:
        out[name] = list(out[name] or [])
    return out


def export(warehouse: Warehouse, out: str | Path, fmt: str, *, since: datetime | None = None,
           source: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Write the articles to `out` ("-" = stdout, jsonl and csv only); returns the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    batches = iter_batches(warehouse, since, source, batch_size)
    if str(out) == "-":
        if fmt == "parquet":
            raise ValueError("Parquet cannot be written to stdout: give a file name")
        return _WRITERS[fmt](batches, sys.stdout)
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if fmt == "parquet":
            count = _write_parquet(batches, partial)
        else:
            with partial.open("w", encoding="utf-8", newline="") as stream:
                count = _WRITERS[fmt](batches, stream)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log.debug("exported %d articles to %s (%s)", count, target, fmt)
    return count


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _write_jsonl(batches: Iterator[list[dict[str, Any]]], stream: IO[str]) -> int:
    count = 0
    for batch in batches:
        stream.writelines(
            json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False) + "\n"
            for row in batch)
        count += len(batch)
    return count


def _write_csv(batches: Iterator[list[dict[str, Any]]], stream: IO[str]) -> int:
    # Lists are written as JSON arrays, timestamps as ISO 8601 with their offset.
    writer = csv.DictWriter(stream, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for batch in batches:
        writer.writerows({k: json.dumps(v, ensure_ascii=False) if k in _LISTS
                          else _json_value(v) for k, v in row.items()} for row in batch)
        count += len(batch)
    return count


def parquet_schema():
    import pyarrow as pa

    types = {name: pa.string() for name in COLUMNS}
    types.update({name: pa.timestamp("us", tz="UTC") for name in _TIMESTAMPS})
    types.update({name: pa.list_(pa.string()) for name in _LISTS})
    types.update({name: pa.int32() for name in _INTEGERS})
    return pa.schema([(name, types[name]) for name in COLUMNS])


def _write_parquet(batches: Iterator[list[dict[str, Any]]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))  # one row group
            count += len(batch)
    return count


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv}
