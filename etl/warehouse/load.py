"""Writing to the warehouse: batches of articles and outcomes, run records, GX results.

Every write is an INSERT … ON CONFLICT on a natural key, so retrying a batch or a whole
run adds nothing twice. Callers run each batch inside one transaction (Warehouse.begin).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, bindparam, select
from sqlalchemy import any_ as sa_any
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from etl.records import OUTCOME_COLUMNS, Article, Dropped, Outcome, to_utc
from etl.warehouse.bulk import copy_merge
from etl.warehouse.schema import (
    article_bands,
    article_duplicates,
    article_failures,
    article_rejects,
    article_signatures,
    articles,
    ingest_runs,
    validation_results,
)

# Bound-parameter lists are chunked: SQLite allows 32766 variables per statement.
_IN_CHUNK = 500


def article_id_for(url: str) -> str:
    """Stable id from the URL: the same input always yields the same warehouse."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def _insert(conn: Connection, table: Table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    result = conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))
    return max(result.rowcount or 0, 0)


def _utc(value: datetime | None) -> datetime | None:
    """Timestamps are stored in UTC (SQLite keeps no offset; PostgreSQL converts anyway)."""
    return to_utc(value) if value is not None else None


def article_row(article: Article, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "article_id": article_id_for(article.url),
        "url": article.url,
        "canonical_url": article.canonical_url or article.url,
        "source": article.source,
        "title": article.title,
        "author": article.author,
        "published_at": _utc(article.published_at),
        "language": article.language,
        "sitename": article.sitename,
        "description": article.description,
        "categories": article.categories or [],
        "tags": article.tags or [],
        "text": article.text or "",
        "text_sha256": article.text_sha256,
        "word_count": article.word_count,
        "title_source": article.title_source,
        "date_source": article.date_source,
        "author_source": article.author_source,
        "extractor_version": article.extractor_version,
        "cluster_id": article.cluster_id,
        "ingested_at": now,
        "run_id": run_id,
    }


def _record_json(article: Article) -> dict[str, Any]:
    data = json.loads(article.to_json())
    data.pop("raw", None)
    data.pop("html", None)
    return data


def write_batch(
    conn: Connection, loaded: Iterable[Article], dropped: Iterable[Dropped], run_id: str
) -> int:
    """Insert one batch's articles and outcome records. Returns the number of new articles."""
    now = datetime.now(UTC)
    rows = [article_row(a, run_id, now) for a in loaded]
    if conn.dialect.name == "postgresql":
        # COPY into a staging table + one merge: same result, several times faster.
        new = copy_merge(conn, articles, rows, conflict_column="url")
    else:
        new = insert_ignore(conn, articles, rows)
    duplicates, rejects, failures = [], [], []
    for drop in dropped:
        a = drop.article
        if drop.outcome is Outcome.DUPLICATE:
            duplicates.append({
                "url": a.url, "canonical_url": a.canonical_url, "source": a.source,
                "duplicate_of": drop.duplicate_of, "kind": drop.duplicate_kind,
                "similarity": drop.similarity, "title": a.title,
                "published_at": _utc(a.published_at), "cluster_id": a.cluster_id,
                "run_id": run_id, "recorded_at": now,
            })
        elif drop.outcome is Outcome.REJECTED:
            rejects.append({
                "url": a.url, "source": a.source, "stage": drop.stage, "reasons": drop.reasons,
                "detail": drop.detail, "run_id": run_id, "rejected_at": now,
                "record": _record_json(a), "title": a.title, "language": a.language,
                "word_count": a.word_count, "published_at": _utc(a.published_at),
            })
        elif drop.outcome is Outcome.FAILED:
            failures.append({
                "url": a.url, "source": a.source, "stage": drop.stage,
                "reason": drop.reasons[0] if drop.reasons else "unknown",
                "detail": (drop.detail or "")[:2000] or None, "run_id": run_id, "failed_at": now,
            })
        # NOT_MODIFIED items are counted in ingest_runs (and the fetch ledger); no row here.
    insert_ignore(conn, article_duplicates, duplicates)
    insert_ignore(conn, article_rejects, rejects)
    insert_ignore(conn, article_failures, failures)
    return new


def existing_articles(
    conn: Connection, urls: set[str], canonical_urls: set[str], hashes: set[str]
) -> list[dict[str, Any]]:
    """Stored articles matching any URL, canonical URL or text hash (batched lookups)."""
    found: dict[str, dict[str, Any]] = {}
    cols = (articles.c.article_id, articles.c.url, articles.c.canonical_url,
            articles.c.text_sha256, articles.c.cluster_id, articles.c.run_id)
    for column, values in ((articles.c.url, urls), (articles.c.canonical_url, canonical_urls),
                           (articles.c.text_sha256, hashes)):
        values = sorted(v for v in values if v)
        for i in range(0, len(values), _IN_CHUNK):
            chunk = values[i:i + _IN_CHUNK]
            for row in conn.execute(select(*cols).where(column.in_(chunk))).mappings():
                found[row["article_id"]] = dict(row)
    return list(found.values())


def start_run(conn: Connection, run_id: str, source: str, started_at: datetime) -> None:
    insert_ignore(conn, ingest_runs, [{
        "run_id": run_id, "source": source, "started_at": started_at, "status": "running",
        "discovered": 0, "loaded": 0, "duplicates": 0, "rejected": 0, "failed": 0,
        "not_modified": 0,
    }])


