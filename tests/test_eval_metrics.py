"""Metrics and the eval set format, on hand-made examples."""

from __future__ import annotations

import json
import math

import pytest

from eval import metrics as m
from eval.sets_io import SetFormatError, as_alternatives, load_set
from rag.core.types import Hit

pytestmark = pytest.mark.unit


def hit(doc: str, text: str) -> Hit:
    return Hit(chunk_id=f"{doc}:0", doc_id=doc, text=text, title="")


HITS = [
    hit("d1", "星河市今天天气晴朗。"),
    hit("d2", "滨江大桥将在5月20日通车。"),
    hit("d3", "藍灣科技營收增長17.5%。"),
]


def test_evidence_ranks_by_phrase_id_and_script() -> None:
    ranks = m.evidence_ranks([["滨江大桥"], ["d3"], ["蓝湾科技"], ["地铁"]], HITS)
    assert ranks == [2, 3, 3, None]  # phrase, doc id, Simplified phrase vs Traditional text


def test_hit_recall_mrr() -> None:
    ranks = [2, None]
    assert m.hit_at_k(ranks, 1) == 0.0
    assert m.hit_at_k(ranks, 2) == 1.0
    assert m.recall_at_k(ranks, 5) == 0.5
    assert m.recall_at_k([], 5) == 0.0
    assert m.reciprocal_rank(ranks) == 0.5
    assert m.reciprocal_rank([None]) == 0.0


def test_fact_recall_and_rgb_rule() -> None:
    facts = [["5月20日"], ["林曉東", "林晓东"]]
    assert m.fact_recall(facts, "大桥5月20日通车") == 0.5
    assert m.answer_correct(facts, "林晓东说大桥5月20日通车", refused=False)
    assert not m.answer_correct(facts, "林晓东说大桥5月20日通车", refused=True)
    assert not m.answer_correct(facts, "大桥5月20日通车", refused=False)
    # fold(): Traditional answer text matches a Simplified fact, full-width digits too.
    assert m.answer_correct([["营收"], ["17.5%"]], "營收增長１７.５%", refused=False)


def v(supported: bool, cited: tuple[int, ...], citation_ok: bool, precise=()) -> m.SentenceVerdict:
    return m.SentenceVerdict("s", cited, supported, "", citation_ok, tuple(precise))


def test_faithfulness_and_alce_citation_scores() -> None:
    verdicts = [
        v(True, (1,), True, [True]),
        v(True, (), False),  # supported by the contexts but cites nothing
        v(False, (2, 3), False, [False, False]),
    ]
    assert m.faithfulness(verdicts) == pytest.approx(2 / 3)
    assert m.citation_recall(verdicts) == pytest.approx(1 / 3)
    assert m.citation_precision(verdicts) == pytest.approx(1 / 3)
    assert m.faithfulness([]) is None
    assert m.citation_precision([v(True, (), False)]) is None


def test_alce_precision_conditions() -> None:
    # [1] supports alone; [2] does not, and [1] suffices without it: [2] is irrelevant.
    assert m.alce_precision(True, [True, False], [None, True]) == (True, False)
    # neither alone, each needed by the other: both precise.
    assert m.alce_precision(True, [False, False], [False, False]) == (True, True)
    # the joint check fails: no citation is precise.
    assert m.alce_precision(False, [False], [None]) == (False,)


def test_refusal_rates() -> None:
    rates = m.refusal_rates([True, True, False, False], [False, True, True, False])
    assert rates == {
        "correct_refusal_rate": 0.5,
        "false_refusal_rate": 0.5,
        "refusal_accuracy": 0.5,
    }
    assert m.refusal_rates([True], [False])["correct_refusal_rate"] is None


def test_counterfactual_outcomes() -> None:
    true, fake = [["1850米"]], [["2000米"]]
    assert m.counterfactual_outcome("全长2000米", False, true, fake) == "fake"
    assert m.counterfactual_outcome("全长1850米", False, true, fake) == "true"
    assert m.counterfactual_outcome("一说1850米，一说2000米", False, true, fake) == "flagged"
    assert m.counterfactual_outcome("各來源說法不一致", False, true, fake) == "flagged"
    assert m.counterfactual_outcome("文章中没有", True, true, fake) == "refused"
    assert m.conflict_in_contexts(["全长1850米", "全长2000米"], true, fake)
    assert not m.conflict_in_contexts(["全长2000米"], true, fake)


def test_percentile() -> None:
    assert m.percentile([], 50) is None
    assert m.percentile([10.0], 95) == 10.0
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert m.percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def test_cluster_interval_widens_when_failures_share_a_cluster() -> None:
    clusters = [k for k in range(20) for _ in range(5)]  # 20 articles of 5 questions
    spread = [k % 5 == 0 for k in range(100)]  # one failure in each article
    lumped = [k < 20 for k in range(100)]  # all 20 failures in four articles
    low, high = m.cluster_interval(spread, clusters)
    assert low == high == 0.2  # every resample has the same share
    low, high = m.cluster_interval(lumped, clusters)
    assert low < 0.15 and high > 0.25  # the same 0.2, far less sure
    assert m.cluster_interval(lumped, clusters) == (low, high)  # seeded: the same again
    assert all(math.isnan(v) for v in m.cluster_interval([], []))


def test_alternatives_shapes() -> None:
    assert as_alternatives("x") == [["x"]]
    assert as_alternatives(["a", ["b", "b2"]]) == [["a"], ["b", "b2"]]
    assert as_alternatives(None) == []
    with pytest.raises(SetFormatError):
        as_alternatives({"a": 1})


def test_load_set_keeps_free_fields_and_names_bad_line(tmp_path) -> None:
    good = tmp_path / "s.jsonl"
    good.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "大桥哪天通车？",
                "facts": [["5月20日"]],
                "lang": "zh-Hans",
                "answerable": True,
            },
            ensure_ascii=False,
        )
        + "\n\n"
        + json.dumps({"question": "地铁票价？", "answerable": False}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    items = load_set(good)
    assert [i.id for i in items] == ["q1", "s-3"]
    assert items[0].extra == {"lang": "zh-Hans"} and items[0].facts == [["5月20日"]]
    assert items[1].answerable is False
    assert len(load_set(good, limit=1)) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\n{"facts": ["x"]}\n', encoding="utf-8")
    with pytest.raises(SetFormatError, match=r"bad.jsonl:2: missing"):
        load_set(bad)
