"""Pipeline throughput against its physical ceiling (bare trafilatura on every core).

    .venv/bin/python benchmarks/throughput.py [--docs 2000] [--rss-docs 10000]
        [--workers 0] [--variants ceiling,files,urls,airflow,postgresql,rss,quality]
        [--wait-quiet 1.5 --max-wait 600] [--settle-s 60] [--profile-docs 300] [--out FILE]

Corpus: the 181 pages of the article-extraction benchmark (read in place), replicated to
--docs documents in a temp folder. Every copy has its own file name, ~30 % of the words of
its text nodes replaced by other words of the same page (so exact and near dedup keep it:
3-token shingles of two copies overlap far below the 0.5 threshold), its canonical/og:url
links moved to a per-copy path (else exact dedup on canonical URL would drop it) and its
meta charset set to UTF-8 (the copy is written as UTF-8). The run summary shows how many
copies were loaded; loaded ≈ discovered × (share of the originals that pass validation).

Measurements (each with the load average before → after). Before each one the script waits
up to --settle-s seconds for the 1-minute load to fall below the core count (the tail of
the run before it); a run that still starts above it is marked: other work was running.
1. ceiling: trafilatura.bare_extraction (TRAFILATURA_OPTIONS, with_metadata=True) of the
   same files in a forkserver process pool of the same size; wall time from pool start to
   the last result. The worker reads the file (page cache) and decodes it; no validation,
   no dedup, no database.
2. files: `news-etl ingest` (a subprocess, wall time of the whole command) on a files source,
   fresh SQLite warehouse.
3. urls: the same pages through a urls source, served by a threaded HTTP server (separate
   process) on 16 ports of 127.0.0.1, min_delay_s 0. The ports are one politeness host
   (the limiter keys on the host name, not the port), so at most http.max_per_host (2)
   requests are in flight at once.
4. airflow: `airflow dags test news_ingest` on a temp AIRFLOW_HOME (migrated beforehand, not
   timed), SQLite warehouse; fixed overhead = the same with a one-document source.
5. postgresql: as 2 on a fresh PostgreSQL database.
6. rss: as 2 on --rss-docs documents, peak RSS of the whole process tree (psutil, 0.2 s).
7. quality: token-level P/R/F1 (lower-cased \\w+ bags) of the stored text vs articleBody on
   the 181 original pages: pipeline (CLI, files source) vs bare trafilatura, same options.

The parts: throughput_corpus.py (the copies), throughput_ceiling.py, throughput_runs.py
(CLI runs, PostgreSQL), throughput_site.py (the local HTTP server), throughput_airflow.py,
throughput_quality.py, throughput_profile.py; this script runs them and writes the report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import fmt_load, load_average, markdown_table, publish_report, wait_for_quiet
from throughput_airflow import run_airflow
from throughput_ceiling import run_ceiling
from throughput_corpus import build_corpus, load_pages, subset
from throughput_profile import run_profile
from throughput_quality import run_quality
from throughput_runs import (
    Run,
    drop_pg_database,
    files_sources,
    fresh_pg_database,
    run_cli,
    shell,
    urls_sources,
)
from throughput_site import LocalSite

ceiling_name = "ceiling: bare_extraction, process pool"


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def results_table(runs: list[Run], ceiling: Run | None) -> str:
    """One row per run; each ratio uses the latest ceiling measured before that run."""
    rows = []
    for run in runs:
        if run.name == ceiling_name:
            ceiling = run
        ratio = "" if ceiling is None or run is ceiling or run.docs != ceiling.docs else \
            f"{run.wall_s / ceiling.wall_s:.2f}"
        if run.name.startswith("files → SQLite, RSS") and ceiling is not None:
            # the ceiling rate scaled to this run's size (per-document cost is flat)
            ratio = f"{run.wall_s / (ceiling.wall_s * run.docs / ceiling.docs):.2f} (scaled)"
        t = run.totals
        outcome = ", ".join(f"{k} {v}" for k, v in t.items() if v and k != "not_modified")
        rss = f"{_mb(run.peak_rss)} ({run.peak_processes} proc)" if run.peak_rss else ""
        load = f"{fmt_load(run.load_before)} → {fmt_load(run.load_after)}"
        # The load after a run is mostly the run's own processes; the load before it, once
        # the script has waited for the previous run's tail to fall (settle), is others'.
        if run.load_before[0] > (os.cpu_count() or 1):
            load += " **(started at a load above the core count: other work was running)**"
        rows.append([run.name, run.docs, f"{run.wall_s:.1f}", f"{run.docs / run.wall_s:.1f}",
                     ratio, rss, load, outcome])
    header = ["variant", "docs", "wall s", "docs/s", "ratio to ceiling",
              "peak RSS (tree)", "load 1/5/15 min before → after", "outcome"]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rss-docs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=0, help="0 = one per core")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--variants", default="ceiling,files,urls,airflow,postgresql,rss,"
                                               "quality,profile")
    parser.add_argument("--profile-docs", type=int, default=300)
    parser.add_argument("--wait-quiet", type=float, default=0.0,
                        help="before the runs, wait until the 1-min load is below this")
    parser.add_argument("--max-wait", type=float, default=600.0)
    parser.add_argument("--settle-s", type=float, default=60.0,
                        help="before each run, wait up to this long for the 1-min load to "
                             "fall below the core count (0: do not wait)")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--paired", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the ceiling again right before each variant (default; "
                             "--no-paired measures it once)")
    args = parser.parse_args(argv)
    variants = set(args.variants.split(","))
    workers = args.workers or os.cpu_count() or 1

    waited = ""
    if args.wait_quiet:
        secs, load = wait_for_quiet(args.wait_quiet, args.max_wait)
        waited = f"waited {secs:.0f} s for 1-min load < {args.wait_quiet} (reached {load:.2f})"

    tmp = Path(tempfile.mkdtemp(prefix="news-etl-throughput-"))
    pages = load_pages()
    runs: list[Run] = []
    sections: list[str] = []
    try:
        need = max(args.docs, args.rss_docs if "rss" in variants else 0)
        all_paths = build_corpus(tmp / "corpus-all", pages, need)
        paths = all_paths[:args.docs]
        corpus = subset(tmp / "corpus", paths)
        ceiling = None

        def settle() -> None:
            if args.settle_s > 0:
                wait_for_quiet(os.cpu_count() or 1, args.settle_s, poll_s=2, settle_polls=1)

        def measure_ceiling() -> Run:
            settle()
            before = load_average()
            wall, texts = run_ceiling(sorted(corpus.glob("*.html")), workers)
            run = Run(ceiling_name, len(paths), wall, before,
                      load_average(), {"with text": sum(1 for t in texts.values() if t)},
                      command=f"{shell([sys.executable, __file__])} (run_ceiling)")
            runs.append(run)
            return run

        if "ceiling" in variants:
            ceiling = measure_ceiling()

        def paired() -> None:
            # Load on a shared machine drifts within minutes: with --paired, each variant
            # gets its own ceiling measured just before it, and its ratio uses that one.
            nonlocal ceiling
            if args.paired and runs and runs[-1].name != ceiling_name:
                ceiling = measure_ceiling()
            settle()
        if "files" in variants:
            paired()
            runs.append(run_cli("files → SQLite (CLI)", files_sources(tmp / "files.yml",
                                corpus), f"sqlite:///{tmp / 'files.db'}", workers,
                                args.batch_size, tmp, len(paths), sample_rss=True))
        if "urls" in variants:
            paired()
            site = LocalSite(corpus)
            try:
                url_list = site.url_list(paths, tmp / "urls.txt")
                runs.append(run_cli("urls (local HTTP, 16 hosts) → SQLite (CLI)",
                                    urls_sources(tmp / "urls.yml", url_list),
                                    f"sqlite:///{tmp / 'urls.db'}", workers, args.batch_size,
                                    tmp, len(paths), sample_rss=True))
            finally:
                site.close()
        if "postgresql" in variants:
            paired()
            name, url = fresh_pg_database()
            try:
                runs.append(run_cli("files → PostgreSQL (CLI)", files_sources(
                    tmp / "pg.yml", corpus), url, workers, args.batch_size, tmp, len(paths),
                    sample_rss=True))
                runs[-1].command = runs[-1].command.replace(url, "postgresql+psycopg://"
                                                            "postgres@127.0.0.1:5432/<fresh db>")
            finally:
                drop_pg_database(name)
        if "airflow" in variants:
            paired()
            tiny = subset(tmp / "tiny", paths[:1])
            fixed, full = run_airflow(tmp, corpus, tiny, len(paths))
            runs += [fixed, full]
        if "rss" in variants:
            paired()
            big = subset(tmp / "corpus-rss", all_paths[:args.rss_docs])
            runs.append(run_cli("files → SQLite, RSS run (CLI)", files_sources(
                tmp / "rss.yml", big), f"sqlite:///{tmp / 'rss.db'}", workers, args.batch_size,
                tmp, args.rss_docs, sample_rss=True))
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sections.append(
            f"Throughput, {workers} extraction workers on {os.cpu_count()} cores, "
            f"batch size {args.batch_size}, {stamp}. {waited}\n\n"
            + results_table(runs, ceiling))
        if any(r.name.startswith("airflow (1") for r in runs):
            fixed = next(r for r in runs if r.name.startswith("airflow (1"))
            sections.append(f"Airflow fixed overhead (one-document source, whole `dags test`): "
                            f"{fixed.wall_s:.1f} s.")
        sections.append("Commands:\n\n" + "\n".join(
            f"- {r.name}: `{r.command}`" for r in runs))
        if "quality" in variants:
            before = load_average()
            qrows = run_quality(tmp, pages, workers, args.batch_size)
            sections.append(
                "Extraction quality on the 181 original pages (token bags of lower-cased \\w+, "
                "mean per page, a missing text scores 0; rejected pages are scored on their "
                f"quarantined text), load {fmt_load(before)}:\n\n" + markdown_table(
                    ["extractor", "pages", "with text", "precision", "recall", "F1"], qrows))
        if "profile" in variants:
            prof_dir = subset(tmp / "corpus-profile", paths[:args.profile_docs])
            table, note = run_profile(tmp, prof_dir, args.profile_docs, args.batch_size)
            sections.append("cProfile of `news-etl ingest --workers 1` (parent does all the "
                            f"work): {note}\n\n{table}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)
    report = "\n\n".join(sections)
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
