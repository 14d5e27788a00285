"""Where the time goes: cProfile of the whole CLI with --workers 1 (extraction inline in
the parent), cumulative time per pipeline part."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from _common import BIN, fmt_load, load_average, markdown_table
from throughput_runs import bench_env, files_sources, shell

# (label, part of the file path, function name): cumulative time of that function there
PROFILE_GROUPS = [
    ("trafilatura.load_html (the page's one parse)", "trafilatura/utils.py", "load_html"),
    ("trafilatura.bare_extraction", "trafilatura/core.py", "bare_extraction"),
    ("read_facts (metadata rules: the page's facts)", "etl/extract/metadata", "read_facts"),
    ("refine_metadata (metadata rules: the choices)", "etl/extract/metadata", "refine_metadata"),
    ("detect_language (py3langid)", "etl/extract/document.py", "detect_language"),
    ("canonical_url (courlan)", "etl/extract/canonical_link.py", "canonical_url"),
    ("decode_html", "etl/decode.py", "decode_html"),
    ("ValidateStage (GX per batch)", "etl/validate.py", "validate_batch"),
    ("GX context build (import, once)", "etl/validate.py", "get"),
    ("BatchLoader.load (dedup + write)", "etl/pipeline/loader.py", "load"),
    ("  near-dup MinHash signature", "etl/dedup/minhash.py", "signature"),
    ("  write_batch (INSERT)", "etl/warehouse/load.py", "write_batch"),
    ("Data Docs (build_data_docs)", "etl/data_docs.py", "build_data_docs"),
    ("schema (ensure_schema / migrations)", "etl/warehouse/__init__.py", "ensure_schema"),
]


def run_profile(tmp: Path, location: Path, docs: int, batch_size: int) -> tuple[str, str]:
    """(the table, a note with the run's size, wall time, load and command)."""
    import pstats

    out = tmp / "ingest.prof"
    wh = f"sqlite:///{tmp / 'profile.db'}"
    cmd = [str(BIN / "python"), "-m", "cProfile", "-o", str(out), str(BIN / "news-etl"),
           "ingest", str(files_sources(tmp / "profile.yml", location)), "--warehouse", wh,
           "--workers", "1", "--batch-size", str(batch_size), "--json"]
    before = load_average()
    start = time.perf_counter()
    subprocess.run(cmd, env=bench_env(tmp), capture_output=True, check=True, cwd=tmp)
    wall = time.perf_counter() - start
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _, ct, _) in stats.values())
    rows = []
    for label, file_part, func in PROFILE_GROUPS:
        cum = sum(v[3] for (f, _, fn), v in stats.items()
                  if fn == func and file_part in f)
        rows.append([label, f"{cum:.1f}", f"{100 * cum / total:.1f} %"])
    table = markdown_table(["where (cumulative, parent process)", "s", "share"], rows)
    note = (f"{docs} documents, --workers 1, profiled wall {wall:.1f} s (cProfile total "
            f"{total:.1f} s), load {fmt_load(before)} → {fmt_load(load_average())}")
    return table, note + "\n\n`" + shell(cmd) + "`"