def finish_run(
    conn: Connection,
    run_id: str,
    source: str,
    *,
    started_at: datetime,
    discovered: int,
    outcomes: dict[Outcome, int],
    status: str,
    error: str | None = None,
    stage_stats: list[dict[str, Any]] | None = None,
    report_path: str | None = None,
) -> None:
    """Write (or overwrite, on a retried run) the run record of one source."""
    values: dict[str, Any] = {
        "run_id": run_id, "source": source, "started_at": started_at,
        "finished_at": datetime.now(UTC), "status": status, "discovered": discovered,
        "error": error, "stage_stats": stage_stats or [], "report_path": report_path,
    }
    for outcome, column in OUTCOME_COLUMNS.items():
        values[column] = int(outcomes.get(outcome, 0))
    stmt = _insert(conn, ingest_runs).values(**values)
    update = {k: stmt.excluded[k] for k in values if k not in ("run_id", "source", "started_at")}
    conn.execute(stmt.on_conflict_do_update(index_elements=["run_id", "source"], set_=update))


def write_validation(
    conn: Connection, run_id: str, source: str, batch: int, result: dict[str, Any]
) -> None:
    stats = result.get("statistics") or {}
    stmt = _insert(conn, validation_results).values(
        run_id=run_id, source=source, batch=batch, success=bool(result.get("success")),
        evaluated=int(stats.get("evaluated_expectations") or 0), result=result,
        created_at=datetime.now(UTC),
    )
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["run_id", "source", "batch"],
        set_={"success": stmt.excluded.success, "result": stmt.excluded.result,
              "evaluated": stmt.excluded.evaluated},
    ))


# --- Near-duplicate index (etl.dedup.near) ---------------------------------------------

# Band keys per probe statement: a 200-article batch has 6400 keys, so one statement per
# batch on both databases (SQLite allows 32766 bound variables; PostgreSQL gets an array).
_BAND_CHUNK = 30_000


def near_candidates(conn: Connection, band_keys: Iterable[int]) -> list[dict[str, Any]]:
    """Stored articles sharing any of `band_keys`: article_id, signature (bytes), cluster_id.

    An index probe on article_bands' primary key (band_key, article_id) against all history,
    then the signatures and cluster ids of the distinct candidates.
    """
    keys = sorted(set(band_keys))
    found: dict[str, dict[str, Any]] = {}
    postgresql = conn.dialect.name == "postgresql"
    for i in range(0, len(keys), _BAND_CHUNK):
        chunk = keys[i:i + _BAND_CHUNK]
        if postgresql:
            # One array parameter: a single plan however many keys the batch has.
            where = article_bands.c.band_key == sa_any(bindparam("keys", chunk,
                                                                 type_=ARRAY(BigInteger)))
        else:
            where = article_bands.c.band_key.in_(chunk)
        ids = select(article_bands.c.article_id).where(where).distinct().subquery()
        query = (
            select(article_signatures.c.article_id, article_signatures.c.signature,
                   articles.c.cluster_id)
            .join(ids, ids.c.article_id == article_signatures.c.article_id)
            .join(articles, articles.c.article_id == article_signatures.c.article_id)
        )
        for row in conn.execute(query).mappings():
            found[row["article_id"]] = dict(row)
    return list(found.values())


def write_signatures(
    conn: Connection, entries: Iterable[tuple[str, bytes, Sequence[int]]]
) -> int:
    """Store (article_id, signature bytes, band keys) of newly loaded articles.

    Called in the load transaction, after write_batch. ON CONFLICT DO NOTHING: a retried
    batch adds nothing twice. Returns the number of new signatures.
    """
    now = datetime.now(UTC)
    signatures, bands = [], []
    for article_id, signature, keys in entries:
        signatures.append({"article_id": article_id, "signature": signature, "created_at": now})
        bands.extend({"band_key": key, "article_id": article_id} for key in set(keys))
    # Sorted by key: concurrent writers take index locks in the same order (no deadlocks).
    signatures.sort(key=lambda r: r["article_id"])
    bands.sort(key=lambda r: (r["band_key"], r["article_id"]))
    new = insert_ignore(conn, article_signatures, signatures)
    insert_ignore(conn, article_bands, bands)
    return new


# Columns a re-extraction may change; identity (article_id, url) and history
# (ingested_at, run_id, cluster_id) stay as first loaded.
REEXTRACTED_COLUMNS = (
    "canonical_url", "title", "author", "published_at", "language", "sitename", "description",
    "categories", "tags", "text", "text_sha256", "word_count", "title_source", "date_source",
    "author_source", "extractor_version",
)


def update_articles(conn: Connection, loaded: Iterable[Article]) -> int:
    """Overwrite stored articles with re-extracted versions (same URL). Returns rows updated."""
    from sqlalchemy import bindparam, update

    now = datetime.now(UTC)
    rows = [article_row(a, "", now) for a in loaded]
    if not rows:
        return 0
    stmt = (update(articles).where(articles.c.url == bindparam("b_url"))
            .values({c: bindparam(f"b_{c}") for c in REEXTRACTED_COLUMNS}))
    params = [{"b_url": r["url"], **{f"b_{c}": r[c] for c in REEXTRACTED_COLUMNS}}
              for r in rows]
    result = conn.execute(stmt, params)
    return max(result.rowcount or 0, 0)
