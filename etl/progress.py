"""Progress for long work: a bar in a terminal, periodic counts in logs otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def progress(
    items: Iterable[T], desc: str, *, total: int | None = None, every_s: float = 30.0
) -> Iterator[T]:
    """Yield items unchanged while reporting progress.

    A tqdm bar when stderr is a terminal (the CLI); else a log line every `every_s`
    seconds and at the end (Airflow task logs, CI), so long runs show they are alive.
    """
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, desc=desc, total=total, unit="doc", leave=False)
        return
    count = 0
    started = last = time.monotonic()
    for item in items:
        count += 1
        now = time.monotonic()
        if now - last >= every_s:
            rate = count / (now - started)
            log.info("%s: %d items so far (%.1f/s)", desc, count, rate)
            last = now
        yield item
    elapsed = time.monotonic() - started
    log.info("%s: %d items in %.1fs", desc, count, elapsed)
