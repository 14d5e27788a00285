"""Ranked full-text search over the articles, on SQLite and PostgreSQL alike.

One query language on both: web-search syntax as PostgreSQL's websearch_to_tsquery reads
it — words (all must match), "exact phrases", -excluded words or phrases, `or` between
alternatives. Each engine stems with what it has:

- PostgreSQL: the GIN index ix_articles_fts (migration 0002) over each article's text in
  its own language's configuration (news_ts_config: french, german, …); the query is
  parsed with the configuration of --language, else of each article's language. Ranked
  by ts_rank.
- SQLite: the FTS5 table articles_fts (migration 0007), tokenizer
  `porter unicode61 remove_diacritics 2` for every language (English stemming, case and
  diacritic folding everywhere). The query is rewritten into FTS5 syntax here, every
  word quoted, so user input can never be an FTS5 syntax error. Ranked by bm25.

`rank` is higher-is-better on both (bm25 is negated); the two scales differ, only the order
within one warehouse means something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.exc import OperationalError

from etl.records import to_utc
from etl.warehouse import Warehouse, WarehouseError
from etl.warehouse.schema import ARTICLES_FTS, articles

# `-"a phrase"`, `"a phrase"`, `-word`, `word` (a word is anything up to a space or quote).
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')



class SearchQueryError(ValueError):
    """The query has nothing to look for (empty, or only excluded words)."""


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    rank: float
    dated: datetime  # published_at, else ingested_at (UTC)
    source: str
    language: str | None
    title: str | None
    url: str
    word_count: int


def _pg_document():
    """The exact expression of ix_articles_fts (migration 0002), constants written inline,
    so the planner can use the GIN index."""
    body = (func.coalesce(articles.c.title, literal_column("''"))
            .concat(literal_column("' '")).concat(articles.c.text))
    return func.to_tsvector(func.news_ts_config(articles.c.language), body)


def fts5_query(terms: str) -> str:
    """Web-search syntax → an FTS5 MATCH expression with every word or phrase quoted.

    `a b` → `("a" "b")`; `a or b` → `("a") OR ("b")`; `a -b` → `("a" NOT "b")`. FTS5's
    NOT binds tighter than AND, and AND tighter than OR, as in websearch_to_tsquery."""
    groups: list[tuple[list[str], list[str]]] = [([], [])]
    for match in _TOKEN.finditer(terms):
        negated = bool(match.group(1) or match.group(3))
        phrase = match.group(2) if match.group(2) is not None else match.group(4)
        if not negated and match.group(4) is not None and phrase.lower() == "or":
            groups.append(([], []))
            continue
        words = phrase.strip()
        if not words or not re.search(r"\w", words):
            continue  # punctuation alone indexes nothing
        quoted = '"' + words.replace('"', '""') + '"'
        groups[-1][1 if negated else 0].append(quoted)
    parts = [
        "(" + " ".join(positive) + "".join(f" NOT {n}" for n in negative) + ")"
        for positive, negative in groups if positive
    ]
    if not parts:
        raise SearchQueryError(f"nothing to search for in {terms!r}: give at least one word "
                               "that is not excluded")
    return " OR ".join(parts)


def parse_since(value: str) -> datetime:
    """A --since value: an ISO date (midnight UTC) or date-time (naive = UTC)."""
    try:
        parsed = (datetime.fromisoformat(value) if "T" in value or " " in value.strip()
                  else datetime.combine(date.fromisoformat(value), time()))
    except ValueError:
        raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD or an ISO 8601 "
                         "date-time)") from None
    return to_utc(parsed)


def search_statement(
    dialect: str, terms: str, *, source: str | None = None, language: str | None = None,
    since: datetime | None = None, limit: int = 20,
) -> Select:
    """The ranked query for `dialect` ("sqlite" or "postgresql"); see search()."""
    dated = func.coalesce(articles.c.published_at, articles.c.ingested_at)
    if dialect == "sqlite":
        match = text(f"{ARTICLES_FTS} MATCH :terms").bindparams(terms=fts5_query(terms))
        score = -func.bm25(literal_column(ARTICLES_FTS))
        fts = table(ARTICLES_FTS, column("rowid"))
        joined = articles.join(fts, fts.c.rowid == literal_column("articles.rowid"))
    else:
        fts5_query(terms)  # the same refusal of an empty query on both warehouses
        tsquery = func.websearch_to_tsquery(
            func.news_ts_config(language if language else articles.c.language), terms)
        match = _pg_document().op("@@")(tsquery)
        score = func.ts_rank(_pg_document(), tsquery)
        joined = articles
    stmt = (select(articles.c.article_id, score.label("score"), dated.label("dated"),
                   articles.c.source, articles.c.language, articles.c.title, articles.c.url,
                   articles.c.word_count)
            .select_from(joined).where(match))
    if source:
        stmt = stmt.where(articles.c.source == source)
    if language:
        stmt = stmt.where(articles.c.language == language)
    if since is not None:
        stmt = stmt.where(dated >= to_utc(since))
    stmt = stmt.order_by(literal_column("score").desc(), dated.desc(), articles.c.article_id)
    return stmt.limit(limit)


def search(
    warehouse: Warehouse, terms: str, *, source: str | None = None,
    language: str | None = None, since: datetime | None = None, limit: int = 20,
) -> list[SearchHit]:
    """The `limit` best-ranked articles matching `terms`, best first (ties: newest first)."""
    stmt = search_statement(warehouse.dialect, terms, source=source, language=language,
                            since=since, limit=limit)
    try:
        with warehouse.engine.connect() as conn:
            rows = conn.execute(stmt).all()
    except OperationalError as exc:
        if warehouse.dialect == "sqlite" and f"no such table: {ARTICLES_FTS}" in str(exc):
            raise WarehouseError("the warehouse has no full-text index yet (migration 0007): "
                                 "run `news-etl migrate`") from None
        raise
    return [SearchHit(article_id=r.article_id, rank=float(r.score or 0.0),
                      dated=to_utc(r.dated), source=r.source, language=r.language,
                      title=r.title, url=r.url, word_count=r.word_count) for r in rows]
