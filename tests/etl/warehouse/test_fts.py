"""Full-text search on PostgreSQL: language-aware stemming through the GIN index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from support.dialects import POSTGRESQL_ONLY

from etl.analytics import FTS_QUERY, search_articles
from etl.warehouse import Warehouse
from etl.warehouse.load import write_batch


@pytest.mark.parametrize("module_warehouse", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("code", "config"), [
    ("fr", "french"), ("FR", "french"), ("fr-CA", "french"), ("pt_BR", "portuguese"),
    ("en", "english"), ("de", "german"), ("es", "spanish"), ("it", "italian"),
    ("nl", "dutch"), ("ru", "russian"), ("sv", "swedish"), ("no", "norwegian"),
    ("nb", "norwegian"), ("da", "danish"), ("fi", "finnish"), ("hu", "hungarian"),
    ("ro", "romanian"), ("tr", "turkish"), ("zh", "simple"), ("xx", "simple"), (None, "simple"),
])
def test_language_to_text_search_config(module_warehouse, code, config):
    with module_warehouse.engine.connect() as conn:
        got = conn.execute(text("SELECT news_ts_config(:c)::text"), {"c": code}).scalar_one()
    assert got == config


def _load_corpus(wh: Warehouse, make_article) -> None:
    now = datetime.now(UTC)
    articles = [
        # French, recent, inflected forms ("drone", "Drones") must match "drones".
        make_article(1, language="fr", title="Des drones au-dessus du port",
                     text="La préfecture interdit les survols. " * 20,
                     published_at=now - timedelta(days=1)),
        make_article(2, language="fr", title="Sécurité",
                     text="Un drone a été aperçu près de l'aéroport. " * 20,
                     published_at=now - timedelta(days=6)),
        # French but too old, French without drones, English with drones.
        make_article(3, language="fr", title="Les drones de l'an dernier",
                     text="Archives. " * 50, published_at=now - timedelta(days=30)),
        make_article(4, language="fr", title="Le vélo cargo",
                     text="Les livraisons à vélo progressent en ville. " * 20,
                     published_at=now - timedelta(days=2)),
        make_article(5, language="en", title="Drones over the harbour",
                     text="Drones were seen again. " * 20, published_at=now - timedelta(days=1)),
    ]
    # Undated (the page states no date): dated by ingestion, i.e. now.
    undated = make_article(6, language="fr", title="Essaim lumineux",
                           text="Cent drones ont dessiné le logo du club. " * 20)
    undated.published_at = None
    with wh.begin() as conn:
        write_batch(conn, [*articles, undated], [], "run-1")


@POSTGRESQL_ONLY
def test_french_drones_last_7_days(warehouse, make_article):
    _load_corpus(warehouse, make_article)
    hits = search_articles(warehouse, "drones", "fr", days=7)
    assert sorted(h["title"] for h in hits) == [
        "Des drones au-dessus du port", "Essaim lumineux", "Sécurité"]
    # English stemming on English text: "drone" finds "Drones".
    assert [h["title"] for h in search_articles(warehouse, "drone", "en")] == [
        "Drones over the harbour"]


@POSTGRESQL_ONLY
def test_fts_query_uses_the_gin_index(warehouse, make_article):
    _load_corpus(warehouse, make_article)
    # A realistic shape: many recent French articles, few about drones, so the text
    # predicate is the selective one and the planner should pick the GIN index for it.
    now = datetime.now(UTC)
    filler = [make_article(1000 + i, language="fr", title=f"Conseil municipal {i}",
                           text=f"Le budget {i} de la ville est voté. " * 10,
                           published_at=now - timedelta(hours=i % 150))
              for i in range(3000)]
    with warehouse.begin() as conn:
        write_batch(conn, filler, [], "run-2")
    with warehouse.engine.connect() as conn:
        conn.execute(text("ANALYZE articles"))
        plan = "\n".join(r[0] for r in conn.execute(
            text("EXPLAIN " + FTS_QUERY),
            {"terms": "drones", "language": "fr", "days": 7, "limit": 50}))
    assert "ix_articles_fts" in plan, plan
