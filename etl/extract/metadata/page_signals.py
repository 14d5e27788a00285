"""The lead image, the paywall flag and the live-blog flag of a page (docs/fields.md).

- Image: og:image, then twitter:image, then the article's JSON-LD image, resolved against
  the page URL; a candidate that is a favicon, logo, sprite, tracking pixel, data: URI,
  vector file or declared smaller than MIN_IMAGE_PX is refused and the next one tried.
- Paywall: JSON-LD isAccessibleForFree (false → paywalled, true → free), else the
  article:content_tier meta (locked / free), else a truncation signal — the body ends in a
  subscribe teaser, or the story holds a paywall-classed block with one — which only ever
  says "paywalled". None when nothing is stated: silence is not "free".
- Live blog: a JSON-LD LiveBlogPosting, microdata of that type, or a live-ticker layout
  (a container classed live-blog/ticker holding at least LIVE_MIN_STAMPS distinct
  timestamps). False when the page shows none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from etl.extract.metadata.body_scan import PageScan, named_elements
from etl.extract.metadata.jsonld import schema_types
from etl.extract.metadata.placement import attrs_of, outside_story
from etl.extract.metadata.text import clean_text, substrings

if TYPE_CHECKING:
    from etl.extract.metadata.page import PageFacts

# ----------------------------------------------------------------------------- lead image

MIN_IMAGE_PX = 100  # a declared side below this is an icon, a badge or a pixel
_IMAGE_META = (("og", ("og:image", "og:image:url", "og:image:secure_url")),
               ("twitter", ("twitter:image", "twitter:image:src")))
# Site furniture, not an article's picture: a folder of such files, a file named as one
# ("site-logo.png", "favicon-32.png", "sprite_2x.webp"), or a placeholder file. Words inside
# a story's slug ("pixel-phone-review.jpg") are left alone.
_FURNITURE_DIRS = {"favicon", "favicons", "icon", "icons", "logo", "logos", "sprite",
                   "sprites", "pixel", "pixels", "tracking", "beacon", "beacons"}
_FURNITURE_WORD = re.compile(r"(?:^|[_.-])(?:favicon|apple-touch-icon|icon|logo|logos|"
                             r"sprite|sprites|1x1)(?:$|[_.@-])", re.I)
_PLACEHOLDERS = {"blank", "spacer", "transparent", "pixel", "clear", "px", "beacon", "1x1",
                 "empty", "trans"}
_REFUSED_EXTENSIONS = (".ico", ".svg", ".svgz")


def _px(value: Any) -> int | None:
    """A declared size: 1200, "1200", "1200px", {"value": 1200}; None when not stated."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    match = re.fullmatch(r"\s*(\d{1,6})(?:\.\d+)?\s*(?:px)?\s*", str(value or ""))
    return int(match.group(1)) if match else None


def image_refusal(url: str, width: int | None = None, height: int | None = None) -> str | None:
    """Why `url` (already resolved) is not a lead image, or None when it may be one."""
    if url.lower().startswith("data:"):
        return "data_uri"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "not_http"
    path = parts.path.lower()
    if path.endswith(_REFUSED_EXTENSIONS):
        return "icon_or_vector"
    *folders, filename = path.split("/")
    stem = filename.rsplit(".", 1)[0]
    if (_FURNITURE_DIRS.intersection(folders) or _FURNITURE_WORD.search(stem)
            or stem in _PLACEHOLDERS):
        return "site_furniture"
    if any(side is not None and side < MIN_IMAGE_PX for side in (width, height)):
        return "tiny"
    return None


def _jsonld_images(obj: dict[str, Any]) -> list[tuple[str, int | None, int | None]]:
    value = obj.get("image")
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, str):
            found.append((item, None, None))
        elif isinstance(item, dict):
            src = item.get("url") or item.get("contentUrl")
            if isinstance(src, list):
                src = next((s for s in src if isinstance(s, str)), None)
            if isinstance(src, str):
                found.append((src, _px(item.get("width")), _px(item.get("height"))))
    return found


