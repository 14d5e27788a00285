"""Article bodies outside the markup: JSON-LD `articleBody` and Next.js `__NEXT_DATA__`.

Some pages render their text with scripts, or show a teaser in the markup and the whole
text only in their structured data. When trafilatura finds no body, or one much shorter
than the page's structured `articleBody`, the extract stage takes the structured one
(docs/extraction.md, "Bodies outside the markup", has the measured effect).

Read from the page's tree before trafilatura runs (it removes scripts from its copy).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from typing import Any

from etl.extract.words import count_words

# Fallback only when the structured body has at least this many words and trafilatura's
# has fewer than SHORTER_THAN of them: a teaser or a summary in articleBody never replaces
# the text the page shows.
MIN_WORDS = 40
SHORTER_THAN = 0.5
_MAX_SCRIPT_CHARS = 5_000_000  # a hydration payload larger than this is not parsed
_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_RE = re.compile(r"</?(?:p|div|br|li|h[1-6]|blockquote|section)\b[^>]*>", re.I)
_SPACES_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


def _walk(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string under an `articleBody` key, at any depth (@graph, lists, props)."""
    if depth > 40:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "articleBody" and isinstance(item, str):
                yield item
            elif isinstance(item, (dict, list)):
                yield from _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)


def clean_body(body: str) -> str:
    """Markup to paragraphs, entities decoded, whitespace folded within each line."""
    if "<" in body:
        body = _TAG_RE.sub("", _BLOCK_RE.sub("\n", body))
    body = html_lib.unescape(body)
    lines = (_SPACES_RE.sub(" ", line).strip() for line in body.splitlines())
    return "\n".join(line for line in lines if line)


def structured_bodies(tree: Any) -> list[str]:
    """The cleaned `articleBody` strings of a page's JSON-LD and Next.js payload."""
    scripts = tree.xpath(
        '//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")'
        ' or @id="__NEXT_DATA__"]')
    bodies = []
    for script in scripts:
        raw = script.text or ""
        if not raw.strip() or len(raw) > _MAX_SCRIPT_CHARS or "articleBody" not in raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        bodies.extend(clean_body(body) for body in _walk(data))
    return [body for body in bodies if body]


def fallback_body(candidates: list[str], extracted: str | None) -> str | None:
    """The structured body (of `structured_bodies`) to use instead of trafilatura's text,
    or None to keep trafilatura's."""
    if not candidates:
        return None
    best = max(candidates, key=len)
    words = count_words(best)
    if words < MIN_WORDS or count_words(extracted) >= SHORTER_THAN * words:
        return None
    return best
