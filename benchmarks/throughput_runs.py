"""One measured pipeline run (`Run`) and the CLI variants: `news-etl ingest` as a
subprocess on a files or urls source, into SQLite or a fresh PostgreSQL database, with
the peak RSS of its process tree."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from _common import BIN, TreeRssSampler, load_average

PG_ADMIN_URL = os.environ.get("NEWS_ETL_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


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


def shell(cmd: list[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)


def bench_env(tmp: Path, **extra: str) -> dict[str, str]:
    """This process's environment without Airflow/news-etl settings, writing under `tmp`."""
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
    env = bench_env(tmp)
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
               shell(cmd))


def fresh_pg_database() -> tuple[str, str]:
    """(name, URL) of a new, empty PostgreSQL database."""
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
