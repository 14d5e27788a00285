"""Word counts per script, on original sentences written for these tests.

Each sentence is given as its words (as a segmenter would cut them), joined the way the
language writes them: without spaces in Chinese, Japanese, Thai, Lao, Khmer and Burmese,
with spaces in Korean. The count must land within a quarter of the true number of words.
"""

from __future__ import annotations

import pytest

from etl.extract.words import count_words, script_units

# "From next month the city library also opens on Sundays, and the reading room stays
# open until nine in the evening."
SENTENCES: dict[str, tuple[str, list[str]]] = {
    "zh": ("", ["市立", "图书馆", "从", "下", "个", "月", "开始", "星期日", "也", "开放", "，",
                "阅览室", "每天", "开", "到", "晚上", "九", "点", "。"]),
    "ja": ("", ["市立", "図書館", "は", "来月", "から", "日曜日", "も", "開館", "し", "、",
                "閲覧室", "は", "夜", "九", "時", "まで", "開い", "て", "いる", "。"]),
    "th": ("", ["ห้องสมุด", "เมือง", "จะ", "เปิด", "ทุก", "วัน", "อาทิตย์", "ตั้งแต่", "เดือน",
                "หน้า", "และ", "ห้อง", "อ่าน", "หนังสือ", "เปิด", "ถึง", "สาม", "ทุ่ม"]),
    "lo": ("", ["ຫ້ອງສະໝຸດ", "ເມືອງ", "ຈະ", "ເປີດ", "ທຸກ", "ວັນ", "ອາທິດ", "ຕັ້ງແຕ່", "ເດືອນ",
                "ໜ້າ", "ເປັນຕົ້ນໄປ"]),
    "km": ("", ["បណ្ណាល័យ", "ក្រុង", "នឹង", "បើក", "រៀងរាល់", "ថ្ងៃ", "អាទិត្យ", "ចាប់ពី",
                "ខែ", "ក្រោយ", "។"]),
    "my": ("", ["မြို့", "စာကြည့်တိုက်", "သည်", "လာမည့်", "လ", "မှ", "စ", "၍", "တနင်္ဂနွေ",
                "နေ့", "တိုင်း", "ဖွင့်", "မည်", "။"]),
    "ko": (" ", ["시립", "도서관은", "다음", "달부터", "일요일에도", "문을", "열고", "열람실은",
                 "밤", "아홉", "시까지", "운영합니다."]),
}
PUNCTUATION = {"，", "。", "、", "។", "။", "၍"}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_count_is_close_to_the_true_word_count(language: str) -> None:
    joiner, words = SENTENCES[language]
    true_count = len([w for w in words if w not in PUNCTUATION])
    counted = count_words(joiner.join(words))
    assert abs(counted - true_count) <= 0.25 * true_count, (language, counted, true_count)


@pytest.mark.parametrize("language", ["zh", "ja", "th", "lo", "km", "my"])
def test_scripts_without_spaces_are_not_counted_as_one_word_per_run(language: str) -> None:
    _, words = SENTENCES[language]
    text = "".join(words)
    assert len(text.split()) == 1  # what the old count saw: one "word" per sentence
    assert count_words(text) >= 6


def test_space_delimited_text_counts_as_before() -> None:
    text = "The council met on Tuesday; 12 members voted, and the motion passed."
    assert count_words(text) == 12
    assert count_words("Совет собрался во вторник и принял решение.") == 7
    assert count_words("") == 0 and count_words(None) == 0


def test_mixed_script_text_adds_each_script_by_its_rule() -> None:
    english = "The marathon starts at nine"  # 5 words
    japanese = "".join(SENTENCES["ja"][1])
    thai = "".join(SENTENCES["th"][1])
    mixed = f"{english} {japanese} {thai} 2026"
    units = script_units(mixed)
    assert units["spaced"] == 6  # the five English words and the year
    assert units["cjk"] > 0 and units["thai_lao"] > 0 and units["khmer_myanmar"] == 0
    assert count_words(mixed) == round(6 + units["cjk"] + units["thai_lao"])
    assert count_words(mixed) == pytest.approx(
        6 + count_words(japanese) + count_words(thai), abs=1)


def test_a_long_article_in_each_script_clears_the_default_minimum() -> None:
    # Twelve sentences is a short news item; 50 is the default min_words.
    for language in ("zh", "ja", "th", "lo", "km", "my"):
        _, words = SENTENCES[language]
        assert count_words("".join(words) * 12) >= 50, language
