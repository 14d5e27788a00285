"""Pipeline throughput against its physical ceiling (bare trafilatura on every core).

    .venv/bin/python benchmarks/throughput.py [--docs 2000] [--rss-docs 10000]
        [--workers 0] [--variants ceiling,files,urls,airflow,postgresql,rss,quality]
        [--wait-quiet 1.5 --max-wait 600] [--profile-docs 300] [--out FILE]

Corpus: the 181 pages of the article-extraction benchmark (read in place), replicated to
--docs documents in a temp folder. Every copy has its own file name, ~30 % of the words of
its text nodes replaced by other words of the same page (so exact and near dedup keep it:
3-token shingles of two copies overlap far below the 0.5 threshold), its canonical/og:url
links moved to a per-copy path (else exact dedup on canonical URL would drop it) and its
meta charset set to UTF-8 (the copy is written as UTF-8). The run summary shows how many
copies were loaded; loaded ≈ discovered × (share of the originals that pass validation).

Measurements (each with the load average before → after):
1. ceiling: trafilatura.bare_extraction (TRAFILATURA_OPTIONS, with_metadata=True) of the
   same files in a forkserver process pool of the same size; wall time from pool start to
   the last result. The worker reads the file (page cache) and decodes it; no validation,
   no dedup, no database.
2. files: `news-etl ingest` (a subprocess, wall time of the whole command) on a files source,
   fresh SQLite warehouse.
3. urls: the same pages through a urls source, served by a threaded HTTP server (separate
   process) on 16 ports of 127.0.0.1 (one politeness "host" per port), min_delay_s 0.
4. airflow: `airflow dags test news_ingest` on a temp AIRFLOW_HOME (migrated beforehand, not
   timed), SQLite warehouse; fixed overhead = the same with a one-document source.
5. postgresql: as 2 on a fresh PostgreSQL database.
6. rss: as 2 on --rss-docs documents, peak RSS of the whole process tree (psutil, 0.2 s).
7. quality: token-level P/R/F1 (lower-cased \\w+ bags) of the stored text vs articleBody on
   the 181 original pages: pipeline (CLI, files source) vs bare trafilatura, same options.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    BIN,
    REPO,
    TreeRssSampler,
    extraction_data_dir,
    fmt_load,
    load_average,
    markdown_table,
    wait_for_quiet,
)

PG_ADMIN_URL = os.environ.get("NEWS_ETL_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
N_PORTS = 16
ceiling_name = "ceiling: bare_extraction, process pool"
REPLACE_RATE = 0.30

# --- corpus --------------------------------------------------------------------------------

_SEGMENT = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)",
                      re.S | re.I)
_WORD = re.compile(r"[^\W\d_]{3,}")
_URL_ATTR = re.compile(r"""((?:href|content)\s*=\s*["'])(https?://[^"'\s>]+)""", re.I)
_CHARSET = re.compile(r"""charset\s*=\s*["']?[A-Za-z0-9_:.\-]+""", re.I)
_JSON_URL = re.compile(r'("(?:url|@id|mainEntityOfPage)"\s*:\s*")(https?://[^"]+)')


def load_pages() -> dict[str, tuple[bytes, str, str]]:
    """id → (raw bytes, ground-truth URL, articleBody)."""
    data = extraction_data_dir()
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {}
    for path in sorted((data / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        if key in truth:
            pages[key] = (gzip.decompress(path.read_bytes()), truth[key].get("url") or "",
                          truth[key].get("articleBody") or "")
    return pages


def _moved(url: str, copy: int) -> str:
    base, _, query = url.partition("?")
    return f"{base.rstrip('/')}/copy-{copy}" + (f"?{query}" if query else "")


def mutate(html: str, copy: int, rng: random.Random) -> str:
    """A distinct copy of a page: words replaced, canonical URLs moved, charset UTF-8."""
    parts = _SEGMENT.split(html)
    vocab = [w for part in parts[::2] for w in _WORD.findall(part)] or ["news"]

    def swap(match: re.Match[str]) -> str:
        return rng.choice(vocab) if rng.random() < REPLACE_RATE else match.group(0)

    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = _WORD.sub(swap, part)
            continue
        low = part[:40].lower()
        if low.startswith(("<link", "<meta")):
            if "canonical" in part or "og:url" in part or "twitter:url" in part:
                part = _URL_ATTR.sub(lambda m: m.group(1) + _moved(m.group(2), copy), part)
            parts[i] = _CHARSET.sub("charset=utf-8", part)
        elif low.startswith("<script") and "ld+json" in part[:200]:
            parts[i] = _JSON_URL.sub(lambda m: m.group(1) + _moved(m.group(2), copy), part)
    return "".join(parts)


def build_corpus(folder: Path, pages: dict[str, tuple[bytes, str, str]], n: int,
                 seed: int = 7) -> list[Path]:
    """n distinct copies, round-robin over the pages; file names sort in creation order."""
    from etl.decode import decode_html

    folder.mkdir(parents=True, exist_ok=True)
    decoded = [(key, decode_html(raw)) for key, (raw, _, _) in pages.items()]
    paths = []
    for i in range(n):
        key, html = decoded[i % len(decoded)]
        path = folder / f"{i:06d}_{key[:16]}.html"
        if not path.exists():
            copy = i // len(decoded)
            rng = random.Random(f"{seed}-{key}-{copy}")
            path.write_text(mutate(html, copy, rng), encoding="utf-8")
        paths.append(path)
    return paths


def subset(folder: Path, paths: list[Path]) -> Path:
    """A folder holding exactly `paths` (hard links: no copy, same page-cache pages)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        target = folder / path.name
        if not target.exists():
            os.link(path, target)
    return folder


# --- ceiling -------------------------------------------------------------------------------

def _ceiling_init() -> None:
    import trafilatura  # noqa: F401  (import time is paid at pool start, as in the pipeline)


def _ceiling_one(path: str) -> tuple[str, str | None]:
    import trafilatura

    from etl.decode import decode_html
    from etl.extract.settings import TRAFILATURA_OPTIONS

    html = decode_html(Path(path).read_bytes())
    doc = trafilatura.bare_extraction(html, url="file://" + path, with_metadata=True,
                                      **TRAFILATURA_OPTIONS)
    return path, (doc.as_dict().get("text") if doc is not None else None)


def run_ceiling(paths: list[Path], workers: int) -> tuple[float, dict[str, str | None]]:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    start = time.perf_counter()
    with ctx.Pool(workers, initializer=_ceiling_init) as pool:
        texts = dict(pool.imap_unordered(_ceiling_one, [str(p) for p in paths], chunksize=2))
    return time.perf_counter() - start, texts


# --- pipeline runs -------------------------------------------------------------------------

@dataclass
class Run:
    name: str
    docs: int
    wall_s: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    totals: dict[str, int] = field(default_factory=dict)
    peak_rss: int = 0
    peak_processes: int = 0
    command: str = ""
    note: str = ""


def _bench_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_ETL"))}
    env.update({
        "GX_ANALYTICS_ENABLED": "false",
        "NEWS_ETL_DATA_DOCS_DIR": str(tmp / "data-docs"),
        "NEWS_ETL_ARCHIVE_ROOT": str(tmp / "archive"),
        "NEWS_ETL_STAGING_DIR": str(tmp / "staging"),
    })
    env.update(extra)
    return env


def files_sources(path: Path, location: Path) -> Path:
    path.write_text(f"sources:\n  - name: bench\n    kind: files\n    location: {location}\n")
    return path


def urls_sources(path: Path, url_list: Path) -> Path:
    path.write_text(
        "http:\n  min_delay_s: 0\n  allow_hosts: ['127.0.0.1']\n  retries: 0\n"
        f"sources:\n  - name: bench\n    kind: urls\n    location: {url_list}\n")
    return path


def run_cli(name: str, sources: Path, warehouse: str, workers: int, batch_size: int,
            tmp: Path, docs: int, sample_rss: bool = False) -> Run:
    cmd = [str(BIN / "news-etl"), "ingest", str(sources), "--warehouse", warehouse,
           "--workers", str(workers), "--batch-size", str(batch_size), "--json"]
    env = _bench_env(tmp)
    before = load_average()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp)
    sampler = TreeRssSampler(proc.pid) if sample_rss else None
    if sampler:
        sampler.__enter__()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if sampler:
        sampler.__exit__(None, None, None)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: news-etl failed ({proc.returncode}):\n{err[-3000:]}")
    summary = json.loads(out[out.index("{"):])
    return Run(name, docs, wall, before, load_average(), summary["totals"],
               sampler.peak if sampler else 0, sampler.peak_processes if sampler else 0,
               _shell(cmd))


def _shell(cmd: list[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)


# --- HTTP server (its own process: its CPU is not the pipeline's, but shares the cores) ----

def serve(root: str, ports: list[int]) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=root)
    servers = [ThreadingHTTPServer(("127.0.0.1", port), handler) for port in ports]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin


def _free_ports(n: int) -> list[int]:
    import socket

    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class LocalSite:
    def __init__(self, root: Path) -> None:
        self.ports = _free_ports(N_PORTS)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", str(root), ",".join(map(str, self.ports))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def url_list(self, paths: list[Path], out: Path) -> Path:
        out.write_text("".join(f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/{p.name}\n"
                               for i, p in enumerate(paths)))
        return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# --- Airflow -------------------------------------------------------------------------------

def airflow_env(home: Path, sources: Path, warehouse: str) -> dict[str, str]:
    return _bench_env(home, **{
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO / "plugins"),
        "NEWS_ETL_SOURCES_FILE": str(sources),
        "NEWS_ETL_WAREHOUSE_URL": warehouse,
    })


def _airflow(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True,
                            text=True, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-3000:]}")
    return time.perf_counter() - start


def _run_totals(warehouse: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT SUM(discovered), SUM(loaded), SUM(duplicates), SUM(rejected), SUM(failed) "
            "FROM ingest_runs")).one()
    engine.dispose()
    return dict(zip(("discovered", "loaded", "duplicate", "rejected", "failed"),
                    (int(v or 0) for v in row), strict=True))


def run_airflow(tmp: Path, location: Path, tiny: Path, docs: int) -> tuple[Run, Run]:
    home = tmp / "airflow_home"
    home.mkdir()
    sources = files_sources(tmp / "airflow-sources.yml", location)
    tiny_sources = files_sources(tmp / "airflow-tiny.yml", tiny)
    env = airflow_env(home, sources, f"sqlite:///{tmp / 'airflow-wh.db'}")
    _airflow(env, "db", "migrate")
    _airflow(env, "pools", "set", "news_fetch", "4", "fetch concurrency")
    runs = []
    for name, src, n, db in (("airflow (1 doc)", tiny_sources, 1, "airflow-tiny.db"),
                             ("airflow", sources, docs, "airflow-wh.db")):
        wh = f"sqlite:///{tmp / db}"
        run_env = airflow_env(home, src, wh)
        before = load_average()
        wall = _airflow(run_env, "dags", "test", "news_ingest")
        run = Run(name, n, wall, before, load_average(), _run_totals(wh),
                  command=f"NEWS_ETL_SOURCES_FILE={src} NEWS_ETL_WAREHOUSE_URL={wh} "
                          f"AIRFLOW_HOME={home} airflow dags test news_ingest")
        runs.append(run)
    return runs[0], runs[1]


# --- PostgreSQL ----------------------------------------------------------------------------

def fresh_pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_tp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False)


def drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- quality -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def prf(predicted: str | None, truth: str) -> tuple[float, float, float]:
    got, want = Counter(_TOKEN.findall((predicted or "").lower())), Counter(
        _TOKEN.findall(truth.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, r = common / sum(got.values()), common / sum(want.values())
    return p, r, 2 * p * r / (p + r)


def stored_texts(warehouse: str) -> dict[str, str]:
    """file name → text: loaded rows, else the quarantined record (rejected by a rule)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse)
    texts: dict[str, str] = {}
    with engine.connect() as conn:
        for url, record in conn.execute(text("SELECT url, record FROM article_rejects")):
            data = json.loads(record) if isinstance(record, str) else record
            texts[url.rsplit("/", 1)[-1]] = (data or {}).get("text") or ""
        for url, body in conn.execute(text("SELECT url, text FROM articles")):
            texts[url.rsplit("/", 1)[-1]] = body
    engine.dispose()
    return texts


def mean_scores(pairs: list[tuple[str | None, str]]) -> tuple[float, float, float]:
    scores = [prf(p, t) for p, t in pairs]
    return tuple(sum(s[i] for s in scores) / len(scores) for i in range(3))  # type: ignore


def run_quality(tmp: Path, pages: dict[str, tuple[bytes, str, str]], workers: int,
                batch_size: int) -> list[list[object]]:
    folder = tmp / "originals"
    folder.mkdir()
    for key, (raw, _, _) in pages.items():
        (folder / f"{key}.html").write_bytes(raw)
    paths = sorted(folder.glob("*.html"))
    _, bare = run_ceiling(paths, workers)
    wh = f"sqlite:///{tmp / 'quality.db'}"
    run = run_cli("quality", files_sources(tmp / "quality.yml", folder), wh, workers,
                  batch_size, tmp, len(paths))
    stored = stored_texts(wh)
    truth = {f"{k}.html": body for k, (_, _, body) in pages.items()}
    bare_by_name = {Path(p).name: t for p, t in bare.items()}
    rows = []
    for label, texts in (("bare trafilatura (same options)", bare_by_name),
                         ("pipeline (news-etl ingest, stored text)", stored)):
        p, r, f = mean_scores([(texts.get(name), body) for name, body in truth.items()])
        covered = sum(1 for name in truth if texts.get(name))
        rows.append([label, len(truth), covered, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"])
    rows.append(["(pipeline run summary)", run.totals.get("discovered", 0),
                 f"loaded {run.totals.get('loaded', 0)}, rejected "
                 f"{run.totals.get('rejected', 0)}, failed {run.totals.get('failed', 0)}, "
                 f"duplicate {run.totals.get('duplicate', 0)}", "", "", ""])
    return rows


# --- profile -------------------------------------------------------------------------------

PROFILE_GROUPS = [
    ("trafilatura.bare_extraction", "trafilatura/core.py", "bare_extraction"),
    ("refine_metadata (etl.extract.metadata)", "etl/extract/metadata.py", "refine_metadata"),
    ("detect_language (py3langid)", "etl/extract/__init__.py", "detect_language"),
    ("canonical_url (courlan)", "etl/extract/__init__.py", "canonical_url"),
    ("decode_html", "etl/decode.py", "decode_html"),
    ("ValidateStage (GX per batch)", "etl/validate.py", "validate_batch"),
    ("GX context build (import, once)", "etl/validate.py", "get"),
    ("BatchLoader.load (dedup + write)", "etl/pipeline.py", "load"),
    ("  near-dup MinHash signature", "etl/dedup/minhash.py", "signature"),
    ("  write_batch (INSERT)", "etl/warehouse/load.py", "write_batch"),
    ("Data Docs (build_data_docs)", "etl/validate.py", "build_data_docs"),
    ("schema (ensure_schema / migrations)", "etl/warehouse/__init__.py", "ensure_schema"),
]


def run_profile(tmp: Path, location: Path, docs: int, batch_size: int) -> tuple[str, str]:
    """cProfile of the whole CLI with --workers 1 (extraction inline in the parent)."""
    import pstats

    out = tmp / "ingest.prof"
    wh = f"sqlite:///{tmp / 'profile.db'}"
    cmd = [str(BIN / "python"), "-m", "cProfile", "-o", str(out), str(BIN / "news-etl"),
           "ingest", str(files_sources(tmp / "profile.yml", location)), "--warehouse", wh,
           "--workers", "1", "--batch-size", str(batch_size), "--json"]
    before = load_average()
    start = time.perf_counter()
    subprocess.run(cmd, env=_bench_env(tmp), capture_output=True, check=True, cwd=tmp)
    wall = time.perf_counter() - start
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _, ct, _) in stats.values())
    rows = []
    for label, file_part, func in PROFILE_GROUPS:
        cum = sum(v[3] for (f, _, fn), v in stats.items()
                  if fn == func and f.endswith(file_part))
        rows.append([label, f"{cum:.1f}", f"{100 * cum / total:.1f} %"])
    table = markdown_table(["where (cumulative, parent process)", "s", "share"], rows)
    note = (f"{docs} documents, --workers 1, profiled wall {wall:.1f} s (cProfile total "
            f"{total:.1f} s), load {fmt_load(before)} → {fmt_load(load_average())}")
    return table, note + "\n\n`" + _shell(cmd) + "`"


# --- report --------------------------------------------------------------------------------

def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


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
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--paired", action="store_true",
                        help="measure the ceiling again right before each variant")
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

        def measure_ceiling() -> Run:
            before = load_average()
            wall, texts = run_ceiling(sorted(corpus.glob("*.html")), workers)
            run = Run("ceiling: bare_extraction, process pool", len(paths), wall, before,
                      load_average(), {"with text": sum(1 for t in texts.values() if t)},
                      command=f"{_shell([sys.executable, __file__])} (run_ceiling)")
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
            tiny = subset(tmp / "tiny", paths[:1])
            fixed, full = run_airflow(tmp, corpus, tiny, len(paths))
            runs += [fixed, full]
        if "rss" in variants:
            big = subset(tmp / "corpus-rss", all_paths[:args.rss_docs])
            runs.append(run_cli("files → SQLite, RSS run (CLI)", files_sources(
                tmp / "rss.yml", big), f"sqlite:///{tmp / 'rss.db'}", workers, args.batch_size,
                tmp, args.rss_docs, sample_rss=True))
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
            rows.append([run.name, run.docs, f"{run.wall_s:.1f}", f"{run.docs / run.wall_s:.1f}",
                         ratio, rss, f"{fmt_load(run.load_before)} → {fmt_load(run.load_after)}",
                         outcome])
        header = ["variant", "docs", "wall s", "docs/s", "ratio to ceiling",
                  "peak RSS (tree)", "load 1/5/15 min before → after", "outcome"]
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sections.append(
            f"Throughput, {workers} extraction workers on {os.cpu_count()} cores, "
            f"batch size {args.batch_size}, {stamp}. {waited}\n\n"
            + markdown_table(header, rows))
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
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], [int(p) for p in sys.argv[3].split(",")])
        sys.exit(0)
    sys.exit(main())
