"""Extraction stage: raw bytes → clean text and metadata (trafilatura + metadata rules).

trafilatura and the metadata rules are imported lazily, inside the worker that extracts,
so that importing this package (e.g. while Airflow parses DAGs) stays cheap.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from etl.decode import DecodeError, decode_html
from etl.extract.pool import PoolSettings
from etl.records import Article, Outcome, Stage, to_utc

if TYPE_CHECKING:
    from etl.extract.metadata.refine import RefinedMetadata

log = logging.getLogger(__name__)
_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")
_LANG_ATTR_RE = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2})\b", re.IGNORECASE)


def normalise_for_hash(text: str) -> str:
    """NFKC, case-folded, whitespace-collapsed: what counts as 'the same text'."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


def count_words(text: str | None) -> int:
    return len(_WORD_RE.findall(text or ""))


def remove_boilerplate(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    """Drop every line matching one of the source's `boilerplate` patterns."""
    patterns = list(patterns)
    if not patterns:
        return text.strip()
    kept = [line for line in text.splitlines() if not any(p.search(line) for p in patterns)]
    return "\n".join(kept).strip()


_HEAD_END_RE = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_TAG_RE = re.compile(r"<(link|meta)\b([^>]*)>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


def _attributes(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): html_lib.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            .strip() for m in _ATTR_RE.finditer(raw)}


def page_canonical(html: str, url: str) -> str | None:
    """What the page states as its own canonical URL: ``<link rel="canonical">`` (relative
    links resolved against the page URL), else ``og:url``. Not ``<base href>`` nor an
    ``hreflang`` alternate, which trafilatura also reports as the page URL: neither names
    this page. Whether the statement is plausible is decided by the dedup stage."""
    end = _HEAD_END_RE.search(html, 0, 200_000)
    head = _COMMENT_RE.sub("", html[:end.start() if end else 200_000])
    og_url = None
    for match in _TAG_RE.finditer(head):
        attrs = _attributes(match.group(2))
        if match.group(1).lower() == "link":
            if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
                return urljoin(url, attrs["href"])
        elif og_url is None and attrs.get("property", attrs.get("name", "")).lower() == "og:url":
            og_url = urljoin(url, attrs["content"]) if attrs.get("content") else None
    return og_url


def canonical_url(url: str, page_canonical: str | None = None) -> str:
    """The URL dedup compares: the page's own canonical link when it is on the same site
    (or the item is a local file), else the item's URL; lower-cased host, tracking
    parameters and fragment removed."""
    from courlan import normalize_url

    chosen = url
    if page_canonical and page_canonical.startswith(("http://", "https://")):
        own_host = (urlsplit(url).hostname or "").removeprefix("www.")
        their_host = (urlsplit(page_canonical).hostname or "").removeprefix("www.")
        if url.startswith("file://") or own_host == their_host:
            chosen = page_canonical
    if chosen.startswith("file://"):
        return chosen
    try:
        return normalize_url(chosen, strict=True)
    except Exception:  # courlan raises assorted errors on odd URLs; keep the raw one
        return chosen


def detect_language(text: str, html: str | None = None) -> str | None:
    """The page's declared <html lang>, else py3langid on the text."""
    if html:
        match = _LANG_ATTR_RE.search(html[:5000])
        if match:
            return match.group(1).lower()
    if not text.strip():
        return None
    import py3langid

    language, _score = py3langid.classify(text[:5000])
    return language


def extractor_version() -> str:
    import trafilatura

    return f"trafilatura-{trafilatura.__version__}"


def _finish(article: Article, text: str, boilerplate: Iterable[re.Pattern[str]]) -> None:
    article.text = remove_boilerplate(text, boilerplate)
    article.word_count = count_words(article.text)
    article.text_sha256 = text_fingerprint(article.text)


def extract_text_file(article: Article, raw: bytes, boilerplate=()) -> None:
    """Plain text: first non-empty line is the title, the rest is the body. States no date."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = decode_html(raw)
    lines = content.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    article.title = lines[0].strip() if lines else None
    article.title_source = "first_line" if lines else "none"
    _finish(article, "\n".join(lines[1:]), boilerplate)
    article.language = detect_language(article.text or "")
    article.canonical_url = canonical_url(article.url)
    article.published_at = article.date_source = None
    article.author_source = "none"


def take_hint_date(article: Article) -> None:
    """The feed/sitemap date when the page states none: under the same bounds as a page's
    (not more than a day after the fetch, not before 1990), else recorded as rejected."""
    from etl.extract.metadata.dates import check_date

    hint = to_utc(article.hint_published_at)
    reason = check_date(hint, article.fetched_at)
    if reason is None:
        article.published_at, article.date_source = hint, "hint"
    elif reason not in article.date_rejections:
        article.date_rejections.append(reason)


def read_html(
    html: str, url: str | None, fetched_at: datetime | None = None
) -> tuple[dict[str, Any], RefinedMetadata] | None:
    """trafilatura's fields and the metadata rules' choices, from one parse of the page.

    The page is parsed once, as trafilatura parses it (`trafilatura.load_html`), so its
    output is what it would be on the string; the rules read that tree first, trafilatura
    then works on it (2.3.1 copies a tree it is given). None when trafilatura finds no
    article text.
    """
    import trafilatura

    from etl.extract.metadata.page import parse_html, read_facts
    from etl.extract.metadata.refine import refine_metadata
    from etl.extract.settings import TRAFILATURA_OPTIONS

    try:
        tree = trafilatura.load_html(html)
    except (TypeError, ValueError):  # what bare_extraction answers with "no document"
        return None
    if tree is None:  # not HTML: trafilatura finds nothing in it either
        return None
    page: Any = tree
    if tree.getparent() is not None:
        # lxml took the page for a fragment (no <html>, doctype or <head>) and handed back
        # one element, or the <body> renamed to a <div>: trafilatura reads its own parse of
        # the string, as always, and the rules the whole document.
        page, tree = html, parse_html(html)
    facts = read_facts(tree)
    document = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, **TRAFILATURA_OPTIONS
    )
    if document is None:
        return None
    data: dict[str, Any] = document.as_dict()
    if not (data.get("text") or "").strip():
        return None
    return data, refine_metadata(facts, url, data, fetched_at)


def extract_html(article: Article, html: str, boilerplate=()) -> bool:
    """Run trafilatura and the metadata rules. Returns False when no article was found."""
    url = article.final_url or article.url
    extracted = read_html(html, url, article.fetched_at)
    if extracted is None:
        return False
    data, meta = extracted
    article.title = meta.title or article.hint_title
    article.title_source = meta.title_source if meta.title else (
        "hint" if article.hint_title else "none")
    article.published_at, article.date_source = meta.published_at, meta.date_source
    article.date_rejections = list(meta.date_rejections)
    if article.published_at is None and article.hint_published_at is not None:
        take_hint_date(article)
    article.author = meta.author
    article.author_source = meta.author_source
    article.sitename = data.get("sitename")
    article.description = data.get("description")
    article.categories = [c for c in (data.get("categories") or []) if c]
    article.tags = [t for t in (data.get("tags") or []) if t]
    _finish(article, data["text"], boilerplate)
    article.language = detect_language(article.text or "", html)
    article.canonical_url = canonical_url(url, page_canonical(html, url))
    return True


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
                    self._count_date_rejections(extracted)  # the worker's count stays there
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

    def _count_date_rejections(self, article: Article) -> None:
        """A stated date that was not stored is no outcome (the article loads without it),
        but an operator must be able to count it: stats notes, one per reason and item."""
        for reason in article.date_rejections:
            self.stats.notes[reason] += 1
            log.debug("%s: stated publication date not stored (%s)", article.url, reason)

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
                html = article.html or decode_html(article.raw)
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
        self._count_date_rejections(article)
        if self._version is None:
            self._version = extractor_version()
        article.extractor_version = self._version
        article.raw = None
        return True
