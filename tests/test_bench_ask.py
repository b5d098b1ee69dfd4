"""eval/bench_ask.py on a tiny synthetic RGB-like set: the real ingest -> store -> ask path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import bench_ask, data
from eval.bench_ask import (
    bench_rgb,
    copied_records,
    halves,
    passage_key,
    positive_keys,
    summary_rows,
)
from eval.data import RgbPassages, write_jsonl
from eval.metrics import hit_rate

pytestmark = pytest.mark.integration

# Invented facts (no corpus text): one positive each; q3's negative is q1's positive.
ROWS = [
    {
        "query": "星河公司在哪一年成立？",
        "answer": ["2019年"],
        "positive": ["星河公司成立于2019年，总部位于杭州，主要生产家用机器人。"],
        "negative": ["月光公司成立于2015年，总部位于上海，主要销售咖啡机。"],
    },
    {
        "query": "青松市新图书馆的藏书有多少册？",
        "answer": ["120万册"],
        "positive": ["青松市新图书馆上月正式开放，馆内藏书120万册，设有儿童阅览区。"],
        "negative": ["青松市新体育馆可容纳两万名观众，将举办明年的省运会。"],
    },
    {
        "query": "蓝湖大桥全长多少米？",
        "answer": [["1800米", "1.8公里"]],
        "positive": ["蓝湖大桥全长1800米，由三家企业联合承建，预计明年通车。"],
        "negative": [
            "星河公司成立于2019年，总部位于杭州，主要生产家用机器人。",
            "月光公司成立于2015年，总部位于上海，主要销售咖啡机。",  # a repeat
        ],
    },
]


def test_rgb_passages_dedupe_and_keep_distractors_apart() -> None:
    rgb = RgbPassages.from_rows(ROWS)
    assert len(rgb.texts) == 5  # 3 positives + 2 distinct negatives
    assert len(rgb.negatives) == 3  # q1's positive is q3's negative ...
    assert len(rgb.distractors()) == 2  # ... so not a distractor
    assert positive_keys(rgb)[0] == {passage_key(ROWS[0]["positive"][0])}


def test_halves_split_odd_and_even_questions() -> None:
    assert halves([True, False, False, False, True]) == {"odd": 0.0, "even": 2 / 3}


def test_recall_and_copies(tmp_path: Path) -> None:
    assert hit_rate([["a", "b"], ["c", "d"]], [{"b"}, {"x"}], 1) == 0.0
    assert hit_rate([["a", "b"], ["c", "d"]], [{"b"}, {"x"}], 2) == 0.5
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [{"id": "a", "text": "正文"}])
    copies = list(copied_records(src, 3))
    assert [c["id"] for c in copies] == ["a", "a-copy1", "a-copy2"]
    assert len({c["text"] for c in copies}) == 3


def test_bench_rgb_end_to_end(tmp_path: Path) -> None:
    lines: list[str] = []
    out = bench_rgb(ROWS, tmp_path, lines.append)
    assert out["passages"] == 5 and out["store"]["documents"] == 5
    assert out["ours"]["recall@5"] == 1.0
    assert out["ours"]["accuracy"] == 1.0  # each question quotes its own passage
    assert out["batch"]["questions"] == 3
    assert out["langchain"]["store"]["chunks"] == 5
    # No answers are left to find in the distractor store; the rate counts the refusals.
    # (The learned answerer answers the library question from the stadium passage's 两万
    # 名 观众: the distractor weakness README "Learned answerer" reports.)
    distractors = out["distractors"]
    answered = {e["question"] for e in distractors["answered_examples"]}
    assert distractors["correct_refusal_rate"] == pytest.approx(1 - len(answered) / 3)
    assert distractors["correct_refusal_halves"] == {
        "odd": float(ROWS[1]["query"] not in answered),
        "even": (2 - len(answered - {ROWS[1]["query"]})) / 2,
    }
    assert ROWS[0]["query"] not in answered  # no passage holds 星河 with a year: refused
    # Pinned: today exactly the library question is answered. A fix of the weakness, or
    # a further slide, fails here and is seen.
    assert answered == {ROWS[1]["query"]}
    assert any("odd-numbered" in line for line in lines)
    assert any("recall@1" in line for line in lines)
    rows = summary_rows({"rgb": out, "scale": {}})
    assert rows[0][:4] == ("RGB recall@1", "1.000", ">= 0.80", "PASS")
    json.dumps(out)  # what run() writes must serialise


def test_run_skips_without_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(data, "RGB_REFINE", tmp_path / "absent" / "zh_refine.json")
    lines: list[str] = []
    assert bench_ask.run(lines.append) == {}
    assert "skipped" in lines[0]
