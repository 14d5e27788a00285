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

from etl.extract.metadata.names import split_names, strip_prefix
from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.text import clean_text, first_value, repair_mojibake
from etl.extract.metadata.titles import is_site_segment

_ROLE = re.compile(
    r"\b(?:staff\s+writer|senior\s+\w+\s+(?:reporter|correspondent|editor)|reporter|"
    r"correspondent|editor|redakteur(?:in)?|journalist(?:in)?|chefredakteur(?:in)?|"
    r"contributor|columnist|korrespondent(?:in)?)\b.*$",
    re.I,
)
_EMAIL = re.compile(r"\S+@\S+")
_URLISH = re.compile(r"https?://|www\.|\.(?:com|de|org|net)\b", re.I)
_DATEISH = re.compile(r"\d{1,2}[./:]\d{1,2}|\d{4}")
_PAREN = re.compile(r"\s*\([^)]{0,40}\)")
_SLUG = re.compile(r"^[a-z]+(?:-[a-z]+)+$")


def clean_author(value: str, language: str | None = None, slug: bool = True) -> str:
    """One author name without "By"/"Von"/"par" (read in `language`), roles, e-mail,
    "(abc)" initials or trailing punctuation; particles and initials stay."""
    text = clean_text(value)
    text = _EMAIL.sub("", text).strip()
    text = strip_prefix(text, language)
    text = _ROLE.sub("", text)
    text = _PAREN.sub("", text)
    text = text.strip(" ,;:-–—|·")
    if slug and _SLUG.match(text):  # "jane-roe": a URL slug where a name was expected
        text = " ".join(part.capitalize() for part in text.split("-"))
    return text


def split_authors(value: str, language: str | None = None, structured: bool = False,
                  slug: bool = True) -> list[str]:
    """The author names in one byline (`structured`: a JSON-LD name), in `language`."""
    names = []
    for part in split_names(strip_prefix(clean_text(value), language), language, structured):
        name = clean_author(part, language, slug)
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


def _meta_authors(facts: PageFacts, standard: bool, other: bool) -> list[str]:
    """meta author values: the `standard` names first, then (`other`) any "*author*" name.

    twitter:creator is left out: it holds @handles, not names.
    """
    keys = [k for k in _AUTHOR_META_FIRST if k in facts.meta] if standard else []
    if other:
        keys += sorted(k for k in facts.meta if "author" in k and k not in _AUTHOR_META_FIRST
                       and not k.startswith("twitter:"))
    values: list[str] = []
    for key in keys:
        for value in facts.meta[key][:1]:
            if not _URLISH.search(value) and not value.strip().isdigit():
                values.append(value)
        if values:
            break
    return values


def author_candidates(facts: PageFacts, extracted: dict[str, Any],
                      rules: frozenset[str] = DEFAULT_RULES) -> list[tuple[str, list[str]]]:
    """(source, raw author strings) in priority order, each only when its rule is on."""
    on = rules.__contains__
    found = [("jsonld", _jsonld_authors(o)) for o in facts.jsonld_articles if on("author.jsonld")]
    found += [
        ("meta", _meta_authors(facts, on("author.meta"), on("author.meta_any"))),
        ("byline", facts.rel_authors[:3] if on("author.rel") else []),
        ("byline", facts.link_authors[:4] if on("author.links") else []),
        ("byline", facts.labeled_authors[:1] if on("author.labeled") else []),
        ("trafilatura", [extracted.get("author") or ""] if on("author.trafilatura") else []),
        ("byline", facts.bylines[:1] if on("author.byline_class") else []),
        ("byline", facts.signatures[-1:] if on("author.signature") else []),
    ]
    return found


# Photo and wire credits are not bylines.
_CREDIT = re.compile(r"^\s*(?:foto|fotos|photo|photos|bild|bilder|image|quelle|source|grafik|"
                     r"video|illustration|credit)s?\s*:", re.I)


def _names_from(source: str, values: list[str], language: str | None, slug: bool) -> list[str]:
    names: list[str] = []
    for value in values:
        value = repair_mojibake(clean_text(html_lib.unescape(value)))
        if (_URLISH.search(value) and source != "jsonld") or _CREDIT.match(value):
            continue
        for name in split_authors(value, language, structured=source == "jsonld", slug=slug):
            if plausible_author(name) and name not in names:
                names.append(name)
    return names


def choose_author(
    facts: PageFacts, extracted: dict[str, Any], names_of_site: set[str] | None = None,
    rules: frozenset[str] = DEFAULT_RULES,
) -> tuple[str | None, str]:
    """First source naming a person; a source naming only the site itself is a fallback.

    Publishers often put their own name in JSON-LD/meta author while the byline names the
    journalist; but when nothing else names anyone, the organisation is the author.
    """
    site = names_of_site or set()
    fallback: tuple[str | None, str] = (None, "none")
    slug = "author.slug" in rules
    for source, values in author_candidates(facts, extracted, rules):
        names = _names_from(source, values, facts.language, slug)
        if not names:
            continue
        if any(not is_site_segment(n, site) for n in names):
            return "; ".join(names), source
        if fallback[0] is None and "author.site_fallback" in rules:
            fallback = ("; ".join(names), source)
    return fallback
