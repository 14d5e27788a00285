"""Reading schema.org JSON-LD: the page's objects, their types and their string values."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from typing import Any

from etl.extract.metadata.text import clean_text, first_value

_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "blogposting",
    "liveblogposting", "socialmediaposting", "scholarlyarticle", "techarticle", "report",
    "advertisercontentarticle", "satiricalarticle", "askpublicnewsarticle", "posting",
}


def schema_types(obj: dict[str, Any]) -> set[str]:
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


def read_jsonld(tree: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(article objects, other objects) of every ld+json script in the page."""
    articles: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        for obj in _walk_jsonld(_load_json(script.text or "")):
            if schema_types(obj) & _ARTICLE_TYPES:
                articles.append(obj)
            else:
                other.append(obj)
    return articles, other


def jsonld_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, list):
        value = first_value(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if not isinstance(value, str):
        return None
    # JSON-LD strings often carry HTML entities ("&#8216;", "&quot;").
    return clean_text(html_lib.unescape(value)) or None
