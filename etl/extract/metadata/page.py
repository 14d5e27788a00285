"""What a page states about itself, read in one pass over its lxml tree (`PageFacts`).

The metadata rules (`titles`, `published`, `authors`) choose among these facts; they never
look at the tree themselves. Reading never changes the tree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from etl.extract.metadata.body_scan import PageScan, scan_page
from etl.extract.metadata.datelines import datelines
from etl.extract.metadata.dates import parse_date
from etl.extract.metadata.jsonld import read_jsonld
from etl.extract.metadata.placement import in_article, outside_story, publication_time
from etl.extract.metadata.text import clean_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PageFacts:
    """Everything the metadata rules read from the page, gathered in one pass over its tree."""

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
    link_authors: list[str] = field(default_factory=list)  # links to /author/<name> pages
    language: str | None = None  # "de": <html lang>, og:locale or JSON-LD inLanguage

    def first_meta(self, *keys: str) -> str | None:
        """The first non-empty value of the first of `keys` the page states."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None


def parse_html(html: str) -> Any | None:
    """The page as an lxml document, or None when there is nothing to parse.

    The extract stage hands the rules trafilatura's own tree (etl.extract.document.read_html);
    this parse serves a page lxml reads as a fragment, and callers that hold only the string.
    Bytes avoid lxml's 'encoding declaration' error on str input.
    """
    if not html or not html.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (ValueError, etree.LxmlError):  # e.g. "Document is empty"
        return None


def read_facts(tree: Any | None, scan: PageScan | None = None) -> PageFacts | None:
    """`gather_facts`, or None when there is no tree or it cannot be read (never raises:
    the rules then fall back to trafilatura's fields)."""
    if tree is None:
        return None
    try:
        return gather_facts(tree, scan)
    except Exception:
        log.debug("page facts could not be read", exc_info=True)
        return None


_BYLINE_CLASS = re.compile(r"byline|author|autor|verfasser|writer|reporter", re.I)
_NOT_BYLINE_TAGS = {"body", "html", "script", "style", "meta", "link", "img", "svg"}


def gather_facts(tree: Any, scan: PageScan | None = None) -> PageFacts:
    """Read every statement the rules weigh from the page's lxml tree (read only).
    `scan`: `scan_page(tree)`, when the caller has it (other rules read it too)."""
    scan = scan if scan is not None else scan_page(tree)
    facts = PageFacts()
    facts.jsonld_articles, facts.jsonld_other = read_jsonld(tree)
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = meta.get("content")
        if key and content is not None and content.strip():
            facts.meta.setdefault(key, []).append(content.strip())
    # RDFa in the body (<span property="dc:date" content="…">) states metadata like <meta>,
    # except in comment threads and teasers, whose dates are not the article's.
    for el in tree.xpath("//body//*[@property and @content and not(self::meta)]"):
        content = el.get("content", "").strip()
        if content and not outside_story(el):
            for key in el.get("property", "").lower().split():
                facts.meta.setdefault(key, []).append(content)
    for el in tree.xpath("//*[@itemprop]"):
        value = (el.get("content") or el.get("datetime")
                 or (el.get("title") if el.tag == "abbr" else None) or el.text_content())
        for prop in (el.get("itemprop") or "").split():
            facts.itemprop.setdefault(prop.lower(), []).append(clean_text(value))
    facts.h1 = [t for t in (clean_text(h.text_content()) for h in tree.iterfind(".//h1")) if t]
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    facts.canonical_url = (canonical[0] if canonical else None) or facts.first_meta("og:url")
    title_el = tree.find(".//title")
    if title_el is not None:
        facts.title_tag = clean_text(title_el.text_content())
    for el in tree.xpath("//time | //abbr[@title]"):
        if not publication_time(el):
            continue
        value = el.get("datetime") or el.get("title") or ""
        facts.times.append((value.strip() or clean_text(el.text_content()), in_article(el)))
    facts.datelines = list(datelines(tree, scan))
    facts.script_dates = list(_script_dates(tree))
    for el in tree.xpath("//a[@rel='author'] | //*[@itemprop='author']"):
        text = clean_text(el.text_content())
        if text:
            facts.rel_authors.append(text)
    facts.link_authors = _author_links(tree)
    facts.language = _language(tree, facts)
    facts.labeled_authors = list(_labeled_authors(tree))
    facts.signatures = list(_signatures(tree))
    for el, names in scan.named_in_page():
        if el.tag in _NOT_BYLINE_TAGS or not _BYLINE_CLASS.search(names):
            continue
        text = clean_text(el.text_content())
        if 2 < len(text) <= 120:
            facts.bylines.append(text)
    return facts


def language_of(tag: str | None) -> str | None:
    """"de-AT", "pt_BR", "EN" -> "de", "pt", "en"; None when no language is stated."""
    if not tag:
        return None
    code = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _language(tree: Any, facts: PageFacts) -> str | None:
    """The page's stated language: <html lang>, og:locale, JSON-LD inLanguage."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    values = [root.get("lang"), root.get("xml:lang"), facts.first_meta("og:locale")]
    values += [o.get("inLanguage") for o in facts.jsonld_articles]
    for value in values:
        code = language_of(value) if isinstance(value, str) else None
        if code:
            return code
    return None


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
