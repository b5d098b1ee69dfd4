"""The learned answerer's artifact: numpy inference equals scikit-learn's, fitting is
byte-for-byte deterministic, loading imports no scikit-learn, and the shipped artifact
records its features, data and figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.answerer_data import Row
from eval.answerer_fit import dumps, export, fit, prepare
from rag.analysis.features import QUESTION_FEATURES, SENTENCE_FEATURES
from rag.answer.model import AnswererModel, Trees, load_model, read_artifact
from rag.core.types import Hit

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]


def test_numpy_trees_equal_scikit_learn_including_missing_values() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 6))
    X[rng.random(X.shape) < 0.1] = np.nan  # NaN = "not measured", as value_gap uses it
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])) > 0.2
    model = HistGradientBoostingClassifier(
        max_iter=40, max_leaf_nodes=15, early_stopping=False, random_state=0
    ).fit(X, y)
    trees = Trees.from_json(json.loads(json.dumps(export(model))))
    test = rng.normal(size=(500, 6))
    test[rng.random(test.shape) < 0.1] = np.nan
    assert np.abs(trees.proba(test) - model.predict_proba(test)[:, 1]).max() < 1e-12


SENTENCES = [
    "{name}位於{place}，是當地最大的{kind}。",
    "{name}建於{year}年，由{person}設計。",
    "每年約有{n}萬名遊客造訪{name}。",
]
FILL = [
    dict(name="星河塔", place="北港", kind="觀景台", year=1988, person="林之遠", n=12),
    dict(name="雲溪橋", place="南灣", kind="石橋", year=1902, person="陳子明", n=3),
    dict(name="青山館", place="東嶺", kind="博物館", year=1975, person="吳慧", n=45),
    dict(name="海風站", place="西岬", kind="車站", year=2001, person="黃立", n=80),
]


def _rows() -> list[Row]:
    """Made-up questions over made-up passages: answerable when the passage about the
    place is retrieved, unanswerable when only others are."""
    rows = []
    for k, fill in enumerate(FILL * 6):
        text = "".join(s.format(**fill) for s in SENTENCES)
        own = Hit(f"c{k}", f"d{k}", text, fill["name"], end=len(text), score=1.0 - 0.01 * k,
                  dense_score=0.8 - 0.01 * k, lexical_score=9.0 - 0.1 * k)  # fmt: skip
        other_fill = FILL[(k + 1) % len(FILL)]
        other_text = "".join(s.format(**other_fill) for s in SENTENCES)
        other = Hit(f"o{k}", f"e{k}", other_text, other_fill["name"], end=len(other_text),
                    score=0.5, dense_score=0.4 + 0.01 * k, lexical_score=2.0)  # fmt: skip
        question = f"{fill['name']}是誰設計的？"
        split = ("train", "train", "val", "test")[k % 4]
        for answerable, hits in ((True, (own, other)), (False, (other,))):
            rows.append(
                Row(
                    set=("drcd", "cmrc")[k % 2],
                    split=split,
                    qid=f"q{k}",
                    group=f"a{k}",
                    question=question,
                    lang="zh-Hant",
                    facts=[[fill["person"]]],
                    answerable=answerable,
                    store="with" if answerable else "without",
                    hits=hits,
                )
            )
    return rows


def test_same_rows_give_the_same_artifact_bytes() -> None:
    items = [prepare(row) for row in _rows()]
    first = dumps(fit(items, {"note": "test"}, log=lambda *_: None))
    again = dumps(fit([prepare(row) for row in _rows()], {"note": "test"}, log=lambda *_: None))
    assert first == again
    data = json.loads(first)
    assert AnswererModel.from_json(data).threshold == data["threshold"]


def test_an_artifact_fitted_on_other_features_is_refused() -> None:
    data = read_artifact()
    AnswererModel.from_json(data)  # the shipped one matches the code
    swapped = list(data["sentence_features"])
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(ValueError, match="sentence_features differ"):
        AnswererModel.from_json({**data, "sentence_features": swapped})
    with pytest.raises(ValueError, match="question_features differ"):
        AnswererModel.from_json({**data, "question_features": data["question_features"][:-1]})


def test_loading_the_model_imports_no_scikit_learn() -> None:
    code = (
        "import sys; from rag.answer.model import load_model; load_model(); "
        "print(any(m.split('.')[0] in ('sklearn', 'scipy') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_shipped_artifact_records_features_data_and_figures() -> None:
    data = read_artifact()
    model = load_model()
    assert model.sentence_features == SENTENCE_FEATURES  # the order features are built in
    assert model.question_features == QUESTION_FEATURES
    assert set(data["data"]["inputs"]) == {"drcd", "cmrc", "rgb"}
    for files in data["data"]["inputs"].values():
        assert all(len(f["sha256"]) == 64 and f["file"].startswith("../shared/") for f in files)
    test = data["metrics"]["test"]
    assert set(test) == {"drcd", "cmrc", "rgb"}
    assert 0.0 < model.threshold < 1.0
    # The threshold was chosen so validation false refusals stay at or below 5% per set.
    assert all(f["false_refusals"] <= 0.05 for f in data["metrics"]["val"].values())


def test_paragraph_removed_rows_lack_their_paragraph_but_keep_their_article() -> None:
    from eval.answerer_data import FOLDS, _paragraph_rows, bucket
    from eval.data import QA, Paragraph, WikiArticle

    facts = [("台北", "總統府"), ("高雄", "駁二"), ("台南", "赤崁樓"), ("花蓮", "太魯閣"),
             ("台中", "歌劇院"), ("嘉義", "檜意森活村")]  # fmt: skip
    paragraphs = tuple(
        Paragraph(
            pid=f"a:{k}",
            text=f"{city}是台灣的城市。{city}最有名的景點是{sight}，每年吸引許多遊客。",
            questions=(QA(f"q{k}", f"{city}最有名的景點是什麼？", (sight,)),),
        )
        for k, (city, sight) in enumerate(facts)
    )
    article = WikiArticle(aid="a", title="台灣城市", paragraphs=paragraphs)
    rows = list(_paragraph_rows("drcd-para", [article]))
    assert len(rows) == len(facts)  # every question asked once, of the store without it
    by_qid = {p.questions[0].qid: p for p in paragraphs}
    for row in rows:
        own = by_qid[row.qid]
        assert not row.answerable and row.split in ("train", "val", "test")
        assert own.text not in {h.text for h in row.hits}  # its paragraph is gone
        assert not row.answer_in_hits()
        fold = bucket(own.pid, "paragraph", FOLDS)
        kept = {p.text for p in paragraphs if bucket(p.pid, "paragraph", FOLDS) != fold}
        assert kept  # six paragraphs in four folds: some always stay
        assert {h.text for h in row.hits} & kept  # the rest of its article is retrieved


def test_news_rows_keep_a_one_string_answer_whole(tmp_path: Path, monkeypatch) -> None:
    """zh_fact's answer is one string (zh_refine's a list): it is one fact, not one fact
    per character; every row is held out; distractor stores hold no positive."""
    import eval.answerer_data as answerer_data

    facts = [("2019年军运会在哪个城市举办", "武汉"), ("2020赛季中超冠军是谁", "江苏苏宁"),
             ("冰心的原名叫什么", "谢婉莹")]  # fmt: skip
    path = tmp_path / "zh_fact.json"
    lines = [
        {
            "id": k,
            "query": query,
            "answer": answer,
            "fakeanswer": "不对",
            "positive": [f"新闻：{query.rstrip('？')}？答案是{answer}，各方确认。"],
            "positive_wrong": [f"新闻：答案是不对。{k}"],
            "negative": [f"新闻：关于{query[:4]}的其他报道，第{k}篇，没有提到结果。"],
        }
        for k, (query, answer) in enumerate(facts)
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    monkeypatch.setattr(answerer_data, "inputs", lambda name: (path,))
    rows = list(answerer_data.build_rows("rgb-fact"))
    assert len(rows) == 2 * len(facts)
    for row in rows:
        assert row.facts == [[facts[int(row.qid)][1]]] and row.split == "test"
        texts = " ".join(h.text for h in row.hits)
        assert "不对" not in texts  # positive_wrong passages are never stored
        assert row.answer_in_hits() == row.answerable


def test_single_source_rows_are_asked_of_one_positive_per_question(
    tmp_path: Path, monkeypatch
) -> None:
    import eval.answerer_data as answerer_data

    facts = [("北京冬奥会吉祥物叫什么", "冰墩墩"), ("2022年春运什么时候开始", "1月17日")]
    lines = [
        {
            "id": k,
            "query": query,
            "answer": [answer],
            "positive": [f"第一篇：{query}？是{answer}。", f"第二篇：{query}？答案为{answer}。"],
            "negative": [f"关于{query[:4]}的报道，第{k}篇，未提结果。"],
        }
        for k, (query, answer) in enumerate(facts)
    ]
    path = tmp_path / "zh_refine.json"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    monkeypatch.setattr(answerer_data, "inputs", lambda name: (path,))
    rows = list(answerer_data.build_rows(answerer_data.SINGLE_SOURCE))
    assert len(rows) == len(facts)  # one store, each question asked once
    texts = {h.text for row in rows for h in row.hits}
    assert all(row.answerable and row.answer_in_hits() for row in rows)
    assert {t for t in texts if t.startswith("第")} == {x["positive"][0] for x in lines}


def test_sampling_error_brackets_each_held_out_figure() -> None:
    from eval.bench_answerer import sampling_error

    items = [prepare(row) for row in _rows()]
    table = sampling_error(items, load_model(), ("drcd", "cmrc"))
    assert set(table["cmrc"]) == {"accuracy", "false_refusals", "correct_refusals"}
    for value, low, high in table["cmrc"].values():  # the made-up test rows are cmrc's
        assert low <= value <= high
    assert all(np.isnan(v) for v, _, _ in table["drcd"].values())  # no test rows there


def test_a_missed_target_says_whether_its_bar_is_inside_the_interval(capsys) -> None:
    from eval.bench_answerer import print_sampling_error

    print_sampling_error({"rgb": {
        "accuracy": (0.95, 0.90, 1.00),  # met: no line
        "false_refusals": (0.07, 0.04, 0.10),  # missed, 0.05 inside
        "correct_refusals": (0.30, 0.25, 0.35),  # missed, 0.55 outside
    }})  # fmt: skip
    out = capsys.readouterr().out
    assert "false refusals misses 0.05: the bar is inside" in out
    assert "correct refusals misses 0.55: the bar is outside" in out
    assert "accuracy misses" not in out
