"""The warehouse side of revisits: which stored articles are due, their versions, and the
schedule. Version writes run in the loader's transaction (etl.pipeline.loader), under its
lock, so a version number is never taken twice."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from etl.records import to_utc
from etl.revisit.schedule import first_visit_window
from etl.warehouse import Warehouse
from etl.warehouse.load import _insert, insert_ignore
from etl.warehouse.schema import article_revisits, article_versions, articles

_PAGE = 500


@dataclass(slots=True)
class StoredArticle:
    """What a revisit needs to know of the version articles holds (not its text)."""

    article_id: str
    url: str
    title: str | None
    text_sha256: str
    version: int
    unpublished_at: datetime | None
    ingested_at: datetime


_COLUMNS = (articles.c.article_id, articles.c.url, articles.c.title, articles.c.text_sha256,
            articles.c.version, articles.c.unpublished_at, articles.c.ingested_at)


def due_articles(warehouse: Warehouse, source: str, delays: Sequence[timedelta],
                 now: datetime, everything: bool = False) -> Iterator[StoredArticle]:
    """The source's stored articles due for a revisit at `now` (`everything`: all of them),
    read a page at a time in article_id order."""
    where = [articles.c.source == source]
    if not everything:
        window = first_visit_window(delays, now)
        if window is None:
            return
        after, until = window
        where.append(or_(
            and_(article_revisits.c.article_id.is_(None),
                 articles.c.ingested_at > after, articles.c.ingested_at <= until),
            article_revisits.c.next_revisit_at <= to_utc(now)))
    query = (select(*_COLUMNS)
             .select_from(articles.outerjoin(
                 article_revisits, article_revisits.c.article_id == articles.c.article_id))
             .where(*where).order_by(articles.c.article_id).limit(_PAGE))
    last = ""
    while True:
        with warehouse.engine.connect() as conn:
            rows = conn.execute(query.where(articles.c.article_id > last)).all()
        for row in rows:
            yield StoredArticle(*row)
        if len(rows) < _PAGE:
            return
        last = rows[-1].article_id


def stored_text(warehouse: Warehouse, article_id: str) -> str:
    with warehouse.engine.connect() as conn:
        return conn.execute(select(articles.c.text)
                            .where(articles.c.article_id == article_id)).scalar_one()


def current_rows(conn: Connection, article_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """article_id → the articles row as it is now (in the load transaction)."""
    ids = sorted(set(article_ids))
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), _PAGE):
        query = select(articles).where(articles.c.article_id.in_(ids[i:i + _PAGE]))
        found.update({row["article_id"]: dict(row) for row in conn.execute(query).mappings()})
    return found


def add_version(conn: Connection, current: dict[str, Any], version: dict[str, Any]) -> int:
    """Write the article's next version (and its version 1 first, if it has no history
    yet: copied from the row articles holds). Returns the new version's number."""
    article_id = current["article_id"]
    number = int(current["version"] or 1) + 1
    if number == 2:
        insert_ignore(conn, article_versions, [{
            "article_id": article_id, "version": 1, "fetched_at": current["ingested_at"],
            "title": current["title"], "text": current["text"],
            "text_sha256": current["text_sha256"], "change_kind": "original",
            "chars_added": 0, "chars_removed": 0, "run_id": current["run_id"]}])
    insert_ignore(conn, article_versions, [{**version, "article_id": article_id,
                                            "version": number}])
    return number


def set_article_state(conn: Connection, article_id: str, version: int,
                      unpublished_at: datetime | None) -> None:
    conn.execute(update(articles).where(articles.c.article_id == article_id)
                 .values(version=version, unpublished_at=unpublished_at))


def write_schedule(warehouse: Warehouse, source: str,
                   visits: Iterable[tuple[str, datetime | None]], now: datetime) -> int:
    """Record that these articles were revisited at `now`, with their next revisit
    (article_id, next or None when the schedule is over). Returns rows written."""
    rows = [{"article_id": article_id, "source": source, "next_revisit_at": next_at,
             "last_revisit_at": to_utc(now), "revisits": 1}
            for article_id, next_at in sorted(visits)]
    if not rows:
        return 0
    with warehouse.begin() as conn:
        for i in range(0, len(rows), _PAGE):
            stmt = _insert(conn, article_revisits)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["article_id"],
                set_={"next_revisit_at": stmt.excluded.next_revisit_at,
                      "last_revisit_at": stmt.excluded.last_revisit_at,
                      "revisits": article_revisits.c.revisits + 1}), rows[i:i + _PAGE])
    return len(rows)
