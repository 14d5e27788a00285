"""Refine trafilatura's title, publication date and author with page-structure evidence.

trafilatura reads these fields well on average but keeps site names glued to titles, may
take an SEO <title> over the headline, guesses dates (htmldate falls back to copyright
lines, free text and 1 January of a bare year) and misses authors that the page states in
JSON-LD or a byline. `refine_metadata` parses the page once, gathers candidates from
structured sources (JSON-LD, Open Graph / meta tags, <h1>, <time>, <title>, bylines,
datelines, the URL) and picks by small, named, general rules. Nothing here knows a host or
publisher.

Every chosen value records where it came from (`*_source`): "jsonld", "og", "meta", "h1",
"title", "time", "url", "dateline", "byline", "trafilatura" or "none" — except the date,
whose source is None when no date was stored.
"""

from __future__ import annotations

import email.utils
import html as html_lib
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lxml import html as lxml_html

from etl.records import to_utc

LOG = logging.getLogger(__name__)


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


# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(value: Any) -> str:
    """Fold whitespace and drop invisible characters (soft hyphens, zero-width spaces)."""
    if value is None:
        return ""
    text = str(value).translate(_INVISIBLE)
    return _WS.sub(" ", text).strip()


_MOJIBAKE = re.compile("[\u00c2-\u00c3\u00c5][\u0080-\u00bf\u2018-\u203a\u0152-\u0178\u02c6\u02dc]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp1252/latin-1 ("fÃ¼r" -> "für") when the repair is lossless."""
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o"})


def name_key(value: str) -> str:
    """A loose comparison key for site names: case-, accent- and punctuation-blind."""
    text = unicodedata.normalize("NFKC", value).casefold().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum())


def title_key(value: str) -> str:
    """Comparison key for titles: NFKC, case- and quote-blind, whitespace folded."""
    text = unicodedata.normalize("NFKC", clean_text(value)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


# --------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class PageFacts:
    """Everything refine_metadata reads from one parse of the page."""

    jsonld_articles: list[dict[str, Any]] = field(default_factory=list)
    jsonld_other: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property
    itemprop: dict[str, list[str]] = field(default_factory=dict)
    h1: list[str] = field(default_factory=list)
    title_tag: str = ""
    times: list[tuple[str, bool]] = field(default_factory=list)  # (value, in article)
    datelines: list[tuple[str, bool]] = field(default_factory=list)  # (text, in article)
    script_dates: list[str] = field(default_factory=list)  # "datePublished": "…" in scripts
    rel_authors: list[str] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    canonical_url: str | None = None
    labeled_authors: list[str] = field(default_factory=list)  # "Autor: X", "<b>By</b> X"
    signatures: list[str] = field(default_factory=list)  # "<p><strong>X Y</strong></p>"


_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "blogposting",
    "liveblogposting", "socialmediaposting", "scholarlyarticle", "techarticle", "report",
    "advertisercontentarticle", "satiricalarticle", "askpublicnewsarticle", "posting",
}


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].casefold() for v in values if v}


