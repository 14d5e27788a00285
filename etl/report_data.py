"""What a run report shows, read from the warehouse tables: one run's counts per source
(ingest_runs), its reject and failure reasons (article_rejects, article_failures), the last
runs' totals, and the near-duplicate clusters it found (article_duplicates, articles).

Portable SQL (SQLite and PostgreSQL); the grouping that differs between dialects (JSON
reason lists, string aggregation) is done here in Python on bounded result sets.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from etl.records import OUTCOME_COLUMNS
from etl.warehouse import Warehouse
from etl.warehouse.schema import (
    article_duplicates,
    article_failures,
    article_rejects,
    articles,
    ingest_runs,
)

OUTCOMES: tuple[str, ...] = tuple(OUTCOME_COLUMNS.values())  # ingest_runs columns
DEFAULT_HISTORY = 20  # runs in the time series
MAX_REASONS = 10  # per source and kind
MAX_DETAIL = 300  # characters of a failure's detail shown
MAX_CLUSTERS = 25
SEPARATOR = "; "  # between the sentences of a reject's detail (as etl.reasons writes them)
MAX_DUPLICATE_ROWS = 5000  # read at most this many duplicate rows of one run


@dataclass
class SourceView:
    source: str
    status: str
    discovered: int
    counts: dict[str, int]
    error: str | None = None
    report_path: str | None = None
    # (stage, items received, items forwarded) in pipeline order, from ingest_runs.stage_stats
    stages: list[tuple[str, int, int]] = field(default_factory=list)
    # (reason, items, the most common detail: a sentence with one item's own values)
    reject_reasons: list[tuple[str, int, str | None]] = field(default_factory=list)
    failure_reasons: list[tuple[str, int, str | None]] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.status == "running" or self.discovered == sum(self.counts.values())


class Reasons:
    """Counts per reason, and per reason the most common detail."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.details: dict[str, Counter[str]] = {}

    def add(self, reason: str, count: int, detail: str | None) -> None:
        self.counts[reason] += count
        if detail:
            self.details.setdefault(reason, Counter())[detail[:MAX_DETAIL]] += count

    def top(self) -> list[tuple[str, int, str | None]]:
        return [(reason, count, self.details[reason].most_common(1)[0][0]
                 if reason in self.details else None)
                for reason, count in self.counts.most_common(MAX_REASONS)]


@dataclass
class RunPoint:
    """One run's totals over its sources, for the time series."""

    run_id: str
    started_at: datetime | None
    counts: dict[str, int]


@dataclass
class Member:
    source: str
    url: str
    title: str | None
    kind: str
    similarity: float | None


@dataclass
class Cluster:
    cluster_id: str
    title: str | None  # of the kept article
    kept_source: str | None
    members: list[Member]


@dataclass
class RunView:
    run_id: str
    started_at: datetime | None
    finished_at: datetime | None
    sources: list[SourceView]
    history: list[RunPoint]  # oldest first, this run included
    clusters: list[Cluster]
    more_clusters: int = 0  # clusters beyond MAX_CLUSTERS

    def totals(self) -> dict[str, int]:
        return {c: sum(s.counts[c] for s in self.sources) for c in OUTCOMES}


def _reason_names(value: Any) -> list[str]:
    return value if isinstance(value, list) else json.loads(value)


def _stages(value: Any) -> list[tuple[str, int, int]]:
    """The items in and out of each stage (stage_stats is JSON: a list or its text)."""
    stats = json.loads(value) if isinstance(value, str) else value or []
    return [(str(s.get("stage")), int(s.get("received") or 0), int(s.get("forwarded") or 0))
            for s in stats if isinstance(s, dict) and s.get("stage")]


def _history(conn, run_id: str, started: datetime | None, limit: int) -> list[RunPoint]:
    """The `limit` runs up to this one (the report of an old run shows its past)."""
    first = func.min(ingest_runs.c.started_at).label("started")
    query = (select(ingest_runs.c.run_id, first,
                    *(func.sum(ingest_runs.c[c]).label(c) for c in OUTCOMES))
             .group_by(ingest_runs.c.run_id).order_by(first.desc(), ingest_runs.c.run_id.desc())
             .limit(limit))
    if started is not None:
        query = query.having(func.min(ingest_runs.c.started_at) <= started)
    rows = conn.execute(query).mappings().all()
    return [RunPoint(r["run_id"], r["started"], {c: int(r[c] or 0) for c in OUTCOMES})
            for r in reversed(rows)]


