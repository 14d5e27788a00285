"""Helpers shared by the benchmark scripts: load average, process-tree RSS, markdown tables.

The machine these benchmarks run on is often shared, so every timing is recorded next to
the load average it was taken under (os.getloadavg(): 1, 5 and 15 minutes).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
DEFAULT_EXTRACTION_DATA = REPO.parent / "shared/data/article-extraction-benchmark"


def extraction_data_dir() -> Path:
    """The article-extraction benchmark, read in place (never copied into the repo)."""
    return Path(os.environ.get("NEWS_ETL_BENCH_DATA_EXTRACTION", DEFAULT_EXTRACTION_DATA))


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def fmt_load(load: Sequence[float]) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def wait_for_quiet(threshold: float, max_wait_s: float, poll_s: float = 15.0,
                   settle_polls: int = 2) -> tuple[float, float]:
    """Wait until the 1-minute load stays below `threshold` for `settle_polls` polls.

    Returns (seconds waited, load at the end). Gives up after `max_wait_s`: the figures
    are then taken anyway, with the load they were taken under recorded next to them.
    """
    start = time.monotonic()
    quiet = 0
    while time.monotonic() - start < max_wait_s:
        if os.getloadavg()[0] < threshold:
            quiet += 1
            if quiet >= settle_polls:
                break
        else:
            quiet = 0
        time.sleep(poll_s)
    return time.monotonic() - start, os.getloadavg()[0]


class TreeRssSampler:
    """Samples the summed RSS of a process and all its descendants in a thread.

    RSS summed over processes counts shared pages (libraries, copy-on-write) once per
    process, so this is an upper bound of the real footprint.
    """

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:  # a worker recycled between listing and reading
                continue
        if total > self.peak:
            self.peak, self.peak_processes = total, len(procs)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def publish_report(report: str, out: Path | None) -> None:
    """Print a benchmark's markdown report, and write it to `out` (run_all.py reads it there)."""
    print(report)
    if out:
        out.write_text(report.rstrip("\n") + "\n", encoding="utf-8")
