"""The load step: dedup (exact, then near) and write, one transaction per batch.

Dedup runs inside the load transaction, under an advisory lock on PostgreSQL, so two
loaders can never both insert the same article or two near-copies. The dedup stages hold
the run's state (stats, URLs forwarded so far, the run's canonical tracker); each batch
hands them the transaction's view of the warehouse — `StoredArticles` for the exact
stage, `NearIndex` for the near one — as an argument. Nothing is swapped into them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Connection

from etl.dedup.canonical import CanonicalTracker
from etl.dedup.exact import ExactDedupStage
from etl.dedup.near import NearDupStage, keep_order, resolve_settings
from etl.dedup.near_index import NearIndex
from etl.pipeline.accounting import OutcomeBuffer, batched
from etl.records import Article, StageStats
from etl.warehouse import Warehouse
from etl.warehouse.load import (
    StoredArticles,
    reset_canonical_urls,
    update_articles,
    write_batch,
)


class VersionWriter(Protocol):
    """A revisit's version history (etl.revisit.state.RevisitState), written by the loader
    in its transactions: the stored articles a batch replaces get their next version
    before their row is overwritten, and the pages found gone get theirs at the end."""

    def write_versions(self, conn: Connection, kept: list[Article], run_id: str) -> None: ...

    def write_gone(self, conn: Connection, run_id: str, sink: OutcomeBuffer) -> int: ...


# Serialises loaders on PostgreSQL (pg_advisory_xact_lock): dedup decisions need one writer.
LOAD_LOCK_KEY = 7263542


class BatchLoader:
    """Dedup and load one batch per transaction, together with the pending drops."""

    def __init__(self, warehouse: Warehouse, run_id: str, sink: OutcomeBuffer,
                 near_dup_threshold: float | None = None, replace_existing: bool = False,
                 canonicals: CanonicalTracker | None = None, batch_size: int = 200,
                 versions: VersionWriter | None = None) -> None:
        self.warehouse = warehouse
        self.versions = versions  # revisits: each replaced article gets a new version
        self.run_id = run_id
        self.sink = sink
        self.batch_size = batch_size
        self.replace_existing = replace_existing  # re-extraction updates stored rows
        self.settings = resolve_settings(near_dup_threshold)
        # `canonicals`: one per run, shared by its sources (etl.dedup.canonical).
        self.exact = ExactDedupStage(sink, run_id=run_id, replace_existing=replace_existing,
                                     canonicals=canonicals,
                                     similarity_threshold=self.settings.threshold)
        self.near = NearDupStage(sink, settings=self.settings,
                                 replace_existing=replace_existing)
        self.loaded = 0
        # Numbers the outcome rows of each (source, URL) in this run (see write_batch):
        # a retried run counts from 1 again, so its rows meet the first attempt's.
        self.occurrences: Counter[tuple[str, str, str]] = Counter()

    @property
    def stats(self) -> list[StageStats]:
        return [self.exact.stats, self.near.stats]

    def __call__(self, items: Iterable[Article]) -> Iterator[Article]:
        """The chain's last step: load the stream in batches; forwards nothing."""
        for batch in batched(items, self.batch_size):
            self.load(batch)
        if self.versions is not None:
            with self._transaction() as conn:
                self.loaded += self.versions.write_gone(conn, self.run_id, self.sink)
        yield from ()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.warehouse.begin(write_lock=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOAD_LOCK_KEY})")
            yield conn

    def load(self, batch: list[Article]) -> None:
        with self._transaction() as conn:
            index = NearIndex(conn, self.settings)
            # Keep-rule order (earliest published, then URL): a batch yields the same
            # warehouse whatever its arrival order.
            exact = self.exact.check(sorted(batch, key=keep_order), StoredArticles(conn))
            near = self.near.check(exact.kept, index, replacing=exact.replacing)
            drops = self.sink.take()
            self.near.redirect(drops, near)
            if self.versions is not None:  # reads the current rows: before they change
                self.versions.write_versions(conn, near.kept, self.run_id)
            if self.replace_existing:
                update_articles(conn, near.kept)
            write_batch(conn, near.kept, drops, self.run_id, self.occurrences)
            reset_canonical_urls(conn, exact.canonical_resets)
            # Re-extraction replaces signatures and band keys with the text, in this
            # transaction: copies are judged against the text the warehouse holds.
            index.write(near.entries, replace=self.replace_existing)
        self.loaded += len(near.kept)

    def flush(self) -> None:
        """Write drops that arrived after the last batch (e.g. trailing rejects)."""
        drops = self.sink.take()
        if drops:
            with self.warehouse.begin() as conn:
                write_batch(conn, [], drops, self.run_id, self.occurrences)
