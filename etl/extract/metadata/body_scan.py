"""One walk over a page's elements for the rules that read it element by element.

Four rules used to walk the page each on their own: the datelines (elements named for a
date or byline role, or holding a "Published" label), the byline classes, the paywall and
live-blog classes, and the update lines ("Updated 3 May"). Each walk asks lxml for every
element's attributes or text again, and those calls are most of their cost (a walk reads
thousands of elements; the tests on them are cheap). `scan_page` walks once and keeps what
the four read: the dateline candidates, every element with a class or id beside its
"class id" string, and the short text nodes holding an update key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from etl.extract.metadata.placement import DATE_ROLE
from etl.extract.metadata.text import substrings

# A "Published" label in many languages (the dateline rules build their patterns on it).
PUBLISHED_LABELS = (
    r"(?:first\s+)?(?:published|posted|ver[öo]ffentlicht|erschienen|"
    r"erscheinungsdatum|publi[ée]e?|publicado|publicada|pubblicato|gepubliceerd|"
    r"yay[ıi]nlanma|opublikowano|mise\s+en\s+ligne|publication\s+date|"
    r"date\s+of\s+publication|datum|date)")
# Lower-case substrings every label holds: a cheap test before the label pattern.
_LABEL_STEMS = ("publi", "posted", "ffentlicht", "erschien", "datum", "date", "ligne", "yay",
                "pubbl", "gepubl")
_LABEL_WORD = re.compile(PUBLISHED_LABELS, re.I)
_LABEL_STEM = substrings(_LABEL_STEMS)
# A text holds a "Published" label when it is shorter than this and both the cheap stem
# test and the (slow) label pattern find one; pages have thousands of text nodes.
LABEL_TEXT_MAX = 300
# DATE_ROLE on lowercased attributes: the same test, twice as fast as re.I on every element;
# and split at its last top-level "|": the plain words, searched alone, let the engine skip
# ahead by their first letters, which the "(?:^|…)" alternative prevents (a third faster).
_ROLE_WORDS, _, _ROLE_BOUNDED = DATE_ROLE.pattern.partition("|(?:^|")
DATE_ROLE_WORDS = re.compile(_ROLE_WORDS)
DATE_ROLE_BOUNDED = re.compile("(?:^|" + _ROLE_BOUNDED)
# Lower-case substrings every update label holds ("Updated", "aktualisiert", …), and the
# longest text node that can be part of an update line (etl.extract.metadata.extra_fields).
UPDATE_KEYS = ("updat", "modifi", "aktualisiert", "mis à jour", "actualizad", "aggiornat",
               "bijgewerkt", "güncelleme")
UPDATE_LINE_CHARS = 120
HOLDS_UPDATE_KEY = substrings(UPDATE_KEYS).search
_NOT_TEXT_PARENTS = {"script", "style"}  # their text nodes are code, not the page's text
# Never datelines: their text is code, a machine-readable stamp, or not shown.
_NOT_DATELINE_TAGS = {"script", "style", "time", "noscript", "template"}


@dataclass(slots=True)
class PageScan:
    """What one walk over the page finds, in document order."""

    # Elements worth reading as datelines: named for a date or byline role (class, id or
    # itemprop), or holding (or directly around) a "Published" label. Only in <body>.
    dateline_candidates: list[Any] = field(default_factory=list)
    # Every element of <body> (the whole page when it has none) with a non-empty class or
    # id, and its f"{class} {id}" as written.
    named: list[tuple[Any, str]] = field(default_factory=list)
    # The same before and after <body> (<head> mostly).
    named_before_body: list[tuple[Any, str]] = field(default_factory=list)
    named_after_body: list[tuple[Any, str]] = field(default_factory=list)
    # The body's text nodes (not in <script> or <style>) of at most UPDATE_LINE_CHARS
    # characters holding an update key: (text, the element it belongs to — for a tail, the
    # element it follows, as lxml's text results say).
    update_texts: list[tuple[str, Any]] = field(default_factory=list)
    has_body: bool = False

    def named_in_page(self) -> list[tuple[Any, str]]:
        """Every named element of the page, in document order."""
        return self.named_before_body + self.named + self.named_after_body


def named_elements(elements: Any) -> list[tuple[Any, str]]:
    """(element, f"{class} {id}") of those `elements` with a non-empty class or id."""
    named = []
    for el in elements:
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        css, ident = el.get("class"), el.get("id")
        if css or ident:
            named.append((el, f"{css or ''} {ident or ''}"))
    return named


def read_scan(tree: Any) -> PageScan | None:
    """`scan_page`, or None when the page cannot be walked: the readers then walk it
    themselves, under their own guard (they never raise)."""
    try:
        return scan_page(tree)
    except Exception:
        return None


def scan_page(tree: Any) -> PageScan:
    """Walk the page once (read only)."""
    body = tree.find(".//body")
    if body is None:
        return PageScan(named=named_elements(tree.iter()))
    scan = PageScan(has_body=True)
    scan.named_before_body = named_elements(body.xpath("preceding::*[@class or @id]"))
    scan.named_after_body = named_elements(body.xpath("following::*[@class or @id]"))
    _walk_body(body, scan)
    return scan


def _walk_body(body: Any, scan: PageScan) -> None:
    """Fill `scan` from one walk over the body's elements.

    The walk reads their text and tails as plain strings: asking lxml for the text nodes
    instead builds an object per node. The label test (LABEL_TEXT_MAX, _LABEL_STEM,
    _LABEL_WORD) is written inline for the text and the tail: this loop sees every element
    of the page, and a call per text and tail cost more than the tests themselves.
    """
    stem, word, limit = _LABEL_STEM.search, _LABEL_WORD.search, LABEL_TEXT_MAX
    role_words, role_bounded = DATE_ROLE_WORDS.search, DATE_ROLE_BOUNDED.search
    holds_update, update_max = HOLDS_UPDATE_KEY, UPDATE_LINE_CHARS
    named = scan.named
    order: dict[Any, int] = {}
    found = set()
    update_texts: list[tuple[str, Any, bool]] = []  # (text, element, is a tail)
    for i, el in enumerate(body.iter()):
        order[el] = i
        tail = el.tail
        if i and tail and len(tail) < limit:
            lowered = tail.lower()
            # a tail belongs to the element around it
            if stem(lowered) and word(tail):
                found.add(el.getparent())
                if el.getparent().getparent() is not None:
                    found.add(el.getparent().getparent())
            if len(tail) <= update_max and holds_update(lowered):
                update_texts.append((tail, el, True))
        if not isinstance(el.tag, str):  # a comment's own text is not the page's
            continue
        text = el.text
        if text and len(text) < limit:
            lowered = text.lower()
            if stem(lowered) and word(text):
                found.add(el)
                if el.getparent() is not None:
                    found.add(el.getparent())
            if len(text) <= update_max and holds_update(lowered):
                update_texts.append((text, el, False))
        css, ident, prop = el.get("class"), el.get("id"), el.get("itemprop")
        if css is None and ident is None and prop is None:
            continue
        names = f"{css or ''} {ident or ''}"
        if css or ident:
            named.append((el, names))
        if i:  # the body's own names say nothing about one line of it
            names = f"{names} {prop or ''}".lower()
            if role_words(names) or role_bounded(names):
                found.add(el)
    scan.dateline_candidates = sorted(
        (el for el in found if el in order and el.tag not in _NOT_DATELINE_TAGS),
        key=order.__getitem__)
    scan.update_texts = _in_text_order(update_texts, order)


def _in_text_order(texts: list[tuple[str, Any, bool]],
                   order: dict[Any, int]) -> list[tuple[str, Any]]:
    """The texts in document order, those whose parent node is <script> or <style> left out.

    An element's text comes where the element starts; its tail after the element's last
    descendant, and after the tails of the descendants that end there (deeper ones first).
    """
    keyed = []
    for text, el, is_tail in texts:
        if not is_tail:
            if el.tag not in _NOT_TEXT_PARENTS:
                keyed.append(((order[el], 0, 0), text, el))
            continue
        parent = el.getparent()
        if parent is None or parent.tag in _NOT_TEXT_PARENTS:
            continue
        last = el
        while len(last):
            last = last[-1]
        keyed.append(((order[last], 1, -sum(1 for _ in el.iterancestors())), text, el))
    keyed.sort(key=lambda item: item[0])
    return [(text, el) for _, text, el in keyed]
