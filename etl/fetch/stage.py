"""FetchStage: fetch each article's URL concurrently and decode the page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from etl.decode import DecodeError, decode_page
from etl.fetch.archive import WarcArchive
from etl.fetch.http import Fetcher
from etl.fetch.ledger import FetchLedger
from etl.fetch.result import FetchResult
from etl.records import Article, DropSink, Outcome, Stage

log = logging.getLogger(__name__)

Conditional = Callable[[str], tuple[str | None, str | None]]
NOT_ATTEMPTED_REASONS = frozenset({"robots_unavailable", "limiter_unavailable"})
LOOKAHEAD = 256  # URLs at most whose ledger rows are read together (FetchLedger.prefetch)


class FetchStage(Stage):
    """Fills raw/html and the HTTP fields of each Article; drops failures with their reason.

    - Up to `settings.workers` fetches run at once; at most 2×workers articles are held
      in flight, so memory stays bounded for any input size. Output order follows
      completion, not input.
    - `conditional(url) -> (etag, last_modified)` supplies validators from the previous
      load; a 304 drops the article as NOT_MODIFIED with reason "not_modified".
    - Articles that already carry `raw` (e.g. from a WARC) are not fetched again; they
      are only decoded when `html` is missing.
    All drops happen on the consuming thread, so Stage stats and the sink need no locking.
    """

    name = "fetch"

    def __init__(self, sink: DropSink, fetcher: Fetcher,
                 conditional: Conditional | None = None, *,
                 ledger: FetchLedger | None = None, archive: WarcArchive | None = None,
                 refresh: bool = False) -> None:
        super().__init__(sink)
        self.fetcher = fetcher
        self.conditional = conditional
        # With a ledger: skip URLs already loaded (unless refresh), wait out the backoff of
        # URLs that failed recently, send validators, and spot unchanged bodies.
        self.ledger = ledger
        self.archive = archive
        self.refresh = refresh
        if ledger is not None and conditional is None:
            self.conditional = ledger.validators

    def _skip(self, article: Article) -> bool:
        """Items the ledger says need no request this run (dropped with their reason)."""
        if self.ledger is None or article.raw is not None:
            return False
        if not self.refresh and self.ledger.already_loaded([article.url]):
            self.drop(article, Outcome.NOT_MODIFIED, "already_loaded")
            return True
        if self.ledger.waiting(article.url):
            self.drop(article, Outcome.FAILED, "retry_backoff",
                      detail="failed recently; retried after its backoff")
            return True
        return False

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        workers = max(1, self.fetcher.settings.workers)
        window = 2 * workers
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
        pending: set[Future[tuple[Article, FetchResult]]] = set()
        try:
            for article in self._looked_up(items):
                if article.raw is not None:
                    ready = self._decode(article, None)
                    if ready is not None:
                        yield ready
                    continue
                if self._skip(article):
                    continue
                etag = last_modified = None
                if self.conditional is not None:
                    etag, last_modified = self.conditional(article.url)
                pending.add(pool.submit(self._fetch, article, etag, last_modified))
                if len(pending) >= window:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from self._finish_all(done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from self._finish_all(done)
        finally:
            # Consumer stopped early or an error: do not start queued fetches.
            pool.shutdown(wait=True, cancel_futures=True)
            if self.ledger is not None:
                self.ledger.flush()
            if self.archive is not None:
                self.archive.close()

    def _looked_up(self, items: Iterable[Article]) -> Iterator[Article]:
        """`items` in their order, the URLs to fetch looked up in the ledger a group at a
        time: groups of 1, 2, 4, … LOOKAHEAD items, so the first fetch starts at once and a
        long list costs a query per group, not two per URL. Items that carry their body
        (a WARC record may be large) are never held back."""
        if self.ledger is None:
            yield from items
            return
        group: list[Article] = []
        size = 1
        for article in items:
            if article.raw is None:
                group.append(article)
                if len(group) < size:
                    continue
                size = min(2 * size, LOOKAHEAD)
            if group:
                self.ledger.prefetch([a.url for a in group])
                yield from group
                group = []
            if article.raw is not None:
                yield article
        if group:
            self.ledger.prefetch([a.url for a in group])
            yield from group

    def _fetch(self, article: Article, etag: str | None,
               last_modified: str | None) -> tuple[Article, FetchResult]:
        return article, self.fetcher.fetch(article.url, accept="html", etag=etag,
                                           last_modified=last_modified)

    def _finish_all(self, done: Iterable[Future[tuple[Article, FetchResult]]]
                    ) -> Iterator[Article]:
        ready = []
        for future in done:
            article, result = future.result()  # fetch() never raises for fetch problems
            finished = self._apply_result(article, result)
            if finished is not None:
                ready.append(finished)
        if ready and self.ledger is not None:
            # A page's ledger row is written before the page can reach a load, which
            # settles it (etl.fetch.ledger); a row written later would stay unsettled.
            self.ledger.flush()
        yield from ready

    def _apply_result(self, article: Article, result: FetchResult) -> Article | None:
        article.final_url = result.final_url
        article.http_status = result.status
        article.fetched_at = result.fetched_at
        unchanged = False
        archive_path = None
        if result.reason is None and result.body is not None and not result.not_modified:
            if self.ledger is not None and not self.refresh:
                unchanged = self.ledger.unchanged(article.url, result.body)
            if self.archive is not None and not unchanged:
                archive_path = self.archive.store(result.final_url or article.url,
                                                  result.status or 200, result.headers,
                                                  result.body, result.fetched_at)
        # No request reached the URL when its host's robots.txt or our shared limiter was
        # unavailable: the ledger keeps what it knew, so the URL is tried again on the next
        # run with no backoff (a failure of the host, or ours, is not the URL's).
        if self.ledger is not None and result.reason not in NOT_ATTEMPTED_REASONS:
            self.ledger.record(
                article.url, status=result.status,
                reason=None if result.not_modified else result.reason,
                fetched_at=result.fetched_at, final_url=result.final_url,
                etag=result.headers.get("etag"),
                last_modified=result.headers.get("last-modified"),
                body=result.body if result.reason is None else None,
                archive_path=archive_path)
        if result.not_modified or unchanged:
            self.drop(article, Outcome.NOT_MODIFIED, "not_modified" if result.not_modified
                      else "unchanged_body")
            return None
        if result.reason is not None or result.body is None:
            self.drop(article, Outcome.FAILED, result.reason or "connect", detail=result.detail)
            return None
        article.raw = result.body
        article.content_type = "html"
        article.etag = result.headers.get("etag")
        article.last_modified = result.headers.get("last-modified")
        return self._decode(article, result.charset)

    def _decode(self, article: Article, charset: str | None) -> Article | None:
        if article.html is not None or article.content_type != "html" or article.raw is None:
            return article
        try:
            article.html, how, _ = decode_page(article.raw, charset)
            article.notes.append(f"charset_{how}")  # counted by the extract stage
        except DecodeError as exc:
            self.drop(article, Outcome.FAILED, "decode_error", detail=str(exc))
            return None
        return article
