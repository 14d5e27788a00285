"""The quarantine: validation rejects (`article_rejects`, stage validate) not yet resolved.

Each row keeps the extracted record, so a re-validation run (etl.pipeline.reruns) reads
them back as articles, runs the chain from validate, and marks the rows whose article
left quarantine with its run id (`resolved_run_id`), so none is loaded twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from etl.records import Article
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_rejects

_CHUNK = 500


@dataclass(slots=True)
class Quarantined:
    row_id: int
    article: Article


def read_quarantine(warehouse: Warehouse, sources: list[str] | None = None
                    ) -> dict[str, list[Quarantined]]:
    """Unresolved validation rejects by source (all sources, or those named), oldest
    first, rebuilt from their stored record."""
    query = select(article_rejects.c.id, article_rejects.c.source, article_rejects.c.record).where(
        article_rejects.c.stage == "validate", article_rejects.c.resolved_run_id.is_(None)
    ).order_by(article_rejects.c.id)
    if sources:
        query = query.where(article_rejects.c.source.in_(sources))
    by_source: dict[str, list[Quarantined]] = defaultdict(list)
    with warehouse.engine.connect() as conn:
        for row_id, source, record in conn.execute(query):
            data = record if isinstance(record, dict) else json.loads(record)
            by_source[source].append(Quarantined(row_id, Article.from_json(json.dumps(data))))
    return dict(by_source)


def mark_resolved(warehouse: Warehouse, row_ids: Iterable[int], run_id: str) -> None:
    """These rows left quarantine in run `run_id`."""
    ids = list(row_ids)
    with warehouse.begin() as conn:
        for i in range(0, len(ids), _CHUNK):
            conn.execute(update(article_rejects)
                         .where(article_rejects.c.id.in_(ids[i:i + _CHUNK]))
                         .values(resolved_run_id=run_id))
