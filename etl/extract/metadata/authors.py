"""The author: the first source that names a person, in priority order.

JSON-LD author of the article ("jsonld"), meta author tags ("meta"), rel=author and
author-page links, a labelled field ("Autor: …"), trafilatura's author ("trafilatura"), a
byline-classed element, a closing signature ("byline"). A source naming only the site itself
is kept as a fallback; photo credits, handles and URLs are not authors.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.text import clean_text, first_value, repair_mojibake
from etl.extract.metadata.titles import is_site_segment

_BY_PREFIX = re.compile(
    r"^\s*(?:(?:written|reported|text|story|words|photos?)\s+)?"
    r"(?:by|von|par|por|di|da|av|af|door|mit|from|text:|texte:|autor(?:in)?:|author:|"
    r"redaktion:|ein\s+(?:gastbeitrag|kommentar)\s+von)\s+",
    re.I,
)
_ROLE = re.compile(
    r"\b(?:staff\s+writer|senior\s+\w+\s+(?:reporter|correspondent|editor)|reporter|"
    r"correspondent|editor|redakteur(?:in)?|journalist(?:in)?|chefredakteur(?:in)?|"
    r"contributor|columnist|korrespondent(?:in)?)\b.*$",
    re.I,
)
_SPLIT_AUTHORS = re.compile(r"\s*(?:;|,|&|\+|\band\b|\bund\b|\bet\b|\by\b|\bog\b|\boch\b|\bi\b|"
                            r"\bu\.\b|/|\|)\s*", re.I)
_EMAIL = re.compile(r"\S+@\S+")
_URLISH = re.compile(r"https?://|www\.|\.(?:com|de|org|net)\b", re.I)
_DATEISH = re.compile(r"\d{1,2}[./:]\d{1,2}|\d{4}")


_PAREN = re.compile(r"\s*\([^)]{0,40}\)")
_SLUG = re.compile(r"^[a-z]+(?:-[a-z]+)+$")
_JSONLD_SPLIT = re.compile(r"\s*(?:;|&|\band\b|\bund\b)\s*", re.I)


def clean_author(value: str) -> str:
    """One author name without "By", roles, e-mail, "(abc)" initials or trailing punctuation."""
    text = clean_text(value)
    text = _EMAIL.sub("", text)
    text = _BY_PREFIX.sub("", text)
    text = _ROLE.sub("", text)
    text = _PAREN.sub("", text)
    text = text.strip(" ,;:-–—|·")
    if _SLUG.match(text):  # "jane-roe": a URL slug where a name was expected
        text = " ".join(part.capitalize() for part in text.split("-"))
    return text


def split_authors(value: str) -> list[str]:
    names = []
    for part in _SPLIT_AUTHORS.split(clean_text(value)):
        name = clean_author(part)
        if name:
            names.append(name)
    return names


def plausible_author(name: str) -> bool:
    if not name or len(name) > 60 or _URLISH.search(name) or _DATEISH.search(name):
        return False
    words = name.split()
    return 1 <= len(words) <= 6


def _jsonld_authors(obj: dict[str, Any]) -> list[str]:
    value = obj.get("author") or obj.get("creator")
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = first_value(name)
            if isinstance(name, str):
                names.append(name)
        elif isinstance(item, str):
            names.append(item)
    return names


_AUTHOR_META_FIRST = ("author", "article:author", "parsely-author", "sailthru.author",
                      "dc.creator", "dcterms.creator", "byl")


def _meta_authors(facts: PageFacts) -> list[str]:
    """meta author values: the standard names first, then any other "*author*" name.

    twitter:creator is left out: it holds @handles, not names.
    """
    keys = [k for k in _AUTHOR_META_FIRST if k in facts.meta]
    keys += sorted(k for k in facts.meta if "author" in k and k not in keys
                   and not k.startswith("twitter:"))
    values: list[str] = []
    for key in keys:
        for value in facts.meta[key][:1]:
            if not _URLISH.search(value) and not value.strip().isdigit():
                values.append(value)
        if values:
            break
    return values


def author_candidates(facts: PageFacts, extracted: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(source, raw author strings) in priority order."""
    return [
        *(("jsonld", _jsonld_authors(o)) for o in facts.jsonld_articles),
        ("meta", _meta_authors(facts)),
        ("byline", facts.rel_authors[:3]),
        ("byline", facts.labeled_authors[:1]),
        ("trafilatura", [extracted.get("author") or ""]),
        ("byline", facts.bylines[:1]),
        ("byline", facts.signatures[-1:]),
    ]


# Photo and wire credits are not bylines.
_CREDIT = re.compile(r"^\s*(?:foto|fotos|photo|photos|bild|bilder|image|quelle|source|grafik|"
                     r"video|illustration|credit)s?\s*:", re.I)


def _names_from(source: str, values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        value = repair_mojibake(clean_text(html_lib.unescape(value)))
        if (_URLISH.search(value) and source != "jsonld") or _CREDIT.match(value):
            continue
        # JSON-LD names may hold commas ("Wire Service, Harbour City"): split only on
        # unambiguous joiners.
        parts = ([clean_author(p) for p in _JSONLD_SPLIT.split(value)] if source == "jsonld"
                 else split_authors(value))
        for name in parts:
            if plausible_author(name) and name not in names:
                names.append(name)
    return names


def choose_author(
    facts: PageFacts, extracted: dict[str, Any], names_of_site: set[str] | None = None
) -> tuple[str | None, str]:
    """First source naming a person; a source naming only the site itself is a fallback.

    Publishers often put their own name in JSON-LD/meta author while the byline names the
    journalist; but when nothing else names anyone, the organisation is the author.
    """
    site = names_of_site or set()
    fallback: tuple[str | None, str] = (None, "none")
    for source, values in author_candidates(facts, extracted):
        names = _names_from(source, values)
        if not names:
            continue
        if any(not is_site_segment(n, site) for n in names):
            return "; ".join(names), source
        if fallback[0] is None:
            fallback = ("; ".join(names), source)
    return fallback
