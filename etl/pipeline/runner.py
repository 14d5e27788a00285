"""The one runner: runs a segment of the chain (etl.pipeline.chain) for one source.

`Runner.run(items, start=…, stop=…)` builds the segment's steps from the run context and
streams the items through them: to the end (the load step consumes the stream) or to a
checkpoint, where `out` takes the stream (the staging files of an Airflow task). Steps
are built once per runner, so segments run one after the other (the staged load runs one
per chunk) share a step's state — the loader's dedup state, every step's stats.

`ingest()` is the CLI's run: the whole chain for every selected source, streaming.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from etl.config import SourceConfig, SourcesFile
from etl.dedup.canonical import CanonicalTracker
from etl.pipeline.accounting import CountingSource, OutcomeBuffer
from etl.pipeline.chain import Built, RunContext, Step, segment
from etl.pipeline.options import RunOptions, new_run_id
from etl.pipeline.polls import Clock, plan_sources, record_source_poll, utc_now, with_not_due
from etl.pipeline.reports import RunSummary, SourceReport, finish_source
from etl.progress import RunProgress
from etl.records import Article, Outcome
from etl.sources import SourceError
from etl.warehouse import Warehouse
from etl.warehouse.load import start_run

log = logging.getLogger(__name__)


class Runner:
    """Runs segments of the chain for one source of one run; a context manager that
    releases what the steps hold (the source's HTTP connections) on exit."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.built: dict[str, Built | None] = {}  # by step name; None: not for this source
        self.status, self.error = "success", None
        self._given_count = 0
        self.progress = RunProgress(ctx.source_name, extra=self._progress_extra)

    def _progress_extra(self) -> dict[str, int]:
        shown = {"loaded": self.loaded} if self.built.get("load") is not None else {}
        return {**shown, "dropped": sum(self.ctx.sink.counts.values())}

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.ctx.close()

    def run(self, items: Iterable[Article] | None = None, *, start: str = "discover",
            stop: str | None = None,
            out: Callable[[Iterator[Article]], Any] | None = None) -> None:
        """Stream `items` from `start` (a step, or a checkpoint to resume from) to `stop`
        (a checkpoint, whose `out` takes the stream; None = through load). A segment that
        starts at discover reads the configured source and is given no items. A source
        that fails as a whole (SourceError) is recorded as `source_failed`, not raised."""
        steps = [s for s in segment(start, stop) if s.applies(self.ctx)]
        if (steps[0].name == "discover") != (items is None):
            raise ValueError("items are read by discover, or given to a later start")
        if (stop is None) != (out is None):
            raise ValueError("a run stopping at a checkpoint hands its stream to `out`")
        # Counts per step, shown from the first second (etl.progress), before any step is
        # built: building one (the extraction pool) or its first item can take a while.
        self.progress.expect(["read"] * (items is not None) + [s.name for s in steps])
        with self.progress:
            if items is not None:
                counted = CountingSource(items)
                stream: Iterable[Article] = self.progress.count("read", counted)
            else:
                counted, stream = None, ()
            if "validate" in [s.name for s in steps[1:]]:
                from etl.validate import prewarm

                prewarm()  # GX import overlaps the first documents' extraction
            for step in steps:
                built = self._build(step)
                if built is None:
                    self.progress.forget(step.name)
                else:
                    stream = built.apply(stream)
                    if step.name != "load":  # it forwards nothing: `loaded` is its count
                        stream = self.progress.count(step.name, stream)
            try:
                if out is not None:
                    out(iter(stream))
                else:
                    for _ in stream:  # the load step forwards nothing
                        pass
            except SourceError as exc:
                self._failed(exc)
            finally:
                if counted is not None:
                    self._given_count += counted.count
        found = self.step("discover")
        if found is not None and found.error is not None and self.status == "success":
            self._failed(found.error)  # failed part-way: what it read went on to its outcomes

    def _failed(self, exc: SourceError) -> None:
        self.status, self.error = "source_failed", str(exc)
        log.error("source %s failed: %s", self.ctx.source_name, exc)

    def _build(self, step: Step) -> Built | None:
        if step.name not in self.built:
            self.built[step.name] = step.build(self.ctx)
        return self.built[step.name]

    def step(self, name: str) -> Any:
        """The object doing the work of a built step (None if not built)."""
        built = self.built.get(name)
        return built.stage if built is not None else None

    def finish(self) -> None:
        """Write the drops that arrived after the last loaded batch."""
        loader = self.step("load")
        if loader is not None:
            loader.flush()

    @property
    def discovered(self) -> int:
        """Items read: by the discover step, or handed to the runner's segments."""
        found = self.step("discover")
        return (found.count if found is not None else 0) + self._given_count

    @property
    def loaded(self) -> int:
        loader = self.step("load")
        return loader.loaded if loader is not None else 0

    def outcomes(self) -> Counter[Outcome]:
        """What the sink received, plus what the load step loaded."""
        return self.ctx.sink.counts + Counter({Outcome.LOADED: self.loaded})

    def stage_stats(self) -> list[dict[str, Any]]:
        """Stats of every step built, in chain order."""
        return [stats.as_dict() for built in self.built.values() if built is not None
                for stats in built.stats]

    def report(self) -> SourceReport:
        return SourceReport(self.ctx.source_name, discovered=self.discovered,
                            outcomes=self.outcomes(), status=self.status, error=self.error,
                            stage_stats=self.stage_stats())

    def finish_run(self, started: datetime, data_docs: bool = True) -> SourceReport:
        """Flush, then record the source's run: validation results, Data Docs (unless
        `data_docs` is False), run record."""
        self.finish()
        validate = self.step("validate")
        results = validate.results if validate is not None else []
        data_docs = data_docs and self.ctx.options.data_docs
        gx_results = (validate.gx_results if validate is not None else []) if data_docs else None
        assert self.ctx.warehouse is not None
        return finish_source(self.ctx.warehouse, self.ctx.run_id, started, self.report(),
                             results, gx_results, self.ctx.options.data_docs_dir)


def begin_source(warehouse: Warehouse, run_id: str, source: str,
                 started: datetime | None = None) -> datetime:
    """Record that a source's run started (status running); returns the start time."""
    started = started or datetime.now(UTC)
    with warehouse.begin() as conn:
        start_run(conn, run_id, source, started)
    return started


def ingest_source(
    source: SourceConfig, warehouse: Warehouse, run_id: str, options: RunOptions,
    canonicals: CanonicalTracker | None = None,
) -> SourceReport:
    """Stream one source through the whole chain. A source that fails as a whole is
    reported, not raised. `canonicals`: the run's canonical-link tracker."""
    started = begin_source(warehouse, run_id, source.name)
    ctx = RunContext.for_source(source, run_id, options, OutcomeBuffer(), warehouse=warehouse,
                                canonicals=canonicals)
    with Runner(ctx) as runner:
        runner.run()
    return runner.finish_run(started)


def ingest(
    sources: SourcesFile,
    warehouse: Warehouse,
    *,
    names: list[str] | None = None,
    run_id: str | None = None,
    options: RunOptions | None = None,
    due_only: bool = False,
    clock: Clock = utc_now,
) -> RunSummary:
    """Run every selected source through the whole chain (the CLI's `ingest`), and record
    each one's poll (etl.polling). `due_only`: only the sources due by their poll state;
    the others get a `not_due` line in the summary. `clock` gives the poll times."""
    options = options or RunOptions()
    run_id = run_id or new_run_id()
    warehouse.ensure_schema()
    planned, skipped = plan_sources(sources, names, warehouse, due_only=due_only, now=clock())
    selected = sources.select(planned) if planned else []  # select([]) would mean all
    canonicals = CanonicalTracker()  # one per run: canonical links shared across sources
    reports = []
    for source in selected:
        report = ingest_source(source, warehouse, run_id, options, canonicals)
        record_source_poll(warehouse, report, clock())
        reports.append(report)
    return with_not_due(RunSummary(run_id, reports), skipped)