def image_candidates(facts: PageFacts) -> list[tuple[str, str, int | None, int | None]]:
    """(image_source, raw URL, declared width, declared height), in priority order."""
    found = []
    for source, keys in _IMAGE_META:
        width = _px(facts.first_meta(f"{source}:image:width"))
        height = _px(facts.first_meta(f"{source}:image:height"))
        for key in keys:
            found.extend((source, v, width, height) for v in facts.meta.get(key, ()) if v)
    for obj in facts.jsonld_articles:
        found.extend(("jsonld", src, w, h) for src, w, h in _jsonld_images(obj))
    return found


def choose_image(facts: PageFacts, url: str | None) -> tuple[str | None, str | None]:
    """The first candidate that passes `image_refusal`, resolved against the page URL."""
    for source, raw, width, height in image_candidates(facts):
        raw = clean_text(raw)
        if not raw:
            continue
        resolved = raw if raw.lower().startswith("data:") else urljoin(url or "", raw)
        if image_refusal(resolved, width, height) is None:
            return resolved, source
    return None, None


# -------------------------------------------------------------------------------- paywall

_FREE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_PAYWALL_PARTS = {"webpageelement", "creativework"}
_PAGE_TYPES = {"webpage", "itempage", "collectionpage", "creativework"}


def _accessible_for_free(obj: dict[str, Any]) -> bool | None:
    value = obj.get("isAccessibleForFree")
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _FREE_WORDS.get(value.strip().lower())
    return None


# A call to subscribe or log in in order to read on: the end of a truncated article. Each
# alternative needs both halves (subscription and reading), so a newsletter sign-up or a
# "read more" link does not match.
SUBSCRIBE_TEASER = re.compile(
    r"subscribe\s+(?:now\s+|today\s+)?to\s+(?:continue|keep)\s+reading|"
    r"subscribe\s+to\s+read|to\s+(?:continue|keep)\s+reading,?\s+(?:please\s+)?"
    r"(?:subscribe|log\s*in|sign\s*in|become\s+a\s+(?:subscriber|member))|"
    r"(?:available|exclusive|reserved)\s+(?:only\s+)?(?:to|for)\s+(?:our\s+)?(?:paying\s+)?"
    r"(?:subscribers|members)|"
    r"(?:log\s*in|sign\s*in|subscribe)\s+(?:now\s+)?(?:for|to\s+get)\s+(?:immediate\s+|full\s+|"
    r"unlimited\s+)?access\s+to\s+this\s+(?:story|article)|"
    r"weiterlesen\s+mit|nur\s+für\s+abonnenten|exklusiv\s+für\s+(?:abonnenten|abonnentinnen)|"
    r"artikel\s+freischalten|réservée?\s+aux\s+abonnés|abonnez-vous\s+pour\s+(?:lire|continuer)|"
    r"suscríbete\s+para\s+(?:seguir|continuar)\s+leyendo|"
    r"(?:contenido|artículo)\s+(?:exclusivo\s+)?para\s+suscriptores|"
    r"riservato\s+agli\s+abbonati|abbonati\s+per\s+(?:continuare|leggere)",
    re.I)
TEASER_MAX_CHARS = 300  # a subscribe call is a line or two, not a paragraph of the story
_PAYWALL_CLASS = re.compile(r"paywall|pay-wall|regwall|subscriber-only|premium-(?:block|"
                            r"teaser|wall|content-teaser)|piano-(?:offer|paywall)", re.I)


def body_ends_in_teaser(text: str | None, last_lines: int = 2) -> bool:
    """The last lines of the body are a call to subscribe to read on (short, matching)."""
    lines = [clean_text(line) for line in (text or "").splitlines() if line.strip()]
    return any(len(line) <= TEASER_MAX_CHARS and SUBSCRIBE_TEASER.search(line)
               for line in lines[-last_lines:])


def classed(tree: Any, words: tuple[str, ...], scan: PageScan | None = None) -> Iterator[Any]:
    """Elements of the body (the whole page when it has none) whose class or id contains
    one of `words` (lower-case): a substring test first, so the rules' patterns run on a
    handful of elements. `scan`: `scan_page(tree)`, when the caller has it."""
    if scan is not None:
        named = scan.named
    else:
        body = tree.find(".//body")
        named = named_elements((body if body is not None else tree).iter())
    holds_word = substrings(words).search
    for el, names in named:
        if holds_word(names.lower()):
            yield el