def _clusters(conn, run_id: str) -> tuple[list[Cluster], int]:
    """The stories that gained a near-duplicate in this run, largest first."""
    rows = conn.execute(
        select(article_duplicates.c.cluster_id, article_duplicates.c.duplicate_of,
               article_duplicates.c.source, article_duplicates.c.url,
               article_duplicates.c.title, article_duplicates.c.kind,
               article_duplicates.c.similarity)
        .where(article_duplicates.c.run_id == run_id)
        .order_by(article_duplicates.c.id).limit(MAX_DUPLICATE_ROWS)
    ).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.cluster_id or row.duplicate_of, []).append(row)
    near = {key: members for key, members in grouped.items()
            if any(m.kind == "near" for m in members)}
    ranked = sorted(near, key=lambda k: (-len(near[k]), k))
    shown = ranked[:MAX_CLUSTERS]
    kept_ids = {near[k][0].duplicate_of for k in shown} | set(shown)
    kept = {r.article_id: r for r in conn.execute(
        select(articles.c.article_id, articles.c.title, articles.c.source)
        .where(articles.c.article_id.in_(sorted(kept_ids))))} if kept_ids else {}
    clusters = []
    for key in shown:
        head = kept.get(key) or kept.get(near[key][0].duplicate_of)
        clusters.append(Cluster(
            cluster_id=key, title=head.title if head else None,
            kept_source=head.source if head else None,
            members=[Member(m.source, m.url, m.title, m.kind, m.similarity)
                     for m in near[key]]))
    return clusters, len(ranked) - len(shown)


def load_run_view(warehouse: Warehouse, run_id: str | None = None,
                  history: int = DEFAULT_HISTORY) -> RunView | None:
    """The report's data for `run_id` (default: the latest run); None when there is none."""
    warehouse.ensure_schema()
    with warehouse.engine.connect() as conn:
        if run_id is None:
            run_id = conn.execute(
                select(ingest_runs.c.run_id)
                .order_by(ingest_runs.c.started_at.desc(), ingest_runs.c.run_id.desc()).limit(1)
            ).scalar()
            if run_id is None:
                return None
        runs = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                            .order_by(ingest_runs.c.source)).mappings().all()
        if not runs:
            return None
        rejects: dict[str, Reasons] = {}
        for source, value, detail in conn.execute(
                select(article_rejects.c.source, article_rejects.c.reasons,
                       article_rejects.c.detail)
                .where(article_rejects.c.run_id == run_id)):
            names = _reason_names(value)
            # `detail` holds one sentence per reason, in order, joined by "; " (when it
            # does not, the names are shown alone).
            said = (detail or "").split(SEPARATOR)
            for i, name in enumerate(names):
                sentence = said[i] if len(said) == len(names) else None
                rejects.setdefault(source, Reasons()).add(name, 1, sentence)
        failures: dict[str, Reasons] = {}
        for source, reason, detail, count in conn.execute(
                select(article_failures.c.source, article_failures.c.reason,
                       article_failures.c.detail, func.count())
                .where(article_failures.c.run_id == run_id)
                .group_by(article_failures.c.source, article_failures.c.reason,
                          article_failures.c.detail)):
            failures.setdefault(source, Reasons()).add(reason, count, detail)
        started = min((r["started_at"] for r in runs if r["started_at"]), default=None)
        finished = max((r["finished_at"] for r in runs if r["finished_at"]), default=None)
        points = _history(conn, run_id, started, max(1, history))
        clusters, more = _clusters(conn, run_id)
    sources = [SourceView(
        source=r["source"], status=r["status"], discovered=r["discovered"],
        counts={c: int(r[c] or 0) for c in OUTCOMES}, error=r["error"],
        report_path=r["report_path"], stages=_stages(r["stage_stats"]),
        reject_reasons=rejects.get(r["source"], Reasons()).top(),
        failure_reasons=failures.get(r["source"], Reasons()).top(),
    ) for r in runs]
    return RunView(run_id, started, finished, sources, points, clusters, more)
