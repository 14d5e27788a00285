"""Near-duplicate detection: shingling, MinHash signatures and LSH band keys.

The same wire story appears on many sites with a different header, a trimmed ending, a
"Read more" block or a footer. Each new article is compared with every article ever loaded
in near-constant time:

1. ``normalise_text`` folds case, compatibility forms and punctuation (Unicode-aware, so
   accents, Cyrillic, Devanagari combining marks etc. stay inside their words).
2. ``shingles`` hashes every run of ``shingle_size`` consecutive tokens to a stable 64-bit
   int. Scripts written without spaces (Chinese, Japanese, Thai, …) are tokenised per
   character, so their shingles are character n-grams.
3. ``signature`` is a MinHash of the shingle set, computed with vectorised numpy
   multiply-add hashing; every constant comes from blake2b, never from Python's randomised
   ``hash()`` or a numpy RNG stream, so signatures are identical across processes,
   machines and library versions — they are stored in the warehouse and must stay valid.
4. ``band_keys`` turns a signature into one BIGINT per LSH band; the warehouse indexes them
   and a new article's candidates are the stored articles sharing any band key.
5. ``similarity`` (estimated Jaccard) confirms a candidate against ``threshold``.

``DEFAULT_SETTINGS`` were chosen by ``benchmarks/dedup_quality.py`` (see its output).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "DEFAULT_SETTINGS",
    "NearDupSettings",
    "band_keys",
    "normalise_text",
    "shingles",
    "signature",
    "signature_from_bytes",
    "signature_to_bytes",
    "similarity",
    "tokens",
]

# Bumping this (or any setting) invalidates stored signatures and band keys.
_HASH_DOMAIN = b"news-etl/minhash/v1"
_SIG_DTYPE = np.dtype("<u4")  # 32-bit minima: 4 bytes per permutation in the warehouse
_BIGINT_MASK = (1 << 63) - 1
_U64 = np.uint64


@dataclass(frozen=True)
class NearDupSettings:
    """Parameters of the near-duplicate check; ``bands * rows`` must equal ``num_perm``."""

    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    threshold: float = 0.5  # minimum estimated Jaccard to call a candidate a duplicate
    shingle_size: int = 3  # tokens per shingle (characters for scripts without spaces)
    min_words: int = 50  # shorter texts are exempt: too few shingles to judge reliably
    seed: int = 1  # selects the hash family; changing it invalidates stored signatures

    def __post_init__(self) -> None:
        if self.num_perm <= 0 or self.bands <= 0 or self.rows <= 0:
            raise ValueError("num_perm, bands and rows must be positive")
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"bands * rows must equal num_perm ({self.bands} * {self.rows} != {self.num_perm})"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.shingle_size <= 0:
            raise ValueError("shingle_size must be positive")
        if self.min_words < 0:
            raise ValueError("min_words must be >= 0")

    @property
    def signature_key(self) -> str:
        """Everything a signature depends on (not the threshold, not the band shape):
        signatures made under settings with one key are interchangeable."""
        return (f"{_HASH_DOMAIN.decode()}:{self.num_perm}:{self.seed}:{self.shingle_size}:"
                f"{self.min_words}")

    @property
    def lsh_threshold(self) -> float:
        """Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1.0 / self.bands) ** (1.0 / self.rows)


# Chosen with benchmarks/dedup_quality.py (181 real articles x 5 syndicated variants):
# - 3-token shingles: best recall at a given threshold among sizes with a wide gap between
#   duplicates (1st percentile est. Jaccard ~0.47) and different articles (max ~0.19);
#   2-token shingles raise unrelated pairs to ~0.28, 4-5 lose recall on edited copies.
# - 128 permutations as 32 bands x 4 rows: LSH knee 0.42 (a pair at J=0.5 is a candidate
#   with p=0.87, at 0.6 with p=0.985); 42x3 or 256 permutations gained no recall at 0.5
#   but cost more band rows; 16x8 lost 15 % recall.
# - threshold 0.5: the highest value keeping recall >= 0.98 (precision 1.0 from 0.30 up), so
#   the widest margin against same-event articles the corpus cannot show.
# - min_words 50: below ~75 tokens a copy with site boilerplate is undetectable anyway and
#   formulaic briefs are the main false-positive risk.
DEFAULT_SETTINGS = NearDupSettings(
    num_perm=128, bands=32, rows=4, threshold=0.5, shingle_size=3, min_words=50
)