_IN_STORY = etree.XPath("ancestor-or-self::article or ancestor-or-self::main")  # compiled once
PAYWALL_WORDS = ("paywall", "pay-wall", "regwall", "subscriber", "premium", "piano")


def paywall_block(classed_elements: list[Any]) -> bool:
    """A paywall-classed block inside the story (not nav, footer or a teaser list) that
    holds a subscribe call: the page shows the reader a locked article. `classed_elements`:
    `classed(tree, PAYWALL_WORDS)` (or a superset)."""
    for el in classed_elements:
        if not _PAYWALL_CLASS.search(attrs_of(el)) or outside_story(el):
            continue
        if not _IN_STORY(el):
            continue
        text = clean_text(el.text_content())
        if text and len(text) <= 3 * TEASER_MAX_CHARS and SUBSCRIBE_TEASER.search(text):
            return True
    return False


def choose_paywall(facts: PageFacts, text: str | None, block: bool
                   ) -> tuple[bool | None, str | None]:
    """(is_paywalled, paywall_source): the page's statement first, then truncation."""
    objects = [*facts.jsonld_articles,
               *(o for o in facts.jsonld_other if schema_types(o) & _PAGE_TYPES)]
    for obj in objects:
        free = _accessible_for_free(obj)
        if free is not None:
            return not free, "jsonld"
    # A locked part of the page (Google's paywalled-content markup: hasPart elements).
    for obj in facts.jsonld_other:
        if schema_types(obj) & _PAYWALL_PARTS and _accessible_for_free(obj) is False:
            return True, "jsonld"
    tier = (facts.first_meta("article:content_tier") or "").strip().lower()
    if tier in ("locked", "free"):
        return tier == "locked", "meta"
    if body_ends_in_teaser(text) or block:
        return True, "truncation"
    return None, None


# ------------------------------------------------------------------------------ live blog

LIVE_MIN_STAMPS = 3
_LIVE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:live-?blog\w*|live-?ticker\w*|liveticker|live-?updates?|live-?coverage|"
    r"live-?posts?|live-?entr(?:y|ies)|ticker-?entr(?:y|ies))(?:$|[\s_-])", re.I)
_CLOCK = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})(?!\d)")


def liveblog_microdata(tree: Any) -> bool:
    return any("liveblogposting" in (v or "").lower() for v in tree.xpath("//@itemtype"))


def _stamps(container: Any) -> set[str]:
    """Distinct timestamps in a container: <time> values and entries opening on a clock."""
    stamps = {(t.get("datetime") or clean_text(t.text_content())) for t in container.iter("time")}
    for el in container.iter("span", "strong", "b", "p", "h2", "h3", "div"):
        match = _CLOCK.match(clean_text(el.text) or "")
        if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
            stamps.add(match.group(0).strip())
    return {s for s in stamps if s}


LIVE_WORDS = ("live", "ticker")


def liveblog_layout(classed_elements: list[Any]) -> bool:
    """A live-ticker container in the story with LIVE_MIN_STAMPS or more timestamps.
    `classed_elements`: `classed(tree, LIVE_WORDS)` (or a superset)."""
    for el in classed_elements:
        if el.tag in ("a", "span", "time", "img", "script", "style"):
            continue
        if not _LIVE_CLASS.search(attrs_of(el)) or outside_story(el):
            continue
        if len(_stamps(el)) >= LIVE_MIN_STAMPS:
            return True
    return False


def choose_liveblog(facts: PageFacts, microdata: bool, layout: bool
                    ) -> tuple[bool, str]:
    """(is_liveblog, liveblog_source): "jsonld", "microdata", "layout", or (False, "none")."""
    if any("liveblogposting" in schema_types(o)
           for o in (*facts.jsonld_articles, *facts.jsonld_other)):
        return True, "jsonld"
    if microdata:
        return True, "microdata"
    if layout:
        return True, "layout"
    return False, "none"
