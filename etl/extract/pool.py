"""Extraction on every core: a pool of worker processes with a hard per-document time limit.

trafilatura is pure CPU (15–60 ms a page) and holds the GIL, so threads do not help;
processes do. pebble (a maintained pool library) gives what the standard library's
ProcessPoolExecutor lacks: a per-task timeout that kills the stuck worker, and worker
recycling after N tasks (trafilatura and lxml grow over long runs). Results come back in
submission order so runs stay reproducible.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from etl.records import Article, Dropped

DEFAULT_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 60.0  # workers that have not answered a ping by then never will
DEFAULT_TASKS_PER_WORKER = 250
DEFAULT_WORKER_MEMORY_MB = 4096
WINDOW_MIN = 64  # documents in flight at least (see ExtractPool.map)


@dataclass(frozen=True)
class PoolSettings:
    workers: int = 0  # 0 = one per core
    timeout_s: float = DEFAULT_TIMEOUT_S
    tasks_per_worker: int = DEFAULT_TASKS_PER_WORKER
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB  # address-space cap per worker

    def resolved_workers(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)


# Imported once in the forkserver, so every worker (and every recycled one, each
# `tasks_per_worker` documents) forks with the extractor loaded and warm, instead of paying
# ~1 s of imports and ~2 s of first-document set-up (etl.extract.forkserver_warmup).
# "etl.cli": every worker runs the parent's main script again before its first task, and
# for `news-etl` that script imports etl.cli (SQLAlchemy, the pipeline: ~0.5 s of CPU per
# worker start). Python 3.11's forkserver cannot preload "__main__" itself: it asks the
# parent for a `main_path` the parent never sends (CPython gh-126631, fixed in 3.13), so the
# script's import is what can be shared.
PRELOAD = ["etl.cli", "trafilatura", "etl.extract", "etl.extract.document",
           "etl.extract.metadata.refine",
           "etl.extract.settings", "py3langid", "courlan", "charset_normalizer", "ftfy",
           "etl.extract.forkserver_warmup", "etl.dedup.worker_warmup"]


def _forkserver() -> multiprocessing.context.BaseContext:
    """The forkserver context with the extractor preloaded (no effect once it is running)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _init_worker(megabytes: int) -> None:
    """Worker initializer. Imports the extractor up front, so its seconds of import time
    never count against a document's time limit; and caps the address space, so a runaway
    document raises MemoryError in its own worker (recorded as extract_error) instead of
    pushing the whole host into the OOM killer."""
    import trafilatura  # noqa: F401

    import etl.extract.metadata.refine  # noqa: F401

    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _extract_remote(
    article: Article, patterns: tuple[re.Pattern[str], ...]
) -> tuple[Article | None, list[Dropped]]:
    """Runs in a worker: extract one document; returns it, or the drop that explains why not."""
    from etl.extract import ExtractStage

    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {article.source: patterns})
    ok = stage.extract_one(article)
    if ok:
        _presign(article)
    return (article if ok else None), drops


def _presign(article: Article) -> None:
    """Sign the text for the near-duplicate stage here, on the worker's core, instead of in
    the parent, whose serial work competes with the workers (issue 16). A failure only
    leaves the signature to the parent, as for every record that carries none."""
    from etl.dedup.presigned import presign

    try:
        presign(article)
    except Exception:  # never lose a document to an optional speed-up
        article.near_signature = None


class PoolUnavailable(RuntimeError):
    """The worker processes could not start; extraction falls back to inline."""


def _ping() -> bool:
    return True


def _await_ping(pool, future) -> None:
    """Wait for the start-up ping in short slices, giving up as soon as `pool` says it broke.

    When every worker dies before the ping has left pebble's queue, pebble marks the pool
    broken but never resolves the ping's future: waiting on it alone would sit out the whole
    start-up bound. The bound itself still ends a start that never answers.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            future.result(timeout=0.05)
            return
        except (FutureTimeout, TimeoutError):
            if not pool.active:
                raise RuntimeError("the worker pool broke while starting") from None
            if time.monotonic() >= deadline:
                raise


class ExtractPool:
    """Feeds documents to worker processes with a bounded number in flight."""

    def __init__(self, settings: PoolSettings) -> None:
        from pebble import ProcessPool

        self.settings = settings
        self.workers = settings.resolved_workers()
        self.pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=settings.tasks_per_worker,
            initializer=_init_worker,
            initargs=(settings.worker_memory_mb,),
            # forkserver: never fork a parent that runs threads (fetchers, Airflow's runner).
            context=_forkserver(),
        )
        self._check_workers_start()

    def _check_workers_start(self) -> None:
        """Fail fast, before any document is lost, when workers cannot start.

        Workers re-import the parent's main module; under a launcher that cannot be
        re-imported (e.g. an Airflow task process, whose metadata-DB URL is deliberately
        invalid) every worker dies at once. The caller then extracts inline instead.
        """
        from pebble import ProcessExpired

        try:
            _await_ping(self.pool, self.pool.schedule(_ping, timeout=120))
        except (ProcessExpired, FutureTimeout, TimeoutError, OSError, RuntimeError) as exc:
            self.close()
            raise PoolUnavailable(f"extraction workers cannot start: {exc!r}") from exc

    def map(
        self, items: Iterable[Article], patterns_for: dict[str, tuple[re.Pattern[str], ...]]
    ) -> Iterator[tuple[Article, Article | None, list[Dropped], str | None]]:
        """Yield (input, extracted or None, drops, pool failure reason) in input order."""
        window: deque = deque()
        # Queued work must outlast the parent's pauses between two pulls (validating and
        # loading a batch: ~1-2 s) or the workers idle; 4 per worker did not (measured in
        # benchmarks/throughput.py). Bounded, so memory stays flat for any source size.
        limit = max(self.workers * 4, WINDOW_MIN)
        for item in items:
            window.append((item, self.pool.schedule(
                _extract_remote, args=(item, patterns_for.get(item.source, ())),
                timeout=self.settings.timeout_s)))
            while len(window) > limit:
                yield self._result(*window.popleft())
        while window:
            yield self._result(*window.popleft())

    def _result(self, item: Article, future):
        from pebble import ProcessExpired

        try:
            extracted, drops = future.result()
            return item, extracted, drops, None
        except FutureTimeout:
            return item, None, [], "extract_timeout"
        except ProcessExpired as exc:
            return item, None, [], f"extract_crashed:{exc.exitcode}"
        except Exception as exc:  # e.g. a result that cannot be pickled
            return item, None, [], f"extract_error:{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.pool.close()
        self.pool.join(timeout=30)
        self.pool.stop()
