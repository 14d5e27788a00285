"""Fields analysts ask for beyond title, date and author (docs/fields.md): the updated date,
the publisher's UTC offset and calendar day, the lead image, paywall and live-blog flags.

Two steps, so the page is read before trafilatura touches the tree, and the choices can
use what the other rules chose (etl.extract.document.read_page):

- `read_extra_facts(tree, facts)`: what the page states that `PageFacts` does not hold
  (update stamps, paywall teaser blocks, a live-ticker layout), in one read-only pass.
- `choose_extra_fields(...)`: the values and their provenance (`*_source`), as
  `ExtraFields`; `apply_extra_fields` copies them onto the Article.

Every value is a statement of the page or a documented, conservative rule; nothing is
copied from another field (an updated date is never the published date) and nothing raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from etl.extract.metadata.body_scan import HOLDS_UPDATE_KEY, UPDATE_LINE_CHARS, PageScan
from etl.extract.metadata.dates import FUTURE_TOLERANCE, check_date, read_date
from etl.extract.metadata.jsonld import jsonld_str, schema_types
from etl.extract.metadata.page_signals import (
    LIVE_WORDS,
    PAYWALL_WORDS,
    choose_image,
    choose_liveblog,
    choose_paywall,
    classed,
    liveblog_layout,
    liveblog_microdata,
    paywall_block,
)
from etl.extract.metadata.placement import outside_story, updated_only
from etl.extract.metadata.text import clean_text

if TYPE_CHECKING:
    from etl.extract.metadata.page import PageFacts
    from etl.records import Article

log = logging.getLogger(__name__)

MODIFIED_BEFORE_PUBLISHED = "modified_before_published"


@dataclass(slots=True)
class ExtraFacts:
    """What the page states for these fields that PageFacts does not already hold."""

    update_times: list[str] = field(default_factory=list)  # <time> marked as updated
    update_lines: list[str] = field(default_factory=list)  # "Updated: 3 May 2024, 10:42"
    paywall_block: bool = False  # a subscribe teaser block inside the story
    liveblog_microdata: bool = False  # itemtype …/LiveBlogPosting
    liveblog_layout: bool = False  # a live-ticker container with timestamped entries


@dataclass(slots=True)
class ExtraFields:
    """The chosen values with their provenance; None where the page states nothing."""

    modified_at: datetime | None = None  # as stated (aware; naive values taken as UTC)
    modified_source: str | None = None  # None exactly when modified_at is None
    published_utc_offset_min: int | None = None  # stated with the published date, else None
    published_local_date: date | None = None  # the published date in the publisher's calendar
    image_url: str | None = None
    image_source: str | None = None
    is_paywalled: bool | None = None
    paywall_source: str | None = None
    is_liveblog: bool | None = None
    liveblog_source: str | None = None
    # Stated updated dates not stored, as "modified_<DATE_* reason>" (each at most once).
    rejections: list[str] = field(default_factory=list)


_UPDATE_LABEL = re.compile(
    r"(?:^|[\s|·•,;(])(?:last\s+)?(?:updated|modified)(?:\s+on|\s+at)?\b|"
    r"(?:zuletzt\s+)?aktualisiert(?:\s+am)?|mis\s+à\s+jour(?:\s+le)?|actualizad[oa](?:\s+el)?|"
    r"aggiornat[oa](?:\s+il)?|bijgewerkt(?:\s+op)?|güncelleme(?:\s+tarihi)?", re.I)
_LINE_TAGS = ("p", "span", "div", "li", "small", "em", "dd")
_INLINE_TAGS = ("strong", "b", "i", "label", "time")


def read_extra_facts(tree: Any | None, facts: PageFacts | None,
                     scan: PageScan | None = None) -> ExtraFacts | None:
    """Read the statements these fields need from the page's tree (read only); None when
    there is no tree or it cannot be read. `scan`: `scan_page(tree)`, when the caller has it."""
    if tree is None or facts is None:
        return None
    try:
        extra = ExtraFacts()
        for el in tree.iter("time"):
            parent = el.getparent()
            marked = updated_only(el) or (parent is not None and updated_only(parent))
            if not marked or outside_story(el):
                continue
            value = el.get("datetime") or el.get("content") or clean_text(el.text_content())
            if value and value.strip():
                extra.update_times.append(value.strip())
        extra.update_lines = list(_update_lines(tree, scan))
        named = list(classed(tree, PAYWALL_WORDS + LIVE_WORDS, scan))  # one pass for both rules
        extra.paywall_block = paywall_block(named)
        extra.liveblog_microdata = liveblog_microdata(tree)
        extra.liveblog_layout = liveblog_layout(named)
        return extra
    except Exception:
        log.debug("extra page facts could not be read", exc_info=True)
        return None


def _update_texts(tree: Any) -> Iterator[tuple[str, Any]]:
    """The body's short text nodes holding an update key, and the element each belongs to
    (`PageScan.update_texts`, for a caller without a scan)."""
    if not _may_hold_update_label(tree):
        return
    for node in tree.xpath("//body//text()[not(parent::script) and not(parent::style)]"):
        if len(node) <= UPDATE_LINE_CHARS and HOLDS_UPDATE_KEY(node.lower()):
            yield str(node), node.getparent()


def _update_lines(tree: Any, scan: PageScan | None = None) -> Iterator[str]:
    """The text after an update label in a short line of the story ("Updated 3 May 2024").

    Only text nodes holding a label are looked at (a pass over every element's text costs
    more than all the other rules); the line is the nearest enclosing element of at most
    UPDATE_LINE_CHARS characters that has more than the label in it.
    """
    texts = scan.update_texts if scan is not None else _update_texts(tree)
    for node, el in texts:
        if not _UPDATE_LABEL.search(node):
            continue
        for _ in range(3):  # "<strong>Updated:</strong> <time>…</time>" is one level up
            if el is None or el.tag not in _LINE_TAGS + _INLINE_TAGS:
                break
            text = clean_text(el.text_content())
            if len(text) > UPDATE_LINE_CHARS:
                break
            match = _UPDATE_LABEL.search(text)
            rest = text[match.end():].lstrip(" :") if match else ""
            if any(ch.isdigit() for ch in rest):
                if not outside_story(el):
                    yield rest
                break
            el = el.getparent()


def _may_hold_update_label(tree: Any) -> bool:
    """Whether some text of the page's body holds an update key. The body's text in one
    string (lxml builds it in C) rules out about half the pages before the text-node pass,
    which builds an object per node; a key in a node is a key in the whole text."""
    for body in tree.getroottree().iter("body"):
        text = etree.tostring(body, method="text", encoding=str).lower()
        if HOLDS_UPDATE_KEY(text):
            return True
    return False


# Letters-only meta keys (as the published-date rules compare them): a vendor prefix
# ("shareaholic:article_modified_time") ends with the same letters.
_OG_MODIFIED = ("articlemodifiedtime", "ogupdatedtime", "articleupdatedtime",
                "ogmodifiedtime")
_META_MODIFIED = ("datemodified", "dctermsmodified", "dcdatemodified", "lastmodified",
                  "modifieddate", "updateddate", "lastupdated", "parselyupdated")
# JSON-LD objects that are the page itself, whose dateModified dates the page.
_PAGE_TYPES = {"webpage", "itempage", "collectionpage", "creativework", "aboutpage",
               "faqpage", "qapage", "medicalwebpage"}


def _letters(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def _meta_value(facts: PageFacts, keys: tuple[str, ...], suffix: bool) -> str | None:
    by_key = {_letters(k): v for k, v in facts.meta.items()}
    for wanted in keys:
        for key, values in by_key.items():
            if key == wanted or (suffix and key.endswith(wanted)):
                return values[0]
    return None


def modified_candidates(facts: PageFacts, extra: ExtraFacts | None
                        ) -> list[tuple[str, str | None]]:
    """(modified_source, raw value) of the page's update statements, in priority order."""
    return [
        *(("jsonld", jsonld_str(o, "dateModified")) for o in facts.jsonld_articles),
        ("og", _meta_value(facts, _OG_MODIFIED, suffix=True)),
        ("meta", next(iter(facts.itemprop.get("datemodified", [])), None)),
        ("meta", _meta_value(facts, _META_MODIFIED, suffix=False)),
        *(("jsonld", jsonld_str(o, "dateModified")) for o in facts.jsonld_other
          if schema_types(o) & _PAGE_TYPES),
        *(("time", v) for v in (extra.update_times if extra else [])),
        *(("dateline", v) for v in (extra.update_lines if extra else [])),
    ]


