"""One document → the Article's text and metadata: HTML through trafilatura and the metadata
rules (one parse of the page), plain text by its first line.

trafilatura and the metadata rules are imported inside the functions that use them, so that
importing this module (e.g. while Airflow parses DAGs) stays cheap.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.decode import UTF8, decode_page
from etl.extract.canonical_link import canonical_url, page_canonical
from etl.extract.repair import repair_text
from etl.extract.words import count_words
from etl.records import Article, to_utc

if TYPE_CHECKING:
    from etl.extract.metadata.refine import RefinedMetadata

_SPACE_RE = re.compile(r"\s+")
_LANG_ATTR_RE = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2})\b", re.IGNORECASE)


def normalise_for_hash(text: str) -> str:
    """NFKC, case-folded, whitespace-collapsed: what counts as 'the same text'."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


def remove_boilerplate(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    """Drop every line matching one of the source's `boilerplate` patterns."""
    patterns = list(patterns)
    if not patterns:
        return text.strip()
    kept = [line for line in text.splitlines() if not any(p.search(line) for p in patterns)]
    return "\n".join(kept).strip()


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


def _repair_title(article: Article) -> None:
    """Undo mojibake in the title (etl.extract.repair); noted as title_repaired."""
    article.title, repaired = repair_text(article.title)
    if repaired:
        article.notes.append("title_repaired")


def _set_text(article: Article, text: str, boilerplate: Iterable[re.Pattern[str]]) -> None:
    """The body, repaired (noted as text_repaired), without boilerplate lines, and counted."""
    text, repaired = repair_text(text)
    if repaired:
        article.notes.append("text_repaired")
    article.text = remove_boilerplate(text or "", boilerplate)
    article.word_count = count_words(article.text)
    article.text_sha256 = text_fingerprint(article.text)


def extract_text_file(article: Article, raw: bytes, boilerplate=()) -> None:
    """Plain text: first non-empty line is the title, the rest is the body. States no date."""
    try:
        content = raw.decode("utf-8-sig")
        article.notes.append(f"charset_{UTF8}")
    except UnicodeDecodeError:
        content, how, _ = decode_page(raw)
        article.notes.append(f"charset_{how}")
    lines = content.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    article.title = lines[0].strip() if lines else None
    article.title_source = "first_line" if lines else "none"
    _repair_title(article)
    _set_text(article, "\n".join(lines[1:]), boilerplate)
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
    html: str, url: str | None, fetched_at: datetime | None = None,
    structured_body: bool | None = None,
) -> tuple[dict[str, Any], RefinedMetadata] | None:
    """trafilatura's fields and the metadata rules' choices, from one parse of the page.

    The page is parsed once, as trafilatura parses it (`trafilatura.load_html`), so its
    output is what it would be on the string. The rules read that tree first, so nothing
    trafilatura does to it can change what they see (2.3.1 copies a tree it is given; the
    copy costs about a quarter of a parse). None when neither trafilatura nor the page's
    structured data has article text. With `structured_body` (default: STRUCTURED_BODY) a
    JSON-LD/Next.js `articleBody` replaces a missing or much shorter text
    (etl.extract.structured_body); `data["text_source"]` says which was used. The text
    rules (etl.extract.metadata.body) then drop lines that are not the article's;
    `data["extracted_text"]` is the text before them.
    """
    import trafilatura

    from etl.extract.metadata.body import refine_body
    from etl.extract.metadata.body_scan import read_scan
    from etl.extract.metadata.extra_fields import choose_extra_fields, read_extra_facts
    from etl.extract.metadata.page import parse_html, read_facts
    from etl.extract.metadata.refine import refine_metadata
    from etl.extract.settings import STRUCTURED_BODY, TRAFILATURA_OPTIONS
    from etl.extract.structured_body import fallback_body, structured_bodies

    try:
        tree = trafilatura.load_html(html)
    except (TypeError, ValueError):  # what bare_extraction answers with "no document"
        return None
    if tree is None:  # not HTML: trafilatura finds nothing in it either
        return None
    trafilatura_input: Any = tree
    if tree.getparent() is not None:
        # lxml took the page for a fragment (no <html>, doctype or <head>) and handed back
        # one element, or the <body> renamed to a <div>: trafilatura reads its own parse of
        # the string, as always, and the rules the whole document.
        trafilatura_input, tree = html, parse_html(html)
    scan = read_scan(tree)  # one walk over the elements, for the rules that read them all
    facts = read_facts(tree, scan)
    extra_facts = read_extra_facts(tree, facts, scan)  # modified date, paywall, live blog
    use_structured = STRUCTURED_BODY if structured_body is None else structured_body
    # Read before trafilatura runs: it drops the scripts (from its copy of the tree).
    structured = structured_bodies(tree) if use_structured else []
    document = trafilatura.bare_extraction(
        trafilatura_input, url=url, with_metadata=True, **TRAFILATURA_OPTIONS
    )
    data: dict[str, Any] = document.as_dict() if document is not None else {}
    data["text_source"] = "trafilatura"
    if structured:
        body = fallback_body(structured, data.get("text"))
        if body is not None:
            # trafilatura's text kept beside it, for benchmarks/extraction_rules.py
            data["trafilatura_text"] = data.get("text")
            data["text"], data["text_source"] = body, "structured"
    if not (data.get("text") or "").strip():
        return None
    # The text rules (etl.extract.metadata.body); the text before them is kept beside it,
    # for benchmarks/metadata.py, which weighs each rule on it.
    data["extracted_text"] = data["text"]
    data["text"] = refine_body(data["text"], facts)
    meta = refine_metadata(facts, url, data, fetched_at)
    meta.extra = choose_extra_fields(extra_facts, facts, data.get("text"), url,
                                     meta.published_at, meta.date_source, fetched_at)
    return data, meta


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
    _repair_title(article)
    if data.get("text_source") == "structured":
        article.notes.append("body_structured")
    article.published_at, article.date_source = meta.published_at, meta.date_source
    article.date_rejections = list(meta.date_rejections)
    if article.published_at is None and article.hint_published_at is not None:
        take_hint_date(article)
    from etl.extract.metadata.extra_fields import apply_extra_fields

    apply_extra_fields(article, meta.extra)
    article.author = meta.author
    article.author_source = meta.author_source
    article.sitename = data.get("sitename")
    article.description = data.get("description")
    article.categories = [c for c in (data.get("categories") or []) if c]
    article.tags = [t for t in (data.get("tags") or []) if t]
    _set_text(article, data["text"], boilerplate)
    article.language = detect_language(article.text or "", html)
    article.canonical_url = canonical_url(url, page_canonical(html, url))
    return True
