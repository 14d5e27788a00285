"""Datelines: the short lines that state when the article was published.

"Published 3 May 2024", a date- or byline-classed element, a "Published" label followed by its
value, a date opening the article's first paragraphs ("BERLIN, 3. Mai 2024 –"). Text after an
"Updated" label, copyright lines and dates inside prose are not datelines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from etl.extract.metadata.body_scan import PUBLISHED_LABELS, PageScan, scan_page
from etl.extract.metadata.placement import (
    DATE_ROLE,
    attrs_of,
    in_article,
    outside_story,
    updated_only,
)
from etl.extract.metadata.text import clean_text

_PUBLISHED_LABEL = re.compile(rf"(?:^|[|·•–—/]\s*){PUBLISHED_LABELS}\b", re.I)
_LABEL_ONLY = re.compile(rf"^{PUBLISHED_LABELS}(?:\s+(?:on|am|le|el|il|op))?\s*:?$", re.I)
_UPDATE_LABEL = re.compile(
    r"\b(?:updated|last\s+modified|modified|aktualisiert|zuletzt|mis\s+[àa]\s+jour|"
    r"actualizado|aggiornato|bijgewerkt|g[uü]ncelleme)\b", re.I)
_COPYRIGHT = re.compile(r"©|&copy;|\(c\)\s*\d{4}|\bcopyright\b", re.I)
_DATELINE_MAX = 120  # a dateline is a short line, not a paragraph of prose
# "BERLIN, 3. Mai 2024 –", "Di, 21. April 2020": a place or weekday, then the date.
_LEAD_PREFIX = re.compile(r"^[^\W\d][^,:\d]{0,30},\s*")
_DATE_START = re.compile(r"^(?:\d|[^\W\d]{3,}\.?\s+\d)")


def _short_text(el: Any, limit: int = _DATELINE_MAX) -> str | None:
    """The element's folded text, or None when it is longer than `limit` (read no further:
    containers hold whole pages)."""
    parts, size = [], 0
    for piece in el.itertext():
        parts.append(piece)
        size += len(piece)
        if size > 4 * limit:
            return None
    text = clean_text("".join(parts))
    return text if len(text) <= limit else None


_DIGIT = re.compile(r"\d")


def _dateline_text(el: Any, text: str) -> str | None:
    """`text` (the element's) when the element is a dateline (a date-classed short element,
    or a line labelled "Published …"), cut before an "Updated" label; else None."""
    if not _DIGIT.search(text):
        return None
    role = bool(DATE_ROLE.search(attrs_of(el))) and not updated_only(el)
    if not (role or _PUBLISHED_LABEL.search(text)) or _COPYRIGHT.search(text):
        return None
    if el.tag in ("p", "li", "td", "dd") and not role and not _PUBLISHED_LABEL.match(text):
        return None  # "… the study, published on 3 May" inside prose
    update = _UPDATE_LABEL.search(text)
    return text[:update.start()] if update else text


def datelines(tree: Any, scan: PageScan | None = None) -> Iterator[tuple[str, bool]]:
    """Datelines in document order: date-classed or "Published"-labelled short elements,
    a "Published" label element followed by its value, and a date that opens the article's
    first paragraphs (a press-release dateline). Teasers, comments, nav, footer are left out.
    `scan`: `scan_page(tree)`, when the caller has it."""
    scan = scan if scan is not None else scan_page(tree)
    if not scan.has_body:
        return
    for el in scan.dateline_candidates:
        text = _short_text(el)
        if not text:
            continue
        dateline = _dateline_text(el, text)
        if dateline is None and len(text) < 40 and _LABEL_ONLY.match(text):
            value = el.getnext()
            value_text = _short_text(value) if value is not None else None
            dateline = f"{text} {value_text}" if value_text else None
        if dateline is not None and not outside_story(el):
            yield dateline, in_article(el)
    # The first <article>, else <main>, else <body>: walks that stop at the first hit, not
    # lists of every match in the page.
    document = tree.getroottree()
    container = next(itertools.chain(document.iter("article"), document.iter("main"),
                                     document.iter("body")), None)
    if container is None:
        return
    for p in itertools.islice(container.iter("p"), 3):
        if outside_story(p):
            continue
        text = clean_text(" ".join(itertools.islice(p.itertext(), 8)))
        rest = text[_LEAD_PREFIX.match(text).end():] if _LEAD_PREFIX.match(text) else text
        if _DATE_START.match(rest):
            yield rest[:40], True
