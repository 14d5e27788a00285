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

from etl.extract.metadata.placement import (
    DATE_ROLE,
    attrs_of,
    in_article,
    outside_story,
    updated_only,
)
from etl.extract.metadata.text import clean_text

_LABELS = (r"(?:first\s+)?(?:published|posted|ver[öo]ffentlicht|erschienen|"
           r"erscheinungsdatum|publi[ée]e?|publicado|publicada|pubblicato|gepubliceerd|"
           r"yay[ıi]nlanma|opublikowano|mise\s+en\s+ligne|publication\s+date|"
           r"date\s+of\s+publication|datum|date)")
_LABEL_STEMS = ("publi", "posted", "ffentlicht", "erschien", "datum", "date", "ligne", "yay",
                "pubbl", "gepubl")
_PUBLISHED_LABEL = re.compile(rf"(?:^|[|·•–—/]\s*){_LABELS}\b", re.I)
_LABEL_ONLY = re.compile(rf"^{_LABELS}(?:\s+(?:on|am|le|el|il|op))?\s*:?$", re.I)
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
_SKIP_TAGS = {"script", "style", "time", "noscript", "template"}


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


_LABEL_WORD = re.compile(_LABELS, re.I)
_LABEL_STEM = re.compile("|".join(_LABEL_STEMS))
# DATE_ROLE on lowercased attributes: the same test, twice as fast as re.I on every element;
# and split at its last top-level "|": the plain words, searched alone, let the engine skip
# ahead by their first letters, which the "(?:^|…)" alternative prevents (a third faster).
_ROLE_WORDS, _, _ROLE_BOUNDED = DATE_ROLE.pattern.partition("|(?:^|")
_DATE_ROLE_WORDS = re.compile(_ROLE_WORDS)
_DATE_ROLE_BOUNDED = re.compile("(?:^|" + _ROLE_BOUNDED)


# A text holds a "Published" label when it is shorter than this and both the cheap stem
# test and the (slow) label regex find one; pages have thousands of text nodes.
_LABEL_TEXT_MAX = 300


def _dateline_elements(body: Any) -> list[Any]:
    """Elements worth reading as datelines, in document order: those whose class/id names a
    date or byline role, and those holding (or directly around) a "Published" label.

    One walk over the elements reads their text and tails as plain strings: asking lxml for
    the text nodes instead builds an object per node, most of the cost of a page's facts.
    The label test (_LABEL_TEXT_MAX, _LABEL_STEM, _LABEL_WORD) is written inline for the text
    and the tail: this loop sees every element of the page, and a call per text and tail
    cost more than the tests themselves. The attribute string is attrs_of's, built from the
    attributes already read."""
    stem, word, limit = _LABEL_STEM.search, _LABEL_WORD.search, _LABEL_TEXT_MAX
    role_words, role_bounded = _DATE_ROLE_WORDS.search, _DATE_ROLE_BOUNDED.search
    order: dict[Any, int] = {}
    found = set()
    for i, el in enumerate(body.iter()):
        order[el] = i
        tail = el.tail
        # a tail belongs to the element around it
        if i and tail and len(tail) < limit and stem(tail.lower()) and word(tail):
            found.add(el.getparent())
            if el.getparent().getparent() is not None:
                found.add(el.getparent().getparent())
        if not isinstance(el.tag, str):  # a comment's own text is not the page's
            continue
        text = el.text
        if text and len(text) < limit and stem(text.lower()) and word(text):
            found.add(el)
            if el.getparent() is not None:
                found.add(el.getparent())
        if not i:
            continue
        css, ident, prop = el.get("class"), el.get("id"), el.get("itemprop")
        if css is not None or ident is not None or prop is not None:
            names = f"{css or ''} {ident or ''} {prop or ''}".lower()
            if role_words(names) or role_bounded(names):
                found.add(el)
    return sorted((el for el in found if el in order and el.tag not in _SKIP_TAGS),
                  key=order.__getitem__)


def datelines(tree: Any) -> Iterator[tuple[str, bool]]:
    """Datelines in document order: date-classed or "Published"-labelled short elements,
    a "Published" label element followed by its value, and a date that opens the article's
    first paragraphs (a press-release dateline). Teasers, comments, nav, footer are left out."""
    body = tree.find(".//body")
    if body is None:
        return
    for el in _dateline_elements(body):
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
