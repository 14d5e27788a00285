"""`benchmarks/metadata.py --via-cli`: the pages through the real `news-etl ingest`.

The pages are written to a temporary `files` source, ingested into a temporary SQLite
warehouse, and the stored `articles` rows are read back for scoring.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metadata_sets import Page, parse_dt, read_raw

REPO = Path(__file__).resolve().parents[1]


def _as_utc(dt: datetime | None) -> datetime | None:
    """The warehouse stores naive UTC timestamps."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def extract_via_cli(pages: list[Page]) -> dict[str, dict[str, Any]]:
    """{page id: stored fields} of the pages run through `news-etl ingest`."""
    cli = REPO / ".venv/bin/news-etl"
    if not cli.exists():
        raise RuntimeError(f"{cli} does not exist")
    with tempfile.TemporaryDirectory(prefix="news-etl-bench-") as tmp:
        tmp_path = Path(tmp)
        folder = tmp_path / "pages"
        folder.mkdir()
        by_url: dict[str, str] = {}
        for page in pages:
            path = folder / f"{page.id}.html"
            path.write_bytes(read_raw(page))
            by_url[f"file://{path.absolute()}"] = page.id
            by_url[f"file://{path.resolve()}"] = page.id
        sources = tmp_path / "sources.yml"
        sources.write_text(
            "sources:\n"
            "  - name: metadata-benchmark\n"
            "    kind: files\n"
            f"    location: {json.dumps(str(folder))}\n"
            "    min_words: 0\n",
            encoding="utf-8",
        )
        db = tmp_path / "warehouse.sqlite"
        proc = subprocess.run(
            [str(cli), "ingest", str(sources), "--warehouse", f"sqlite:///{db}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=1800,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"news-etl ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
        con = sqlite3.connect(db)
        try:
            rows = con.execute("SELECT url, title, author, published_at, text FROM articles"
                               ).fetchall()
        finally:
            con.close()
    preds: dict[str, dict[str, Any]] = {}
    for url, title, author, published_at, text in rows:
        page_id = by_url.get(url)
        if page_id is not None:
            preds[page_id] = {"text": text, "title": title, "author": author,
                              "date": _as_utc(parse_dt(published_at))}
    return preds
