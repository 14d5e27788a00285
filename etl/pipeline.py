"""Chains the stages: sources → fetch → extract → validate → dedup → load.

Two ways to run the same stages:
- `ingest()` streams every source end to end in one process (the CLI);
- `stage_extract()`, `stage_validate()` and `stage_load()` run one step each and hand
  over through files in a staging folder (the Airflow DAG: tasks pass paths, not data).

Every item a source yields ends in exactly one `Outcome`; `SourceReport.balanced`
checks that discovered == loaded + duplicates + rejected + failed + not_modified.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from etl.config import SourceConfig, SourcesFile
from etl.dedup.canonical import CanonicalTracker
from etl.dedup.exact import ExactDedupStage
from etl.dedup.near import NearDupStage, keep_order, resolve_settings
from etl.extract import ExtractStage
from etl.extract.pool import PoolSettings
from etl.progress import progress
from etl.records import Article, Dropped, DropSink, Outcome, Stage, StageStats, safe_name
from etl.sources import SourceError, discover, needs_fetch
from etl.validate import ValidateStage, build_data_docs, data_docs_root
from etl.validate import prewarm as prewarm_validator
from etl.warehouse import Warehouse
from etl.warehouse.load import (
    existing_articles,
    finish_run,
    near_candidates,
    reset_canonical_urls,
    start_run,
    stored_texts,
    update_articles,
    write_batch,
    write_signatures,
    write_validation,
)

log = logging.getLogger(__name__)

DEFAULT_STAGING_DIR = "data/staging"


@dataclass
class RunOptions:
    """Per-run knobs (CLI flags / DAG Params)."""

    batch_size: int = 200
    min_words: int | None = None  # for sources that set none; None: validate's default (50)
    max_items: int | None = None  # per source, overrides the source's own max_items
    workers: int = 0  # extraction processes; 0 = one per core, 1 = inline
    extract_timeout_s: float = 60.0  # hard limit per document (reason extract_timeout)
    archive: bool = True  # store every fetched body in the WARC archive
    # A requested interval for dated feed/sitemap entries (backfills, `only_interval`,
    # `--since/--until`). Without `since`, a run takes every entry up to the source's
    # max_age_days old; the fetch ledger keeps runs incremental.
    since: datetime | None = None
    until: datetime | None = None
    # Near-duplicate similarity threshold; None = the dedup default.
    near_dup_threshold: float | None = None
    # Where fetched bodies and Data Docs go; None = data/archive, data/data-docs. The edges
    # fill these and the two above from etl.settings.Settings (NEWS_ETL_* variables).
    archive_root: str | None = None
    data_docs_dir: str | None = None


def requested_interval(run_type: str | None, only_interval: bool, start: datetime | None,
                       end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """(since, until) for an orchestrated run: the data interval [start, end) only for a
    backfill or a run that asks for it (`only_interval`), else (None, None): the run takes
    every entry not seen yet, up to each source's max_age_days. Feeds lag and publishers
    backdate, so keeping scheduled runs to their interval would lose entries for good."""
    if (run_type == "backfill" or only_interval) and start and end and start < end:
        return start, end
    return None, None


@dataclass
class SourceReport:
    """What happened to one source's items in one run."""

    source: str
    discovered: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    status: str = "success"
    error: str | None = None
    stage_stats: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None  # the run's Great Expectations Data Docs (index.html)

    @property
    def balanced(self) -> bool:
        return self.discovered == sum(self.outcomes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "status": self.status, "error": self.error,
            "discovered": self.discovered,
            **{o.value: self.outcomes.get(o, 0) for o in Outcome},
        }


@dataclass
class RunSummary:
    run_id: str
    reports: list[SourceReport]

    def totals(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for report in self.reports:
            totals["discovered"] += report.discovered
            for outcome in Outcome:
                totals[outcome.value] += report.outcomes.get(outcome, 0)
        return dict(totals)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "totals": self.totals(),
                "sources": [r.as_dict() for r in self.reports]}


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"


