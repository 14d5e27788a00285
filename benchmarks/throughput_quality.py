"""Extraction quality: token-level P/R/F1 (lower-cased \\w+ bags) of the stored text vs
articleBody on the original pages, pipeline (CLI, files source) vs bare trafilatura with
the same options."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from throughput_ceiling import run_ceiling
from throughput_corpus import Pages
from throughput_runs import files_sources, run_cli

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


def run_quality(tmp: Path, pages: Pages, workers: int, batch_size: int) -> list[list[object]]:
    """The rows of the quality table."""
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