def choose_modified(facts: PageFacts, extra: ExtraFacts | None, published: datetime | None,
                    fetched_at: datetime | None, fields: ExtraFields) -> None:
    """The first update statement that is a full, plausible date, under the published
    date's bounds, and not more than FUTURE_TOLERANCE before the published date."""
    for source, value in modified_candidates(facts, extra):
        if not value:
            continue
        dt, reason = read_date(value)
        if dt is not None:
            reason = check_date(dt, fetched_at)
            if reason is None and published is not None and dt < published - FUTURE_TOLERANCE:
                reason = MODIFIED_BEFORE_PUBLISHED
            if reason is None:
                fields.modified_at, fields.modified_source = dt, source
                return
        if reason is not None and source != "dateline":  # free text is no statement
            note = reason if reason.startswith("modified_") else f"modified_{reason}"
            if note not in fields.rejections:
                fields.rejections.append(note)


# A stated zone after a clock time ("10:00Z", "10:00:00+03:00", "10:00 GMT"). RFC 2822's
# "-0000" means "zone unknown", so it is no statement of UTC.
_STATED_ZONE = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z\b|(?!-00:?00)[+-]\d{2}:?\d{2}\b|"
    r"(?:GMT|UTC|UT)\b)", re.I)


def _raw_statements(facts: PageFacts) -> Iterator[str]:
    """Every raw date value the published-date rules may have read."""
    for obj in (*facts.jsonld_articles, *facts.jsonld_other):
        for key in ("datePublished", "dateCreated"):
            value = jsonld_str(obj, key)
            if value:
                yield value
    for values in (*facts.meta.values(), *facts.itemprop.values()):
        yield from values
    yield from (v for v, _ in facts.times)
    yield from facts.script_dates
    yield from (t for t, _ in facts.datelines)