def _walk_jsonld(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD payload, including @graph members and nested items."""
    if isinstance(node, list):
        for item in node:
            yield from _walk_jsonld(item)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"):
            if key in node:
                yield from _walk_jsonld(node[key])


def _load_json(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text.removeprefix("<!--").removesuffix("-->")
    try:
        return json.loads(text)
    except ValueError:
        # Raw control characters inside strings are a frequent publisher error.
        try:
            return json.loads(re.sub(r"[\x00-\x1f]+", " ", text))
        except ValueError:
            return None


def parse_html(html: str) -> Any:
    """Parse with lxml; bytes avoid the 'encoding declaration' error on str input."""
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    return lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)


_BYLINE_CLASS = re.compile(r"byline|author|autor|verfasser|writer|reporter", re.I)


def gather_facts(tree: Any) -> PageFacts:
    facts = PageFacts()
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        for obj in _walk_jsonld(_load_json(script.text or "")):
            if _types(obj) & _ARTICLE_TYPES:
                facts.jsonld_articles.append(obj)
            else:
                facts.jsonld_other.append(obj)
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = meta.get("content")
        if key and content is not None and content.strip():
            facts.meta.setdefault(key, []).append(content.strip())
    # RDFa in the body (<span property="dc:date" content="…">) states metadata like <meta>,
    # except in comment threads and teasers, whose dates are not the article's.
    for el in tree.xpath("//body//*[@property and @content and not(self::meta)]"):
        content = el.get("content", "").strip()
        if content and not _outside_story(el):
            for key in el.get("property", "").lower().split():
                facts.meta.setdefault(key, []).append(content)
    for el in tree.xpath("//*[@itemprop]"):
        value = (el.get("content") or el.get("datetime")
                 or (el.get("title") if el.tag == "abbr" else None) or el.text_content())
        for prop in (el.get("itemprop") or "").split():
            facts.itemprop.setdefault(prop.lower(), []).append(clean_text(value))
    facts.h1 = [t for t in (clean_text(h.text_content()) for h in tree.iterfind(".//h1")) if t]
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    facts.canonical_url = (canonical[0] if canonical else None) or _meta(facts, "og:url")
    title_el = tree.find(".//title")
    if title_el is not None:
        facts.title_tag = clean_text(title_el.text_content())
    for el in tree.xpath("//time | //abbr[@title]"):
        if not _publication_time(el):
            continue
        value = el.get("datetime") or el.get("title") or ""
        facts.times.append((value.strip() or clean_text(el.text_content()), _in_article(el)))
    facts.datelines = list(_datelines(tree))
    facts.script_dates = list(_script_dates(tree))
    for el in tree.xpath("//a[@rel='author'] | //*[@itemprop='author']"):
        text = clean_text(el.text_content())
        if text:
            facts.rel_authors.append(text)
    facts.rel_authors.extend(_author_links(tree))
    facts.labeled_authors = list(_labeled_authors(tree))
    facts.signatures = list(_signatures(tree))
    for el in tree.xpath("//*[@class or @id]"):
        if el.tag in ("body", "html", "script", "style", "meta", "link", "img", "svg"):
            continue
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        if not _BYLINE_CLASS.search(attrs):
            continue
        text = clean_text(el.text_content())
        if 2 < len(text) <= 120:
            facts.bylines.append(text)
    return facts


_AUTHOR_HREF = re.compile(
    r"/(?:authors?|autor(?:en|in)?|auteurs?|autore?s?|journalists?|writers?|reporters?|"
    r"columnists?|staff)/[^/?#]+", re.I)


def _author_links(tree: Any) -> list[str]:
    """Links to an author page ("/autoren/name/jane-roe"): the first group of siblings."""
    links = [a for a in tree.iterfind(".//a[@href]") if _AUTHOR_HREF.search(a.get("href", ""))]
    links = [a for a in links if 2 < len(clean_text(a.text_content())) <= 60]
    if not links:
        return []
    parent = links[0].getparent()
    return [clean_text(a.text_content()) for a in links if a.getparent() is parent][:4]


_AUTHOR_LABELS = {"autor", "autorin", "autorin/autor", "autor/autorin", "autoren", "author",
                  "authors", "by", "von", "text", "auteur", "autore", "autor/a", "escrito por",
                  "written by", "reporter", "redakteur", "redakteurin"}


def _labeled_authors(tree: Any) -> Iterator[str]:
    """A label element ("<strong>Autor</strong>") followed by the name in the same block."""
    for el in tree.xpath("//strong|//b|//dt|//th|//span|//label"):
        label = clean_text(el.text_content()).rstrip(":").casefold()
        if label not in _AUTHOR_LABELS:
            continue
        parent = el.getparent()
        if parent is None:
            continue
        rest = clean_text(parent.text_content())
        rest = rest[rest.casefold().find(label) + len(label):].lstrip(": ")
        if 2 < len(rest) <= 80:
            yield rest


_SIGNATURE_TAGS = ("strong", "b", "em", "i")


def _signatures(tree: Any) -> Iterator[str]:
    """A paragraph that is only an emphasised short name: the closing author signature."""
    for p in tree.iterfind(".//p"):
        children = list(p)
        if len(children) != 1 or children[0].tag not in _SIGNATURE_TAGS:
            continue
        if p.getnext() is not None and p.getnext().tag == "p":
            continue  # a bold line followed by more paragraphs is a subheading
        if clean_text(p.text) or clean_text(children[0].tail):
            continue
        text = clean_text(p.text_content())
        if 3 < len(text) <= 40 and 1 <= len(text.split()) <= 4 and not re.search(r"[.!?:\d]", text):
            yield text


def _first(values: Iterable[Any]) -> Any:
    for value in values:
        if value:
            return value
    return None


def _meta(facts: PageFacts, *keys: str) -> str | None:
    for key in keys:
        for value in facts.meta.get(key, ()):
            if value:
                return value
    return None


# --------------------------------------------------------------------------- title


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
        if _types(obj) & {"organization", "newsmediaorganization", "website"}:
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


def _is_site_segment(segment: str, names: set[str]) -> bool:
    key = name_key(segment)
    if not key:
        return True
    if _DATE_SEGMENT.match(segment.strip()):
        return True  # "… – EX – 13.06.2023"
    for name in names:
        if key == name:
            return True
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


def strip_site_affixes(title: str, names: set[str]) -> str:
    """Remove leading/trailing separator-delimited segments that name the site (or a date)."""
    title = clean_text(title)
    parts = _split_keep(title)
    if len(parts) < 3:  # no separator at all
        return title
    changed = True
    while changed and len(parts) >= 3:
        changed = False
        if _is_site_segment(parts[-1], names):
            parts = parts[:-2]
            changed = True
        elif _is_site_segment(parts[0], names):
            parts = parts[2:]
            changed = True
    result = "".join(parts).strip()
    return result or title


def _split_keep(title: str) -> list[str]:
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


def _jsonld_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, list):
        value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if not isinstance(value, str):
        return None
    # JSON-LD strings often carry HTML entities ("&#8216;", "&quot;").
    return clean_text(html_lib.unescape(value)) or None


def title_candidates(
    facts: PageFacts, url: str | None, extracted: dict[str, Any]
) -> list[tuple[str, str]]:
    """(source, cleaned title) in priority order, site-name affixes removed.

    og:title leads: on news pages it is the editor-set headline more often than the <h1>
    (which may carry a kicker) or the JSON-LD headline (sometimes an SEO variant).
    """
    names = site_names(facts, url, extracted)
    raw: list[tuple[str, str | None]] = [
        ("og", _meta(facts, "og:title")),
        ("jsonld", _first(_jsonld_str(o, "headline") for o in facts.jsonld_articles)),
        ("meta", _meta(facts, "twitter:title")),
        ("h1", facts.h1[0] if facts.h1 else None),
        ("title", facts.title_tag),
        ("trafilatura", extracted.get("title")),
    ]
    out = []
    for source, value in raw:
        text = repair_mojibake(clean_text(value))
        if not text:
            continue
        text = strip_site_affixes(text, names)
        if name_key(text) in names:  # a bare site name is not a headline
            continue
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
    facts: PageFacts, url: str | None, extracted: dict[str, Any]
) -> tuple[str | None, str]:
    """The first candidate in priority order, trimmed where the other sources disagree."""
    cands = title_candidates(facts, url, extracted)
    if not cands:
        return None, "none"
    source, text = cands[0]
    others = [t for s, t in cands[1:] if s != "trafilatura"]
    text = drop_unconfirmed_tail(text, others)
    text = drop_conflicting_kicker(text, others)
    return text, source


# --------------------------------------------------------------------------- date
#
# A published date comes only from a statement of publication: JSON-LD datePublished, a
# publication meta tag, a <time> that stands as the article's date, a date in the title or
# the URL path, a dateline ("Published 3 May 2024", a date-classed element). Never from a
# copyright line, free text, a bare year or month, or a value that does not parse — those
# are guesses, and a guess stored as a date is an invented value.

DATE_UNPARSEABLE = "date_unparseable"  # a stated value that is not a valid date
DATE_INCOMPLETE = "date_incomplete"  # a bare year or month: no day was stated
DATE_AMBIGUOUS = "date_ambiguous"  # 04/05/2024: day and month cannot be told apart
DATE_IN_FUTURE = "date_in_future"  # more than FUTURE_TOLERANCE after the fetch
DATE_TOO_OLD = "date_too_old"  # before EARLIEST_DATE: a placeholder, not a news date

FUTURE_TOLERANCE = timedelta(days=1)  # time zones, publishers' clocks, scheduled posts
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)


class _Invalid:
    """A value in date form whose numbers are impossible (month 13, 31 February)."""


_INVALID = _Invalid()

_ISO_DATE = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}(?!\d))?",
)
_YMD_SLASHED = re.compile(r"(?<!\d)(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?!\d)")
_DMY_NUMERIC = re.compile(r"(?<![\d.:/])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?![\d/])")
_CLOCK = re.compile(r"^\s*(?:,|um|at|à|a las|alle|o)?\s*(\d{1,2})[:.h](\d{2})(?!\d)", re.I)
_RFC_2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_YEAR_OR_MONTH_ONLY = re.compile(
    r"^\W*(?:(?:19|20)\d{2}(?:[-/.](?:0?[1-9]|1[0-2]))?|(?:0?[1-9]|1[0-2])[-/.](?:19|20)\d{2}"
    r"|[^\W\d]{3,}\.?,?\s+(?:19|20)\d{2}|(?:19|20)\d{2}\s+[^\W\d]{3,})\W*$")


def _tz(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"


def _iso(text: str) -> datetime | _Invalid | None:
    match = _ISO_DATE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0))
        if tz:
            return datetime.fromisoformat(dt.isoformat() + ("+00:00" if tz == "Z" else _tz(tz)))
    except ValueError:
        return _INVALID
    return dt.replace(tzinfo=UTC)


_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?Z?)?$")


def _compact(text: str) -> datetime | _Invalid | None:
    """ISO 8601 basic format: "20240503", "20240503T101500Z"."""
    match = _COMPACT_DATE.match(text)
    if not match:
        return None
    try:
        return datetime(*(int(g) for g in match.groups() if g is not None), tzinfo=UTC)
    except ValueError:
        return _INVALID


def _with_clock(day: datetime, rest: str) -> datetime:
    """A wall-clock time right after a date ("03.05.2024, 10:42"), when there is one."""
    match = _CLOCK.match(rest)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return day.replace(hour=int(match.group(1)), minute=int(match.group(2)))
    return day


def _numeric(text: str) -> datetime | _Invalid | str | None:
    """2024/05/03, 03.05.2024 (dots and dashes: day first), 13/05/2024 or 05/13/2024.

    Returns DATE_AMBIGUOUS for a slashed date whose day and month could be swapped.
    """
    match = _YMD_SLASHED.search(text)
    if match:
        year, _, month, day = match.groups()
        try:
            return _with_clock(datetime(int(year), int(month), int(day), tzinfo=UTC),
                               text[match.end():])
        except ValueError:
            return _INVALID
    match = _DMY_NUMERIC.search(text)
    if not match:
        return None
    first, sep, second, year = match.groups()
    day, month = int(first), int(second)
    if sep == "/":
        if day <= 12 and month <= 12 and day != month:
            return DATE_AMBIGUOUS
        if month > 12:  # US order: month/day/year
            day, month = month, day
    try:
        return _with_clock(datetime(int(year), month, day, tzinfo=UTC), text[match.end():])
    except ValueError:
        return _INVALID


def _textual(text: str) -> datetime | None:
    """"3 May 2024", "May 3, 2024", "3. Mai 2024", "5 Nisan 2025" (htmldate's month names)."""
    from htmldate.extractors import regex_parse

    dt = regex_parse(text)
    return dt.replace(tzinfo=UTC) if dt is not None else None


def _rfc_2822(text: str) -> datetime | _Invalid | None:
    if not _RFC_2822.match(text):
        return None
    try:
        dt = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return _INVALID
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def read_date(value: Any) -> tuple[datetime | None, str | None]:
    """(date, None) when `value` states a full calendar date, else (None, reason).

    The reason is None when the value holds no date at all (nothing was stated), else one
    of DATE_UNPARSEABLE, DATE_INCOMPLETE, DATE_AMBIGUOUS. Naive values are taken as UTC.
    A value whose first date is impossible is unparseable: nothing after it is tried, so
    "2026-13-45T25:61" is never read as some other date.
    """
    if not isinstance(value, str):
        return None, None
    text = clean_text(value)
    if not text:
        return None, None
    for parse in (_iso, _compact, _rfc_2822, _numeric):
        found = parse(text)
        if isinstance(found, datetime):
            return found, None
        if found is _INVALID:
            return None, DATE_UNPARSEABLE
        if found == DATE_AMBIGUOUS:
            return None, DATE_AMBIGUOUS
    found = _textual(text)
    if found is not None:
        return found, None
    if _YEAR_OR_MONTH_ONLY.match(text):
        return None, DATE_INCOMPLETE
    return None, DATE_UNPARSEABLE


def parse_date(value: Any) -> datetime | None:
    """A stated full date (ISO 8601, RFC 2822, numeric or written out), else None."""
    return read_date(value)[0]


def check_date(dt: datetime, fetched_at: datetime | None) -> str | None:
    """The reason a parsed date cannot be a publication date, or None when it can.

    Not more than FUTURE_TOLERANCE after the fetch (or, without a fetch time, after now),
    not before EARLIEST_DATE.
    """
    if dt < EARLIEST_DATE:
        return DATE_TOO_OLD
    reference = to_utc(fetched_at) if fetched_at is not None else datetime.now(UTC)
    if dt > reference + FUTURE_TOLERANCE:
        return DATE_IN_FUTURE
    return None


def plausible(dt: datetime | None, fetched_at: datetime | None) -> bool:
    """A date not later than the fetch (with FUTURE_TOLERANCE) and not before 1990."""
    return dt is not None and check_date(dt, fetched_at) is None


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


def date_candidates(facts: PageFacts) -> list[tuple[str, Any]]:
    """(source, raw value) of the page's structured date statements, in priority order."""
    return [
        *(("jsonld", _jsonld_str(o, "datePublished")) for o in facts.jsonld_articles),
        *(("og", v) for v in _meta_dates(facts, _OG_DATE_KEYS, suffix=True)[:1]),
        ("meta", _first(facts.itemprop.get("datepublished", []))),
        *(("meta", v) for v in _meta_dates(facts, _META_DATE_KEYS)[:1]),
        *(("jsonld", _jsonld_str(o, "datePublished")) for o in facts.jsonld_other
          if _types(o) & _PAGE_TYPES),
        *(("time", v) for v, in_article in facts.times if in_article),
        *(("time", v) for v, in_article in facts.times[:1] if not in_article),
        *(("jsonld", _jsonld_str(o, "dateCreated")) for o in facts.jsonld_articles),
        *(("script", v) for v in facts.script_dates[:1]),
    ]


_PUBLISHED_ROLE = re.compile(r"publi|posted|pubdate|created|submitted", re.I)
_UPDATED = re.compile(r"updat|modif|edited|aktualisier|actualiz|actualis|g[uü]ncel|revis", re.I)
# A class/id word that starts a block of other stories or of readers' comments. Whole words
# only: layout classes such as "has-sidebar" or "sticky-sidebar-parent" wrap the article.
_SKIP_REGIONS = re.compile(
    r"(?:^|\s)(?:related|teasers?|comments?|comment-?list|recommend\w*|promo|newsletter|"
    r"breadcrumbs?|more-?stories)(?:$|\s|[-_](?:list|area|box|items?|posts?|articles?|"
    r"section|block|wrapper|container)\b)", re.I)
_BLOCK_TAGS = {"p", "li", "td", "dd", "div", "blockquote", "figcaption", "section", "header",
               "article", "main", "body", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_PROSE_TAGS = {"p", "li", "td", "dd", "blockquote", "figcaption"}


def _attrs(el: Any) -> str:
    return f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"


def _updated_only(el: Any) -> bool:
    """Marked as an update stamp and not also as the publication ("published updated")."""
    attrs = _attrs(el)
    return bool(_UPDATED.search(attrs)) and not _PUBLISHED_ROLE.search(attrs)


def _in_article(el: Any) -> bool:
    return bool(el.xpath("ancestor::article or ancestor::header or ancestor::main"))


def _outside_story(el: Any) -> bool:
    """In navigation, an aside, a footer, comments or a teaser block: other stories' dates."""
    for anc in el.iterancestors():
        if anc.tag in ("nav", "aside", "footer"):
            return True
        if anc.tag not in ("html", "body") and _SKIP_REGIONS.search(_attrs(anc)):
            return True
    return False


def _in_prose(el: Any) -> bool:
    """Inside a sentence: the nearest block holds much more text than the element itself.
    A <time> there names an event ("the vote on <time>Friday</time>"), not the article."""
    own = len(clean_text(el.text_content()))
    for anc in el.iterancestors():
        if anc.tag in _BLOCK_TAGS:
            if anc.tag not in _PROSE_TAGS or _DATE_ROLE.search(_attrs(anc)):
                return False
            return len(clean_text(anc.text_content())) > max(3 * own, own + 60)
    return False


def _publication_time(el: Any) -> bool:
    """A <time> (or hAtom <abbr title>) that dates the article."""
    if el.tag == "abbr" and not _DATE_ROLE.search(_attrs(el)):
        return False
    if _updated_only(el) or _outside_story(el):
        return False
    if el.get("pubdate") is not None or "datepublished" in el.get("itemprop", "").lower():
        return True
    parent = el.getparent()
    if parent is not None and _updated_only(parent):
        return False
    return not _in_prose(el)


# Class/id words of an element that holds the article's date or byline.
_DATE_ROLE = re.compile(
    r"date|datum|publi|posted|pubdate|created|submitted|timestamp|byline|meta|tarih|fecha|"
    r"(?:^|[\s_-])(?:time|zeit|info|data)(?:$|[\s_-])", re.I)
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
    role = bool(_DATE_ROLE.search(_attrs(el))) and not _updated_only(el)
    if not (role or _PUBLISHED_LABEL.search(text)) or _COPYRIGHT.search(text):
        return None
    if el.tag in ("p", "li", "td", "dd") and not role and not _PUBLISHED_LABEL.match(text):
        return None  # "… the study, published on 3 May" inside prose
    update = _UPDATE_LABEL.search(text)
    return text[:update.start()] if update else text


def _dateline_elements(body: Any) -> list[Any]:
    """Elements worth reading as datelines, in document order: those whose class/id names a
    date or byline role, and those holding (or directly around) a "Published" label."""
    order = {el: i for i, el in enumerate(body.iter())}
    found = set()
    for el in body.xpath(".//*[@class or @id or @itemprop]"):
        if _DATE_ROLE.search(_attrs(el)):
            found.add(el)
    label_word = re.compile(_LABELS, re.I)
    for text in body.xpath(".//text()"):
        if len(text) >= 300:
            continue
        low = text.lower()  # a substring test first: the regex is slow on every text node
        if any(stem in low for stem in _LABEL_STEMS) and label_word.search(text):
            el = text.getparent()
            if el is not None and text.is_tail:
                el = el.getparent()
            if el is not None:
                found.add(el)
                if el.getparent() is not None:
                    found.add(el.getparent())
    return sorted((el for el in found if el in order and el.tag not in _SKIP_TAGS),
                  key=order.__getitem__)


def _datelines(tree: Any) -> Iterator[tuple[str, bool]]:
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
        if dateline is not None and not _outside_story(el):
            yield dateline, _in_article(el)
    containers = tree.xpath("//article") or tree.xpath("//main") or tree.xpath("//body")
    if not containers:
        return
    container = containers[0]
    for p in container.xpath(".//p")[:3]:
        if _outside_story(p):
            continue
        text = clean_text(" ".join(itertools.islice(p.itertext(), 8)))
        rest = text[_LEAD_PREFIX.match(text).end():] if _LEAD_PREFIX.match(text) else text
        if _DATE_START.match(rest):
            yield rest[:40], True


_SCRIPT_DATE = re.compile(
    r"""["'](?:datePublished|date_published|publishDate|publish_date|published_at|"""
    r"""publishedAt|publishedDate|publicationDate|publication_date|first[-_]?publication|"""
    r"""firstPublished|article_published_time|pubDate)["']\s*:\s*["']([^"'<>]{8,40})["']""")


def _script_dates(tree: Any) -> Iterator[str]:
    """A publication date named in the page's script data ("datePublished": "…") — taken
    only when every such statement in the page names the same day (a page that lists
    other stories' data names several)."""
    values = []
    for script in tree.iterfind(".//script"):
        if "ld+json" in (script.get("type") or "").lower():
            continue  # read as JSON-LD
        values.extend(_SCRIPT_DATE.findall(script.text or ""))
    dated = [(v, dt) for v, dt in ((v, parse_date(v)) for v in values) if dt is not None]
    if len({dt.date() for _, dt in dated}) == 1:
        yield dated[0][0]


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


def _stated_dates(facts: PageFacts, urls: tuple[str | None, ...]
                  ) -> Iterator[tuple[str, datetime | None, str | None, Any]]:
    """(source, date, rejection reason, raw value) for each statement, in priority order."""
    for source, value in date_candidates(facts):
        yield source, *read_date(value), value
    dt = date_in_title(_meta(facts, "og:title"), facts.title_tag)
    if dt is not None:
        yield "title", dt, None, facts.title_tag
    dt = date_in_url(*urls)
    if dt is not None:
        yield "url", dt, None, urls
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
    facts: PageFacts, fetched_at: datetime | None, urls: tuple[str | None, ...] = ()
) -> DateChoice:
    """The first statement of publication that is a full, plausible date.

    Statements passed over on the way record their reason once each; trafilatura's own
    date (htmldate) is never taken: it falls back to copyright years, free text and
    1 January of a bare year, and its output does not say which it did.
    """
    choice = DateChoice()
    for source, dt, reason, value in _stated_dates(facts, urls):
        if dt is not None:
            reason = check_date(dt, fetched_at)
            if reason is None:
                choice.published_at, choice.source = dt, source
                return choice
        if reason is not None:
            LOG.debug("published date from %s not taken for %s: %s (%r)", source,
                      _first(urls), reason, value)
            choice.reject(reason)
    return choice


# --------------------------------------------------------------------------- author

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
                name = _first(name)
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
        # JSON-LD names may hold commas ("AFP, Manila"); split only on unambiguous joiners.
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
        if any(not _is_site_segment(n, site) for n in names):
            return "; ".join(names), source
        if fallback[0] is None:
            fallback = ("; ".join(names), source)
    return fallback


# --------------------------------------------------------------------------- entry point


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
    html: str,
    url: str | None,
    extracted: dict[str, Any],
    fetched_at: datetime | None = None,
) -> RefinedMetadata:
    """Choose title, date and author from the page; never raises.

    `extracted` is trafilatura's `bare_extraction(...).as_dict()`; its title and author are
    the fallback, its date is not used. `fetched_at` bounds the publication date (nothing
    more than FUTURE_TOLERANCE after the fetch; without it, after now).
    """
    extracted = extracted or {}
    try:
        if not html or not html.strip():
            return _fallback(extracted)
        facts = gather_facts(parse_html(html))
        title, title_source = choose_title(facts, url, extracted)
        date = choose_date(facts, fetched_at, (url, facts.canonical_url))
        author, author_source = choose_author(facts, extracted, site_names(facts, url, extracted))
        return RefinedMetadata(title, title_source, date.published_at, date.source,
                               author, author_source, date.rejections)
    except Exception:  # never let metadata polish fail an article
        LOG.debug("refine_metadata fell back to trafilatura for %s", url, exc_info=True)
        try:
            return _fallback(extracted)
        except Exception:
            return RefinedMetadata(None, "none", None, None, None, "none")
