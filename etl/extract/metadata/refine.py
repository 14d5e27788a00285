"""The metadata rules' entry point: title, published date and author with their provenance.

`refine_metadata` takes the page's facts (etl.extract.metadata.page) and trafilatura's
fields, and returns `RefinedMetadata`; it never raises. Every chosen value records where it
came from (`*_source`): "jsonld", "og", "meta", "h1", "title", "time", "url", "dateline",
"byline", "script", "trafilatura" or "none" — except the date, whose source is None when no
date was stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etl.extract.metadata.authors import choose_author
from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.published import choose_date
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.text import clean_text
from etl.extract.metadata.titles import choose_title, site_names

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RefinedMetadata:
    """The chosen title, publication date and author, each with its provenance."""

    title: str | None
    title_source: str
    published_at: datetime | None  # timezone-aware (naive page values are taken as UTC)
    date_source: str | None  # None exactly when published_at is None
    author: str | None  # several authors joined with "; "
    author_source: str
    # Why stated publication dates were not taken (DATE_* reasons, each at most once): the
    # page said something, but not a usable date.
    date_rejections: list[str] = field(default_factory=list)
    # The fields of etl.extract.metadata.extra_fields, set by the extract stage's reader
    # (etl.extract.document.read_html); not part of the title/date/author choice.
    extra: Any = field(default=None, compare=False)


def _fallback(extracted: dict[str, Any]) -> RefinedMetadata:
    """trafilatura's title and author when the page cannot be read; never its date (a
    guess we cannot tell from a statement)."""
    title = clean_text(extracted.get("title")) or None
    author = clean_text(extracted.get("author")) or None
    return RefinedMetadata(
        title=title, title_source="trafilatura" if title else "none",
        published_at=None, date_source=None,
        author=author, author_source="trafilatura" if author else "none",
    )


def refine_metadata(
    facts: PageFacts | None,
    url: str | None,
    extracted: dict[str, Any],
    fetched_at: datetime | None = None,
    rules: frozenset[str] = DEFAULT_RULES,
) -> RefinedMetadata:
    """Choose title, date and author from the page's facts; never raises.

    `facts` is `read_facts` of the page's tree, None when the page could not be read.
    `extracted` is trafilatura's `bare_extraction(...).as_dict()`; its title and author are
    the fallback, its date is used only under the rule `date.trafilatura`. `fetched_at`
    bounds the publication date (nothing more than FUTURE_TOLERANCE after the fetch;
    without it, after now). `rules` are the
    enabled rule names (etl.extract.metadata.rules; production uses DEFAULT_RULES).
    """
    extracted = extracted or {}
    try:
        if facts is None:
            return _fallback(extracted)
        names = site_names(facts, url, extracted)
        title, title_source = choose_title(facts, url, extracted, rules, names)
        date = choose_date(facts, fetched_at, (url, facts.canonical_url), rules,
                           extracted.get("date"))
        author, author_source = choose_author(facts, extracted, names, rules)
        return RefinedMetadata(title, title_source, date.published_at, date.source,
                               author, author_source, date.rejections)
    except Exception:  # never let metadata polish fail an article
        log.debug("refine_metadata fell back to trafilatura for %s", url, exc_info=True)
        try:
            return _fallback(extracted)
        except Exception:
            return RefinedMetadata(None, "none", None, None, None, "none")
