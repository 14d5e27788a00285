"""THE stage chain, defined once: `CHAIN` below is the order every run goes through.

    discover → [discovered] → fetch → extract → [extracted] → validate → [validated] → load

Steps are built for one source of one run from a `RunContext` (its warehouse, run id,
options, outcome sink and run-wide dedup state): every stage gets its connection and
settings at construction. Between steps sit named checkpoints, where a run can stop and
later resume: the Airflow tasks stop at one and hand the items over in a JSONL file
(etl.pipeline.staging). etl.pipeline.runner runs any segment of the chain:

- `news-etl ingest`: the whole chain, streaming, in one process;
- the Airflow DAG: discover → [discovered], then fetch → extract → validate →
  [validated] per chunk, then load over every chunk;
- re-extraction: extract → load, with the raw-page archive as the source;
- re-validation: validate → load, with the quarantine (unresolved rejects) as the source;
- revisits (etl.revisit): fetch → load, with the stored articles due for a revisit as the
  source; detect_changes runs only there (it keeps what is unchanged out of validation and
  load), fetch keeps pages found gone for the load, and load writes versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etl.config import SourceConfig
from etl.dedup.canonical import CanonicalTracker
from etl.pipeline.accounting import CountingSource, OutcomeBuffer, Sink
from etl.pipeline.loader import BatchLoader
from etl.pipeline.options import RunOptions
from etl.records import Article, StageStats
from etl.validate import DEFAULT_MIN_WORDS, ValidateStage
from etl.warehouse import Warehouse

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher


@dataclass
class RunContext:
    """What the steps for one source of one run are built from."""

    source_name: str
    run_id: str
    options: RunOptions
    sink: Sink  # every drop of every step goes here, with its outcome and reason
    warehouse: Warehouse | None = None  # the load step's, and the fetch ledger's
    source: SourceConfig | None = None  # needed by discover, fetch and extract
    canonicals: CanonicalTracker | None = None  # one per run, shared by its sources
    replace_existing: bool = False  # re-extraction: stored articles are updated in place
    # A revisit run's state (etl.revisit.state.RevisitState): what is stored, what changed.
    revisions: Any = None
    # Validation's word minimum: per source, else the default.
    min_words: dict[str, int] = field(default_factory=dict)
    default_min_words: int = DEFAULT_MIN_WORDS
    _fetcher: Fetcher | None = None

    @classmethod
    def for_source(cls, source: SourceConfig, run_id: str, options: RunOptions,
                   sink: Sink, **values: Any) -> RunContext:
        """A context for a configured source: its own min_words, else the run's."""
        chosen = source.min_words if source.min_words is not None else options.min_words
        return cls(source.name, run_id, options, sink, source=source,
                   min_words={source.name: chosen} if chosen is not None else {}, **values)

    @property
    def config(self) -> SourceConfig:
        if self.source is None:
            raise ValueError(f"this step needs the configuration of source {self.source_name}")
        return self.source

    def fetcher(self) -> Fetcher:
        """The source's HTTP fetcher, shared by discover and fetch (robots.txt cache,
        per-host politeness); closed by `close`."""
        if self._fetcher is None:
            from etl.fetch.http import Fetcher

            self._fetcher = Fetcher(self.config.http)
        return self._fetcher

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None


@dataclass
class Built:
    """One step built for one source: `apply` maps a stream to a stream, lazily; `stats`
    go to the run record's stage_stats; `stage` is the object doing the work."""

    name: str
    apply: Callable[[Iterable[Article]], Iterator[Article]]
    stats: list[StageStats]
    stage: Any


def _discover(ctx: RunContext) -> Built:
    """The configured source's items (its input is the configuration, not a stream).
    Entries the date window leaves out go to the sink as not_modified, and so does a feed
    unchanged since its last read (conditional GET through the fetch ledger, when the run
    has a warehouse and the source does not ask for refresh).
    Sitemap children left unread are counted in the stage's notes."""
    from etl.fetch.ledger import FeedLedger
    from etl.sources import discover
    from etl.sources._web import DateWindow

    source = ctx.config
    window = DateWindow.for_run(source.max_age_days, ctx.options.since, ctx.options.until)
    found = CountingSource(sink=ctx.sink)
    ledger = (FeedLedger(ctx.warehouse, source.name, run_id=ctx.run_id)
              if source.kind == "feed" and ctx.warehouse is not None and not source.refresh
              else None)
    memory = None
    if source.kind == "sitemap" and ctx.warehouse is not None and not source.refresh:
        from etl.sources.sitemap_memory import SitemapMemory

        memory = SitemapMemory(ctx.warehouse, source.name, ctx.run_id)
    found.items = discover(source, ctx.fetcher() if source.kind != "files" else None,
                           window=window, max_items=ctx.options.max_items,
                           on_skip=found.skip, feed_ledger=ledger,
                           sitemap_memory=memory,
                           on_note=lambda reason: found.stats.notes.update((reason,)))
    return Built("discover", lambda _: iter(found), [found.stats], found)


