"""Staged runs (the Airflow DAG): each task runs one segment of the chain and stops at a
checkpoint, handing its items over in JSONL files; tasks pass folder paths, never data.

    <root>/<run>/<source>/meta.json, dropped-discover.jsonl   stage_discover
    <root>/<run>/<source>/chunk-NNNNN/items.jsonl             [discovered]
        extracted.jsonl, dropped-extract.jsonl, extract.json   stage_fetch_extract
        validated.jsonl, dropped-validate.jsonl, validation.json  stage_validate
        (stage_chunk runs both in one pass, the DAG's extract task: no extracted.jsonl)
    → stage_load: the load step over every chunk, then the source's run record.

Every file is written to a temporary name and renamed, so a retried task overwrites
what an earlier attempt left, never appends to it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.config import SourceConfig
from etl.dedup.canonical import CanonicalTracker
from etl.pipeline.accounting import JsonlSink, OutcomeBuffer, Sink, batched, merge_stats
from etl.pipeline.chain import CHECKPOINTS, RunContext
from etl.pipeline.options import RunOptions
from etl.pipeline.polls import Clock, record_source_poll, utc_now
from etl.pipeline.reports import RunSummary, SourceReport, finish_source
from etl.pipeline.runner import Runner, begin_source
from etl.progress import progress
from etl.records import Article, Dropped, Outcome, safe_name
from etl.sources import SourceError
from etl.validate import DEFAULT_MIN_WORDS
from etl.warehouse import Warehouse

DEFAULT_STAGING_DIR = "data/staging"
CHUNK_SIZE = 200  # items per mapped fetch/extract task

DISCOVERED = CHECKPOINTS["discovered"].file
EXTRACTED = CHECKPOINTS["extracted"].file
VALIDATED = CHECKPOINTS["validated"].file


def staging_root(path: str | os.PathLike[str] | None = None) -> Path:
    """`path` (the edges pass NEWS_ETL_STAGING_DIR), else data/staging."""
    return Path(path or DEFAULT_STAGING_DIR)


def run_dir(root: Path, run_id: str, source: str) -> Path:
    path = root / safe_name(run_id) / source
    path.mkdir(parents=True, exist_ok=True)
    return path


def chunk_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("chunk-*") if p.is_dir())


def write_atomically(path: Path, lines: Iterable[str]) -> int:
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    tmp.replace(path)  # a retried task overwrites, never appends twice
    return count


def read_jsonl(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def read_items(path: Path) -> Iterator[Article]:
    return (Article.from_json(line) for line in read_jsonl(path))


def stage_discover(source: SourceConfig, run_id: str, root: Path,
                   options: RunOptions | None = None, chunk_size: int = CHUNK_SIZE,
                   warehouse: Warehouse | None = None) -> list[str]:
    """Discover one source's items and split them into chunk folders of `chunk_size` items,
    each fetched and extracted by its own (mapped) task. Returns the chunk folders.
    With the `warehouse`, a feed unchanged since its last full read is asked for with a
    conditional GET and a sitemap index skips the children unchanged since theirs, as in
    `news-etl ingest`.

    A source that fails part-way keeps the chunks found so far (they are processed and
    accounted for) and raises SourceError after recording the failure."""
    options = options or RunOptions()
    if warehouse is not None:
        warehouse.ensure_schema()  # discover may be the run's first task to touch it
    folder = run_dir(root, run_id, source.name)
    for old in chunk_folders(folder):  # a retried task starts over
        shutil.rmtree(old)
    meta: dict[str, Any] = {"source": source.name, "started_at": datetime.now(UTC).isoformat()}
    chunks: list[str] = []

    def write_chunks(items: Iterator[Article]) -> None:
        for i, chunk in enumerate(batched(items, chunk_size)):
            path = folder / f"chunk-{i:05d}"
            path.mkdir()
            write_atomically(path / DISCOVERED, (a.to_json() for a in chunk))
            chunks.append(str(path))

    # Entries left out by the date window are recorded here; `stage_load` accounts for them.
    skipped = folder / "dropped-discover.jsonl"
    tmp = skipped.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as drops:
        ctx = RunContext.for_source(source, run_id, options, JsonlSink(drops),
                                    warehouse=warehouse)
        with Runner(ctx) as runner:
            runner.run(stop="discovered", out=write_chunks)
    tmp.replace(skipped)
    [stats] = runner.stage_stats()
    meta.update(status=runner.status, error=runner.error, discovered=runner.discovered,
                stage_stats=stats)
    (folder / "meta.json").write_text(json.dumps(meta))
    if runner.status != "success":
        raise SourceError(runner.error)  # fails this mapped task only; load still records it
    return chunks


def staged_chunks(run_id: str, root: Path, sources: list[str]) -> list[str]:
    """Every chunk folder discovered for this run (those of failed sources included)."""
    return [str(c) for name in sources for c in chunk_folders(run_dir(root, run_id, name))]


def _resume(path: Path, checkpoint: str, stop: str, ctx: RunContext) -> Runner:
    """Run one chunk's items from `checkpoint` to `stop`, writing them there."""
    runner = Runner(ctx)
    with runner:
        runner.run(read_items(path / CHECKPOINTS[checkpoint].file), start=checkpoint,
                   stop=stop, out=lambda items: write_atomically(
                       path / CHECKPOINTS[stop].file, (a.to_json() for a in items)))
    if runner.status != "success":
        raise SourceError(runner.error)
    return runner


