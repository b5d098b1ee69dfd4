"""Question analysis: language, answer type, key terms and hard constraints."""

from __future__ import annotations

import pytest

from rag.analysis.query import (
    analyze,
    cn_to_int,
    extract_facts,
    latin_in,
    load_tagger,
    tagged_words,
)
from rag.core.text.dates import Date
from rag.core.text.fold import fold
from rag.core.text.lang import detect_lang, refusal_phrase
from rag.core.types import REFUSAL_EN, REFUSAL_ZH_HANS, REFUSAL_ZH_HANT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("星海市的新橋何時通車？", "zh-Hant"),
        ("星海市的新桥何时通车？", "zh-Hans"),
        ("When will the new bridge in Xinghai open?", "en"),
        ("H20晶片的價格是多少", "zh-Hant"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_refusal_phrases() -> None:
    assert refusal_phrase("zh-Hant") == REFUSAL_ZH_HANT
    assert refusal_phrase("zh-Hans") == REFUSAL_ZH_HANS
    assert refusal_phrase("en") == REFUSAL_EN


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("星海大桥什么时候通车？", "date"),
        ("星海大橋什麼時候通車？", "date"),
        ("星海大桥是哪一年建成的？", "year"),
        ("星海大桥花了多少钱？", "number"),
        ("星海大橋的總設計師是誰？", "person"),
        ("星海大桥位于哪里？", "place"),
        ("星海大桥为什么延期？", "reason"),
        ("哪家公司承建了星海大桥？", "org"),
        ("星海大桥通车用了多久？", "number"),
        ("When did the Xinghai bridge open?", "date"),
        ("How many lanes does the bridge have?", "number"),
        ("Who designed the bridge?", "person"),
        ("星海大桥的特点", "other"),
    ],
)
def test_answer_type(question: str, kind: str) -> None:
    assert analyze(question).answer_type == kind


def test_terms_and_constraints() -> None:
    info = analyze("2024年星海大橋的《海風》紀錄片由誰拍攝？")
    assert info.lang == "zh-Hant"
    assert info.folded.startswith("2024年星海大桥")
    assert "星海" in "".join(info.terms) and "谁" not in info.terms
    assert 2024 in info.facts.years
    assert "海风" in info.facts.quoted  # folded to Simplified
    assert "2024" in info.constraints


def test_latin_codes_are_names_not_numbers() -> None:
    info = analyze("輝達H20晶片何時恢復出貨？")
    assert "h20" in info.facts.latin
    assert "20" not in info.facts.numbers
    assert latin_in("h20", "辉达h20芯片") and not latin_in("h20", "辉达h200芯片")


def test_english_month_names_become_dates() -> None:
    info = analyze("What happened to the bridge on July 31, 2025?")
    assert Date(2025, 7, 31) in info.facts.dates


def test_extract_facts() -> None:
    facts = extract_facts("2025年7月31日，共有12人受伤、十六人获救，成本增长8.1%，共1,250.50亿元。")
    assert Date(2025, 7, 31) in facts.dates
    assert {"12", "16", "8.1", "125050000000"} <= facts.numbers  # 1,250.50亿 by value
    assert 2025 in facts.years
    assert cn_to_int("二十三") == 23 and cn_to_int("两千") == 2000


@pytest.mark.parametrize(
    ("text", "years", "numbers"),
    [
        ("失業率為百分之五", set(), {"5"}),
        ("增長百分之三點五", set(), {"3.5"}),
        ("預計二〇三〇年完成", {2030}, set()),
        ("二零二二年的營收", {2022}, set()),
        ("投資一兆二千億元", set(), {"1200000000000"}),
        ("共有三千二百人", set(), {"3200"}),
        # The same amount however it is written: by value.
        ("12萬人", set(), {"120000"}),
        ("十二萬人", set(), {"120000"}),
        ("120,000人", set(), {"120000"}),
        ("營收1,200億元", set(), {"120000000000"}),
        ("征兆明顯", set(), set()),  # 兆 alone is not a number
    ],
)
def test_numbers_written_in_chinese_count_as_values(
    text: str, years: set[int], numbers: set[str]
) -> None:
    facts = extract_facts(fold(text))
    assert set(facts.years) == years
    assert set(facts.numbers) == numbers


def test_latin_tokens_match_at_letter_digit_edges_only():
    from rag.analysis.query import latin_in

    assert latin_in("q1", "2023q1营收") and latin_in("plus", "骁龙888plus")
    assert not latin_in("h20", "h200晶片") and not latin_in("h2", "h20")


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("《星海谣》的编剧是谁？", ["编剧"]),  # question word last: the term before it
        ("谁是星海号飞船的船长？", ["船长"]),  # question word first: the last term
        ("星河科技是谁创立的？", ["创立"]),  # inside: the term after it
        ("2024年星海杯男单冠军", ["冠军"]),  # no question word: the last term
    ],
)
def test_focus_terms(question: str, focus: list[str]) -> None:
    assert analyze(question).focus == focus


def _jieba_viterbi():  # type: ignore[no-untyped-def]
    """jieba's own decoder (its module is shadowed by the function of the same name)."""
    import importlib

    return importlib.import_module("jieba.posseg.viterbi").viterbi


def test_numpy_viterbi_decodes_exactly_as_jieba():
    import random

    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P

    from rag.analysis.viterbi import viterbi

    tables = (char_state_tab_P, start_P, trans_P, emit_P)
    listed = sorted(char_state_tab_P)
    unlisted = [chr(c) for c in range(0x4E00, 0x9FA5) if chr(c) not in char_state_tab_P]
    rng = random.Random(11)
    for _ in range(600):
        text = "".join(
            rng.choice(unlisted if rng.random() < 0.2 else listed)
            for _ in range(rng.randint(1, 16))
        )
        assert viterbi(text, *tables) == _jieba_viterbi()(text, *tables), text


def test_tagger_uses_the_numpy_decoder_and_tags_as_jieba():
    import jieba.posseg

    from rag.analysis.viterbi import viterbi

    tagger = load_tagger()
    assert tagger.viterbi is viterbi
    text = "記者林郁婷報導，台積電董事長魏哲家與輝達執行長黃仁勳昨日在新竹會面，談及H20晶片禁令。"
    ours = tagged_words(fold(text))
    try:
        jieba.posseg.viterbi = _jieba_viterbi()
        tagged_words.cache_clear()
        theirs = tagged_words(fold(text))
    finally:
        jieba.posseg.viterbi = viterbi
        tagged_words.cache_clear()
    assert ours == theirs
    # A name jieba's dictionary lacks: the HMM (the decoder) found and tagged it.
    assert ("林郁婷", "nr") in [(word, tag) for _, _, word, tag in ours]
    assert "林郁婷" not in jieba.dt.FREQ
