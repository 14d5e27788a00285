"""Near-duplicate primitives: normalisation, shingles, MinHash signatures, LSH band keys."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    band_keys,
    normalise_text,
    shingles,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    similarity,
    tokens,
)

REPO = Path(__file__).resolve().parents[3]

VOCABULARY = (
    "government council minister river station market bridge report school village "
    "harbour festival museum library engineer doctor teacher farmer budget election "
    "weather storm flood summer winter spring autumn morning evening night city "
    "country border island mountain valley forest desert ocean coast airport train"
)
WORDS = VOCABULARY.split()


def article(seed: int, n_words: int = 300) -> str:
    """Deterministic pseudo-article: sentences of random words in paragraphs."""
    rng = random.Random(seed)
    paras = []
    for _ in range(max(1, n_words // 60)):
        sents = []
        for _ in range(5):
            words = [rng.choice(WORDS) for _ in range(12)]
            sents.append(" ".join(words).capitalize() + ".")
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


STORY = article(1)
OTHER = article(2)


# --------------------------------------------------------------------------- normalisation


def test_normalise_folds_case_punctuation_and_compatibility_forms() -> None:
    assert normalise_text("  Hello,   WORLD!!  — it's\tﬁne ") == "hello world it s fine"
    assert normalise_text("ＡＢＣ１２３") == "abc123"  # full-width forms
    assert normalise_text("snake_case") == "snake case"
    assert normalise_text("") == ""


def test_normalise_is_idempotent_on_examples() -> None:
    for text in (STORY, "L'Été à Paris", "Straße", "Ǆemal", "東京、日本。", "ﬃ ᾈ İstanbul"):
        once = normalise_text(text)
        assert normalise_text(once) == once


def test_normalise_never_raises_on_non_strings() -> None:
    assert normalise_text(None) == ""  # type: ignore[arg-type]
    assert normalise_text(42) == "42"  # type: ignore[arg-type]
    assert normalise_text("\ud800 lone surrogate") == "lone surrogate"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_property_never_raises_and_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert isinstance(once, str)
    assert normalise_text(once) == once
    assert once == once.strip() and "  " not in once


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_signature_property_never_raises(text: str) -> None:
    sig = signature(text, NearDupSettings(min_words=0))
    if sig is not None:
        assert sig.shape == (DEFAULT_SETTINGS.num_perm,)
        assert len(band_keys(sig, NearDupSettings(min_words=0))) == DEFAULT_SETTINGS.bands


# --------------------------------------------------------------------------- tokens


def test_french_accents_are_kept_inside_words() -> None:
    assert tokens("L'Été à Paris: un café naïf, déjà!") == [
        "l",
        "été",
        "à",
        "paris",
        "un",
        "café",
        "naïf",
        "déjà",
    ]
    # Decomposed accents (NFD input) give the same tokens as precomposed ones.
    assert tokens("cafe\u0301 E\u0301te\u0301") == tokens("café Été")


def test_german_casefolding() -> None:
    assert tokens("Die STRASSE über der Straße") == ["die", "strasse", "über", "der", "strasse"]


def test_russian_words() -> None:
    assert tokens("Москва — столица России, ПРИВЕТ!") == ["москва", "столица", "россии", "привет"]


def test_cjk_is_tokenised_per_character() -> None:
    assert tokens("東京は日本の首都です。") == list("東京は日本の首都です")
    assert tokens("iPhone手机") == ["iphone", "手", "机"]
    # Korean is written with spaces: words stay words.
    assert tokens("서울은 한국의 수도") == ["서울은", "한국의", "수도"]


def test_combining_marks_do_not_split_words() -> None:
    assert tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert tokens("สวัสดีครับ") == list("สวัสดีครับ")  # Thai: no spaces, per character
    # A mark that follows a symbol (emoji variation selector) does not start a word.
    assert tokens("I ❤️love it") == ["i", "love", "it"]


def test_shingles_are_stable_order_sensitive_64bit_ints() -> None:
    a = shingles("the quick brown fox jumps", 3)
    assert len(a) == 3
    assert all(isinstance(v, int) and 0 <= v < 2**64 for v in a)
    assert a == shingles("The QUICK, brown fox... jumps!", 3)
    assert a != shingles("fox brown quick the jumps", 3)
    assert len(shingles("two words", 3)) == 1  # shorter than a shingle: one shingle
    assert shingles("", 3) == set()


# --------------------------------------------------------------------------- signatures


def test_signature_shape_dtype_and_serialisation_roundtrip() -> None:
    sig = signature(STORY)
    assert sig is not None
    assert sig.dtype == np.uint32 and sig.shape == (DEFAULT_SETTINGS.num_perm,)
    data = signature_to_bytes(sig)
    assert isinstance(data, bytes) and len(data) == 4 * DEFAULT_SETTINGS.num_perm
    back = signature_from_bytes(data)
    assert np.array_equal(back, sig) and back.flags.writeable
    with pytest.raises(ValueError):
        signature_from_bytes(b"abc")


def test_short_texts_are_exempt() -> None:
    words = [WORDS[i % len(WORDS)] for i in range(DEFAULT_SETTINGS.min_words)]
    short = " ".join(words[:-1])
    assert signature(short) is None
    assert signature("") is None
    assert signature(" ".join(words)) is not None
    assert signature(short, NearDupSettings(min_words=5)) is not None


def test_signature_is_deterministic_across_processes() -> None:
    # A fresh interpreter has a different hash() seed; stored signatures must still match.
    texts = [STORY, "東京は日本の首都です。" * 20, "Москва — столица России. " * 30]
    code = (
        "import json, sys\n"
        "from etl.dedup.minhash import signature, band_keys\n"
        "out = []\n"
        "for t in json.load(sys.stdin):\n"
        "    s = signature(t)\n"
        "    out.append([s.tolist(), band_keys(s)])\n"
        "print(json.dumps(out))\n"
    )
    results = []
    for hashseed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            cwd=REPO,
            env={"PYTHONHASHSEED": hashseed, "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=60,
        )
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1]
    local = [[signature(t).tolist(), band_keys(signature(t))] for t in texts]
    assert results[0] == local


def test_band_keys_fit_bigint_and_mix_in_the_band_index() -> None:
    sig = signature(STORY)
    keys = band_keys(sig)
    assert len(keys) == DEFAULT_SETTINGS.bands
    assert all(isinstance(k, int) and 0 <= k < 2**63 for k in keys)
    # Identical rows in every band must still give a distinct key per band.
    flat = np.zeros(DEFAULT_SETTINGS.num_perm, dtype=np.uint32)
    assert len(set(band_keys(flat))) == DEFAULT_SETTINGS.bands
    with pytest.raises(ValueError):
        band_keys(sig[:10])


def syndicated_copy(text: str) -> str:
    """A different site's copy: new header, trimmed last paragraph, 'Read more' footer."""
    paras = text.split("\n\n")
    trimmed = "\n\n".join([*paras[:-1], paras[-1][: len(paras[-1]) // 2]])
    return (
        "DAILY WIRE | World | By Staff | Updated 3 hours ago\n\n"
        + trimmed
        + "\n\nRead more: Top stories of the day. © 2024 Daily Wire. All rights reserved."
    )


def test_similar_texts_get_high_similarity_and_share_a_band_key() -> None:
    a, b = signature(STORY), signature(syndicated_copy(STORY))
    assert similarity(a, b) >= DEFAULT_SETTINGS.threshold
    assert set(band_keys(a)) & set(band_keys(b))
    assert similarity(a, a) == 1.0


def test_multilingual_copies_are_detected() -> None:
    texts = {
        "fr": "Le gouvernement français a annoncé mercredi une réforme des retraites. " * 3
        + "Les syndicats ont appelé à la grève générale dans toute la France. " * 3
        + "Le Premier ministre défendra le projet à l'Assemblée nationale jeudi.",
        "ru": "Правительство объявило о новой реформе пенсионной системы в среду. " * 3
        + "Профсоюзы призвали к всеобщей забастовке по всей стране. " * 3
        + "Премьер-министр представит проект в парламенте в четверг.",
        "zh": "政府周三宣布了一项新的养老金制度改革计划。工会呼吁在全国范围内举行大罢工。" * 3
        + "总理将于周四在议会介绍该项目。",
    }
    for lang, text in texts.items():
        base = signature(text)
        copy = signature("Breaking news. " + text + " Read more.")
        assert base is not None and copy is not None, lang
        assert similarity(base, copy) >= DEFAULT_SETTINGS.threshold, lang
        assert set(band_keys(base)) & set(band_keys(copy)), lang


def test_different_texts_are_not_similar_and_share_no_band_key() -> None:
    a, b = signature(STORY), signature(OTHER)
    assert similarity(a, b) < 0.2
    assert not set(band_keys(a)) & set(band_keys(b))


def test_similarity_rejects_incompatible_signatures() -> None:
    with pytest.raises(ValueError):
        similarity(np.zeros(128, np.uint32), np.zeros(64, np.uint32))


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        NearDupSettings(num_perm=128, bands=30, rows=4)
    with pytest.raises(ValueError):
        NearDupSettings(threshold=0.0)
    assert DEFAULT_SETTINGS.bands * DEFAULT_SETTINGS.rows == DEFAULT_SETTINGS.num_perm
