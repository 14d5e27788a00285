"""A warehouse after a real ingest of the seed files, plus a mirror source that republishes
one seed page (so story clusters and duplicates have rows), on SQLite or PostgreSQL.

The session fixture `seeded_warehouses` (tests/conftest.py) uses it: one ingest per
session and warehouse, shared by read-only tests (docs SQL, search, export)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MIRRORED = "harbour-ferry-en.html"  # the seed page the mirror source republishes


def seed_sources(folder: Path) -> Path:
    """sources.yml: the seed sources (absolute paths) and `mirror`, a copy of one page."""
    mirror = folder / "mirror"
    mirror.mkdir(parents=True)
    shutil.copyfile(SEEDS / "articles" / MIRRORED, mirror / f"copy-of-{MIRRORED}")
    path = folder / "sources.yml"
    path.write_text(
        "sources:\n"
        f"- {{name: 1scandal, kind: files, location: '{SEEDS / '000_aae610589fe5d917.txt'}',"
        " language: fr, boilerplate: ['^Que pensez-vous de cet article',"
        " '^Veuillez aider', '1scandal\\.com', '©']}\n"
        f"- {{name: newsroom-samples, kind: files, location: '{SEEDS / 'articles'}'}}\n"
        f"- {{name: mirror, kind: files, location: '{mirror}'}}\n")
    return path


def ingest_seeds(url: str, folder: Path) -> None:
    """Migrate the warehouse at `url` and load the seeds into it, as `news-etl ingest` does."""
    warehouse = Warehouse(url)
    # No Data Docs: no test of the seeded warehouse reads them.
    options = RunOptions(workers=1, archive_root=str(folder / "archive"), data_docs=False)
    summary = ingest(load_sources(seed_sources(folder)), warehouse, options=options)
    totals = summary.totals()
    assert (totals["loaded"], totals["duplicate"]) == (5, 1), totals
    warehouse.dispose()


@contextmanager
def seeded_warehouse_url(dialect: str, folder: Path, admin_url: str,
                         template: str | None) -> Iterator[str]:
    """The URL of a seeded warehouse (SQLite file in `folder`, or a PostgreSQL database
    copied from `template` and dropped afterwards)."""
    if dialect == "sqlite":
        url = f"sqlite:///{folder / 'warehouse.db'}"
        ingest_seeds(url, folder)
        yield url
        return
    name = f"news_etl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        ingest_seeds(url, folder)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
