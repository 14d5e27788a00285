"""Writing to the warehouse: batches of articles and outcomes, run records, GX results.

The near-duplicate index (article_signatures, article_bands) has its own module,
etl.dedup.near_index.

Every write is an INSERT … ON CONFLICT on a natural key, so retrying a batch or a whole
run adds nothing twice. Callers run each batch inside one transaction (Warehouse.begin).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from etl.records import OUTCOME_COLUMNS, Article, Dropped, Outcome, to_utc
from etl.warehouse.bulk import copy_merge
from etl.warehouse.schema import (
    article_duplicates,
    article_failures,
    article_rejects,
    articles,
    fetch_ledger,
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


def upsert(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]],
           columns: Sequence[str] | None = None) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE: `columns` (default: every column of the rows
    but the key) take the new rows' values."""
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = columns if columns is not None else [c for c in rows[0] if c != key]
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[key], set_={c: stmt.excluded[c] for c in columns}), list(rows))


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
        **extra_columns(article),
    }


# Migration 0008 (docs/fields.md): each value with its provenance.
EXTRA_COLUMNS = ("modified_at", "modified_source", "published_utc_offset_min",
                 "published_local_date", "image_url", "image_source", "is_paywalled",
                 "paywall_source", "is_liveblog", "liveblog_source")


def extra_columns(article: Article) -> dict[str, Any]:
    row = {c: getattr(article, c) for c in EXTRA_COLUMNS}
    row["modified_at"] = _utc(article.modified_at)
    return row


def _record_json(article: Article) -> dict[str, Any]:
    data = json.loads(article.to_json())
    data.pop("raw", None)
    data.pop("html", None)
    return data


def write_batch(
    conn: Connection, loaded: Iterable[Article], dropped: Iterable[Dropped], run_id: str,
    occurrences: Counter[tuple[str, str, str]] | None = None,
) -> int:
    """Insert one batch's articles and outcome records. Returns the number of new articles.

    Outcome rows are keyed (run, source, URL, occurrence): `occurrences` counts, per table,
    the rows of each (source, URL) written so far in this run (one Counter per run and
    source, kept by the caller), so a URL a source lists twice gets two rows and a retried
    run, numbering its items the same way, adds none. The fetch-ledger rows of this run's
    bodies whose outcome is recorded here are settled in the same transaction."""
    now = datetime.now(UTC)
    occurrences = Counter() if occurrences is None else occurrences
    loaded = list(loaded)
    dropped = list(dropped)

    def nth(table: str, article: Article) -> int:
        occurrences[table, article.source, article.url] += 1
        return occurrences[table, article.source, article.url]

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
                "run_id": run_id, "recorded_at": now, "occurrence": nth("duplicates", a),
            })
        elif drop.outcome is Outcome.REJECTED:
            rejects.append({
                "url": a.url, "source": a.source, "stage": drop.stage, "reasons": drop.reasons,
                "detail": drop.detail, "run_id": run_id, "rejected_at": now,
                "record": _record_json(a), "title": a.title, "language": a.language,
                "word_count": a.word_count, "published_at": _utc(a.published_at),
                "occurrence": nth("rejects", a),
            })
        elif drop.outcome is Outcome.FAILED:
            failures.append({
                "url": a.url, "source": a.source, "stage": drop.stage,
                "reason": drop.reasons[0] if drop.reasons else "unknown",
                "detail": (drop.detail or "")[:2000] or None, "run_id": run_id, "failed_at": now,
                "occurrence": nth("failures", a),
            })
        # NOT_MODIFIED items are counted in ingest_runs (and the fetch ledger); no row here.
    insert_ignore(conn, article_duplicates, duplicates)
    insert_ignore(conn, article_rejects, rejects)
    insert_ignore(conn, article_failures, failures)
    # A failed item is fetched again next run; every other outcome settles its body.
    settle_fetches(conn, run_id, [*((a.source, a.url) for a in loaded),
                                  *((d.article.source, d.article.url) for d in dropped
                                    if d.outcome is not Outcome.FAILED)])
    return new


def settle_fetches(conn: Connection, run_id: str, items: Iterable[tuple[str, str]]) -> int:
    """Mark the fetch-ledger rows of bodies this run fetched, for these (source, URL), as
    settled: their outcome is recorded, so their validators may answer later runs' 304s.
    Rows whose body another run fetched, or another source, are left alone."""
    by_source: dict[str, set[str]] = {}
    for source, url in items:
        by_source.setdefault(source, set()).add(url)
    settled = 0
    for source, urls in sorted(by_source.items()):
        ordered = sorted(urls)  # one lock order, as FetchLedger.flush
        for i in range(0, len(ordered), _IN_CHUNK):
            result = conn.execute(
                update(fetch_ledger)
                .where(fetch_ledger.c.url.in_(ordered[i:i + _IN_CHUNK]),
                       fetch_ledger.c.source == source,
                       fetch_ledger.c.body_run_id == run_id,
                       fetch_ledger.c.body_settled.is_(False))
                .values(body_settled=True))
            settled += max(result.rowcount or 0, 0)
    return settled


def existing_articles(
    conn: Connection, urls: set[str], canonical_urls: set[str], hashes: set[str]
) -> list[dict[str, Any]]:
    """Stored articles matching any URL, canonical URL or text hash (batched lookups)."""
    found: dict[str, dict[str, Any]] = {}
    # run_id and source: the replay check of a retried run keys on (run, source, URL).
    cols = (articles.c.article_id, articles.c.url, articles.c.canonical_url,
            articles.c.text_sha256, articles.c.cluster_id, articles.c.run_id,
            articles.c.source)
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


class StoredArticles:
    """The articles table as exact dedup reads it (etl.dedup.exact), in one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def matching(self, urls: set[str], canonical_urls: set[str], hashes: set[str]
                 ) -> list[dict[str, Any]]:
        return existing_articles(self.conn, urls, canonical_urls, hashes)

    def texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        return stored_texts(self.conn, article_ids)


def stored_texts(conn: Connection, article_ids: Iterable[str]) -> dict[str, str]:
    """article_id → text of stored articles (a canonical match is checked against it)."""
    ids = sorted(set(article_ids))
    out: dict[str, str] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        query = select(articles.c.article_id, articles.c.text).where(
            articles.c.article_id.in_(ids[i:i + _IN_CHUNK]))
        out.update({article_id: text for article_id, text in conn.execute(query)})
    return out


def reset_canonical_urls(conn: Connection, resets: Iterable[tuple[str, str, str]]) -> int:
    """Put stored articles back on their own URL: (article_id, withdrawn canonical, own URL).

    A canonical link found to be shared by different stories of a run is withdrawn from
    the articles that got it (etl.dedup.canonical). Only rows still holding it change.
    """
    from sqlalchemy import update

    params = [{"b_id": article_id, "b_claimed": claimed, "b_own": own}
              for article_id, claimed, own in resets]
    if not params:
        return 0
    stmt = (update(articles)
            .where(articles.c.article_id == bindparam("b_id"),
                   articles.c.canonical_url == bindparam("b_claimed"))
            .values(canonical_url=bindparam("b_own")))
    result = conn.execute(stmt, params)
    return max(result.rowcount or 0, 0)


# Columns a re-extraction may change; identity (article_id, url) and history
# (ingested_at, run_id, cluster_id) stay as first loaded.
REEXTRACTED_COLUMNS = (
    "canonical_url", "title", "author", "published_at", "language", "sitename", "description",
    "categories", "tags", "text", "text_sha256", "word_count", "title_source", "date_source",
    "author_source", "extractor_version", *EXTRA_COLUMNS,
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
