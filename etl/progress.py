"""Progress for long work: a live status line in a terminal, periodic counts in logs otherwise.

`RunProgress` follows one source's run through the chain (etl.pipeline.runner counts the
items leaving each step): in a terminal (stderr is a TTY, the CLI) one line redrawn twice
a second from the moment the run starts —

    desk: discovered 120 · fetched 80 · extracted 75 · validated 70 · loaded 60 · 14s

— so a phase that has produced nothing yet (a slow feed, the first extraction) still shows
its clock; elsewhere (Airflow task logs, CI, cron) a log line when the run starts, one every
LOG_EVERY_S seconds, and one when it ends. `progress()` does the same for a plain iterable.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

LOG_EVERY_S = 30.0  # a log line this often when not in a terminal
REDRAW_S = 0.5  # the terminal line's refresh
# What each step's output counts as, in chain order.
PHASES = {"discover": "discovered", "fetch": "fetched", "extract": "extracted",
          "validate": "validated", "load": "loaded"}


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class RunProgress:
    """Counts per phase of one run segment, shown live (terminal) or logged (elsewhere).
    Use as a context manager; `count` wraps a step's output stream."""

    def __init__(self, desc: str, *, stream: IO[str] | None = None,
                 log_every_s: float | None = None,
                 extra: Callable[[], dict[str, int]] | None = None) -> None:
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = _is_terminal(self.stream)
        self.log_every_s = LOG_EVERY_S if log_every_s is None else log_every_s
        self.counts: dict[str, int] = {}
        self.extra = extra  # counts kept elsewhere (the loader's), read at each report
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._entered = False

    def expect(self, steps: Iterable[str]) -> None:
        """Show these steps' phases from 0, in this order, before they produce anything."""
        for step in steps:
            self.counts.setdefault(PHASES.get(step, step), 0)

    def forget(self, step: str) -> None:
        """A step expected but not run (fetch, for a source read from files)."""
        self.counts.pop(PHASES.get(step, step), None)

    def count(self, step: str, items: Iterable[T]) -> Iterator[T]:
        """`items` unchanged, counted under the step's phase ('fetch' → 'fetched'); phases
        are shown in the order they were wrapped (the chain's), from 0."""
        phase = PHASES.get(step, step)
        self.counts.setdefault(phase, 0)
        return self._counting(phase, items)

    def _counting(self, phase: str, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            self.counts[phase] += 1  # one consuming thread per stream: no lock needed
            yield item

    def line(self) -> str:
        counts = dict(self.counts)
        if self.extra is not None:
            counts.update(self.extra())
        parts = [f"{phase} {n}" for phase, n in counts.items()]
        elapsed = time.monotonic() - self.started
        return f"{self.desc}: " + " · ".join([*parts, f"{elapsed:.0f}s"])

    def __enter__(self) -> RunProgress:
        """Start showing (again: a runner runs several segments, e.g. one per chunk; the
        counts and the clock go on, the start is logged once)."""
        if not self._entered:
            self.started = time.monotonic()
            self._report(first=True)
        self._entered = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self.terminal:
            self._draw(end="\n")  # the last state stays on screen
        else:
            log.info("%s (done)", self.line())

    def _tick(self) -> None:
        every = REDRAW_S if self.terminal else max(0.05, self.log_every_s)
        while not self._stop.wait(every):
            self._report()

    def _report(self, first: bool = False) -> None:
        if self.terminal:
            self._draw()
        elif first:
            log.info("%s (started)", self.line())
        else:
            log.info("%s", self.line())

    def _draw(self, end: str = "") -> None:
        try:
            self.stream.write("\r\x1b[K" + self.line() + end)  # redraw the line in place
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the run goes on
            pass


def progress(
    items: Iterable[T], desc: str, *, total: int | None = None, every_s: float | None = None
) -> Iterator[T]:
    """Yield items unchanged while reporting how many went by (see RunProgress)."""
    meter = RunProgress(desc, log_every_s=every_s)
    with meter:
        yield from meter.count("items", items)