# --------------------------------------------------------------------------- normalisation

# Scripts usually written without spaces between words: one token per character.
_NO_SPACE_RANGES = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B–G
)


@lru_cache(maxsize=1)
def _mark_table() -> np.ndarray:
    """Boolean lookup by code point: is it a combining mark (Mn/Mc/Me)?

    Python's ``\\w`` excludes combining marks, which would split Hindi, Thai or Hebrew words
    (and words followed by an emoji variation selector) apart. Built once from unicodedata
    (planes 0–1 plus variation selectors; ~20 ms).
    """
    table = np.zeros(sys.maxunicode + 1, dtype=bool)
    for cp in [*range(0x20000), *range(0xE0100, 0xE01F0)]:
        if unicodedata.category(chr(cp))[0] == "M":
            table[cp] = True
    table.setflags(write=False)
    return table


_SIMPLE_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; underscore is punctuation
_SPLIT_RE = re.compile(rf"[{_NO_SPACE_RANGES}]|[^{_NO_SPACE_RANGES}]+")
_NO_SPACE_RE = re.compile(rf"[{_NO_SPACE_RANGES}]")
_LETTER = np.uint32(ord("a"))


def _words(folded: str) -> list[str]:
    """Maximal runs of letters, digits and combining marks."""
    if folded.isascii():
        return _SIMPLE_WORD_RE.findall(folded)
    # Vectorised: find marks by code point, stand a letter in for them (same length, so
    # match spans are valid in the original), and slice the words out of the original.
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    is_mark = _mark_table()[codes]
    if not is_mark.any():
        return _SIMPLE_WORD_RE.findall(folded)
    masked = np.where(is_mark, _LETTER, codes).astype("<u4").tobytes().decode("utf-32-le")
    words = []
    for m in _SIMPLE_WORD_RE.finditer(masked):
        start, end = m.span()
        while start < end and is_mark[start]:  # a mark after a symbol (e.g. emoji VS16)
            start += 1
        if start < end:
            words.append(folded[start:end])
    return words


def _normalise_once(text: str) -> str:
    # NFKC folds full-width forms, ligatures and superscripts; casefold is the Unicode-aware
    # lower() (ß → ss); a second NFKC recomposes what casefold may have decomposed.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_words(folded))


def _is_fixed_point(text: str) -> bool:
    # Output of _normalise_once that is NFKC and casefold-stable maps to itself: the word
    # regex then finds exactly the same space-separated words again.
    return unicodedata.is_normalized("NFKC", text) and text.casefold() == text


def normalise_text(text: str) -> str:
    """Case-, compatibility- and punctuation-folded text: words joined by single spaces.

    Idempotent and never raises (``None`` gives ``""``, other non-strings their ``str()``).
    """
    if text is None:
        return ""
    try:
        if not isinstance(text, str):
            text = str(text)
        # Iterate to a fixed point: a few exotic characters only settle after a second pass.
        for _ in range(4):
            text = _normalise_once(text)
            if _is_fixed_point(text):
                break
        return text
    except Exception:  # a stage must never crash on odd input
        return ""


def tokens(text: str) -> list[str]:
    """Tokens of the normalised text; characters of no-space scripts are single tokens."""
    normalised = normalise_text(text)
    if not _NO_SPACE_RE.search(normalised):
        return normalised.split()
    out: list[str] = []
    for word in normalised.split():
        if _NO_SPACE_RE.search(word):
            out.extend(_SPLIT_RE.findall(word))
        else:
            out.append(word)
    return out


# --------------------------------------------------------------------------- hashing


def _blake64(data: bytes) -> int:
    return int.from_bytes(
        hashlib.blake2b(data, digest_size=8, person=b"news-etl-dedup").digest(), "little"
    )


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 arrays wrap silently), so shingle hashes look random."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


_POLY = _U64(0x9E3779B97F4A7C15)  # odd multiplier of the rolling combination