class OutcomeBuffer:
    """The sink every stage drops into: holds drops until the next batch is written."""

    def __init__(self) -> None:
        self.pending: list[Dropped] = []
        self.counts: Counter[Outcome] = Counter()

    def __call__(self, dropped: Dropped) -> None:
        self.pending.append(dropped)
        self.counts[dropped.outcome] += 1

    def take(self) -> list[Dropped]:
        taken, self.pending = self.pending, []
        return taken


class CountingSource:
    """Counts what a source reads: the `discovered` figure of the run record.

    Entries the source leaves out of this run (its date window) arrive through `skip`:
    they are counted as discovered too and handed to the sink as not_modified with their
    reason (`older_than_max_age`, `outside_interval`), so nothing read is lost silently.
    """

    def __init__(self, items: Iterable[Article] = (), sink: DropSink | None = None) -> None:
        self.items = items
        self.sink = sink
        self.count = 0
        self.stats = StageStats("discover")

    def __iter__(self) -> Iterator[Article]:
        for item in self.items:
            self.count += 1
            self.stats.received += 1
            self.stats.forwarded += 1
            yield item

    def skip(self, item: Article, reason: str, detail: str) -> None:
        if self.sink is None:
            raise ValueError("CountingSource.skip needs a sink to record the item in")
        self.count += 1
        self.stats.received += 1
        self.stats.dropped_items += 1
        self.stats.dropped[reason] += 1
        self.sink(Dropped(item, Outcome.NOT_MODIFIED, "discover", [reason], detail))


class BatchLoader:
    """Dedup and load one batch per transaction, together with the pending drops.

    Dedup (exact, then near) runs inside the load transaction (under an advisory lock on
    PostgreSQL), so two loaders can never both insert the same article or two near-copies.
    """

    def __init__(self, warehouse: Warehouse, run_id: str, sink: OutcomeBuffer,
                 near_dup_threshold: float | None = None, replace_existing: bool = False,
                 canonicals: CanonicalTracker | None = None) -> None:
        self.warehouse = warehouse
        self.run_id = run_id
        self.sink = sink
        self.replace_existing = replace_existing  # re-extraction updates stored rows
        settings = resolve_settings(near_dup_threshold)
        # `canonicals`: one per run, shared by its sources (etl.dedup.canonical).
        self.dedup = ExactDedupStage(sink, lookup=_no_lookup, run_id=run_id,
                                     replace_existing=replace_existing, canonicals=canonicals,
                                     similarity_threshold=settings.threshold)
        self.near = NearDupStage(sink, lookup=_no_lookup, settings=settings,
                                 replace_existing=replace_existing,
                                 replacing=lambda: self.dedup.replacing)
        self.loaded = 0
        # Numbers the outcome rows of each (source, URL) in this run (see write_batch):
        # a retried run counts from 1 again, so its rows meet the first attempt's.
        self.occurrences: Counter[tuple[str, str, str]] = Counter()

    def load(self, batch: list[Article]) -> None:
        with self.warehouse.begin(write_lock=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7263542)")
            self.dedup.lookup = lambda urls, canon, hashes: existing_articles(
                conn, urls, canon, hashes)
            self.dedup.texts = lambda ids: stored_texts(conn, ids)
            self.near.lookup = lambda keys: near_candidates(conn, keys)
            # Keep-rule order (earliest published, then URL): a batch yields the same
            # warehouse whatever its arrival order.
            unique = list(self.near(self.dedup(sorted(batch, key=keep_order))))
            drops = self.sink.take()
            self.near.redirect(drops)
            if self.replace_existing:
                update_articles(conn, unique)
            write_batch(conn, unique, drops, self.run_id, self.occurrences)
            reset_canonical_urls(conn, self.dedup.take_canonical_resets())
            # Re-extraction replaces signatures and band keys with the text, in this
            # transaction: copies are judged against the text the warehouse holds.
            write_signatures(conn, self.near.take_signatures(), replace=self.replace_existing)
        self.loaded += len(unique)

    def flush(self) -> None:
        """Write drops that arrived after the last batch (e.g. trailing rejects)."""
        drops = self.sink.take()
        if drops:
            with self.warehouse.begin() as conn:
                write_batch(conn, [], drops, self.run_id, self.occurrences)


def _no_lookup(*_args) -> list[dict[str, Any]]:
    return []


