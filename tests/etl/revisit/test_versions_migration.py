"""Migration 0009 on both warehouses: stored articles become version 1, the view and the
tables come and go with the revision, and SQLite's full-text triggers survive."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, Table, inspect, text
from support.migrations import downgrade

from etl.records import Article
from etl.warehouse import Warehouse
from etl.warehouse.load import article_row


def test_0009_up_and_down_with_data(warehouse_url: str) -> None:
    wh = Warehouse(warehouse_url)
    wh.migrate("0008")
    with wh.begin() as conn:
        stored = Table("articles", MetaData(), autoload_with=conn)
        article = Article(url="https://news.example/a", source="wire", title="A story",
                          text="Words of the story.", text_sha256="0" * 64, word_count=4)
        row = article_row(article, "run-1", datetime(2026, 11, 30, tzinfo=UTC))
        conn.execute(stored.insert(), [{k: v for k, v in row.items() if k in stored.c}])
    wh.migrate("0009")
    with wh.engine.connect() as conn:
        assert conn.execute(text("SELECT version, unpublished_at FROM articles")).one() == (
            1, None)
        assert conn.execute(text("SELECT COUNT(*) FROM article_changes")).scalar_one() == 0
        assert "article_changes" in inspect(conn).get_view_names()
    downgrade(wh, "0008")
    with wh.engine.connect() as conn:
        insp = inspect(conn)
        assert "version" not in {c["name"] for c in insp.get_columns("articles")}
        assert not {"article_versions", "article_revisits"} & set(insp.get_table_names())
        assert "article_changes" not in insp.get_view_names()
        if conn.dialect.name == "sqlite":  # 0007's triggers are still there
            triggers = conn.execute(text(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")).scalar_one()
            assert triggers == 3
    wh.dispose()
