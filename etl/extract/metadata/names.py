"""Author names: byline prefixes and joiners per language, name particles and initials kept.

A byline word is read in the page's own language only: German "von" opens a byline, but in
"Von der Leyen" it is part of the name; Italian "di" opens a byline, "Di Stefano" is a
surname; Spanish "y" joins two authors, or two surnames ("Ortega y Gasset"). So:

- a prefix word is removed only in its language, and only when a full name (two words or
  more, the first not a particle) follows it: "Von Anna Roe" -> "Anna Roe", "Von der Roe" and
  "Da Roe" stay;
- a single-letter conjunction (y, e, i, a, u.) joins authors only in its language, written
  in lower case, between two full names: "Ana Ruiz y Luis Mora" is two authors, "Pedro
  Lasa y Ortiz" one, and "I. M. Roe" keeps its initials;
- "by" and labels ending in ":" ("Autor:") are no part of any name, so they are read in
  every language; so is "and" between names.

With no language known, every language's words are read, under the same guards.
"""

from __future__ import annotations

import re

from etl.extract.metadata.text import clean_text

# Words that are part of a surname in some language; never the end of a byline prefix.
PARTICLES = frozenset({
    "da", "das", "de", "del", "della", "delle", "dei", "degli", "der", "den", "des", "di",
    "do", "dos", "du", "el", "la", "las", "le", "les", "lo", "los", "st", "st.", "ten", "ter",
    "van", "vande", "vander", "von", "vom", "zu", "zum", "zur", "y", "e", "i", "bin", "ibn",
    "bint", "ben", "al", "el-", "al-", "abu", "mac", "mc", "o'", "dello",
})

# Byline prefixes per language (ISO 639-1): the word(s) before the name.
_PREFIXES: dict[str, tuple[str, ...]] = {
    "en": ("written by", "reported by", "story by", "words by", "text by", "by"),
    "de": ("ein gastbeitrag von", "ein kommentar von", "ein interview von", "text von", "von"),
    "fr": ("texte de", "par"),
    "es": ("escrito por", "texto de", "por"),
    "pt": ("escrito por", "texto de", "por"),
    "it": ("a cura di", "testo di", "di"),
    "nl": ("tekst door", "door"),
    "sv": ("text av", "av"),
    "no": ("tekst av", "av"),
    "nb": ("tekst av", "av"),
    "da": ("tekst af", "af"),
    "pl": ("autor",),
}
_EVERY_LANGUAGE_PREFIXES = ("written by", "by")
# "Autor:", "Text:", "Redaktion:": a label with a colon is never a name.
_LABEL = re.compile(r"^\s*(?:written|reported|text|texte|texto|tekst|testo|story|words|"
                    r"autor(?:in)?|author|auteur|autore|redaktion|redacci[oó]n|"
                    r"r[ée]daction|by)\s*:\s*", re.I)

# Word conjunctions between authors per language; one-letter ones need full names around.
_JOINERS: dict[str, tuple[str, ...]] = {
    "en": ("and",), "de": ("und", "u."), "fr": ("et",), "es": ("y", "e"), "pt": ("e",),
    "it": ("ed", "e"), "nl": ("en",), "sv": ("och",), "no": ("og",), "nb": ("og",),
    "da": ("og",), "pl": ("i", "oraz"), "cs": ("a",), "sk": ("a",), "ca": ("i",),
    "tr": ("ve",), "hr": ("i",), "sl": ("in",),
}
_EVERY_LANGUAGE_JOINERS = ("and",)
_ALWAYS_SPLIT = re.compile(r"\s*(?:;|&|\+|\s/\s|\|)\s*")
_COMMA = re.compile(r"\s*,\s*")


def _prefixes(language: str | None) -> tuple[str, ...]:
    if language is None:
        words = {p for values in _PREFIXES.values() for p in values}
    else:
        words = set(_PREFIXES.get(language, ())) | set(_EVERY_LANGUAGE_PREFIXES)
    return tuple(sorted(words, key=len, reverse=True))  # longest first


def _joiners(language: str | None) -> tuple[list[str], list[str]]:
    """(word joiners, one-letter joiners) read in `language`."""
    if language is None:  # one-letter words are too ambiguous without a language
        words = {w for values in _JOINERS.values() for w in values if len(w.rstrip(".")) > 1}
        return sorted(words), []
    words = set(_JOINERS.get(language, ())) | set(_EVERY_LANGUAGE_JOINERS)
    return (sorted(w for w in words if len(w.rstrip(".")) > 1),
            sorted(w for w in words if len(w.rstrip(".")) == 1))


def _full_name(words: list[str]) -> bool:
    """Two words or more, the first a capitalised given name or initial, not a particle."""
    return (len(words) >= 2 and words[0].casefold() not in PARTICLES
            and words[0][:1].isupper())


def strip_prefix(text: str, language: str | None) -> str:
    """Remove a byline prefix ("By", "Von", "par") read in `language`, or a label."""
    label = _LABEL.match(text)
    if label:
        return text[label.end():]
    low = text.casefold()
    for prefix in _prefixes(language):
        if low.startswith(prefix + " "):
            rest = text[len(prefix) + 1:].lstrip()
            if _full_name(rest.split()) or (prefix == "by" and rest[:1].isupper()):
                return rest
            return text  # "Von der Roe", "Da Roe": the word is part of the name
    return text


def split_names(text: str, language: str | None, structured: bool = False) -> list[str]:
    """Split a byline into author strings in `language`.

    `structured` (a JSON-LD name): commas and one-letter conjunctions do not split (a name
    may hold "Wire Service, Harbour City" or "Ortega y Gasset").
    """
    parts = _ALWAYS_SPLIT.split(clean_text(text))
    if not structured:
        parts = [p for part in parts for p in _COMMA.split(part)]
    words, letters = _joiners(language)
    if structured:
        letters = []
    out: list[str] = []
    for part in parts:
        out.extend(_split_on_words(part, words, letters))
    return [p for p in out if p]


def _split_on_words(part: str, words: list[str], letters: list[str]) -> list[str]:
    tokens = part.split()
    pieces: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        low = token.casefold()
        rest = tokens[i + 1:]
        if low in words and pieces[-1] and rest:
            pieces.append([])
            continue
        # one-letter: lower case only ("I." is an initial), full names on both sides
        if (token in letters and token.islower() and _full_name(pieces[-1])
                and _full_name(rest[:2])):
            pieces.append([])
            continue
        pieces[-1].append(token)
    return [" ".join(p) for p in pieces if p]
