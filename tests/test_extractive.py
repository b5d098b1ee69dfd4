"""Extractive answers: verbatim quotes with exact offsets and [n] markers."""

from __future__ import annotations

import pytest

from rag.answer.extractive import answer_extractive
from rag.core.types import REFUSAL_EN, REFUSAL_ZH_HANT, Hit

pytestmark = pytest.mark.unit


def hit(i: int, text: str, doc: str = "") -> Hit:
    return Hit(chunk_id=f"c{i}", doc_id=doc or f"d{i}", text=text, title="", end=len(text))


HANT = [
    # Two chunks of one bridge article, one of another: a single source must do.
    hit(
        1, "星海市政府週二表示，跨海大橋工程進展順利。大橋全長約十二公里，設有六條車道。", "bridge"
    ),
    hit(
        2,
        "根據市府公告，星海跨海大橋將於2025年9月18日正式通車。屆時往返兩岸的時間將縮短至二十分鐘。",
        "bridge",
    ),
    hit(3, "另一方面，港區的貨櫃碼頭擴建案仍在環評階段，預計明年才會動工。"),
]


def test_quotes_are_verbatim_with_offsets_and_markers() -> None:
    answer = answer_extractive("星海跨海大橋什麼時候通車？", HANT)
    assert not answer.refused
    assert answer.mode["llm"] == "extractive (no LLM configured)"
    assert answer.contexts == HANT
    assert answer.citations
    for c in answer.citations:
        source = HANT[c.n - 1]
        assert source.text[c.quote_start : c.quote_end] == c.quote
        assert f"{c.quote}[{c.n}]" in answer.text
        assert c.doc_id == source.doc_id
    assert "2025年9月18日" in answer.text
    assert answer.text.startswith("根據")  # lead-in in the question's script
    assert "通車" in answer.text  # passages keep their own (Traditional) script


def test_simplified_question_over_traditional_passages() -> None:
    answer = answer_extractive("星海跨海大桥有几条车道？", HANT)
    assert not answer.refused
    assert any("六條車道" in c.quote for c in answer.citations)
    assert answer.text.startswith("根据")


def test_refuses_with_phrase_in_question_language() -> None:
    answer = answer_extractive("星海跨海大橋的造價是多少？", HANT[2:])
    assert answer.refused and answer.text == REFUSAL_ZH_HANT
    assert answer.citations == [] and "refusal" in answer.mode
    english = answer_extractive("How much did the Xinghai bridge cost?", HANT)
    assert english.refused and english.text == REFUSAL_EN


def test_max_sentences_and_no_hits() -> None:
    answer = answer_extractive("星海跨海大橋什麼時候通車？", HANT, max_sentences=1)
    assert len(answer.citations) == 1
    assert answer_extractive("星海跨海大橋什麼時候通車？", []).refused


def test_english_passages() -> None:
    hits = [
        hit(1, "The Harbor Authority said the new ferry terminal opened on March 3, 2025. "
               "It cost 410 million dollars."),
        hit(2, "Local shops reported more visitors during the spring festival."),
    ]  # fmt: skip
    answer = answer_extractive("When did the new ferry terminal open?", hits)
    assert not answer.refused
    assert "March 3, 2025" in answer.text and "[1]" in answer.text


def test_passage_footnote_marks_do_not_look_like_citations():
    from rag.answer.extractive import answer_extractive
    from rag.core.types import Hit

    hit = Hit("c1", "d1", "該隊於2019年奪得全國冠軍[3]。隊長表示非常高興。", "體育新聞")
    answer = answer_extractive("該隊哪一年奪得全國冠軍？", [hit])
    assert not answer.refused
    assert "[3]" not in answer.text and "[1]" in answer.text
    assert "[3]" in answer.citations[0].quote  # the citation itself stays verbatim


def test_sources_that_disagree_on_the_value_are_both_quoted_and_flagged():
    from rag.answer.extractive import answer_extractive
    from rag.core.types import Hit

    hits = [
        Hit("a:v:0", "a", "海港大橋於2019年正式通車，全長八公里。", "甲報"),
        Hit("b:v:0", "b", "海港大橋於2021年正式通車，全長八公里。", "乙報"),
    ]
    answer = answer_extractive("海港大橋在哪一年正式通車？", hits)
    assert not answer.refused
    assert "2019" in answer.text and "2021" in answer.text
    assert any("不一致" in w for w in answer.warnings)
    agree = [hits[0], Hit("c:v:0", "c", "海港大橋於2019年正式通車，全長八公里。", "丙報")]
    assert not answer_extractive("海港大橋在哪一年正式通車？", agree).warnings