def _shingle_array(toks: list[str], size: int) -> np.ndarray:
    """Unique uint64 hashes of all ``size``-token windows (one window if the text is shorter)."""
    if not toks:
        return np.empty(0, dtype=np.uint64)
    # Hash each distinct token once (blake2b: stable across processes), then combine the
    # windows with vectorised polynomial arithmetic, which is order-sensitive.
    cache: dict[str, int] = {}
    ids = [cache.setdefault(t, len(cache)) for t in toks]
    table = np.fromiter(
        (_blake64(t.encode("utf-8", "surrogatepass")) for t in cache),
        dtype=np.uint64,
        count=len(cache),
    )
    seq = table[np.asarray(ids, dtype=np.intp)]
    size = min(size, len(seq))
    n = len(seq) - size + 1
    acc = seq[:n].copy()
    for j in range(1, size):
        acc = acc * _POLY + seq[j : j + n]
    return np.unique(_mix64(acc + _U64(size)))


def shingles(text: str, size: int) -> set[int]:
    """Stable 64-bit hashes (as non-negative ints) of the text's ``size``-token shingles."""
    if size <= 0:
        raise ValueError("size must be positive")
    return {int(v) for v in _shingle_array(tokens(text), size)}


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd) and offsets of the hash family, derived from blake2b only."""
    a = np.empty(num_perm, dtype=np.uint64)
    b = np.empty(num_perm, dtype=np.uint64)
    for i in range(num_perm):
        digest = hashlib.blake2b(_HASH_DOMAIN + f":{seed}:{i}".encode(), digest_size=16).digest()
        a[i] = int.from_bytes(digest[:8], "little") | 1
        b[i] = int.from_bytes(digest[8:], "little")
    a.setflags(write=False)
    b.setflags(write=False)
    return a[:, None], b[:, None]


_CHUNK = 2048  # shingles per block: bounds the temporary num_perm x chunk matrix (~2 MB)


def _minhash(values: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    a, b = _permutations(num_perm, seed)
    result = np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, len(values), _CHUNK):
        block = values[None, start : start + _CHUNK]
        # h_i(x) = a_i*x + b_i mod 2^64 is a bijection per i; its high bits act as a random
        # permutation of well-mixed inputs (multiply-shift hashing).
        np.minimum(result, (a * block + b).min(axis=1), out=result)
    # min(h) >> 32 == min(h >> 32): keep the high 32 bits, the well-mixed ones.
    return (result >> _U64(32)).astype(_SIG_DTYPE)


def signature(text: str, settings: NearDupSettings = DEFAULT_SETTINGS) -> np.ndarray | None:
    """MinHash signature (``num_perm`` uint32) or ``None`` if below ``min_words`` tokens."""
    toks = tokens(text)
    if not toks or len(toks) < settings.min_words:
        return None
    values = _shingle_array(toks, settings.shingle_size)
    return _minhash(values, settings.num_perm, settings.seed)


def band_keys(sig: np.ndarray, settings: NearDupSettings = DEFAULT_SETTINGS) -> list[int]:
    """One non-negative 63-bit int per LSH band (fits a signed BIGINT column).

    The band index and the band shape are hashed in, so equal rows in different bands (or
    under different settings) never produce the same key.
    """
    sig = np.ascontiguousarray(sig, dtype=_SIG_DTYPE)
    if sig.shape != (settings.num_perm,):
        raise ValueError(f"signature has shape {sig.shape}, expected ({settings.num_perm},)")
    prefix = _HASH_DOMAIN + f":{settings.seed}:{settings.rows}:".encode()
    raw = sig.tobytes()
    width = settings.rows * _SIG_DTYPE.itemsize
    return [
        _blake64(prefix + band.to_bytes(4, "little") + raw[band * width : (band + 1) * width])
        & _BIGINT_MASK
        for band in range(settings.bands)
    ]


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the fraction of equal MinHash values."""
    a = np.asarray(sig_a)
    b = np.asarray(sig_b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"incompatible signatures: shapes {a.shape} and {b.shape}")
    return float(np.count_nonzero(a == b)) / a.size


def signature_to_bytes(sig: np.ndarray) -> bytes:
    """Little-endian uint32 bytes, for a LargeBinary column (512 bytes at num_perm=128)."""
    return np.ascontiguousarray(sig, dtype=_SIG_DTYPE).tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    """Inverse of ``signature_to_bytes`` (a writable native uint32 array)."""
    if len(data) % _SIG_DTYPE.itemsize:
        raise ValueError(f"signature bytes length {len(data)} is not a multiple of 4")
    return np.frombuffer(data, dtype=_SIG_DTYPE).astype(np.uint32)
