"""Accounting: where drops go, what a source read, and how a run's figures are summed.

Every item a source yields ends in exactly one `Outcome`; the sinks here count what they
receive so a run's record can say discovered == loaded + duplicates + rejected + failed +
not_modified.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, Any, Protocol

from etl.records import Article, Dropped, DropSink, Outcome, StageStats
from etl.sources.errors import SourceError


class Sink(Protocol):
    """Where a run's steps drop items (a DropSink) that counts what it received."""

    counts: Counter[Outcome]

    def __call__(self, dropped: Dropped) -> None: ...


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


class JsonlSink:
    """Drops written straight to a staging file (the Airflow path)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.counts: Counter[Outcome] = Counter()

    def __call__(self, dropped: Dropped) -> None:
        self.handle.write(dropped.to_json() + "\n")
        self.counts[dropped.outcome] += 1


class CountingSource:
    """Counts what a source reads: the `discovered` figure of the run record.

    Entries the source leaves out of this run (its date window) arrive through `skip`:
    they are counted as discovered too and handed to the sink as not_modified with their
    reason (`older_than_max_age`, `outside_interval`), so nothing read is lost silently.

    A source that fails part-way (a corrupt WARC file after good ones) ends the stream
    instead of raising through it: the items already read are still in flight in later
    steps (fetch threads, extraction window, validation and load batches) and must reach
    their outcomes. The failure is kept in `error`; the runner records it.
    """

    def __init__(self, items: Iterable[Article] = (), sink: DropSink | None = None) -> None:
        self.items = items
        self.sink = sink
        self.count = 0
        self.stats = StageStats("discover")
        self.error: SourceError | None = None

    def __iter__(self) -> Iterator[Article]:
        try:
            for item in self.items:
                self.count += 1
                self.stats.received += 1
                self.stats.forwarded += 1
                yield item
        except SourceError as exc:
            self.error = exc

    def skip(self, item: Article, reason: str, detail: str) -> None:
        if self.sink is None:
            raise ValueError("CountingSource.skip needs a sink to record the item in")
        self.count += 1
        self.stats.received += 1
        self.stats.dropped_items += 1
        self.stats.dropped[reason] += 1
        self.sink(Dropped(item, Outcome.NOT_MODIFIED, "discover", [reason], detail))


def batched(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def merge_stats(stats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sum the per-chunk stats of each stage (counts, drops and notes per reason), keeping
    the stages' order."""
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


def all_failed(discovered: int, outcomes: Counter[Outcome] | dict[Outcome, int],
               stats: list[dict[str, Any]]) -> tuple[str, str | None]:
    """(status, error) of a source that completed: `all_failed` when every item it read
    failed — usually a broken site, a changed layout or a broken environment, worth a
    look — with the top reasons; else `success`."""
    if discovered == 0 or outcomes.get(Outcome.FAILED, 0) < discovered:
        return "success", None
    reasons: Counter[str] = Counter()
    for item in stats:
        reasons.update(item.get("dropped", {}))
    top = ", ".join(f"{r} ×{n}" for r, n in reasons.most_common(3))
    return "all_failed", f"every item failed ({top})"