class _DropsByTask:
    """A chunk's drop files, one per task record: validation's drops go to
    dropped-validate.jsonl, every other step's to dropped-extract.jsonl (whichever of the
    two this run writes). Each is written under a temporary name and renamed by `keep`, so
    a failed try leaves none behind."""

    def __init__(self, path: Path, tasks: list[str]) -> None:
        self.files = {task: path / f"dropped-{task}.jsonl" for task in tasks}
        self.handles = {task: self._tmp(f).open("w", encoding="utf-8")
                        for task, f in self.files.items()}
        self.sinks = {task: JsonlSink(handle) for task, handle in self.handles.items()}

    @staticmethod
    def _tmp(path: Path) -> Path:
        return path.with_suffix(".jsonl.tmp")

    @property
    def counts(self) -> Counter[Outcome]:
        return sum((sink.counts for sink in self.sinks.values()), Counter())

    def __call__(self, dropped: Dropped) -> None:
        task = "validate" if dropped.stage == "validate" else "extract"
        (self.sinks.get(task) or next(iter(self.sinks.values())))(dropped)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def keep(self) -> None:
        for final in self.files.values():
            self._tmp(final).replace(final)


def _run_chunk(path: Path, start: str, stop: str,
               context: Callable[[Sink], RunContext]) -> Runner:
    """Run a chunk's items from checkpoint `start` to checkpoint `stop` with the context
    `context(sink)` builds, then write the records of each task the segment covers, as
    stage_load reads them: extract.json (fetch and extract stats) and validation.json
    (validation stats and results), each with its drop file."""
    tasks = ["extract"] * (start == "discovered") + ["validate"] * (stop == "validated")
    drops = _DropsByTask(path, tasks)
    try:
        runner = _resume(path, start, stop, context(drops))
    finally:
        drops.close()
    drops.keep()
    # validation.json before extract.json: a chunk run in one pass has no extracted.jsonl,
    # so until extract.json exists stage_load must count its discovered items as failed.
    if "validate" in tasks:
        validate = runner.step("validate")
        (path / "validation.json").write_text(json.dumps({
            "stage_stats": validate.stats.as_dict(), "results": validate.results}))
    if "extract" in tasks:
        stats = [s for s in runner.stage_stats() if s["stage"] != "validate"]
        (path / "extract.json").write_text(json.dumps({"stage_stats": stats}))
    return runner


def _fetch_extract(chunk: str, source: SourceConfig, run_id: str, options: RunOptions | None,
                   warehouse: Warehouse | None, stop: str) -> str:
    """A chunk from [discovered] to `stop`, with its source's context; the chunk folder."""
    options = options or RunOptions()
    if warehouse is not None:
        warehouse.ensure_schema()
    _run_chunk(Path(chunk), "discovered", stop, lambda sink: RunContext.for_source(
        source, run_id, options, sink, warehouse=warehouse))
    return chunk


def stage_fetch_extract(chunk: str, source: SourceConfig, run_id: str,
                        options: RunOptions | None = None,
                        warehouse: Warehouse | None = None) -> str:
    """Fetch (web sources) and extract one chunk; returns the chunk folder.

    The warehouse, when given, holds the fetch ledger (conditional GET, skips, backoff)."""
    return _fetch_extract(chunk, source, run_id, options, warehouse, stop="extracted")


def stage_chunk(chunk: str, source: SourceConfig, run_id: str,
                options: RunOptions | None = None,
                warehouse: Warehouse | None = None) -> str:
    """Fetch (web sources), extract and validate one chunk in one pass — the DAG's
    `extract` task: stage_fetch_extract then stage_validate, without writing and reading
    the extracted items in between. The source's min_words applies, else the options'.
    Returns the chunk folder."""
    return _fetch_extract(chunk, source, run_id, options, warehouse, stop="validated")


