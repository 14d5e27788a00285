"""Full-text search (etl.warehouse.search) on SQLite (FTS5, migration 0007) and PostgreSQL
(GIN, migration 0002): one query syntax, ranked, filtered, and in step with every write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from support.dialects import POSTGRESQL_ONLY, SQLITE_ONLY

from etl.analytics import search_articles
from etl.warehouse import MIGRATIONS_DIR, Warehouse
from etl.warehouse.load import article_row, update_articles, write_batch
from etl.warehouse.schema import ARTICLES_FTS, ARTICLES_FTS_TOKENIZE
from etl.warehouse.search import (
    SearchQueryError,
    fts5_query,
    parse_since,
    search,
    search_statement,
)

NOW = datetime.now(UTC)
FILLER = "Plain words of local news about the weather and the market. " * 8


def titles(hits) -> list[str]:
    return [h.title for h in hits]


def write_corpus(warehouse, make_article):
    """English, French and German articles of two sources and several dates."""
    rows = [
        make_article(1, source="wire", language="en", title="Harbour ferry returns",
                     text="The harbour ferry crossed again. " * 10 + FILLER,
                     published_at=NOW - timedelta(days=1)),
        make_article(2, source="wire", language="en", title="Market day",
                     text="A ferry was mentioned once. " + FILLER,
                     published_at=NOW - timedelta(days=2)),
        make_article(3, source="local", language="en", title="Night trains",
                     text="Night trains every thirty minutes to the harbours. " * 5 + FILLER,
                     published_at=NOW - timedelta(days=40)),
        make_article(4, source="local", language="fr", title="Des drones au-dessus du port",
                     text="Les drones survolent Téhéran et le port. " * 5 + FILLER,
                     published_at=NOW - timedelta(days=3)),
        make_article(5, source="wire", language="de", title="Stadtbibliothek",
                     text="Die Öffnungszeiten der Bibliothek werden verlängert. " * 5 + FILLER,
                     published_at=NOW - timedelta(days=5)),
    ]
    with warehouse.begin() as conn:
        write_batch(conn, rows, [], "run-1")
    return warehouse


@pytest.fixture(scope="module")
def corpus(module_warehouse, make_article):
    """The corpus once per module and dialect, for the tests that only search it."""
    return write_corpus(module_warehouse, make_article)


@pytest.fixture
def own_corpus(warehouse, make_article):
    """The corpus in a warehouse of the test's own, for a test that writes to it."""
    return write_corpus(warehouse, make_article)


def test_results_are_ranked_best_first(corpus):
    hits = search(corpus, "ferry")
    # Title and ten mentions beat a single mention, on bm25 and ts_rank alike.
    assert titles(hits) == ["Harbour ferry returns", "Market day"]
    assert hits[0].rank > hits[1].rank > 0
    assert hits[0].source == "wire" and hits[0].language == "en"
    assert hits[0].dated == NOW.replace(microsecond=hits[0].dated.microsecond) - timedelta(days=1)


def test_english_is_stemmed_on_both(corpus):
    assert titles(search(corpus, "harbours")) == ["Harbour ferry returns", "Night trains"]
    assert titles(search(corpus, "crossing")) == ["Harbour ferry returns"]  # crossed


def test_french_plural_matches_on_both(corpus):
    assert titles(search(corpus, "drone", language="fr")) == ["Des drones au-dessus du port"]


def test_web_search_syntax_means_the_same_on_both(corpus):
    assert titles(search(corpus, '"night trains"')) == ["Night trains"]
    assert titles(search(corpus, '"minutes thirty"')) == []  # a phrase keeps its order
    assert sorted(titles(search(corpus, "drones or Öffnungszeiten"))) == [
        "Des drones au-dessus du port", "Stadtbibliothek"]
    assert titles(search(corpus, "ferry -harbour")) == ["Market day"]
    assert titles(search(corpus, 'ferry -"harbour ferry"')) == ["Market day"]
    assert titles(search(corpus, "ferry mentioned")) == ["Market day"]  # every word must match


@pytest.mark.parametrize("query", [
    "ferry:", "ferry AND", '"ferry', "ferry*", "(ferry)", "ferry ^", "ferry OR", "+ferry",
    "ferry; --", "'ferry'", "ferry -",
])
def test_punctuation_and_operators_in_user_input_are_words_not_syntax(corpus, query):
    assert "Harbour ferry returns" in titles(search(corpus, query))


@pytest.mark.parametrize("query", ["title:ferry", "ferry^returns"])
def test_fts5_syntax_is_read_as_a_phrase_of_its_words_on_both(corpus, query):
    """Not an FTS5 column filter or initial-token query: the words, in order."""
    expected = ["Harbour ferry returns"] if query != "title:ferry" else []
    assert titles(search(corpus, query)) == expected


@pytest.mark.parametrize("query", ["", "   ", "-ferry", '-"harbour ferry"', "or", "?!"])
def test_a_query_with_nothing_to_find_is_refused_on_both(corpus, query):
    with pytest.raises(SearchQueryError):
        search(corpus, query)


def test_filters_source_language_since_limit(corpus):
    assert titles(search(corpus, "harbours", source="local")) == ["Night trains"]
    assert titles(search(corpus, "ferry", language="fr")) == []
    assert titles(search(corpus, "harbours", since=NOW - timedelta(days=10))) == [
        "Harbour ferry returns"]
    assert titles(search(corpus, "ferry", limit=1)) == ["Harbour ferry returns"]


