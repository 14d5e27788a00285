"""`news-etl report`: a run's accounting and its top reject and failure reasons per source."""

from __future__ import annotations

import json
import sys
from collections import Counter

from sqlalchemy import func, select

from etl.reasons import sentences_of, summarise
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_failures, article_rejects, ingest_runs


def print_report(warehouse: Warehouse, run_id: str | None = None, out=None) -> int:
    """Print one run's counts per source and its most common reasons. Returns an exit code."""
    out = out or sys.stdout
    warehouse.ensure_schema()
    with warehouse.engine.connect() as conn:
        if run_id is None:
            run_id = conn.execute(
                select(ingest_runs.c.run_id).order_by(ingest_runs.c.started_at.desc()).limit(1)
            ).scalar()
            if run_id is None:
                print("no runs recorded yet", file=out)
                return 1
        runs = conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)
            .order_by(ingest_runs.c.source)
        ).mappings().all()
        if not runs:
            print(f"no run {run_id!r}", file=out)
            return 1
        rejects = conn.execute(
            select(article_rejects.c.source, article_rejects.c.reasons, article_rejects.c.detail)
            .where(article_rejects.c.run_id == run_id)
        ).all()
        failures = conn.execute(
            select(article_failures.c.source, article_failures.c.reason,
                   article_failures.c.detail, func.count())
            .where(article_failures.c.run_id == run_id)
            .group_by(article_failures.c.source, article_failures.c.reason,
                      article_failures.c.detail)
        ).all()
    print(f"Run {run_id}", file=out)
    columns = ("discovered", "loaded", "duplicates", "rejected", "failed", "not_modified")
    print(f"{'source':<20}" + "".join(f"{c:>13}" for c in columns) + "  status", file=out)
    for run in runs:
        total = sum(run[c] for c in columns[1:])
        check = "" if total == run["discovered"] else "  (!) counts do not add up"
        print(f"{run['source']:<20}" + "".join(f"{run[c]:>13}" for c in columns)
              + f"  {run['status']}{check}", file=out)
        if run["error"]:
            print(f"    error: {run['error']}", file=out)
        # Each reason as a sentence (etl.reasons), then its expectation name.
        reasons: Counter[str] = Counter()
        said: dict[str, list[str]] = {}
        for source, value, detail in rejects:
            if source == run["source"]:
                names = value if isinstance(value, list) else json.loads(value)
                reasons.update(names)
                for name, sentence in zip(names, sentences_of(names, detail), strict=True):
                    said.setdefault(name, []).append(sentence)
        for reason, count in reasons.most_common(5):
            print(f"    rejected {count:>6}  {summarise(reason, said[reason])}  [{reason}]",
                  file=out)
        # Each failure reason with its most common detail (what happened, how to fix it).
        failed: Counter[str] = Counter()
        details: dict[str, Counter[str]] = {}
        for source, reason, detail, count in failures:
            if source == run["source"]:
                failed[reason] += count
                details.setdefault(reason, Counter())[detail or ""] += count
        for reason, count in failed.most_common():
            example = details[reason].most_common(1)[0][0][:300]
            print(f"    failed   {count:>6}  {reason}" + (f": {example}" if example else ""),
                  file=out)
        if run["report_path"]:
            print(f"    data docs: {run['report_path']}", file=out)
    return 0
