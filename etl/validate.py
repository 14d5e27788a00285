"""Validation stage: a Great Expectations suite run on each batch as a pandas DataFrame.

Rows that fail any expectation are not loaded; they are handed to the outcome sink as
`rejected`, with the names of the failed expectations, and quarantined in
`article_rejects`. The whole GX result of every batch is kept for the run record.

GX is imported lazily and its context and suite are built once per process: importing
it costs about 6 s of CPU on a 2-core test machine. Validating a batch then costs about
0.2-0.3 s there whatever its size (GX builds its metric graph per call), which is why
the stage validates batches of up to 500 rows, never row by row. Analytics are off in the
contexts' own config (analytics_enabled=False); the edges set GX_ANALYTICS_ENABLED=false
too (Makefile, docker-compose.yml, plugins/news_settings.py) and quiet GX's INFO logging
(etl/cli/, plugins/news_settings.py): this module touches neither.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from etl.reasons import article_facts, reject_detail
from etl.records import Article, Outcome, Stage

log = logging.getLogger(__name__)

DEFAULT_MIN_WORDS = 50  # shortest accepted text for sources that set none
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
# Clock skew and time zones: a page may be dated a few hours ahead of our clock.
FUTURE_TOLERANCE = timedelta(days=1)
URL_REGEX = r"^(?:https?://[^\s/?#]+[^\s]*|file:///[^\s]*)$"
MOJIBAKE_REGEXES = [
    "\ufffd",  # replacement character: bytes that did not decode
    "Ã[\u0080-\u00bf]",  # UTF-8 read as Latin-1 ("Ã©" for "é")
    "â€[\u0080-\u00bf\u2018-\u203a™œ]",  # UTF-8 quotes/dashes read as windows-1252
    "Â[\u00a0-\u00bf]",  # UTF-8 NBSP and Latin-1 symbols read as Latin-1
]
_DAMAGE_RE = re.compile("|".join(MOJIBAKE_REGEXES))
# Encoding damage left after repair (etl.extract.repair), docs/extraction.md: a text is
# rejected when at least TEXT_DAMAGE_MIN_MARKS marks of damage (the regexes above) make
# up more than TEXT_DAMAGE_MAX_SHARE of its non-space characters — a page mis-decoded
# throughout, not one stray U+FFFD in a long article; a title when it has more than
# TITLE_DAMAGE_MAX_MARKS of them.
TEXT_DAMAGE_MIN_MARKS = 3
TEXT_DAMAGE_MAX_SHARE = 0.005
TITLE_DAMAGE_MAX_MARKS = 1
SUITE_NAME = "news_articles"


@dataclass
class BatchResult:
    """Outcome of validating one batch: which rows failed which expectations."""

    success: bool
    failures: dict[int, list[str]]  # row index → failed expectation names
    result: dict[str, Any]  # the whole GX validation result, JSON-serialisable
    gx_result: Any = None  # the GX object itself, for Data Docs


class _Validator:
    """The GX context, datasource and suite, built once per process."""

    _instance: _Validator | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        asset = self.context.data_sources.add_pandas("news_etl").add_dataframe_asset("articles")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("batch")
        self.suite = self.context.suites.add(build_suite(gx, gxe))

    @classmethod
    def get(cls) -> _Validator:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def validate(self, frame) -> BatchResult:
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            self.suite,
            result_format={"result_format": "COMPLETE",
                           "unexpected_index_column_names": ["row_id"]},
        )
        failures: dict[int, list[str]] = {}
        for item in result.results:
            if item.success:
                continue
            config = item.expectation_config
            kwargs = config.kwargs
            column = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
            name = f"{config.type}[{column}]"
            for row in item.result.get("unexpected_index_list") or []:
                failures.setdefault(int(row["row_id"]), []).append(name)
        return BatchResult(bool(result.success), failures, result.to_json_dict(), result)


def build_suite(gx, gxe):
    """The expectations every article must meet. Each failed one becomes a reject reason."""
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for expectation in (
        gxe.ExpectColumnValuesToNotBeNull(column="url"),
        gxe.ExpectColumnValuesToMatchRegex(column="url", regex=URL_REGEX),
        gxe.ExpectColumnValuesToNotBeNull(column="title"),
        gxe.ExpectColumnValuesToMatchRegex(column="title", regex=r"\S"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="word_count", column_B="min_words", or_equal=True
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="language"),
        gxe.ExpectColumnValuesToMatchRegex(column="language", regex=r"^[a-z]{2}$"),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="language", column_B="expected_language",
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="published_ts", min_value=EARLIEST_DATE.timestamp(),
            max_value=None,
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="latest_allowed_ts", column_B="published_ts", or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="text_damage", max_value=TEXT_DAMAGE_MAX_SHARE),
        gxe.ExpectColumnValuesToBeBetween(column="title_damage",
                                          max_value=TITLE_DAMAGE_MAX_MARKS),
    ):
        suite.add_expectation(expectation)
    return suite


def gx_ready() -> None:
    """Import and configure GX in this process (once), e.g. before rendering Data Docs."""
    _Validator.get()


def prewarm() -> threading.Thread:
    """Build the GX context in a background thread and return the thread.

    Importing GX takes seconds of CPU. Done on first use, it stalls the streaming run while
    the extraction workers drain their queue and idle; started before the first batch, it
    overlaps extraction. A failure here is ignored: the first batch then raises it."""

    def build() -> None:
        try:
            _Validator.get()
        except Exception:  # reported by the first validate_batch call, with its traceback
            log.debug("GX prewarm failed", exc_info=True)

    thread = threading.Thread(target=build, name="gx-prewarm", daemon=True)
    thread.start()
    return thread


def text_damage(text: str | None) -> float:
    """Share of the non-space characters that are marks of encoding damage; 0.0 below
    TEXT_DAMAGE_MIN_MARKS marks (a stray one is no reason to lose an article)."""
    if not text:
        return 0.0
    marks = len(_DAMAGE_RE.findall(text))
    if marks < TEXT_DAMAGE_MIN_MARKS:
        return 0.0
    return marks / max(1, len(text) - sum(1 for ch in text if ch.isspace()))


def title_damage(title: str | None) -> int:
    """Marks of encoding damage in a title."""
    return len(_DAMAGE_RE.findall(title or ""))


def to_frame(batch: list[Article], min_words: dict[str, int],
             default_min_words: int = DEFAULT_MIN_WORDS):
    """The columns the suite checks. Dates as epoch seconds: robust across pandas versions.
    `min_words`: per-source rules; `default_min_words` for the other sources."""
    import pandas as pd

    now = datetime.now(UTC)
    rows = []
    for i, a in enumerate(batch):
        published = a.published_at
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        rows.append({
            "row_id": i,
            "url": a.url,
            "title": a.title,
            "text_damage": text_damage(a.text),
            "title_damage": title_damage(a.title),
            "word_count": a.word_count,
            "min_words": min_words.get(a.source, default_min_words),
            "language": a.language,
            "expected_language": a.expected_language,
            "published_ts": published.timestamp() if published else None,
            # Not later than the fetch (or now), with tolerance for time zones.
            "latest_allowed_ts": ((a.fetched_at or now) + FUTURE_TOLERANCE).timestamp(),
        })
    frame = pd.DataFrame(rows)
    frame["published_ts"] = frame["published_ts"].astype("float64")
    return frame


def validate_batch(batch: list[Article], min_words: dict[str, int] | None = None,
                   default_min_words: int = DEFAULT_MIN_WORDS) -> BatchResult:
    """Validate one batch with the suite; returns the failures per row index."""
    return _Validator.get().validate(to_frame(batch, min_words or {}, default_min_words))


class ValidateStage(Stage):
    """Runs the suite per batch (never per row); forwards the rows that pass."""

    name = "validate"

    def __init__(self, sink, min_words: dict[str, int] | None = None, batch_size: int = 500,
                 default_min_words: int = DEFAULT_MIN_WORDS) -> None:
        super().__init__(sink)
        self.min_words = min_words or {}  # per source
        self.default_min_words = default_min_words  # for the other sources
        self.batch_size = batch_size
        self.results: list[dict[str, Any]] = []  # one GX result per batch, for the run record
        self.gx_results: list[Any] = []  # the same as GX objects, for Data Docs

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        iterator = iter(items)
        while batch := list(islice(iterator, self.batch_size)):
            outcome = validate_batch(batch, self.min_words, self.default_min_words)
            self.results.append(outcome.result)
            self.gx_results.append(outcome.gx_result)
            for i, article in enumerate(batch):
                reasons = outcome.failures.get(i)
                if reasons:
                    names = sorted(set(reasons))
                    # Beside the expectation names, the same as sentences with the values.
                    minimum = self.min_words.get(article.source, self.default_min_words)
                    self.drop(article, Outcome.REJECTED, names,
                              reject_detail(names, article_facts(article, minimum)))
                else:
                    yield article
