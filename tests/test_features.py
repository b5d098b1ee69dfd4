"""The learned answerer's features on constructed cases: the question word's context
matched around an answer, and the key terms checked against every passage at once."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rag.analysis.evidence import rank_evidence
from rag.analysis.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    question_vector,
    sentence_matrix,
    slot_match,
)
from rag.analysis.query import analyze, question_slot
from rag.core.types import Hit

pytestmark = pytest.mark.unit


def test_question_slot_takes_the_words_around_the_question_word() -> None:
    # At most six characters each side (rag.analysis.query.SLOT_CONTEXT).
    assert question_slot(analyze("2023年世界人工智能大會在哪舉辦？").folded) == (
        "工智能大会在",
        "举办",
    )
    assert question_slot(analyze("西晉於何年正式滅亡?").folded) == ("西晋于", "正式灭亡")
    assert question_slot(analyze("北京為何勸阻採購H20").folded) == (
        "北京",
        "劝阻采购h2",
    )
    assert question_slot(analyze("H20 出口管制").folded) is None


def test_slot_match_finds_the_answer_between_the_question_words() -> None:
    slot = question_slot(analyze("2023年世界人工智能大會在哪舉辦？").folded)
    assert slot_match(slot, "2023世界人工智能大会在上海举办") == (1.0, 1.0, 1.0)
    # Same topic, not the asked relation: neither side's words.
    assert slot_match(slot, "2023世界人工智能大会是东浩兰生承办的第五年") == (0.0, 0.0, 0.0)
    # Both sides present but far apart: no room-for-an-answer fit.
    far = "大会在" + "某" * 40 + "举办"
    left, right, fit = slot_match(slot, far)
    assert left == pytest.approx(0.5) and right == 1.0 and fit == 0.0
    assert all(math.isnan(v) for v in slot_match(None, "任何句子"))


def _hit(k: int, title: str, text: str) -> Hit:
    return Hit(f"c{k}", f"d{k}", text, title, end=len(text), score=1.0 - 0.1 * k)


def _vector(question: str, hits: list[Hit], score_of=None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """QUESTION_FEATURES by name; sentence scores from ``score_of(doc_id)`` when given,
    else falling in evidence order (standing in for the fitted scorer)."""
    info = analyze(question)
    evidence = rank_evidence(info, hits)
    rows = sentence_matrix(info, evidence, hits)
    assert rows.shape == (len(evidence), len(SENTENCE_FEATURES))
    if score_of is None:
        scores = np.linspace(0.9, 0.1, len(evidence))
    else:
        scores = np.array([score_of(hits[e.hit_index].doc_id) for e in evidence])
    vector = question_vector(info, evidence, hits, rows, scores)
    return dict(zip(QUESTION_FEATURES, vector, strict=True))


def test_a_term_no_passage_holds_is_seen_across_all_passages() -> None:
    hits = [
        _hit(0, "雲溪橋", "雲溪橋建於1902年，由陳子明設計。"),
        _hit(1, "星河塔", "星河塔位於北港，是當地最大的觀景台。"),
    ]
    held = _vector("雲溪橋由誰設計？", hits)
    lacking = _vector("青山館由誰設計？", hits)  # 青山館 is in no passage
    assert held["hits_missing_weight"] == 0.0
    assert lacking["hits_missing_weight"] > 0.3
    assert held["hits_coverage"] > lacking["hits_coverage"]
    assert held["hits_bigram_share"] > lacking["hits_bigram_share"]


def test_the_best_sentences_lead_over_other_documents() -> None:
    hits = [
        _hit(0, "雲溪橋", "雲溪橋建於1902年，由陳子明設計。"),
        _hit(1, "星河塔", "星河塔位於北港，是當地最大的觀景台。"),
    ]
    alone = _vector("雲溪橋由誰設計？", hits, {"d0": 0.9, "d1": 0.3}.get)
    assert alone["other_doc_gap"] == pytest.approx(0.6)
    assert alone["docs_near_best"] == 1  # 0.3 is below half of 0.9
    rival = _vector("雲溪橋由誰設計？", hits, {"d0": 0.9, "d1": 0.5}.get)
    assert rival["other_doc_gap"] == pytest.approx(0.4)
    assert rival["docs_near_best"] == 2


def test_years_check_refuses_when_no_passage_holds_the_asked_year() -> None:
    from dataclasses import replace

    from rag.answer.model import load_model
    from rag.answer.policy import decide, years_missing

    hits = [_hit(0, "出口管制", "美國商務部在2025年4月要求輝達出口H20須申請許可證。")]
    asked_2023 = analyze("美國商務部在2023年對H20採取了什麼措施？")
    asked_2025 = analyze("美國商務部在2025年對H20採取了什麼措施？")
    assert years_missing(asked_2023, rank_evidence(asked_2023, hits)) == ["2023"]
    assert years_missing(asked_2025, rank_evidence(asked_2025, hits)) == []
    # Relative years count: 今年 in a page dated 2023 is 2023.
    dated = [
        replace(hits[0], text="美國商務部今年要求輝達出口H20須申請許可證。", published="2023-05-01")
    ]
    assert years_missing(asked_2023, rank_evidence(asked_2023, dated)) == []
    model = replace(load_model(), refuse_without_years=True, refuse_without_constraints=False)
    decision = decide(asked_2023, rank_evidence(asked_2023, hits), hits, model)
    assert decision.refuse and "2023" in decision.reason
