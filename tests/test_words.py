"""Word lists as data (rag.core.text.words) and blanking matches (rag.core.text.mask)."""

from __future__ import annotations

import re

import pytest

from rag.core.text.mask import blank
from rag.core.text.words import (
    CN_NONZERO_NUMERALS,
    CN_NUMERALS,
    MEASURE_WORDS,
    MEASURE_WORDS_AMOUNT,
    MEASURE_WORDS_JUDGE,
    MONTH_ABBREVIATIONS,
    MONTHS,
)

pytestmark = pytest.mark.unit


def test_months_full_names_and_abbreviations() -> None:
    assert MONTHS["september"] == MONTHS["sept"] == MONTHS["sep"] == 9
    assert MONTH_ABBREVIATIONS.split("|") == [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
    ]  # fmt: skip


def test_numerals_and_the_measure_word_variants() -> None:
    assert CN_NUMERALS == "零〇" + CN_NONZERO_NUMERALS
    assert set(MEASURE_WORDS_JUDGE) < set(MEASURE_WORDS)
    assert set(MEASURE_WORDS) - set(MEASURE_WORDS_JUDGE) == set("强期万亿%")
    assert set(MEASURE_WORDS_AMOUNT) < set(MEASURE_WORDS)
    assert not set(MEASURE_WORDS_AMOUNT) & set("年月日天")  # a date is not an amount
    for words in (MEASURE_WORDS, MEASURE_WORDS_JUDGE, MEASURE_WORDS_AMOUNT):
        assert len(set(words)) == len(words)  # no repeats


def test_blank_keeps_offsets() -> None:
    text = "营收增长34%，达到12亿"
    masked = blank(re.compile(r"\d+%"), text)
    assert masked == "营收增长   ，达到12亿" and len(masked) == len(text)
    assert blank(re.compile("x"), "") == ""