def _fetch(ctx: RunContext) -> Built | None:
    """HTTP fetch for web sources. With a warehouse, the fetch ledger drives conditional
    GET and skips; every fetched body goes to the WARC archive."""
    from etl.sources import needs_fetch

    source = ctx.config
    if not needs_fetch(source):
        return None
    from etl.fetch.archive import WarcArchive
    from etl.fetch.ledger import FetchLedger
    from etl.fetch.stage import FetchStage

    revisions = ctx.revisions
    ledger = None
    if ctx.warehouse is not None:
        ledger = (revisions.fetch_ledger(ctx.warehouse, source.name, ctx.run_id)
                  if revisions is not None
                  else FetchLedger(ctx.warehouse, source.name, run_id=ctx.run_id))
    fetch = FetchStage(
        revisions.fetch_sink(ctx.sink) if revisions is not None else ctx.sink, ctx.fetcher(),
        ledger=ledger,
        archive=(WarcArchive(ctx.run_id or "run", source.name, root=ctx.options.archive_root)
                 if ctx.options.archive else None),
        refresh=source.refresh,
    )
    return Built("fetch", fetch, [fetch.stats], fetch)


def _extract(ctx: RunContext) -> Built:
    from etl.extract import ExtractStage
    from etl.extract.pool import PoolSettings

    extract = ExtractStage(ctx.sink, {ctx.source_name: ctx.config.boilerplate},
                           PoolSettings(workers=ctx.options.workers,
                                        timeout_s=ctx.options.extract_timeout_s))
    return Built("extract", extract, [extract.stats], extract)


def _detect_changes(ctx: RunContext) -> Built:
    """Revisits only (the step `applies` when the run has revisions): unchanged pages end
    here (not_modified); changed ones go on with their change kind noted (etl.revisit)."""
    detect = ctx.revisions.detect_stage(ctx.sink)
    return Built("detect_changes", detect, [detect.stats], detect)


def _validate(ctx: RunContext) -> Built:
    validate = ValidateStage(ctx.sink, ctx.min_words, batch_size=ctx.options.batch_size,
                             default_min_words=ctx.default_min_words)
    return Built("validate", validate, [validate.stats], validate)


def _load(ctx: RunContext) -> Built:
    if ctx.warehouse is None or not isinstance(ctx.sink, OutcomeBuffer):
        raise ValueError("the load step needs a warehouse and an OutcomeBuffer sink")
    loader = BatchLoader(ctx.warehouse, ctx.run_id, ctx.sink,
                         ctx.options.near_dup_threshold, replace_existing=ctx.replace_existing,
                         canonicals=ctx.canonicals, batch_size=ctx.options.batch_size,
                         versions=ctx.revisions)
    return Built("load", loader, loader.stats, loader)


@dataclass(frozen=True)
class Step:
    """A stage of the chain. `build` returns None when the step does not apply to the
    source (fetch, for sources read from files). `applies` tells before anything is built
    whether the step belongs to a run at all (detect_changes: revisits only), so that
    progress does not show it."""

    name: str
    build: Callable[[RunContext], Built | None]
    applies: Callable[[RunContext], bool] = lambda _ctx: True


@dataclass(frozen=True)
class Checkpoint:
    """A point between steps where a run can stop and resume: the items wait in `file`
    (JSONL, one Article per line) in the chunk's staging folder."""

    name: str
    file: str


CHAIN: tuple[Step | Checkpoint, ...] = (
    Step("discover", _discover),
    Checkpoint("discovered", "items.jsonl"),
    Step("fetch", _fetch),
    Step("extract", _extract),
    Checkpoint("extracted", "extracted.jsonl"),
    Step("detect_changes", _detect_changes, lambda ctx: ctx.revisions is not None),
    Step("validate", _validate),
    Checkpoint("validated", "validated.jsonl"),
    Step("load", _load),
)

STEP_NAMES = tuple(s.name for s in CHAIN if isinstance(s, Step))
CHECKPOINTS = {c.name: c for c in CHAIN if isinstance(c, Checkpoint)}


def segment(start: str = "discover", stop: str | None = None) -> list[Step]:
    """The steps from `start` (a step, or a checkpoint to resume from) up to `stop` (a
    checkpoint; None = through load), in chain order."""
    names = [s.name for s in CHAIN]
    if start not in names:
        raise ValueError(f"unknown step or checkpoint {start!r}; known: {names}")
    if stop is not None and stop not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {stop!r}; known: {sorted(CHECKPOINTS)}")
    first = names.index(start)
    last = names.index(stop) if stop is not None else len(names)
    if last <= first:
        raise ValueError(f"checkpoint {stop!r} does not come after {start!r}")
    return [s for s in CHAIN[first:last] if isinstance(s, Step)]
