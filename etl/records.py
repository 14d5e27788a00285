"""The record that flows through every stage, and the outcomes it can end in.

One `Article` is created per item a source reads (a file, a URL, a WARC record) and is
enriched stage by stage: sources fill `url`/`raw`, fetch fills the HTTP fields, extract
fills text and metadata, validate and dedup decide whether it is loaded. An item that a
stage does not forward is handed to the run's outcome sink with exactly one `Outcome`
and a reason, so every item read is accounted for.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.dedup.presigned import Presigned


class Outcome(StrEnum):
    """The one final state of every item read. Counted per run and source in `ingest_runs`."""

    LOADED = "loaded"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # read fine, but failed validation (quarantined in article_rejects)
    FAILED = "failed"  # could not be read, fetched or extracted
    NOT_MODIFIED = "not_modified"  # unchanged since it was last loaded: nothing to do


# Column names in ingest_runs for each outcome (the public analytics contract).
OUTCOME_COLUMNS: dict[Outcome, str] = {
    Outcome.LOADED: "loaded",
    Outcome.DUPLICATE: "duplicates",
    Outcome.REJECTED: "rejected",
    Outcome.FAILED: "failed",
    Outcome.NOT_MODIFIED: "not_modified",
}


@dataclass(slots=True)
class Article:
    """One item on its way from a source to the warehouse."""

    url: str
    source: str
    # What the source or fetcher read. `raw` is the undecoded body; `content_type` is
    # "html" or "text" (plain text: first non-empty line is the title).
    raw: bytes | None = None
    content_type: str = "html"
    expected_language: str | None = None
    # Set by a source that found the item but could not read it (reason, detail).
    read_error: tuple[str, str] | None = None
    # Discovery hints (feed/sitemap entries); used only when the page states nothing better.
    hint_title: str | None = None
    hint_published_at: datetime | None = None
    # Fetch results.
    final_url: str | None = None
    http_status: int | None = None
    fetched_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Extraction results.
    html: str | None = None  # decoded body, dropped before loading
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    sitename: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    text: str | None = None
    text_sha256: str | None = None
    word_count: int = 0
    # Provenance of the metadata fields (e.g. "jsonld", "og", "h1", "trafilatura", "none");
    # date_source is None exactly when published_at is None.
    title_source: str | None = None
    date_source: str | None = None
    # Why stated publication dates were not stored ("date_in_future", "date_unparseable"…):
    # the item still loads without them; the extract stage counts them in its notes.
    date_rejections: list[str] = field(default_factory=list)
    # What decoding and extraction did to an item they still forwarded (charset_declared,
    # charset_utf8_over_declared, text_repaired, body_structured…): counted in extract's notes.
    notes: list[str] = field(default_factory=list)
    author_source: str | None = None
    extractor_version: str | None = None
    # Filled by dedup for near-duplicate clustering.
    cluster_id: str | None = None
    # Fields analysts ask for (etl.extract.metadata.extra_fields, docs/fields.md), each with
    # its provenance; None when the page states nothing (a refused updated date is in
    # date_rejections as "modified_<reason>"). The offset and local day are the published
    # date's, as the page stated it.
    modified_at: datetime | None = None
    modified_source: str | None = None
    published_utc_offset_min: int | None = None
    published_local_date: date | None = None
    image_url: str | None = None
    image_source: str | None = None
    is_paywalled: bool | None = None
    paywall_source: str | None = None
    is_liveblog: bool | None = None
    liveblog_source: str | None = None
    # The near-duplicate signature, made by the extraction worker (etl.dedup.presigned);
    # used only if made from the current text, never staged or stored: recomputed when absent.
    near_signature: Presigned | None = None

    def to_json(self) -> str:
        """Serialise for staging files (bytes as latin-1 text, datetimes as ISO 8601)."""
        data = dataclasses.asdict(self)
        data.pop("near_signature", None)  # recomputed after staging (etl.dedup.presigned)
        data["raw"] = self.raw.decode("latin-1") if self.raw is not None else None
        for key in ("hint_published_at", "fetched_at", "published_at", "modified_at",
                    "published_local_date"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Article:
        data: dict[str, Any] = json.loads(line)
        if data.get("raw") is not None:
            data["raw"] = data["raw"].encode("latin-1")
        for key in ("hint_published_at", "fetched_at", "published_at", "modified_at"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        if data.get("published_local_date"):
            data["published_local_date"] = date.fromisoformat(data["published_local_date"])
        if data.get("read_error"):
            data["read_error"] = tuple(data["read_error"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class Dropped:
    """An item a stage did not forward, with the one outcome it ends in and why."""

    article: Article
    outcome: Outcome
    stage: str
    reasons: list[str]
    detail: str | None = None
    # For duplicates: what it duplicates, how and how closely.
    duplicate_of: str | None = None
    duplicate_kind: str | None = None
    similarity: float | None = None

    def to_json(self) -> str:
        data = {
            "article": json.loads(self.article.to_json()),
            "outcome": self.outcome.value,
            "stage": self.stage,
            "reasons": self.reasons,
            "detail": self.detail,
            "duplicate_of": self.duplicate_of,
            "duplicate_kind": self.duplicate_kind,
            "similarity": self.similarity,
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Dropped:
        data = json.loads(line)
        data["article"] = Article.from_json(json.dumps(data["article"]))
        data["outcome"] = Outcome(data["outcome"])
        return cls(**data)


DropSink = Callable[[Dropped], None]


@dataclass
class StageStats:
    """What one stage forwarded and what it dropped, keyed by reason."""

    stage: str
    received: int = 0
    forwarded: int = 0
    dropped_items: int = 0
    dropped: Counter[str] = field(default_factory=Counter)  # per reason (an item may have several)
    # What a stage changed on items it still forwarded, per reason (e.g. a refused
    # canonical link): no outcome of its own, but an operator should see it.
    notes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "received": self.received,
            "forwarded": self.forwarded,
            "dropped_items": self.dropped_items,
            "dropped": dict(self.dropped),
            "notes": dict(self.notes),
        }


class Stage:
    """Base of every pipeline stage: an iterable of articles in, an iterator out.

    Subclasses implement `process`, calling `self.drop(...)` for each item they do not
    forward. The stage counts both and hands drops to the run's sink, so nothing
    disappears silently.
    """

    name = "stage"

    def __init__(self, sink: DropSink) -> None:
        self.sink = sink
        self.stats = StageStats(self.name)

    def __call__(self, items: Iterable[Article]) -> Iterator[Article]:
        for item in self.process(self._count_in(items)):
            self.stats.forwarded += 1
            yield item

    def _count_in(self, items: Iterable[Article]) -> Iterator[Article]:
        for item in items:
            self.stats.received += 1
            yield item

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        raise NotImplementedError

    def drop(
        self,
        article: Article,
        outcome: Outcome,
        reasons: str | list[str],
        detail: str | None = None,
        **duplicate: Any,
    ) -> None:
        reason_list = [reasons] if isinstance(reasons, str) else list(reasons)
        self.stats.dropped_items += 1
        article.raw = article.html = None  # bodies stay in the archive, not in outcome records
        for reason in reason_list:
            self.stats.dropped[reason] += 1
        self.sink(Dropped(article, outcome, self.name, reason_list, detail, **duplicate))


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    """A run id or source name as a file-name component (staging, archive, Data Docs)."""
    return _UNSAFE_NAME.sub("_", name)
