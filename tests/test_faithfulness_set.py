"""The labelled faithfulness set's generator (eval.faithfulness_set): the paraphrases it
labels supported keep the meaning, the perturbations it labels unsupported change it,
the halves go by article. Synthetic sentences; the set built from ../shared is tested
in test_faithfulness_set_data.py."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from eval import faithfulness_set as fs
from rag.answer.verify import check_claim
from rag.core.text.fold import fold

pytestmark = pytest.mark.unit

SOURCE = fs.Source(
    "crud",
    "a1",
    "星海公司表示，第三季营收小幅增长，公司并未裁员，并计划明年在南港扩建30000平方米的工厂。",
    "星海公司表示，第三季营收小幅增长，公司并未裁员，并计划明年在南港扩建30000平方米的工厂。",
)


def test_each_unsupported_type_is_made_and_changes_the_sentence() -> None:
    made = fs.perturb(SOURCE, {"person": [], "place": ["北岭"], "org": []}, random.Random(1))
    kinds = {kind for _, kind, _ in made}
    assert {"negation", "modality", "degree", "antonym", "entity", "number"} <= kinds
    for sentence, _, form in made:
        assert sentence != SOURCE.sentence and form


def test_perturbations_are_deterministic_for_a_seed() -> None:
    pools = {"place": ["北岭", "东港"]}
    assert fs.perturb(SOURCE, pools, random.Random(5)) == fs.perturb(
        SOURCE, pools, random.Random(5)
    )


def test_traditional_sentence_is_edited_in_its_own_script() -> None:
    src = fs.Source(
        "pages", "p", "星海公司並未裁員，營收小幅成長。", "星海公司並未裁員，營收小幅成長。"
    )
    for sentence, _, _ in fs.perturb(src, {}, random.Random(2)):
        assert fold(sentence) != fold(src.sentence)
        assert "并" not in sentence and "营" not in sentence  # no Simplified crept in


@pytest.mark.parametrize("make", [fs.reorder, fs.drop_clause, fs.synonym, fs.numbers])
def test_paraphrase_keeps_what_the_sentence_claims(make) -> None:  # type: ignore[no-untyped-def]
    made = make(SOURCE.sentence, random.Random(3))
    assert made and made != SOURCE.sentence
    assert check_claim(made, [SOURCE.passage]).supported, made


def test_numbers_are_rewritten_with_the_same_value() -> None:
    outs = {fs.numbers("工厂面积30000平方米。", random.Random(seed)) for seed in range(12)}
    assert outs <= {"工厂面积3万平方米。", "工厂面积三万平方米。", "工厂面积30,000平方米。"}
    assert len(outs) >= 2
    assert fs.numbers("电话021-22002972。", random.Random(0)) is None  # not a quantity


def test_clauses_are_not_cut_inside_quotes_or_numbers() -> None:
    split = fs._clauses("他说：“好，我们走”，营收150,000元，完毕。")
    assert split is not None
    assert split[0] == ["他说：“好，我们走”", "营收150,000元", "完毕"]
    assert fs._clauses("他说：“好，我们走，") is None  # an open quote: no clause edits


def test_halves_split_by_article_alternately() -> None:
    sources = [fs.Source("crud", f"a{i}", f"句子{i}", "p") for i in range(10) for _ in range(3)]
    halves = fs.halves(sources)
    assert Counter(halves.values()) == {fs.TUNING: 5, fs.HELDOUT: 5}
    assert halves == fs.halves(list(reversed(sources)))  # the order of sentences is no factor