def batched(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _discover(source: SourceConfig, options: RunOptions, sink: DropSink):
    """The source's items as a counted stream, and the Fetcher web sources share between
    discovery and page fetching (robots.txt cache, per-host politeness). Entries left out
    by the date window go to `sink` as not_modified."""
    from etl.sources._web import DateWindow

    fetcher = None
    if source.kind != "files":
        from etl.fetch.http import Fetcher

        fetcher = Fetcher(source.http)
    window = DateWindow.for_run(source.max_age_days, options.since, options.until)
    found = CountingSource(sink=sink)
    found.items = discover(source, fetcher, window=window, max_items=options.max_items,
                           on_skip=found.skip)
    return found, fetcher


def _fetch_and_extract(
    source: SourceConfig, items: Iterable[Article], sink, options: RunOptions,
    warehouse: Warehouse | None, run_id: str | None, fetcher=None,
) -> tuple[list[Stage], Iterator[Article]]:
    """(fetch) → extract, lazily. With a warehouse, the fetch ledger drives conditional GET
    and skips; every fetched body goes to the WARC archive."""
    stages: list[Stage] = []
    stream: Iterable[Article] = items
    if needs_fetch(source):
        from etl.fetch.archive import WarcArchive
        from etl.fetch.http import Fetcher
        from etl.fetch.ledger import FetchLedger
        from etl.fetch.stage import FetchStage

        owned = fetcher is None
        fetcher = fetcher or Fetcher(source.http)
        fetch = FetchStage(
            sink, fetcher,
            ledger=(FetchLedger(warehouse, source.name, run_id=run_id)
                    if warehouse is not None else None),
            archive=(WarcArchive(run_id or "run", source.name, root=options.archive_root)
                     if options.archive else None),
            refresh=source.refresh,
        )
        stages.append(fetch)
        stream = fetch(stream)
        if owned:
            stream = _closing(stream, fetcher)
    extract = ExtractStage(sink, {source.name: source.boilerplate},
                           PoolSettings(workers=options.workers,
                                        timeout_s=options.extract_timeout_s))
    stages.append(extract)
    return stages, extract(stream)


def _read_and_extract(
    source: SourceConfig, sink, options: RunOptions, warehouse: Warehouse | None = None,
    run_id: str | None = None,
) -> tuple[CountingSource, list[Stage], Iterator[Article]]:
    """discover → (fetch) → extract, lazily. Returns the counter, the stages and the stream."""
    found, fetcher = _discover(source, options, sink)
    stages, stream = _fetch_and_extract(
        source, progress(found, f"{source.name}: read"), sink, options, warehouse, run_id,
        fetcher)
    return found, stages, _closing(stream, fetcher)


def _closing(items: Iterator[Article], fetcher) -> Iterator[Article]:
    try:
        yield from items
    finally:
        if fetcher is not None:
            fetcher.close()


def _all_failed(discovered: int, counts: Counter[Outcome], stats: list[dict[str, Any]]
                ) -> tuple[str, str | None]:
    """A source whose every item failed is reported as such: usually a broken site, a
    changed layout or a broken environment — worth a look."""
    if discovered == 0 or counts.get(Outcome.FAILED, 0) < discovered:
        return "success", None
    reasons: Counter[str] = Counter()
    for item in stats:
        reasons.update(item.get("dropped", {}))
    top = ", ".join(f"{r} ×{n}" for r, n in reasons.most_common(3))
    return "all_failed", f"every item failed ({top})"


def _min_words(source: SourceConfig, options: RunOptions) -> dict[str, int]:
    """The source's own rule, else the run's; absent → the validation default applies."""
    chosen = source.min_words if source.min_words is not None else options.min_words
    return {source.name: chosen} if chosen is not None else {}


def ingest_source(
    source: SourceConfig, warehouse: Warehouse, run_id: str, options: RunOptions,
    canonicals: CanonicalTracker | None = None,
) -> SourceReport:
    """Stream one source end to end. A source that fails as a whole is reported, not raised.
    `canonicals`: the run's canonical-link tracker, shared by its sources."""
    started = datetime.now(UTC)
    with warehouse.begin() as conn:
        start_run(conn, run_id, source.name, started)
    sink = OutcomeBuffer()
    report = SourceReport(source.name)
    loader = BatchLoader(warehouse, run_id, sink, options.near_dup_threshold,
                         canonicals=canonicals)
    validate = ValidateStage(sink, _min_words(source, options), batch_size=options.batch_size)
    prewarm_validator()  # GX import overlaps the first documents' extraction
    found: CountingSource | None = None
    stages: list[Stage] = []
    try:
        found, stages, extracted = _read_and_extract(source, sink, options, warehouse, run_id)
        for batch in batched(validate(extracted), options.batch_size):
            loader.load(batch)
    except SourceError as exc:
        report.status, report.error = "source_failed", str(exc)
        log.error("source %s failed: %s", source.name, exc)
    loader.flush()
    report.discovered = found.count if found else 0
    if report.status == "success":
        report.status, report.error = _all_failed(
            report.discovered, sink.counts, [st.stats.as_dict() for st in stages])
    report.outcomes = sink.counts + Counter({Outcome.LOADED: loader.loaded})
    report.stage_stats = [s.stats.as_dict()
                          for s in [*([found] if found else []), *stages, validate,
                                    loader.dedup, loader.near]]
    report.report_path = _data_docs(validate, run_id, source.name, options.data_docs_dir)
    _finish(warehouse, run_id, source.name, started, report, validate.results)
    return report


def _data_docs(validate: ValidateStage, run_id: str, source: str,
               root: str | None = None) -> str | None:
    return _data_docs_from(validate.gx_results, run_id, source, root)


def _data_docs_from(results: list[Any], run_id: str, source: str,
                    root: str | None = None) -> str | None:
    """Data Docs of this run and source under `root`; a failure to render never fails
    the run."""
    folder = data_docs_root(root) / safe_name(run_id) / source
    try:
        path = build_data_docs(results, folder, run_id)
    except Exception as exc:
        log.warning("could not build data docs for %s: %s", source, exc)
        return None
    return str(path) if path else None


def _finish(warehouse, run_id, source, started, report: SourceReport, results) -> None:
    with warehouse.begin() as conn:
        for i, result in enumerate(results):
            write_validation(conn, run_id, source, i, result)
        finish_run(
            conn, run_id, source, started_at=started, discovered=report.discovered,
            outcomes=report.outcomes, status=report.status, error=report.error,
            stage_stats=report.stage_stats, report_path=report.report_path,
        )
    if report.report_path:
        log.info("data docs for %s: file://%s", source, report.report_path)
    if not report.balanced:  # a bug, never expected: make it loud
        log.error("accounting mismatch for %s: %s", source, report.as_dict())


def ingest(
    sources: SourcesFile,
    warehouse: Warehouse,
    *,
    names: list[str] | None = None,
    run_id: str | None = None,
    options: RunOptions | None = None,
) -> RunSummary:
    """Run every selected source through the whole pipeline (the CLI's `ingest`)."""
    options = options or RunOptions()
    run_id = run_id or new_run_id()
    warehouse.ensure_schema()
    canonicals = CanonicalTracker()  # one per run: canonical links shared across sources
    reports = [ingest_source(s, warehouse, run_id, options, canonicals)
               for s in sources.select(names)]
    return RunSummary(run_id, reports)


# --- Staged execution (Airflow): each step reads and writes files under the staging dir.

def staging_root(path: str | os.PathLike[str] | None = None) -> Path:
    """`path` (the edges pass NEWS_ETL_STAGING_DIR), else data/staging."""
    return Path(path or DEFAULT_STAGING_DIR)


def run_dir(root: Path, run_id: str, source: str) -> Path:
    path = root / safe_name(run_id) / source
    path.mkdir(parents=True, exist_ok=True)
    return path


class _JsonlSink:
    """Drops written straight to a staging file (the Airflow path)."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.counts: Counter[Outcome] = Counter()

    def __call__(self, dropped: Dropped) -> None:
        self.handle.write(dropped.to_json() + "\n")
        self.counts[dropped.outcome] += 1


def _write_atomically(path: Path, lines: Iterable[str]) -> int:
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    tmp.replace(path)  # a retried task overwrites, never appends twice
    return count


def _read_jsonl(path: Path) -> Iterator[str]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


CHUNK_SIZE = 200  # items per mapped fetch/extract task


def _chunks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("chunk-*") if p.is_dir())


def stage_discover(source: SourceConfig, run_id: str, root: Path,
                   options: RunOptions | None = None, chunk_size: int = CHUNK_SIZE) -> list[str]:
    """Discover one source's items and split them into chunk folders of `chunk_size` items,
    each fetched and extracted by its own (mapped) task. Returns the chunk folders.

    A source that fails part-way keeps the chunks found so far (they are processed and
    accounted for) and raises SourceError after recording the failure."""
    import shutil

    options = options or RunOptions()
    folder = run_dir(root, run_id, source.name)
    for old in _chunks(folder):  # a retried task starts over
        shutil.rmtree(old)
    meta: dict[str, Any] = {"source": source.name, "started_at": datetime.now(UTC).isoformat(),
                            "status": "success", "error": None}
    chunk_paths: list[str] = []
    # Entries left out by the date window are recorded here; `stage_load` accounts for them.
    skipped = folder / "dropped-discover.jsonl"
    tmp = skipped.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as drops:
        found, fetcher = _discover(source, options, _JsonlSink(drops))
        try:
            for i, chunk in enumerate(batched(progress(found, f"{source.name}: discover"),
                                              chunk_size)):
                path = folder / f"chunk-{i:05d}"
                path.mkdir()
                _write_atomically(path / "items.jsonl", (a.to_json() for a in chunk))
                chunk_paths.append(str(path))
        except SourceError as exc:
            meta["status"], meta["error"] = "source_failed", str(exc)
        finally:
            if fetcher is not None:
                fetcher.close()
    tmp.replace(skipped)
    meta["discovered"] = found.count
    meta["stage_stats"] = found.stats.as_dict()
    (folder / "meta.json").write_text(json.dumps(meta))
    if meta["status"] != "success":
        raise SourceError(meta["error"])  # fails this mapped task only; load still records it
    return chunk_paths


def staged_chunks(run_id: str, root: Path, sources: list[str]) -> list[str]:
    """Every chunk folder discovered for this run (those of failed sources included)."""
    return [str(c) for name in sources for c in _chunks(run_dir(root, run_id, name))]


def stage_fetch_extract(chunk: str, source: SourceConfig, run_id: str,
                        options: RunOptions | None = None,
                        warehouse: Warehouse | None = None) -> str:
    """Fetch (web sources) and extract one chunk; returns the chunk folder.

    The warehouse, when given, holds the fetch ledger (conditional GET, skips, backoff)."""
    options = options or RunOptions()
    path = Path(chunk)
    if warehouse is not None:
        warehouse.ensure_schema()
    tmp = path / "dropped-extract.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as drops:
        sink = _JsonlSink(drops)
        items = (Article.from_json(line) for line in _read_jsonl(path / "items.jsonl"))
        stages, extracted = _fetch_and_extract(source, items, sink, options, warehouse, run_id)
        _write_atomically(path / "extracted.jsonl", (a.to_json() for a in extracted))
    tmp.replace(path / "dropped-extract.jsonl")
    (path / "extract.json").write_text(json.dumps(
        {"stage_stats": [st.stats.as_dict() for st in stages]}))
    return chunk


def stage_extract(
    source: SourceConfig, run_id: str, root: Path, options: RunOptions | None = None,
    warehouse: Warehouse | None = None,
) -> list[str]:
    """Discover, fetch and extract a whole source in this process; returns its chunks."""
    chunks = stage_discover(source, run_id, root, options)
    return [stage_fetch_extract(c, source, run_id, options, warehouse) for c in chunks]


def stage_validate(folder: str, min_words: dict[str, int] | None = None,
                   batch_size: int = 500) -> str:
    """Validate a chunk's extracted items with the GX suite; returns the chunk folder."""
    path = Path(folder)
    tmp = path / "dropped-validate.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as drops:
        stage = ValidateStage(_JsonlSink(drops), min_words, batch_size=batch_size)
        items = (Article.from_json(line) for line in _read_jsonl(path / "extracted.jsonl"))
        _write_atomically(path / "validated.jsonl", (a.to_json() for a in stage(items)))
    tmp.replace(path / "dropped-validate.jsonl")
    (path / "validation.json").write_text(json.dumps({
        "stage_stats": stage.stats.as_dict(), "results": stage.results}))
    return folder


def _merge_stats(stats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sum the per-chunk stats of each stage, keeping the stages' order."""
    merged: dict[str, dict[str, Any]] = {}
    for item in stats:
        into = merged.setdefault(item["stage"], {"stage": item["stage"], "received": 0,
                                                 "forwarded": 0, "dropped_items": 0,
                                                 "dropped": Counter(), "notes": Counter()})
        for key in ("received", "forwarded", "dropped_items"):
            into[key] += item.get(key, 0)
        for key in ("dropped", "notes"):
            into[key].update(item.get(key, {}))
    return [{**m, "dropped": dict(m["dropped"]), "notes": dict(m["notes"])}
            for m in merged.values()]


def _unfinished(path: Path, step: str, sink: OutcomeBuffer) -> None:
    """Account for the items of a chunk whose `step` task never completed."""
    source_file = "items.jsonl" if step == "extract" else "extracted.jsonl"
    for line in _read_jsonl(path / source_file):
        sink(Dropped(Article.from_json(line), Outcome.FAILED, step, [f"{step}_task_failed"],
                     f"the {step} task of {path.name} did not complete"))


def _load_chunk(path: Path, loader: BatchLoader, sink: OutcomeBuffer, batch_size: int,
                stats: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    if not (path / "extract.json").exists():
        _unfinished(path, "extract", sink)
        return
    stats.extend(json.loads((path / "extract.json").read_text())["stage_stats"])
    for line in _read_jsonl(path / "dropped-extract.jsonl"):
        sink(Dropped.from_json(line))
    if not (path / "validation.json").exists():
        _unfinished(path, "validate", sink)
        return
    validation = json.loads((path / "validation.json").read_text())
    stats.append(validation["stage_stats"])
    results.extend(validation["results"])
    for line in _read_jsonl(path / "dropped-validate.jsonl"):
        sink(Dropped.from_json(line))
    items = (Article.from_json(line) for line in _read_jsonl(path / "validated.jsonl"))
    for batch in batched(items, batch_size):
        loader.load(batch)


def stage_load(run_id: str, root: Path, sources: list[str], warehouse: Warehouse,
               batch_size: int = 200, options: RunOptions | None = None) -> RunSummary:
    """Dedup and load every source's validated chunks and record each source's run.

    Items of chunks whose extract or validate task failed are recorded as failed, so the
    run's counts still add up."""
    options = options or RunOptions()  # its near_dup_threshold and data_docs_dir apply
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
        with warehouse.begin() as conn:
            start_run(conn, run_id, name, started)
        sink = OutcomeBuffer()
        loader = BatchLoader(warehouse, run_id, sink, options.near_dup_threshold,
                             canonicals=canonicals)
        stats: list[dict[str, Any]] = [meta["stage_stats"]] if "stage_stats" in meta else []
        results: list[dict[str, Any]] = []
        if meta_path.exists():  # entries the date window left out (counted in discovered)
            for line in _read_jsonl(folder / "dropped-discover.jsonl"):
                sink(Dropped.from_json(line))
        for chunk in progress(_chunks(folder), f"{name}: load chunks"):
            _load_chunk(chunk, loader, sink, batch_size, stats, results)
        loader.flush()
        report = SourceReport(
            name, discovered=meta["discovered"],
            outcomes=sink.counts + Counter({Outcome.LOADED: loader.loaded}),
            status=meta["status"], error=meta["error"],
            stage_stats=[*_merge_stats(stats), loader.dedup.stats.as_dict(),
                         loader.near.stats.as_dict()],
        )
        if report.status == "success":
            report.status, report.error = _all_failed(report.discovered, report.outcomes,
                                                       report.stage_stats)
        report.report_path = _data_docs_from(results, run_id, name, options.data_docs_dir)
        _finish(warehouse, run_id, name, started, report, results)
        reports.append(report)
    return RunSummary(run_id, reports)
