"""Extraction stage: raw bytes → clean text and metadata (trafilatura + metadata rules).

The stage decodes each item and hands it to `etl.extract.document` (one document → Article
fields), inline or in the process pool (`etl.extract.pool`); every item it cannot extract is
recorded as failed with a reason. trafilatura and the metadata rules are imported lazily,
inside the worker that extracts, so that importing this package (e.g. while Airflow parses
DAGs) stays cheap.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator

from etl.decode import DecodeError, decode_page
from etl.extract.document import extract_html, extract_text_file, extractor_version
from etl.extract.pool import PoolSettings
from etl.records import Article, Outcome, Stage

log = logging.getLogger(__name__)


class ExtractStage(Stage):
    """Decode and extract each item; unreadable or empty items are recorded as failed.

    With `workers` > 1 the documents are extracted in a process pool (etl.extract.pool),
    with a hard per-document time limit; otherwise inline, in this process.
    """

    name = "extract"

    def __init__(self, sink, boilerplate_by_source: dict[str, tuple[re.Pattern[str], ...]],
                 pool: PoolSettings | None = None):
        super().__init__(sink)
        self.boilerplate_by_source = boilerplate_by_source
        self.pool = pool
        self._version: str | None = None

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        if self.pool is None or self.pool.resolved_workers() <= 1:
            for article in items:
                if self.extract_one(article):
                    yield article
            return
        from etl.extract.pool import ExtractPool, PoolUnavailable

        try:
            pool = ExtractPool(self.pool)
        except PoolUnavailable as exc:
            log.warning("%s; extracting in this process instead", exc)
            for article in items:
                if self.extract_one(article):
                    yield article
            return
        try:
            for item, extracted, drops, failure in pool.map(items, self.boilerplate_by_source):
                if extracted is not None:
                    self._count_notes(extracted)  # the worker's count stays there
                    yield extracted
                elif failure is not None:
                    reason, _, detail = failure.partition(":")
                    self.drop(item, Outcome.FAILED, reason, detail or None)
                else:
                    for dropped in drops:  # counted here: worker stats stay in the worker
                        self.drop(dropped.article, dropped.outcome, dropped.reasons,
                                  dropped.detail)
        finally:
            pool.close()

    def _count_notes(self, article: Article) -> None:
        """A stated date that was not stored is no outcome (the article loads without it),
        nor is the charset evidence used, a repair or a structured body; but an operator
        must be able to count them: stats notes, one per reason and item."""
        for reason in article.date_rejections:
            self.stats.notes[reason] += 1
            log.debug("%s: stated publication date not stored (%s)", article.url, reason)
        for note in dict.fromkeys(article.notes):
            self.stats.notes[note] += 1

    def extract_one(self, article: Article) -> bool:
        if article.read_error:
            reason, detail = article.read_error
            self.drop(article, Outcome.FAILED, reason, detail)
            return False
        if not article.raw:
            self.drop(article, Outcome.FAILED, "empty", "0 bytes")
            return False
        boilerplate = self.boilerplate_by_source.get(article.source, ())
        try:
            if article.content_type == "text":
                extract_text_file(article, article.raw, boilerplate)
            else:
                html = article.html
                if not html:
                    html, how, _ = decode_page(article.raw)
                    article.notes.append(f"charset_{how}")
                if not extract_html(article, html, boilerplate):
                    self.drop(article, Outcome.FAILED, "no_article", "no main text found")
                    return False
        except DecodeError as exc:
            self.drop(article, Outcome.FAILED, "decode_error", str(exc))
            return False
        except RecursionError:
            self.drop(article, Outcome.FAILED, "extract_error", "document nested too deeply")
            return False
        except Exception as exc:  # one bad page must never stop the batch
            self.drop(article, Outcome.FAILED, "extract_error", f"{type(exc).__name__}: {exc}")
            return False
        finally:
            article.html = None  # decoded page is not needed downstream; keep staging small
        self._count_notes(article)
        if self._version is None:
            self._version = extractor_version()
        article.extractor_version = self._version
        article.raw = None
        return True
