"""Bigram sets and the overlap measures (rag.core.text.grams), and the word lists they use."""

from __future__ import annotations

import pytest

from rag.core.text.grams import (
    bigrams,
    cjk_bigrams,
    content_words,
    found_in,
    overlap_of_shorter,
    share_in,
    wording_overlap,
)
from rag.core.text.lang import CJK
from rag.core.text.words import EN_CLAIM_STOP, EN_QUESTION_STOP

pytestmark = pytest.mark.unit


def test_bigrams_every_pair_and_cjk_pairs_only_ending_in_han() -> None:
    assert bigrams("大桥ab") == {"大桥", "桥a", "ab"}
    assert bigrams("a") == set()
    # Pairs inside Latin words and numbers, and pairs ending in them, are not wording.
    assert cjk_bigrams("h20芯片出口") == {"0芯", "芯片", "片出", "出口"}
    assert cjk_bigrams("nvidia h20") == set()


def test_cjk_covers_extension_a_and_the_compatibility_block() -> None:
    for ch in ("中", "\u3400", "\u9fa5", "\uf900", "\ufa0e"):
        assert CJK.match(ch), hex(ord(ch))
    for ch in ("a", "1", "。", "\u3041", "\uac00"):  # Latin, digit, punctuation, kana, hangul
        assert not CJK.match(ch), hex(ord(ch))


def test_found_in_and_share_in_count_substrings() -> None:
    grams = bigrams("踩踏事故")  # 踩踏, 踏事, 事故
    assert found_in(grams, "一起踩踏事件") == 2
    assert share_in(grams, "一起踩踏事件") == pytest.approx(2 / 3)
    assert share_in(set(), "anything") == 0.0


def test_overlap_of_shorter_is_symmetric_and_measured_on_the_shorter() -> None:
    short, long = "大桥通车", "跨海大桥今天正式通车了"
    assert overlap_of_shorter(short, long) == overlap_of_shorter(long, short)
    # 大桥, 桥通, 通车: two of the shorter text's three bigrams are in the longer one.
    assert overlap_of_shorter(short, long) == pytest.approx(2 / 3)
    assert overlap_of_shorter("", long) == 0.0 and overlap_of_shorter("a", long) == 0.0


def test_wording_overlap_chinese_bigrams_else_content_words() -> None:
    assert wording_overlap("大桥通车", "跨海大桥正式通车") == pytest.approx(2 / 3)
    # No Chinese: content words, function words left out ("the", "said").
    claim = "the ferry terminal cost 410 million, officials said"
    source = "the harbor authority said the ferry terminal cost 410 million dollars"
    assert content_words(claim) == {"ferry", "terminal", "cost", "410", "million", "officials"}
    assert wording_overlap(claim, source) == pytest.approx(5 / 6)
    assert wording_overlap("the a", "anything") == 1.0  # nothing to compare


def test_claim_stopwords_keep_words_that_carry_meaning() -> None:
    # A claim's "not" or "when" must be matched; a question's need not be.
    for word in ("not", "no", "when"):
        assert word in EN_QUESTION_STOP and word not in EN_CLAIM_STOP
