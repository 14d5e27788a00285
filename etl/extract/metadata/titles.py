"""The title: the headline the page states, without the site's name or a section tail.

Under the rule `title.agree` the title is chosen by agreement between the page's
candidates (etl.extract.metadata.title_chooser). Without it, the fixed priority below:
og:title leads, then the JSON-LD headline, twitter:title, the first <h1>, <title> and last
trafilatura's; site-name affixes ("Headline | Example News") are removed, and a tail or a
kicker that the other sources do not confirm is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from etl.extract.metadata.jsonld import jsonld_str, schema_types
from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.text import (
    clean_text,
    first_value,
    name_key,
    repair_mojibake,
    title_key,
)

_SEPARATORS = re.compile(r"\s+[|\-–—·•»«:/~]\s+|\s*[|｜·•»«]\s*|：|\s+[-–—]{2}\s+")


def site_names(facts: PageFacts, url: str | None, extracted: dict[str, Any]) -> set[str]:
    """Name keys that identify the site: og:site_name, publisher, host name parts."""
    names: set[str] = set()
    candidates = [
        *facts.meta.get("og:site_name", []),
        *facts.meta.get("application-name", []),
        *facts.meta.get("apple-mobile-web-app-title", []),
        *facts.meta.get("twitter:site", []),
        extracted.get("sitename") or "",
    ]
    for obj in facts.jsonld_articles + facts.jsonld_other:
        pub = obj.get("publisher")
        for p in pub if isinstance(pub, list) else [pub]:
            if isinstance(p, dict):
                candidates.append(str(p.get("name") or ""))
        if schema_types(obj) & {"organization", "newsmediaorganization", "website"}:
            candidates.append(str(obj.get("name") or ""))
    for value in candidates:
        key = name_key(str(value).lstrip("@"))
        if len(key) >= 2:
            names.add(key)
    host = urlsplit(url or "").hostname or ""
    if not host:  # a local file: the page's own canonical URL names the site
        host = urlsplit(facts.canonical_url or "").hostname or ""
    if host:
        labels = [p for p in host.lower().split(".") if p not in ("www", "m", "amp")]
        if labels:
            names.add(name_key("".join(labels)))  # "harbourpost.de" -> "harbourpostde"
            names.add(name_key(labels[0]))  # "tageblatt.de" -> "tageblatt"
            if len(labels) >= 2:
                names.add(name_key(labels[-2]))  # "news.example.com" -> "example"
    return names


_GENERIC_SITE_WORDS = {"news", "online", "digital", "de", "com", "net", "org", "at", "ch",
                       "nachrichten", "noticias", "actualites", "tv", "radio", "today"}
_DATE_SEGMENT = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def is_site_segment(segment: str, names: set[str], fuzzy: bool = True,
                    dates: bool = True) -> bool:
    """`segment` names the site: equal to one of `names`, or (`fuzzy`) near one; with
    `dates`, a bare date segment counts too."""
    key = name_key(segment)
    if not key:
        return True
    if dates and _DATE_SEGMENT.match(segment.strip()):
        return True  # "… – EX – 13.06.2023"
    for name in names:
        if key == name:
            return True
        if not fuzzy:
            continue
        # "The Harbour Post" vs "harbourpost"; "Example.de" vs "example"; "EXN.DE" vs "exnde"
        near = key.startswith(name) or key.endswith(name)
        if len(name) >= 4 and near and len(key) <= len(name) + 8:
            return True
        # "EXN News" vs "exn": a short name plus a generic word
        if len(name) >= 2 and key.startswith(name) and key[len(name):] in _GENERIC_SITE_WORDS:
            return True
        if len(key) >= 4 and key in name:
            return True
    return False


def strip_site_affixes(title: str, names: set[str], fuzzy: bool = True,
                       dates: bool = True) -> str:
    """Remove leading/trailing separator-delimited segments that name the site (or a date)."""
    title = clean_text(title)
    parts = split_segments(title)
    if len(parts) < 3:  # no separator at all
        return title
    changed = True
    while changed and len(parts) >= 3:
        changed = False
        if is_site_segment(parts[-1], names, fuzzy, dates):
            parts = parts[:-2]
            changed = True
        elif is_site_segment(parts[0], names, fuzzy, dates):
            parts = parts[2:]
            changed = True
    result = "".join(parts).strip()
    return result or title


def split_segments(title: str) -> list[str]:
    """Split into [segment, separator, segment, ...] so the kept part is reassembled verbatim."""
    out: list[str] = []
    pos = 0
    for match in _SEPARATORS.finditer(title):
        if match.start() == 0 or match.end() == len(title):
            continue
        out.extend([title[pos:match.start()], match.group(0)])
        pos = match.end()
    out.append(title[pos:])
    return out


def title_candidates(
    facts: PageFacts, url: str | None, extracted: dict[str, Any],
    rules: frozenset[str] = DEFAULT_RULES, names: set[str] | None = None,
) -> list[tuple[str, str]]:
    """(source, cleaned title) in priority order, site-name affixes removed.

    og:title leads: on news pages it is the editor-set headline more often than the <h1>
    (which may carry a kicker) or the JSON-LD headline (sometimes an SEO variant).
    """
    names = site_names(facts, url, extracted) if names is None else names
    raw: list[tuple[str, str | None]] = [
        ("og", facts.first_meta("og:title") if "title.og" in rules else None),
        ("jsonld", first_value(jsonld_str(o, "headline") for o in facts.jsonld_articles)
         if "title.jsonld" in rules else None),
        ("meta", facts.first_meta("twitter:title") if "title.twitter" in rules else None),
        ("h1", facts.h1[0] if facts.h1 and "title.h1" in rules else None),
        ("title", facts.title_tag if "title.tag" in rules else None),
        ("trafilatura", extracted.get("title")),
    ]
    fuzzy, dates = "title.site_fuzzy" in rules, "title.date_segment" in rules
    out = []
    for source, value in raw:
        text = clean_text(value)
        if "title.mojibake" in rules:
            text = repair_mojibake(text)
        if not text:
            continue
        if "title.strip_site" in rules:
            text = strip_site_affixes(text, names, fuzzy, dates)
        if "title.skip_site_name" in rules and name_key(text) in names:
            continue  # a bare site name is not a headline
        out.append((source, text))
    return out


_TRAILING_SECTION = re.compile(r"^(?P<core>.+?)\s+[|\-–—]\s+(?P<tail>[^|\-–—]{1,40})$")


def drop_unconfirmed_tail(title: str, others: list[str]) -> str:
    """"Headline - National": drop a short trailing segment that other sources omit."""
    match = _TRAILING_SECTION.match(title)
    if not match or len(match.group("tail").split()) > 4:
        return title
    core = match.group("core")
    if any(title_key(o) == title_key(core) for o in others):
        return core
    return title


_KICKER = re.compile(r"^(?P<kicker>[^:|–—]{2,60}?)(?::\s+|\s+[-–—|]\s+)(?P<core>.+)$")


def drop_conflicting_kicker(title: str, others: list[str]) -> str:
    """Two sources put different kickers before the same headline: keep the headline."""
    mine = _KICKER.match(title)
    if not mine:
        return title
    kicker, core = mine.group("kicker"), mine.group("core")
    for other in others:
        theirs = _KICKER.match(other)
        if not theirs or title_key(theirs.group("core")) != title_key(core):
            continue
        a, b = set(title_key_words(kicker)), set(title_key_words(theirs.group("kicker")))
        if a and b and not a & b:  # disjoint kickers: neither is part of the headline
            return core
    return title


def title_key_words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def choose_title(
    facts: PageFacts, url: str | None, extracted: dict[str, Any],
    rules: frozenset[str] = DEFAULT_RULES, names: set[str] | None = None,
) -> tuple[str | None, str]:
    """(title, source). Under `title.agree` the candidate most of the page's places back
    (etl.extract.metadata.title_chooser), and the other title rules do nothing; otherwise
    the first candidate in priority order, trimmed where the other sources disagree.
    `names`: the site's names (`site_names`), when the caller has them already."""
    if "title.agree" in rules:
        from etl.extract.metadata.title_chooser import choose_by_agreement

        names = site_names(facts, url, extracted) if names is None else names
        return choose_by_agreement(facts, extracted, names)
    cands = title_candidates(facts, url, extracted, rules, names)
    if not cands:
        return None, "none"
    source, text = cands[0]
    others = [t for s, t in cands[1:] if s != "trafilatura"]
    if "title.drop_tail" in rules:
        text = drop_unconfirmed_tail(text, others)
    if "title.drop_kicker" in rules:
        text = drop_conflicting_kicker(text, others)
    return text, source
