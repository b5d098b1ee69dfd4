"""Sentence evidence (constraints, answer type, value gap, corroboration, relative years),
and the rule-based refusal policy that used them before the learned answerer: it is kept
as the benchmark baseline (eval/baseline_rules.py), and these tests keep it faithful."""

from __future__ import annotations

import dataclasses

import pytest

from eval.baseline_rules import should_refuse
from rag.analysis.query import analyze, extract_facts
from rag.core.text.fold import fold
from rag.core.types import Hit
from tests.shared_data import need

pytestmark = pytest.mark.unit


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(chunk_id=f"c{i}", doc_id=f"d{i}", text=t, title="", end=len(t))
        for i, t in enumerate(texts)
    ]


BRIDGE = hits(
    "2023年，星海跨海大桥完成主体结构施工，全长约十二公里，总投资达到185亿元。",
    "星海跨海大桥于2024年5月20日通车，首日通行车辆超过3万辆次。",
    "星海市交通局表示，2024年大桥日均车流量为2.6万辆次。",
)


def test_answers_when_year_and_type_match() -> None:
    # Three documents: the date must be repeated by a second one (see the tests of
    # corroboration below); a two-document store answers from one.
    again = dataclasses.replace(hits("据报道，星海跨海大桥5月20日正式通车。")[0], doc_id="d9")
    refuse, reason = should_refuse(analyze("星海跨海大桥什么时候通车？"), [*BRIDGE, again])
    assert not refuse, reason
    refuse, reason = should_refuse(analyze("星海跨海大桥什么时候通车？"), BRIDGE[:2])
    assert not refuse, reason


def test_refuses_when_asked_year_is_absent() -> None:
    refuse, reason = should_refuse(analyze("2022年星海跨海大桥日均车流量是多少？"), BRIDGE)
    assert refuse and "2022" in reason


def test_refuses_when_no_number_answers_a_how_many() -> None:
    texts = hits("星海跨海大桥的设计者表示，大桥外形灵感来自海鸥展翅。", "大桥夜景吸引了大量游客。")
    refuse, reason = should_refuse(analyze("星海跨海大桥有多少条车道？"), texts)
    assert refuse and "number" in reason


def test_refuses_when_asked_number_is_absent() -> None:
    refuse, _ = should_refuse(analyze("星海跨海大桥第3期工程何时开工？"), BRIDGE)
    assert refuse


def test_refuses_without_a_date_for_when() -> None:
    texts = hits("星海跨海大桥通车仪式隆重举行，市长出席并致辞。", "大桥通车后两岸往来更加便利。")
    refuse, _ = should_refuse(analyze("星海跨海大桥什么时候通车？"), texts)
    assert refuse


def test_refuses_english_question_without_overlap() -> None:
    refuse, _ = should_refuse(analyze("Who is the mayor of Xinghai?"), BRIDGE)
    assert refuse


def test_latin_code_must_match_whole() -> None:
    texts = hits("輝達H200晶片於2025年12月獲准出口，售價未公布。")
    refuse, reason = should_refuse(analyze("H20晶片何時獲准出口？"), texts)
    assert refuse and "h20" in reason


def test_rgb_sample_floors() -> None:
    from eval.bench_answer import run
    from eval.data import load_rgb

    # 100 questions, both stores built from their passages
    rows = load_rgb(need("data", "rgb-zh", "zh_refine.json"))[::3]
    result = run(print_fn=lambda *a: None, rows=rows)
    assert result["accuracy"] >= ACCURACY_FLOOR
    assert result["false_refusal_rate"] <= FALSE_REFUSAL_CEILING
    assert result["correct_refusal_rate"] >= CORRECT_REFUSAL_FLOOR


# The product's (learned) answerer on this sample over plain BM25 top 5 (weaker
# candidates than the product's retrieval): accuracy 0.84, false refusals 0.10, correct
# refusals 0.44 since the refit on the question-word context and all-passage features
# (2026-12-02; the model before: 0.87 / 0.05 / 0.20; the rules it replaced: 0.84 / 0.11 /
# 0.69). A regression floor only: the sample holds odd RGB questions the answerer was
# fitted on. Its distractor refusals are a known miss (README "Learned answerer").
ACCURACY_FLOOR = 0.8
FALSE_REFUSAL_CEILING = 0.13
CORRECT_REFUSAL_FLOOR = 0.35


