"""Batched staged runs: many sources, or many chunks, per Airflow task.

Airflow starts a process per task instance and caps a mapped task at `max_map_length`
(1024 by default), so one task per source or per chunk does not scale to thousands of
feeds. The DAG maps its tasks over batches planned here instead, and each task works
through its batch item by item: one item's failure is recorded (the run's accounting is
per source, in `stage_load`) and the others go on; the task fails at the end, and its
retry redoes only the items that did not complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from math import ceil
from pathlib import Path
from typing import TypeVar

from etl.config import SourceConfig
from etl.pipeline.options import RunOptions
from etl.pipeline.staging import CHUNK_SIZE, run_dir, stage_discover
from etl.sources import SourceError
from etl.warehouse import Warehouse

T = TypeVar("T")


def plan_batches(items: Sequence[T], per_task: int, max_tasks: int) -> list[list[T]]:
    """`items` in order, in batches of `per_task` — larger ones when that would make
    more than `max_tasks` batches. Every item is in exactly one batch."""
    if per_task < 1 or max_tasks < 1:
        raise ValueError("per_task and max_tasks must be at least 1")
    size = max(per_task, ceil(len(items) / max_tasks))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def discovered(root: Path, run_id: str, source: str) -> bool:
    """Whether this run already discovered `source` successfully (an earlier try)."""
    meta = run_dir(root, run_id, source) / "meta.json"
    return meta.exists() and json.loads(meta.read_text()).get("status") == "success"


def discover_batch(sources: Sequence[SourceConfig], run_id: str, root: Path,
                   options: RunOptions | None = None,
                   log: Callable[[str], None] = print,
                   warehouse: Warehouse | None = None, chunk_size: int | None = None) -> int:
    """stage_discover for each source of a batch (with the warehouse: conditional feed
    reads and unchanged sitemap children skipped), in chunks of `chunk_size` items (None:
    CHUNK_SIZE); returns the chunks found.

    A source already discovered by an earlier try of this run is skipped (its chunks are
    kept). A failed source is recorded by stage_discover (meta.json; stage_load reports it)
    and the others go on; then SourceError names every failed source of the batch."""
    chunks, failed = 0, []
    for source in sources:
        if discovered(root, run_id, source.name):
            log(f"{source.name}: discovered by an earlier try")
            continue
        try:
            chunks += len(stage_discover(source, run_id, root, options,
                                         chunk_size=chunk_size or CHUNK_SIZE,
                                         warehouse=warehouse))
        except SourceError as exc:
            failed.append(f"{source.name}: {exc}")
    if failed:
        raise SourceError(f"{len(failed)} of {len(sources)} source(s) failed to discover:\n"
                          + "\n".join(f"  - {f}" for f in failed))
    return chunks


def run_chunks(chunks: Sequence[str], done_file: str, step: Callable[[str], object],
               log: Callable[[str], None] = print) -> list[str]:
    """`step` on each chunk folder of a batch that has no `done_file` yet (one an earlier
    try finished is skipped); a chunk's failure leaves it unfinished (stage_load accounts
    for its items) and the others go on; then SourceError names the failed chunks."""
    failed = []
    for chunk in chunks:
        if (Path(chunk) / done_file).exists():
            log(f"{chunk}: done by an earlier try")
            continue
        try:
            step(chunk)
        except SourceError as exc:
            failed.append(f"{Path(chunk).parent.name}/{Path(chunk).name}: {exc}")
    if failed:
        raise SourceError(f"{len(failed)} of {len(chunks)} chunk(s) failed:\n"
                          + "\n".join(f"  - {f}" for f in failed))
    return list(chunks)
