"""Reciprocal rank fusion and the second-stage rescoring."""

from __future__ import annotations

import pytest

from rag.retrieval.fusion import min_max, rrf
from rag.retrieval.passage_rank import Candidate, query_tokens, rescore, windows

pytestmark = pytest.mark.unit


def test_rrf_scores_and_order() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert [i for i, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_ties_keep_first_seen_order() -> None:
    fused = rrf([["a", "b"], ["b", "a"]], k=0)
    assert [i for i, _ in fused] == ["a", "b"]
    assert fused[0][1] == fused[1][1]


def test_rrf_weights_and_duplicates() -> None:
    fused = rrf([["a", "b"], ["b", "a"]], k=0, weights=[1.0, 3.0])
    assert [i for i, _ in fused] == ["b", "a"]
    once = rrf([["a", "a", "b"]], k=0)
    assert dict(once) == {"a": 1.0, "b": 1 / 3}
    with pytest.raises(ValueError):
        rrf([["a"]], weights=[1.0, 2.0])


def test_rrf_empty_and_min_max() -> None:
    assert rrf([]) == [] and rrf([[], []]) == []
    assert min_max([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert min_max([5.0, 5.0]) == [1.0, 1.0]


def test_query_tokens_drop_question_words() -> None:
    tokens = query_tokens("2021年中國經濟增長了多少？")
    assert "增长" in tokens and "2021" in tokens
    assert not any("多" in t or "少" in t for t in tokens)


def test_windows_split_at_sentences_and_ellipses() -> None:
    assert windows("一。二。三", size=2) == ["一。二。", "二。三"]
    assert windows("甲 ... 乙", size=1) == ["甲。", "乙"]


def _idf(tokens: list[str]) -> dict[str, float]:
    return {t: 1.0 for t in tokens}


def test_rescore_prefers_asked_year_and_answer_type() -> None:
    cands = [
        Candidate("wrong-year", "2023年中国电影总票房为549亿元。", lexical=1.0, dense=0.5),
        Candidate("no-number", "2021年中国电影总票房创下新高。", lexical=1.0, dense=0.5),
        Candidate("right", "2021年中国电影总票房为472.58亿元。", lexical=0.9, dense=0.5),
    ]
    ranked = rescore("2021年中国电影总票房是多少？", cands, _idf)
    assert [i for i, _ in ranked] == ["right", "no-number", "wrong-year"]


def test_rescore_date_question_wants_a_date() -> None:
    cands = [
        Candidate("vague", "冬奥会开幕式即将举行，北京冬奥会开幕令人期待。", lexical=1.0),
        Candidate("dated", "北京冬奥会将于2月4日开幕。", lexical=0.8),
    ]
    ranked = rescore("北京冬奥会什么时候开幕", cands, _idf)
    assert ranked[0][0] == "dated"
    assert rescore("任何问题", [], _idf) == []
