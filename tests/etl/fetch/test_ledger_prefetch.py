"""The fetch stage reads the fetch ledger a group of URLs at a time (FetchLedger.prefetch):
a long list of URLs costs a few warehouse queries, not two per URL, and ends the same."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import event

from etl.config import HttpSettings
from etl.fetch import Fetcher, FetchStage
from etl.fetch.ledger import FetchLedger
from etl.records import Article, Dropped


def test_a_long_list_costs_a_few_ledger_queries_and_ends_the_same(
        warehouse, settings: HttpSettings) -> None:
    # Private addresses: the SSRF guard refuses each at once, no request leaves the host.
    urls = [f"http://10.0.{i // 256}.{i % 256}/story" for i in range(600)]
    earlier = FetchLedger(warehouse, "wire", run_id="run-0")
    earlier.record(urls[300], status=None, reason="connect", fetched_at=datetime.now(UTC))
    earlier.flush()  # failed a moment ago: it waits out its backoff

    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    dropped: list[Dropped] = []
    fetcher = Fetcher(settings)
    event.listen(warehouse.engine, "before_cursor_execute", count)
    try:
        stage = FetchStage(dropped.append, fetcher,
                           ledger=FetchLedger(warehouse, "wire", run_id="run-1"))
        assert list(stage(Article(url=u, source="wire") for u in urls)) == []
    finally:
        event.remove(warehouse.engine, "before_cursor_execute", count)
        fetcher.close()
    assert Counter(d.reasons[0] for d in dropped) == {"blocked_address": 599,
                                                      "retry_backoff": 1}
    assert [d.article.url for d in dropped if d.reasons[0] == "retry_backoff"] == [urls[300]]
    # Groups of 1, 2, 4, … 256 URLs: ten for 600 URLs, each read with one query for the
    # ledger rows and one for the stored articles (it was 1,200 queries, two per URL).
    assert len(selects) <= 2 * 10 + 2, len(selects)
