"""Refine trafilatura's title, publication date and author with page-structure evidence.

trafilatura reads these fields well on average but keeps site names glued to titles, may
take an SEO <title> over the headline, finds dates in copyright lines and misses authors
that the page states in JSON-LD or a byline. `refine_metadata` parses the page once, gathers
candidates from structured sources (JSON-LD, Open Graph / meta tags, <h1>, <time>, <title>,
bylines) and picks by small, named, general rules. Nothing here knows a host or publisher.

Every chosen value records where it came from (`*_source`): "jsonld", "og", "meta", "h1",
"title", "time", "byline", "trafilatura" or "none".
"""

from __future__ import annotations

import html as html_lib
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

LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class RefinedMetadata:
    """The chosen title, publication date and author, each with its provenance."""

    title: str | None
    title_source: str
    published_at: datetime | None  # timezone-aware (naive page values are taken as UTC)
    date_source: str
    author: str | None  # several authors joined with "; "
    author_source: str


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
    times: list[tuple[str, bool]] = field(default_factory=list)  # (datetime attr, in article)
    rel_authors: list[str] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    copyright_years: set[int] = field(default_factory=set)
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
    for el in tree.xpath("//*[@itemprop]"):
        value = el.get("content") or el.get("datetime") or el.text_content()
        for prop in (el.get("itemprop") or "").split():
            facts.itemprop.setdefault(prop.lower(), []).append(clean_text(value))
    facts.h1 = [t for t in (clean_text(h.text_content()) for h in tree.iterfind(".//h1")) if t]
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    facts.canonical_url = (canonical[0] if canonical else None) or _meta(facts, "og:url")
    title_el = tree.find(".//title")
    if title_el is not None:
        facts.title_tag = clean_text(title_el.text_content())
    for el in tree.iterfind(".//time"):
        value = el.get("datetime") or ""
        in_article = bool(el.xpath("ancestor::article or ancestor::header or ancestor::main"))
        facts.times.append((value.strip() or clean_text(el.text_content()), in_article))
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
    body = tree.find(".//body")
    if body is not None:
        facts.copyright_years = copyright_years(body.text_content())
    return facts


_AUTHOR_HREF = re.compile(
    r"/(?:authors?|autor(?:en|in)?|auteurs?|autore?s?|journalists?|writers?|reporters?|"
    r"columnists?|staff)/[^/?#]+", re.I)


def _author_links(tree: Any) -> list[str]:
    """Links to an author page ("/autoren/name/max-kolter"): the first group of siblings."""
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
            names.add(name_key("".join(labels)))  # "golem.de" -> "golemde"
            names.add(name_key(labels[0]))  # "welt.de" -> "welt"
            if len(labels) >= 2:
                names.add(name_key(labels[-2]))  # "o.canada.com" -> "canada"
    return names


_GENERIC_SITE_WORDS = {"news", "online", "digital", "de", "com", "net", "org", "at", "ch",
                       "nachrichten", "noticias", "actualites", "tv", "radio", "today"}
_DATE_SEGMENT = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _is_site_segment(segment: str, names: set[str]) -> bool:
    key = name_key(segment)
    if not key:
        return True
    if _DATE_SEGMENT.match(segment.strip()):
        return True  # "… – DW – 13.06.2023"
    for name in names:
        if key == name:
            return True
        # "The Times of India" vs "timesofindia"; "Golem.de" vs "golem"; "MDR.DE" vs "mdrde"
        near = key.startswith(name) or key.endswith(name)
        if len(name) >= 4 and near and len(key) <= len(name) + 8:
            return True
        # "CBC News" vs "cbc": a short name plus a generic word
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

_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?",
)


