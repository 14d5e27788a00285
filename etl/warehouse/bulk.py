"""Bulk loading on PostgreSQL: COPY into a temporary staging table, then one merge.

COPY is the fastest way into PostgreSQL; the merge (INSERT … SELECT … ON CONFLICT (url)
DO NOTHING) keeps loads idempotent, so a retried batch inserts nothing twice. Both run
inside the caller's transaction on the same connection: a failure anywhere (a bad row
half-way through the COPY, an error after it) rolls back everything, and the staging
table disappears at the end of the transaction (ON COMMIT DROP), leaving nothing behind.

Article texts (~3 KB) are TOAST-compressed twice per load (into the stage, then into
the table); with the default pglz that compression is the largest single cost, so the
load transaction compresses with lz4 when the server has it (about 1.6x faster loads,
benchmarks/load.py). Readers never notice: PostgreSQL decompresses either transparently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

STAGING_TABLE = "news_etl_stage_articles"
_JSON_TYPES = ("JSON", "JSONB")


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _copy_value(value: Any, is_json: bool) -> Any:
    # psycopg adapts str/int/float/datetime itself; JSON columns get their text form.
    if is_json and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def copy_merge(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict_column: str
) -> int:
    """COPY `rows` into a staging copy of `table`, merge what is new. Returns rows inserted.

    `conn` must be a SQLAlchemy Connection on the psycopg (3) driver, inside a transaction.
    """
    if not rows:
        return 0
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_flags = [type(table.c[c].type).__name__.upper() in _JSON_TYPES for c in columns]
    # Sorted by the conflict key: two concurrent loaders then take unique-index locks in
    # the same order and cannot deadlock on overlapping batches.
    ordered = sorted(rows, key=lambda r: r[conflict_column])

    raw = conn.connection.driver_connection  # the psycopg.Connection, same transaction
    with raw.cursor() as cur:
        cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                    "WHERE name = 'default_toast_compression'")
        row = cur.fetchone()
        if row and row[0]:
            cur.execute("SET LOCAL default_toast_compression = 'lz4'")  # this transaction only
        # No indexes or unique constraints on the stage (COPY stays fast); NOT NULLs come
        # with LIKE, so a bad row fails the COPY itself.
        cur.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{STAGING_TABLE}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
        )
        # Two calls in one transaction reuse the table; it must start empty.
        cur.execute(f'TRUNCATE "{STAGING_TABLE}"')
        with cur.copy(f'COPY "{STAGING_TABLE}" ({_quoted(columns)}) FROM STDIN') as copy:
            for row in ordered:
                copy.write_row([_copy_value(row[c], j) for c, j in zip(columns, json_flags,
                                                                        strict=True)])
        cur.execute(
            f'INSERT INTO "{table.name}" ({_quoted(columns)}) '
            f'SELECT {_quoted(columns)} FROM "{STAGING_TABLE}" '
            f'ON CONFLICT ("{conflict_column}") DO NOTHING'
        )
        return max(cur.rowcount, 0)