def test_undated_articles_count_from_their_ingestion(warehouse, make_article):
    undated = make_article(7, title="Undated ferry notice", text="ferry " + FILLER)
    undated.published_at = None
    with warehouse.begin() as conn:
        write_batch(conn, [undated], [], "run-1")
    assert titles(search(warehouse, "ferry", since=NOW - timedelta(hours=1))) == [
        "Undated ferry notice"]


def test_the_index_follows_inserts_updates_and_deletes(own_corpus, make_article):
    """SQLite: the triggers; PostgreSQL: the expression index. Same answers on both."""
    changed = make_article(2, source="wire", language="en", title="Market day",
                           text="Now about the lighthouse, nothing else. " + FILLER,
                           published_at=NOW - timedelta(days=2))
    with own_corpus.begin() as conn:
        assert update_articles(conn, [changed]) == 1  # what re-extraction does
    assert titles(search(own_corpus, "ferry")) == ["Harbour ferry returns"]
    assert titles(search(own_corpus, "lighthouse")) == ["Market day"]
    with own_corpus.begin() as conn:
        conn.execute(text("DELETE FROM articles WHERE title = 'Harbour ferry returns'"))
    assert titles(search(own_corpus, "ferry")) == []
    with own_corpus.begin() as conn:
        write_batch(conn, [make_article(9, title="Ferry strike")], [], "run-2")
    assert titles(search(own_corpus, "ferry")) == ["Ferry strike"]


def test_analytics_search_articles_works_on_both(corpus):
    """It used to raise NotImplementedError on SQLite."""
    hits = search_articles(corpus, "drones", "fr", days=7)
    assert [h["title"] for h in hits] == ["Des drones au-dessus du port"]
    assert hits[0]["rank"] > 0




@SQLITE_ONLY  # PostgreSQL's configurations keep diacritics (no unaccent)
def test_sqlite_folds_diacritics(own_corpus):
    assert titles(search(own_corpus, "Teheran")) == ["Des drones au-dessus du port"]
    assert titles(search(own_corpus, "offnungszeiten")) == ["Stadtbibliothek"]


@POSTGRESQL_ONLY  # SQLite has only the Porter (English) stemmer
def test_postgresql_stems_each_language_with_its_own_configuration(own_corpus):
    # German stemming: the singular finds the plural.
    assert titles(search(own_corpus, "Öffnungszeit", language="de")) == ["Stadtbibliothek"]


def test_fts5_query_quotes_every_word():
    assert fts5_query("a b") == '("a" "b")'
    assert fts5_query("a or b") == '("a") OR ("b")'
    assert fts5_query('a -b -"c d"') == '("a" NOT "b" NOT "c d")'
    assert fts5_query('say "he said ""no"""') == '("say" "he said" "no")'


def test_parse_since():
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T10:00:00+02:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_since("yesterday")


# --- migration 0007 -------------------------------------------------------------------------

def _migrate(wh: Warehouse, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with wh.engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def test_0007_indexes_articles_loaded_before_it_and_downgrades(sqlite_url, make_article):
    wh = Warehouse(sqlite_url)
    wh.migrate("0006")
    stored = ("article_id", "url", "canonical_url", "source", "title", "text", "text_sha256",
              "word_count", "ingested_at", "run_id", "language", "published_at")
    row = {k: v for k, v in article_row(make_article(1, title="Old ferry"), "r", NOW).items()
           if k in stored}
    with wh.begin() as conn:
        conn.execute(text(f"INSERT INTO articles ({', '.join(row)}) "
                          f"VALUES ({', '.join(':' + k for k in row)})"), row)
    _migrate(wh, "0007")
    assert titles(search(wh, "ferry")) == ["Old ferry"]
    with wh.engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                           {"n": ARTICLES_FTS}).scalar_one()
        triggers = conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'"
        )).scalars().all()
    assert f"tokenize='{ARTICLES_FTS_TOKENIZE}'" in ddl  # schema.py names what 0007 built
    assert len(triggers) == 3
    _migrate(wh, "0006", down=True)
    with wh.engine.connect() as conn:
        left = conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '%fts%'"))
        assert left.all() == []
    wh.dispose()


@SQLITE_ONLY  # PostgreSQL indexes an expression: always in step
def test_the_index_is_in_step_at_head(warehouse, make_article):
    """At head (whatever migrations follow 0007), the triggers exist and every article is
    in the index: a later migration that rebuilt `articles` would fail here."""
    with warehouse.begin() as conn:
        write_batch(conn, [make_article(i) for i in range(20)], [], "run-1")
    with warehouse.engine.connect() as conn:
        conn.exec_driver_sql(f"INSERT INTO {ARTICLES_FTS}({ARTICLES_FTS}) "
                             "VALUES ('integrity-check')")  # raises when out of step
        matched = conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM {ARTICLES_FTS} WHERE {ARTICLES_FTS} MATCH 'story'").scalar()
    assert matched == 20


@POSTGRESQL_ONLY
def test_postgresql_search_with_a_language_uses_the_gin_index(warehouse, make_article):
    filler = [make_article(1000 + i, language="fr", title=f"Conseil municipal {i}",
                           text=f"Le budget {i} de la ville est voté. " * 10)
              for i in range(3000)]
    with warehouse.begin() as conn:
        write_batch(conn, filler, [], "run-2")
    sql = str(search_statement("postgresql", "drones", language="fr").compile(
        dialect=warehouse.engine.dialect, compile_kwargs={"literal_binds": True}))
    with warehouse.engine.connect() as conn:
        conn.execute(text("ANALYZE articles"))
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    assert "ix_articles_fts" in plan, plan