def test_long_sentences_are_never_cut_inside_a_number():
    from rag.analysis.evidence import MAX_SENTENCE, candidate_spans

    text = "公告" * ((MAX_SENTENCE - 8) // 2) + "編號2022-03-15-0042之後續說明" + "內容" * 80 + "。"
    for _start, end in candidate_spans(text):
        assert not (text[end - 1 : end].isdigit() and text[end : end + 1].isdigit())
        assert not (text[end - 1 : end] == "-" or text[end : end + 1] == "-")


def _docs(*texts: str) -> list[Hit]:
    """Hits from distinct documents (corroboration only counts other documents)."""
    return [
        Hit(chunk_id=f"x{i}:v:0", doc_id=f"x{i}", text=t, title="", end=len(t))
        for i, t in enumerate(texts)
    ]


_TOPICAL = (
    "星海市今年旅游收入保持增长，游客满意度较高。",
    "星海市文旅局介绍了夏季文化节的筹备情况。",
)


_WEAK = "星海文化节筹备会已经召开。夏季活动将于7月18日在滨海公园开幕。"


def test_single_source_value_among_several_documents_is_refused() -> None:
    # A date in one document only, in a sentence that does not itself name what is
    # asked about, among several retrieved documents: the kind of near miss a topical
    # distractor gives. Not enough.
    texts = _docs(_WEAK, *_TOPICAL)
    refuse, reason = should_refuse(analyze("星海文化节什么时候举行？"), texts)
    assert refuse and "confidence" in reason


def test_self_contained_single_source_sentence_is_answered() -> None:
    # One article alone may report a fact: enough when the sentence itself holds every
    # key term (the asked relation too) and every constraint.
    texts = _docs("星海文化节将于7月18日在滨海公园举行。", *_TOPICAL)
    refuse, reason = should_refuse(analyze("星海文化节什么时候举行？"), texts)
    assert not refuse and "single source" in reason


def test_value_repeated_by_another_document_is_answered() -> None:
    texts = _docs(
        _WEAK,
        "据星海日报报道，文化节7月18日开幕。",
        *_TOPICAL,
    )
    refuse, reason = should_refuse(analyze("星海文化节什么时候举行？"), texts)
    assert not refuse and "corroborated" in reason


def test_single_source_answers_when_few_documents_were_retrieved() -> None:
    # One or two documents: nothing could have corroborated, so coverage alone decides.
    texts = _docs("星海文化节将于7月18日在滨海公园举行。")
    refuse, reason = should_refuse(analyze("星海文化节什么时候举行？"), texts)
    assert not refuse, reason


def test_focus_term_in_the_sentence_raises_confidence() -> None:
    from eval.baseline_rules import confidence
    from rag.analysis.evidence import rank_evidence

    info = analyze("《星海谣》的编剧是谁？")
    evidence = rank_evidence(
        info,
        _docs("《星海谣》的编剧林青山接受了采访。", "《星海谣》的主演林青山接受了采访。"),
    )
    by_doc = {e.hit_index: e for e in evidence}
    assert by_doc[0].focus_match == 1.0 and by_doc[1].focus_match < 1.0
    assert confidence(by_doc[0]) > confidence(by_doc[1])


def test_answer_aware_rescoring_prefers_the_passage_that_answers() -> None:
    from rag.retrieval.passage_rank import Candidate, Weights, rescore

    question = "星海文化节的总导演是谁？"
    near_miss = "星海文化节总导演人选备受关注。星海文化节总导演将于近期公布。"
    answer = "星海文化节总导演由张艺谋担任。"
    candidates = [
        Candidate("a:v:0", near_miss, lexical=10.0, dense=0.6),
        Candidate("b:v:0", answer, lexical=7.0, dense=0.4),
    ]

    def idf(tokens: list[str]) -> dict[str, float]:
        return dict.fromkeys(tokens, 1.0)

    plain = rescore(question, candidates, idf, Weights(evidence=0.0, admissible=0.0))
    aware = rescore(question, candidates, idf)
    assert plain[0][0] == "a:v:0"  # lexically closer, no name
    assert aware[0][0] == "b:v:0"


def test_value_far_from_the_question_words_does_not_answer() -> None:
    # "How many" needs a number beside the matched terms, not one anywhere in a long
    # sentence that happens to name the subject.
    from eval.baseline_rules import MAX_VALUE_GAP
    from rag.analysis.evidence import rank_evidence, value_gap

    info = analyze("星海跨海大桥日均车流量是多少？")
    near = "星海跨海大桥日均车流量为2.6万辆次。"
    filler = "，市民普遍认为交通状况明显改善，沿线商户也反映客流增加，" * 2
    far = f"星海跨海大桥日均车流量统计方式调整{filler}新建停车场共有1200个车位。"
    assert value_gap(info, fold(near), extract_facts(fold(near))) == 1  # 车流量|为|2.6
    assert value_gap(info, fold(far), extract_facts(fold(far))) > MAX_VALUE_GAP
    texts = _docs(far, "星海跨海大桥日均车流量统计口径明年调整。", *_TOPICAL)
    refuse, reason = should_refuse(info, texts)
    assert refuse, reason
    evidence = rank_evidence(info, _docs(near, *_TOPICAL))
    assert any(e.value_gap == 1 for e in evidence)
    assert not should_refuse(info, _docs(near, "据报道，大桥日均车流量2.6万辆次。"))[0]


def test_value_repeated_only_off_topic_does_not_corroborate() -> None:
    # Topical distractors share the subject's dates and numbers in sentences about
    # something else; only a sentence that is itself about the question corroborates.
    question = analyze("星海文化节什么时候举行？")
    weak = "星海文化节筹备会已经召开。文化节将于7月18日开幕。"
    off_topic = ("滨海公园7月18日游客众多。", "星海市7月18日将有大雨。")
    refuse, reason = should_refuse(question, _docs(weak, *off_topic, *_TOPICAL))
    assert refuse and "0 other document(s) repeat its value" in reason
    on_topic = ("据星海日报报道，星海文化节7月18日开幕。", "星海文化节定于7月18日开幕。")
    refuse, reason = should_refuse(question, _docs(weak, *on_topic, *_TOPICAL))
    assert not refuse and "corroborated by 2" in reason


def test_this_year_in_a_dated_article_meets_the_year_asked() -> None:
    # 今年 in an article published in 2024 is 2024; in one from 2023 it is not.
    question = analyze("2024年星海文化节什么时候开幕？")
    text = "星海文化节今年7月18日开幕。"
    for published, expected in (("2024-05-02", False), ("2023-05-02", True), (None, True)):
        docs = _docs(text)
        docs[0] = dataclasses.replace(docs[0], published=published)
        refuse, reason = should_refuse(question, docs)
        assert refuse is expected, (published, reason)
    # A search-snippet dateline dates the page too.
    refuse, reason = should_refuse(question, _docs(f"Jul 1, 2024 ... {text}"))
    assert not refuse, reason


def test_a_share_does_not_answer_a_question_about_an_amount() -> None:
    amount = analyze("2021年星海汽车全球销量是多少？")
    share = "2021年，星海汽车在中国市场的销量已占全球销量的近34%。"
    refuse, reason = should_refuse(amount, _docs(share))
    assert refuse and "number answer" in reason, reason
    units = "2021年，星海汽车全球销量为236万辆。"
    assert not should_refuse(amount, _docs(units))[0]
    # A question about a share or a change is answered by one.
    growth = analyze("2021年星海汽车全球销量增长了多少？")
    assert not should_refuse(growth, _docs("2021年，星海汽车全球销量增长了12%。"))[0]


def test_a_bare_day_far_from_the_question_words_does_not_answer() -> None:
    question = analyze("星海文化节的开幕时间？")
    far = "21日，一名男子在市政府附近举牌，抗议花费巨资举办星海文化节开幕。"
    refuse, reason = should_refuse(question, _docs(far, *_TOPICAL, "星海文化节筹备顺利。"))
    assert refuse, reason
    near = "星海文化节21日开幕，市民踊跃参加。"
    assert not should_refuse(question, _docs(near, *_TOPICAL, "星海文化节筹备顺利。"))[0]


def test_a_year_or_date_beside_the_terms_is_not_the_number_asked() -> None:
    from eval.baseline_rules import MAX_VALUE_GAP
    from rag.analysis.evidence import value_gap

    info = analyze("2021年星海汽车全球销量是多少？")
    filler = "，市民普遍认为交通状况明显改善，沿线商户也反映客流增加" * 2
    sentence = fold(f"2021年7月18日星海汽车全球销量统计口径调整{filler}，新建停车场共1200个车位。")
    assert value_gap(info, sentence, extract_facts(sentence)) > MAX_VALUE_GAP


def test_a_change_is_answered_by_a_percentage() -> None:
    question = analyze("2021年星海汽车销量同比增加多少？")
    assert not should_refuse(question, _docs("2021年，星海汽车销量同比增加12%。"))[0]


def test_day_words_are_located_as_dates() -> None:
    from rag.analysis.evidence import value_gap

    info = analyze("星海文化节什么时候开幕？")
    sentence = fold("星海文化节预计周三开幕。")
    assert value_gap(info, sentence, extract_facts(sentence)) == 0


def test_relative_years_need_the_whole_word() -> None:
    from rag.analysis.evidence import with_relative_years
    from rag.analysis.query import Facts

    assert with_relative_years(Facts(), "去年营收下降", 2024).years == {2023}
    assert with_relative_years(Facts(), "过去年均增长百分之五", 2024).years == frozenset()
    assert with_relative_years(Facts(), "五年前年收入不足十万", 2024).years == frozenset()