def parse_date(value: Any) -> datetime | None:
    """An ISO-8601-like date/datetime; naive values are taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    match = _ISO_DATE.search(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0))
        if tz:
            dt = datetime.fromisoformat(dt.isoformat() + ("+00:00" if tz == "Z" else _tz(tz)))
        else:
            dt = dt.replace(tzinfo=UTC)
    except ValueError:
        return None
    return dt


def _tz(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"


def plausible(dt: datetime | None, fetched_at: datetime | None) -> bool:
    """Never later than the fetch (a day of slack for time zones), never before 1990."""
    if dt is None:
        return False
    if dt.year < 1990:
        return False
    if fetched_at is not None:
        ref = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
        if dt > ref + timedelta(days=1):
            return False
    return True


def date_candidates(facts: PageFacts) -> list[tuple[str, Any]]:
    """(source, raw value) in priority order."""
    return [
        *(("jsonld", _jsonld_str(o, "datePublished")) for o in facts.jsonld_articles),
        ("og", _meta(facts, "article:published_time", "og:published_time",
                     "og:article:published_time")),
        ("meta", _first(facts.itemprop.get("datepublished", []))),
        ("meta", _meta(facts, "parsely-pub-date", "sailthru.date", "publish-date", "pubdate",
                       "publishdate", "date", "dc.date", "dc.date.issued", "dcterms.date",
                       "dcterms.created", "article.published", "published_time",
                       "cxenseparse:recs:publishtime", "datepublished")),
        *(("time", v) for v, in_article in facts.times if in_article),
        *(("time", v) for v, in_article in facts.times[:1] if not in_article),
        *(("jsonld", _jsonld_str(o, "dateCreated")) for o in facts.jsonld_articles),
    ]


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


def copyright_years(tree_text: str) -> set[int]:
    """Years that appear in copyright notices ("© 2024", "Copyright 2019-2024")."""
    years: set[int] = set()
    for match in _COPYRIGHT.finditer(tree_text):
        years.update(int(y) for y in re.findall(r"\d{4}", match.group(0)))
    return years


_COPYRIGHT = re.compile(r"(?:©|&copy;|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?\d{4}", re.I)


def from_copyright_line(dt: datetime, years: set[int]) -> bool:
    """htmldate falls back to 1 January of a copyright year; that is not a publication date."""
    return dt.month == 1 and dt.day == 1 and dt.year in years


def choose_date(
    facts: PageFacts, extracted: dict[str, Any], fetched_at: datetime | None
) -> tuple[datetime | None, str]:
    for source, value in date_candidates(facts):
        dt = parse_date(value)
        if plausible(dt, fetched_at):
            return dt, source
    dt = date_in_title(_meta(facts, "og:title"), facts.title_tag)
    if plausible(dt, fetched_at):
        return dt, "title"
    dt = parse_date(extracted.get("date"))
    if plausible(dt, fetched_at) and not from_copyright_line(dt, facts.copyright_years):
        return dt, "htmldate"
    return None, "none"


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
    if _SLUG.match(text):  # "chuck-ross": a URL slug where a name was expected
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
    title = clean_text(extracted.get("title")) or None
    date = parse_date(extracted.get("date"))
    author = clean_text(extracted.get("author")) or None
    return RefinedMetadata(
        title=title, title_source="trafilatura" if title else "none",
        published_at=date, date_source="trafilatura" if date else "none",
        author=author, author_source="trafilatura" if author else "none",
    )


def refine_metadata(
    html: str,
    url: str | None,
    extracted: dict[str, Any],
    fetched_at: datetime | None = None,
) -> RefinedMetadata:
    """Choose title, date and author from the page; never raises.

    `extracted` is trafilatura's `bare_extraction(...).as_dict()`; its values are the
    fallback. `fetched_at` bounds the publication date (nothing later than the fetch).
    """
    extracted = extracted or {}
    try:
        if not html or not html.strip():
            return _fallback(extracted)
        facts = gather_facts(parse_html(html))
        title, title_source = choose_title(facts, url, extracted)
        published_at, date_source = choose_date(facts, extracted, fetched_at)
        author, author_source = choose_author(facts, extracted, site_names(facts, url, extracted))
        return RefinedMetadata(title, title_source, published_at, date_source,
                               author, author_source)
    except Exception:  # never let metadata polish fail an article
        LOG.debug("refine_metadata fell back to trafilatura for %s", url, exc_info=True)
        try:
            return _fallback(extracted)
        except Exception:
            return RefinedMetadata(None, "none", None, "none", None, "none")
