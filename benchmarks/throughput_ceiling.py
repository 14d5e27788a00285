"""The physical ceiling: trafilatura.bare_extraction of the same files in a forkserver
process pool of the pipeline's size; no validation, no dedup, no database."""

from __future__ import annotations

import time
from pathlib import Path


def _init_worker() -> None:
    import trafilatura  # noqa: F401  (import time is paid at pool start, as in the pipeline)


def _extract_one(path: str) -> tuple[str, str | None]:
    import trafilatura

    from etl.decode import decode_html
    from etl.extract.settings import TRAFILATURA_OPTIONS

    html = decode_html(Path(path).read_bytes())
    doc = trafilatura.bare_extraction(html, url="file://" + path, with_metadata=True,
                                      **TRAFILATURA_OPTIONS)
    return path, (doc.as_dict().get("text") if doc is not None else None)


def run_ceiling(paths: list[Path], workers: int) -> tuple[float, dict[str, str | None]]:
    """(wall seconds from pool start to the last result, path → extracted text)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    start = time.perf_counter()
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        texts = dict(pool.imap_unordered(_extract_one, [str(p) for p in paths], chunksize=2))
    return time.perf_counter() - start, texts
