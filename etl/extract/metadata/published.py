"""The published date: the first statement of publication that is a full, plausible date.

In priority order (date_source): JSON-LD datePublished of the article ("jsonld"), a
publication meta tag ("og", "meta", RDFa), the page object's datePublished, a <time> that
stands as the article's date ("time"), the article's dateCreated, page script data
("script"), a trailing date in the title ("title"), a full date in the URL path ("url"), a
dateline ("dateline"). Statements passed over record their reason. trafilatura's own date
("trafilatura") is taken only under the rule `date.trafilatura`, when no statement was read:
the extract stage runs htmldate on the markup only (TRAFILATURA_OPTIONS: no free-text or
copyright-line search). Each family is a named rule (etl.extract.metadata.rules).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from etl.extract.metadata.dates import (
    DATE_INCOMPLETE,
    DATE_UNPARSEABLE,
    check_date,
    read_date,
)
from etl.extract.metadata.jsonld import jsonld_str, schema_types
from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.text import clean_text, first_value

log = logging.getLogger(__name__)


# Meta names are compared letters only: "article:published_time", "article_published_time"
# and "article:published:time" are the same statement; a vendor prefix
# ("shareaholic:article_published_time") does not change it.
_OG_DATE_KEYS = ("articlepublishedtime", "ogpublishedtime", "ogarticlepublishedtime")
_META_DATE_KEYS = (
    "parselypubdate", "sailthrudate", "publishdate", "pubdate", "date", "dcdate",
    "dcdateissued", "dctermsdate", "dctermsissued", "dctermscreated", "dccreated",
    "articlepublished", "publishedtime", "publicationdate", "cxenseparserecspublishtime",
    "datepublished", "originalpublicationdate", "schemadatepublished", "schemadatecreated",
)


def _letters(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def _meta_dates(facts: PageFacts, keys: Iterable[str], suffix: bool = False) -> list[str]:
    """The first value of each wanted key, in the order of `keys` (with `suffix`, a key
    that ends with a wanted one counts: a vendor prefix)."""
    by_key: dict[str, list[str]] = {}
    for key, values in facts.meta.items():
        by_key.setdefault(_letters(key), []).extend(values)
    found = []
    for wanted in keys:
        for key, values in by_key.items():
            if key == wanted or (suffix and key.endswith(wanted)):
                found.append(values[0])
                break
    return found


# JSON-LD objects that are the page itself (not an image, a person or the publisher): their
# datePublished dates the page when no article object states one.
_PAGE_TYPES = {"webpage", "itempage", "howto", "recipe", "creativework", "review",
               "faqpage", "qapage", "medicalwebpage", "podcastepisode", "episode",
               "aboutpage", "collectionpage"}


def date_candidates(facts: PageFacts,
                    rules: frozenset[str] = DEFAULT_RULES) -> list[tuple[str, Any]]:
    """(source, raw value) of the page's structured date statements, in priority order
    (each family only when its rule is on)."""
    families: list[tuple[str, str, list[Any]]] = [
        ("date.jsonld", "jsonld", [jsonld_str(o, "datePublished") for o in facts.jsonld_articles]),
        ("date.og", "og", _meta_dates(facts, _OG_DATE_KEYS, suffix=True)[:1]),
        ("date.itemprop", "meta", [first_value(facts.itemprop.get("datepublished", []))]),
        ("date.meta", "meta", _meta_dates(facts, _META_DATE_KEYS)[:1]),
        ("date.jsonld_page", "jsonld", [jsonld_str(o, "datePublished") for o in facts.jsonld_other
                                        if schema_types(o) & _PAGE_TYPES]),
        ("date.time_article", "time", [v for v, in_article in facts.times if in_article]),
        ("date.time_first", "time", [v for v, in_article in facts.times[:1] if not in_article]),
        ("date.jsonld_created", "jsonld",
         [jsonld_str(o, "dateCreated") for o in facts.jsonld_articles]),
        ("date.script", "script", facts.script_dates[:1]),
    ]
    return [(source, value) for rule, source, values in families if rule in rules
            for value in values]


_URL_DATE = re.compile(r"(?:^|[/_-])((?:19|20)\d{2})([/_-])(\d{1,2})\2(\d{1,2})(?=$|[/_.-])")


def date_in_url(*urls: str | None) -> datetime | None:
    """A full date in the URL path ("/2024/05/03/story", "/story-2024-05-03.html")."""
    for url in urls:
        path = urlsplit(url or "").path
        match = _URL_DATE.search(path)
        if not match:
            continue
        year, _, month, day = match.groups()
        try:
            return datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError:
            continue
    return None


_TITLE_DATE = re.compile(r"(?:^|\s[|\-–—·•]\s)(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s*$")


def date_in_title(*titles: str | None) -> datetime | None:
    """A trailing "| 28.04.2023" in og:title/<title>: the page stating its date (day first)."""
    for title in titles:
        match = _TITLE_DATE.search(clean_text(title))
        if not match:
            continue
        day, month, year = (int(g) for g in match.groups())
        if match.group(0).count("/") and day <= 12 and month <= 12:
            continue  # 04/05/2023 is ambiguous (US month-first)
        try:
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            continue
    return None


@dataclass(slots=True)
class DateChoice:
    """The stored publication date, where it came from, and why earlier statements lost."""

    published_at: datetime | None = None
    source: str | None = None
    rejections: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        if reason not in self.rejections:
            self.rejections.append(reason)


def _stated_dates(facts: PageFacts, urls: tuple[str | None, ...], rules: frozenset[str]
                  ) -> Iterator[tuple[str, datetime | None, str | None, Any]]:
    """(source, date, rejection reason, raw value) for each statement, in priority order."""
    for source, value in date_candidates(facts, rules):
        yield source, *read_date(value), value
    dt = date_in_title(facts.first_meta("og:title"), facts.title_tag)
    if dt is not None and "date.title" in rules:
        yield "title", dt, None, facts.title_tag
    dt = date_in_url(*urls)
    if dt is not None and "date.url" in rules:
        yield "url", dt, None, urls
    if "date.dateline" not in rules:
        return
    datelines = [t for t, inside in facts.datelines if inside] + \
        [t for t, inside in facts.datelines if not inside]
    for text in datelines:
        dt, reason = read_date(text)
        if dt is None and reason == DATE_UNPARSEABLE and not _DATE_FORM.search(text):
            # A line with no date in it states nothing; one with only a year states too little.
            reason = DATE_INCOMPLETE if _YEAR.search(text) else None
        if dt is not None or reason is not None:
            yield "dateline", dt, reason, text


_DATE_FORM = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def choose_date(
    facts: PageFacts, fetched_at: datetime | None, urls: tuple[str | None, ...] = (),
    rules: frozenset[str] = DEFAULT_RULES, extracted_date: Any = None,
) -> DateChoice:
    """The first statement of publication that is a full, plausible date.

    Statements passed over on the way record their reason once each. `extracted_date`
    (trafilatura's) is the last resort, under the rule `date.trafilatura` only: htmldate
    with its extensive search on falls back to copyright years and free text, so the
    extract stage runs it on the markup only.
    """
    choice = DateChoice()
    for source, dt, reason, value in _stated_dates(facts, urls, rules):
        if dt is not None:
            reason = check_date(dt, fetched_at)
            if reason is None:
                choice.published_at, choice.source = dt, source
                return choice
        if reason is not None:
            log.debug("published date from %s not taken for %s: %s (%r)", source,
                      first_value(urls), reason, value)
            choice.reject(reason)
    if "date.trafilatura" in rules and extracted_date:
        # trafilatura's htmldate, run on the markup only (TRAFILATURA_OPTIONS): a last resort
        dt, _reason = read_date(str(extracted_date))
        if dt is not None and check_date(dt, fetched_at) is None:
            choice.published_at, choice.source = dt, "trafilatura"
    return choice
