"""Word counts in every script, so that `min_words` means about the same in every language.

Scripts that separate words with spaces (Latin, Cyrillic, Greek, Arabic, Hebrew, Hangul,
Devanagari, …) are counted as before: one word per run of word characters. Six scripts
write no spaces between words, and there a run of word characters is a whole clause or
sentence; they are counted by a documented rule instead (docs/extraction.md):

- Han, Hiragana, Katakana and Bopomofo (Chinese, Japanese): characters / 1.5. Chinese
  word segmenters average about 1.5 characters a word, Japanese morphological analysers
  about the same per morpheme.
- Thai and Lao: letters (vowel and tone marks above or below a letter are not counted) / 3.5.
- Khmer and Myanmar (Burmese): letter clusters (a letter with the consonants stacked under
  it by a coeng/virama sign is one cluster) / 2.5.

The factors were set on the original test sentences (tests/etl/extract/test_words.py),
segmented by hand: the counts land within a fifth of the true number of words there.
No segmenter is used: none in the lock covers these scripts, and those that do need a
dictionary per language (megabytes each) for a threshold that only needs the order of
magnitude.
"""

from __future__ import annotations

import re
import unicodedata

# The CJK blocks: Han (unified, extensions A–H, compatibility), kana, Bopomofo, the
# iteration marks and halfwidth katakana.
_CJK = ("\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf"
        "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
        "\U00020000-\U0003134f")
_THAI_LAO = "\u0e00-\u0eff"
_KHMER_MYANMAR = "\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\ua9e0-\ua9ff\uaa60-\uaa7f"
_NO_SPACE_RE = re.compile(f"[{_CJK}{_THAI_LAO}{_KHMER_MYANMAR}]+")
_CJK_RE = re.compile(f"[{_CJK}]")
_THAI_LAO_RE = re.compile(f"[{_THAI_LAO}]+")
_KHMER_MYANMAR_RE = re.compile(f"[{_KHMER_MYANMAR}]+")
_WORD_RE = re.compile(r"\w+")
# Signs that stack the next consonant under the previous one (Khmer coeng, Myanmar virama).
_STACKERS = frozenset("\u17d2\u1039")

CJK_CHARS_PER_WORD = 1.5
THAI_LAO_LETTERS_PER_WORD = 3.5
KHMER_MYANMAR_CLUSTERS_PER_WORD = 2.5


def _letters(run: str) -> int:
    """Letters in a run, not counting combining marks, digits and punctuation."""
    return sum(1 for ch in run if unicodedata.category(ch).startswith("L"))


def _clusters(run: str) -> int:
    """Letters that start a cluster: a letter stacked under the previous one does not."""
    count = 0
    previous = ""
    for ch in run:
        if unicodedata.category(ch).startswith("L") and previous not in _STACKERS:
            count += 1
        previous = ch
    return count


def script_units(text: str) -> dict[str, float]:
    """Words per script group: "spaced", "cjk", "thai_lao", "khmer_myanmar" (estimates)."""
    spaced = len(_WORD_RE.findall(_NO_SPACE_RE.sub(" ", text)))
    cjk = len(_CJK_RE.findall(text))
    thai_lao = sum(_letters(run) for run in _THAI_LAO_RE.findall(text))
    khmer_myanmar = sum(_clusters(run) for run in _KHMER_MYANMAR_RE.findall(text))
    return {
        "spaced": float(spaced),
        "cjk": cjk / CJK_CHARS_PER_WORD,
        "thai_lao": thai_lao / THAI_LAO_LETTERS_PER_WORD,
        "khmer_myanmar": khmer_myanmar / KHMER_MYANMAR_CLUSTERS_PER_WORD,
    }


def count_words(text: str | None) -> int:
    """Words in `text` in any script: space-delimited words as runs of word characters,
    the scripts written without spaces by the rules in this module's docstring."""
    if not text:
        return 0
    if not _NO_SPACE_RE.search(text):  # the common case: one regex pass, as before
        return len(_WORD_RE.findall(text))
    return round(sum(script_units(text).values()))