def published_offset(facts: PageFacts | None, published: datetime | None,
                     date_source: str | None) -> int | None:
    """Minutes east of UTC stated with the published date; None when it stated no zone
    (a bare date or a naive time) or came from a hint, the URL or the title."""
    if published is None or published.utcoffset() is None or facts is None:
        return None
    if date_source in (None, "hint", "url", "title"):
        return None
    minutes = int(published.utcoffset().total_seconds() // 60)
    if minutes:
        return minutes  # only a stated offset gives a non-UTC datetime
    # UTC: stated ("Z", "+00:00", "GMT") or assumed for a naive value? Ask the statement.
    for raw in _raw_statements(facts):
        if _STATED_ZONE.search(raw) and read_date(raw)[0] == published:
            return 0
    return None


def choose_extra_fields(
    extra: ExtraFacts | None, facts: PageFacts | None, text: str | None,
    url: str | None, published: datetime | None, date_source: str | None,
    fetched_at: datetime | None,
) -> ExtraFields:
    """The extra fields of a page from its facts, trafilatura's text, and the published
    date the rules chose (as stated, with its offset). Never raises."""
    fields = ExtraFields()
    if facts is None:
        return fields
    try:
        choose_modified(facts, extra, published, fetched_at, fields)
        fields.published_utc_offset_min = published_offset(facts, published, date_source)
        fields.image_url, fields.image_source = choose_image(facts, url)
        fields.is_paywalled, fields.paywall_source = choose_paywall(
            facts, text, extra.paywall_block if extra else False)
        fields.is_liveblog, fields.liveblog_source = choose_liveblog(
            facts, extra.liveblog_microdata if extra else False,
            extra.liveblog_layout if extra else False)
    except Exception:  # never let these fields fail an article
        log.debug("extra fields could not be chosen for %s", url, exc_info=True)
        return ExtraFields()
    return fields


def apply_extra_fields(article: Article, fields: ExtraFields | None) -> None:
    """Copy the fields onto the article, after its published date is final (a feed hint
    states no offset here: its day in the publisher's calendar is unknown)."""
    if fields is None:
        return
    article.modified_at, article.modified_source = fields.modified_at, fields.modified_source
    article.image_url, article.image_source = fields.image_url, fields.image_source
    article.is_paywalled, article.paywall_source = fields.is_paywalled, fields.paywall_source
    article.is_liveblog, article.liveblog_source = fields.is_liveblog, fields.liveblog_source
    for reason in fields.rejections:
        if reason not in article.date_rejections:
            article.date_rejections.append(reason)
    if article.published_at is None or article.date_source == "hint":
        article.published_utc_offset_min = article.published_local_date = None
        return
    article.published_utc_offset_min = fields.published_utc_offset_min
    # The date as the page wrote it: in its stated offset, or the naive wall-clock date.
    article.published_local_date = article.published_at.date()
