"""The raw-page archive's compression: CPU per page and archive size, by zlib level.

    .venv/bin/python benchmarks/warc_compression.py [--rounds 3] [--out FILE]

Every page of the article-extraction benchmark (real news pages, read in place) is stored
as a WARC response record through etl.fetch.archive.WarcArchive at each level, the way a
fetch stores it; level 9 is what warcio's own gzip writer uses, 6 the archive's default.
CPU time of the storing process (time.process_time), best of --rounds.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import extraction_data_dir, publish_report

from etl.fetch.archive import COMPRESSION_LEVEL, WarcArchive

HEADERS = {"Content-Type": "text/html; charset=utf-8"}
FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def store_all(pages: list[bytes], level: int, folder: Path) -> tuple[float, int]:
    """(CPU seconds, archive bytes) of storing every page at `level`."""
    store = WarcArchive(f"level-{level}", "bench", root=str(folder), now=FETCHED, level=level)
    started = time.process_time()
    for i, body in enumerate(pages):
        store.store(f"https://bench.example/{i}.html", 200, HEADERS, body, FETCHED)
    store.close()
    seconds = time.process_time() - started
    return seconds, Path(store.path).stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    pages = [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
             for p in sorted((extraction_data_dir() / "html").glob("*.htm*"))]
    raw = sum(map(len, pages))
    rows = []
    for level in (1, 6, 9):
        runs = []
        for round_ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(store_all(pages, level, Path(tmp) / str(round_)))
        seconds, size = min(runs)
        rows.append((level, seconds, size))
    base_seconds, base_size = next((s, b) for lvl, s, b in rows if lvl == 9)
    lines = [f"Command: `.venv/bin/python benchmarks/warc_compression.py --rounds {args.rounds}`",
             "", f"{len(pages)} pages of the article-extraction benchmark, {raw / 1e6:.1f} MB "
             f"(mean {raw / len(pages) / 1e3:.0f} KB); CPU best of {args.rounds} rounds.", "",
             "| zlib level | CPU per page (ms) | archive size / pages | CPU vs level 9 | "
             "size vs level 9 |", "|---|---:|---:|---:|---:|"]
    for level, seconds, size in rows:
        label = f"{level}" + (" (the archive's)" if level == COMPRESSION_LEVEL else "") + (
            " (warcio's own)" if level == 9 else "")
        lines.append(f"| {label} | {seconds * 1000 / len(pages):.2f} | {size / raw:.3f} | "
                     f"{seconds / base_seconds:.2f} | {size / base_size:.3f} |")
    report = "\n".join(lines)
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