def stage_extract(
    source: SourceConfig, run_id: str, root: Path, options: RunOptions | None = None,
    warehouse: Warehouse | None = None,
) -> list[str]:
    """Discover, fetch and extract a whole source in this process; returns its chunks."""
    chunks = stage_discover(source, run_id, root, options)
    return [stage_fetch_extract(c, source, run_id, options, warehouse) for c in chunks]


def stage_validate(folder: str, min_words: dict[str, int] | None = None,
                   batch_size: int = 500, default_min_words: int = DEFAULT_MIN_WORDS) -> str:
    """Validate a chunk's extracted items with the GX suite; returns the chunk folder.
    `min_words`: per-source rules; `default_min_words` for the other sources."""
    path = Path(folder)
    _run_chunk(path, "extracted", "validated", lambda sink: RunContext(
        path.parent.name, path.parent.parent.name, RunOptions(batch_size=batch_size), sink,
        min_words=min_words or {}, default_min_words=default_min_words))
    return folder


def _unfinished(path: Path, step: str, sink: OutcomeBuffer) -> None:
    """Account for the items of a chunk whose `step` task never completed."""
    for article in read_items(path / (DISCOVERED if step == "extract" else EXTRACTED)):
        sink(Dropped(article, Outcome.FAILED, step, [f"{step}_task_failed"],
                     f"the {step} task of {path.name} did not complete"))


def _validated(path: Path, sink: OutcomeBuffer, stats: list[dict[str, Any]],
               results: list[dict[str, Any]]) -> Iterator[Article]:
    """A chunk's drops and stats (taken now), and its validated items (read lazily)."""
    if not (path / "extract.json").exists():
        _unfinished(path, "extract", sink)
        return iter(())
    stats.extend(json.loads((path / "extract.json").read_text())["stage_stats"])
    for line in read_jsonl(path / "dropped-extract.jsonl"):
        sink(Dropped.from_json(line))
    if not (path / "validation.json").exists():
        _unfinished(path, "validate", sink)
        return iter(())
    validation = json.loads((path / "validation.json").read_text())
    stats.append(validation["stage_stats"])
    results.extend(validation["results"])
    for line in read_jsonl(path / "dropped-validate.jsonl"):
        sink(Dropped.from_json(line))
    return read_items(path / VALIDATED)


def stage_load(run_id: str, root: Path, sources: list[str], warehouse: Warehouse,
               batch_size: int = 200, options: RunOptions | None = None,
               clock: Clock = utc_now) -> RunSummary:
    """Dedup and load every source's validated chunks and record each source's run and
    poll (etl.polling; `clock` gives the poll times).

    Items of chunks whose extract or validate task failed are recorded as failed, so the
    run's counts still add up."""
    # Its near_dup_threshold and data_docs_dir apply; loads go in batches of `batch_size`.
    options = replace(options or RunOptions(), batch_size=batch_size)
    warehouse.ensure_schema()
    reports = []
    canonicals = CanonicalTracker()  # one per run: canonical links shared across sources
    for name in sources:
        folder = run_dir(root, run_id, name)
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {
            "status": "source_failed", "error": "discover step did not run", "discovered": 0,
            "started_at": datetime.now(UTC).isoformat()}
        started = datetime.fromisoformat(meta["started_at"])
        begin_source(warehouse, run_id, name, started)
        sink = OutcomeBuffer()
        stats: list[dict[str, Any]] = [meta["stage_stats"]] if "stage_stats" in meta else []
        results: list[dict[str, Any]] = []
        if meta_path.exists():  # entries the date window left out (counted in discovered)
            for line in read_jsonl(folder / "dropped-discover.jsonl"):
                sink(Dropped.from_json(line))
        ctx = RunContext(name, run_id, options, sink, warehouse=warehouse,
                         canonicals=canonicals)
        with Runner(ctx) as runner:
            for chunk in progress(chunk_folders(folder), f"{name}: load chunks"):
                runner.run(_validated(chunk, sink, stats, results), start="validated")
            runner.finish()
        report = SourceReport(name, discovered=meta["discovered"], outcomes=runner.outcomes(),
                              status=meta["status"], error=meta["error"],
                              stage_stats=[*merge_stats(stats), *runner.stage_stats()])
        gx_results = results if options.data_docs else None
        reports.append(finish_source(warehouse, run_id, started, report, results, gx_results,
                                     options.data_docs_dir))
        record_source_poll(warehouse, report, clock())
    return RunSummary(run_id, reports)
