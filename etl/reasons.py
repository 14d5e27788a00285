"""Reject reasons as sentences: what a failed Great Expectations expectation means for
one article, in words an operator can act on.

A rejected article keeps the names of the expectations it failed (`article_rejects.reasons`,
e.g. `expect_column_pair_values_a_to_be_greater_than_b[word_count,min_words]`): they are
exact and stable, so queries group by them. Beside them the stored `detail` says the same
as sentences with the article's own values — "too short (32 words, minimum 50)",
"language mismatch (page: en, source expects fr)" — one per reason, in the same order,
joined by "; ". `news-etl report` prints both.

This module is the one place a reason name maps to its sentence; a name it does not know
(a rule added later) reads as "failed <name>".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

SEPARATOR = "; "  # between the sentences of one reject's detail
_NAME = re.compile(r"^(?P<type>[a-z_]+)\[(?P<columns>[^\]]*)\]$")
_SENTENCE = re.compile(r"^(?P<label>.*?) \((?P<facts>.*)\)$")
# Marks of mis-decoded text (as etl.validate.MOJIBAKE_REGEXES): counted and quoted.
_GARBLED = re.compile("\ufffd|Ã[\u0080-\u00bf]|â€[\u0080-\u00bf\u2018-\u203a™œ]|Â[\u00a0-\u00bf]")

Facts = dict[str, Any]


def _day(value: Any) -> str:
    if not isinstance(value, datetime):
        return ""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.date().isoformat()


def _garbled_example(column: str) -> Callable[[Facts], str]:
    def facts(f: Facts) -> str:
        marks = _GARBLED.findall(f.get(column) or "")
        if not marks:
            return "mis-decoded characters"
        return f"{len(marks)} mis-decoded characters, e.g. {marks[0]!r}"
    return facts


def _none(f: Facts) -> str:
    return ""


# (expectation type, columns) → the reason's label, and the article's values it quotes.
_SENTENCES: dict[tuple[str, str], tuple[str, Callable[[Facts], str]]] = {
    ("expect_column_values_to_not_be_null", "url"): ("no URL", _none),
    ("expect_column_values_to_match_regex", "url"):
        ("URL is not http(s) or file", lambda f: f"{f['url']}"),
    ("expect_column_values_to_not_be_null", "title"): ("no title", _none),
    ("expect_column_values_to_match_regex", "title"): ("blank title", _none),
    ("expect_column_pair_values_a_to_be_greater_than_b", "word_count,min_words"):
        ("too short", lambda f: f"{f['word_count']} words, minimum {f['min_words']}"),
    ("expect_column_values_to_not_be_null", "language"): ("language not detected", _none),
    ("expect_column_values_to_match_regex", "language"):
        ("language is not a two-letter code", lambda f: f"page: {f['language']}"),
    ("expect_column_pair_values_to_be_equal", "language,expected_language"):
        ("language mismatch", lambda f: (f"page: {f['language'] or 'unknown'}, "
                                         f"source expects {f['expected_language']}")),
    ("expect_column_values_to_be_between", "published_ts"):
        ("published before 1990", lambda f: _day(f["published_at"])),
    ("expect_column_pair_values_a_to_be_greater_than_b", "latest_allowed_ts,published_ts"):
        ("published in the future", lambda f: _day(f["published_at"])),
    ("expect_column_values_to_be_between", "text_damage"):
        ("garbled text", _garbled_example("text")),
    ("expect_column_values_to_be_between", "title_damage"):
        ("garbled title", _garbled_example("title")),
    # The rules before damage was measured (rows stored by earlier versions).
    ("expect_column_values_to_not_match_regex_list", "text"):
        ("garbled text", _garbled_example("text")),
    ("expect_column_values_to_not_match_regex_list", "title"):
        ("garbled title", _garbled_example("title")),
}


def _key(name: str) -> tuple[str, str] | None:
    match = _NAME.match(name)
    return (match["type"], match["columns"]) if match else None


def _join(label: str, facts: str) -> str:
    return f"{label} ({facts})" if facts else label


def label(name: str) -> str:
    """What a reason means, without any article's values: 'too short'."""
    found = _SENTENCES.get(_key(name))  # type: ignore[arg-type]
    return found[0] if found else f"failed {name}"


def sentence(name: str, facts: Facts) -> str:
    """The reason `name` for an article with these values (url, title, text, word_count,
    min_words, language, expected_language, published_at)."""
    found = _SENTENCES.get(_key(name))  # type: ignore[arg-type]
    if found is None:
        return f"failed {name}"
    label_, quote = found
    try:
        return _join(label_, quote(facts))
    except (KeyError, TypeError, ValueError):  # a value missing: say what the rule means
        return label_


def article_facts(article: Any, min_words: int) -> Facts:
    """The values the sentences quote, from an etl.records.Article."""
    return {"url": article.url, "title": article.title, "text": article.text,
            "word_count": article.word_count, "min_words": min_words,
            "language": article.language, "expected_language": article.expected_language,
            "published_at": article.published_at}


def reject_detail(names: Iterable[str], facts: Facts) -> str:
    """The stored detail of a reject: one sentence per reason, in the reasons' order."""
    return SEPARATOR.join(sentence(name, facts) for name in names)


def sentences_of(names: list[str], detail: str | None) -> list[str]:
    """The sentence for each reason of a stored reject: from its detail when that has one
    per reason, else each reason's label (rows stored before details were written)."""
    parts = detail.split(SEPARATOR) if detail else []
    if len(parts) == len(names):
        return parts
    return [label(name) for name in names]


def summarise(name: str, sentences: list[str]) -> str:
    """One line for `count` rejects of one reason: their sentence when they all say the
    same, else the most common one as an example ('too short (e.g. 32 words, minimum 50)')."""
    if not sentences:
        return label(name)
    common = max(set(sentences), key=lambda s: (sentences.count(s), s))
    if len(set(sentences)) == 1:
        return common
    match = _SENTENCE.match(common)
    if match and "e.g. " not in match["facts"]:
        return f"{match['label']} (e.g. {match['facts']})"
    return common
