"""Loading articles: COPY + merge on PostgreSQL, INSERT … ON CONFLICT on SQLite.

Both must be idempotent (a retried batch adds nothing) and all-or-nothing (a failure
mid-batch leaves no row behind).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

import etl.warehouse.load as load_module
from etl.warehouse import Warehouse, WarehouseError
from etl.warehouse.load import article_id_for, write_batch
from etl.warehouse.schema import article_rejects, articles


def _count(wh: Warehouse, table=articles) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def copy_calls(monkeypatch):
    """Records each call of the COPY path, so PostgreSQL tests prove it was taken."""
    calls: list[int] = []
    real = load_module.copy_merge

    def spy(conn, table, rows, conflict_column):
        calls.append(len(rows))
        return real(conn, table, rows, conflict_column)

    monkeypatch.setattr(load_module, "copy_merge", spy)
    return calls


def test_same_batch_twice_adds_nothing(warehouse, make_article, make_reject, copy_calls):
    batch = [make_article(i) for i in range(25)]
    rejects = [make_reject(1, ["min_words"])]
    with warehouse.begin() as conn:
        assert write_batch(conn, batch, rejects, "run-1") == 25
    with warehouse.begin() as conn:
        assert write_batch(conn, batch, rejects, "run-1") == 0
    assert _count(warehouse) == 25
    assert _count(warehouse, article_rejects) == 1
    # The COPY path is the PostgreSQL path, and only that one.
    assert copy_calls == ([25, 25] if warehouse.dialect == "postgresql" else [])


def test_partly_new_batch_counts_only_new_rows(warehouse, make_article):
    with warehouse.begin() as conn:
        write_batch(conn, [make_article(i) for i in range(10)], [], "run-1")
    with warehouse.begin() as conn:
        # 5 stored already, 5 new, and one new URL twice within the batch.
        batch = [make_article(i) for i in range(5, 15)] + [make_article(14)]
        assert write_batch(conn, batch, [], "run-2") == 5
    assert _count(warehouse) == 15
    with warehouse.engine.connect() as conn:
        runs = dict(conn.execute(select(articles.c.run_id, func.count())
                                 .group_by(articles.c.run_id)).all())
    assert runs == {"run-1": 10, "run-2": 5}  # stored rows are never overwritten


def test_values_round_trip_exactly(warehouse, make_article):
    # Characters COPY's text format must escape: tab, newline, backslash, CR; plus non-ASCII.
    tricky = "Ligne 1\tcolonne\nLigne 2 \\N pas nul\r\n« café » 東京 🚀 \\\\ fin"
    article = make_article(1, title="Titre\twith\\tab", text=tricky, language="fr",
                           author=None, description="N", sitename="\\N")
    article.categories, article.tags = ["a\tb", "é"], []
    published = datetime(2026, 11, 24, 23, 59, 59, 123456, tzinfo=UTC)
    article.published_at = published
    with warehouse.begin() as conn:
        write_batch(conn, [article], [], "run-1")
    with warehouse.engine.connect() as conn:
        row = conn.execute(select(articles)).mappings().one()
    assert row["article_id"] == article_id_for(article.url)
    assert row["text"] == tricky
    assert row["title"] == "Titre\twith\\tab"
    assert row["author"] is None  # NULL stays NULL, not the string "None" or ""
    assert row["sitename"] == "\\N"  # the literal text, not NULL
    assert row["categories"] == ["a\tb", "é"]
    assert row["tags"] == []
    assert row["published_at"].replace(tzinfo=UTC) == published


def test_exception_after_load_leaves_nothing(warehouse, make_article, make_reject):
    with pytest.raises(RuntimeError, match="boom"), warehouse.begin() as conn:
        assert write_batch(conn, [make_article(i) for i in range(20)],
                           [make_reject(1, ["min_words"])], "run-1") == 20
        raise RuntimeError("boom")  # e.g. the worker dies after the COPY and merge
    assert _count(warehouse) == 0
    assert _count(warehouse, article_rejects) == 0
    # The retry then loads everything.
    with warehouse.begin() as conn:
        assert write_batch(conn, [make_article(i) for i in range(20)], [], "run-1") == 20


def test_bad_row_mid_copy_rolls_back_whole_batch(pg_database, make_article):
    wh = Warehouse(pg_database)
    wh.migrate()
    batch = [make_article(i) for i in range(50)]
    batch[37].source = None  # violates NOT NULL after 37 good rows were streamed
    with pytest.raises(Exception, match="null value"), wh.begin() as conn:
        write_batch(conn, batch, [], "run-1")
    assert _count(wh) == 0
    # Staging is gone with the transaction: a later batch on the same pooled connection
    # starts from an empty stage (no leftovers merged into articles).
    with wh.begin() as conn:
        assert write_batch(conn, [make_article(100)], [], "run-2") == 1
        stage = conn.execute(text("SELECT COUNT(*) FROM news_etl_stage_articles")).scalar()
        assert stage == 1
    with wh.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT to_regclass('pg_temp.news_etl_stage_articles')")).scalar() is None
    assert _count(wh) == 1
    wh.dispose()


def test_two_batches_in_one_transaction(pg_database, make_article):
    wh = Warehouse(pg_database)
    wh.migrate()
    with wh.begin() as conn:
        assert write_batch(conn, [make_article(i) for i in range(10)], [], "run-1") == 10
        assert write_batch(conn, [make_article(i) for i in range(5, 12)], [], "run-1") == 2
    assert _count(wh) == 12
    wh.dispose()


def test_password_never_in_errors_or_logs(caplog):
    secret = "Sup3rS3cretPw"
    caplog.set_level(logging.DEBUG)
    wh = Warehouse(f"postgresql://news:{secret}@127.0.0.1:1/warehouse")
    assert secret not in repr(wh)
    with pytest.raises(WarehouseError) as info:
        wh.migrate()
    message = str(info.value)
    assert "127.0.0.1" in message and "***" in message  # useful, but masked
    assert secret not in message
    assert info.value.__suppress_context__  # the driver error (and its DSN) is not chained
    assert secret not in caplog.text
    wh.dispose()


def test_copy_path_compresses_with_lz4_in_its_transaction_only(pg_database, make_article):
    wh = Warehouse(pg_database)
    wh.migrate()
    long_text = " ".join(f"mot{i % 997}" for i in range(2000))  # ~14 KB: TOAST-compressed
    with wh.begin() as conn:
        write_batch(conn, [make_article(1, text=long_text)], [], "run-1")
    with wh.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT pg_column_compression(text) FROM articles")).scalar_one() == "lz4"
        assert conn.execute(text("SELECT text FROM articles")).scalar_one() == long_text
        # SET LOCAL: the session setting is back to the server default afterwards.
        assert conn.execute(text("SHOW default_toast_compression")).scalar_one() == "pglz"
    wh.dispose()
