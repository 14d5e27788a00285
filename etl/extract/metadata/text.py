"""Text helpers shared by the metadata rules: folding, mojibake repair, comparison keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

_WS = re.compile(r"\s+")
# Formatting marks no reader sees: soft hyphen, zero-width space, word joiner, BOM. The
# zero-width (non-)joiners stay: they change how Persian, Arabic and Indic words are drawn
# (and join emoji), so they are part of the text.
INVISIBLE_MARKS = "\u00ad\u200b\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_MARKS))


def clean_text(value: Any) -> str:
    """Fold whitespace and drop invisible marks (soft hyphens, zero-width spaces)."""
    if value is None:
        return ""
    text = str(value).translate(_INVISIBLE)
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=8)
def substrings(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that finds any of `words` as a plain substring: one regex search per
    string instead of a Python-level test per word (these run on every element of a page)."""
    return re.compile("|".join(re.escape(word) for word in words))


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


def first_value(values: Iterable[Any]) -> Any:
    for value in values:
        if value:
            return value
    return None
