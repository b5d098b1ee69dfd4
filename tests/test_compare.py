"""eval.compare: the LangChain adapter, the table, the skip, and a tiny end-to-end run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eval.compare import SYSTEMS, LangChainAssistant, format_table, run

pytestmark = pytest.mark.integration

# Synthetic text (invented): a bridge article, and RGB-shaped rows about it.
ARTICLE = (
    "首頁\n新聞\n\n滨江大桥通车\n\n2025-03-12 09:30\n\n"
    "星河市政府3月12日宣布，新建的滨江大桥将在5月20日正式通车。"
    "大桥全长1850米，总投资约42亿元。市长林晓东表示，大桥不收取通行费。\n\n"
    "分享給朋友：\n"
)
QUESTIONS = [
    {
        "id": "c1",
        "question": "滨江大桥哪天正式通车？",
        "facts": [["5月20日"]],
        "evidence": ["通车"],
    },
    {
        "id": "c2",
        "question": "星河市地铁的票价是多少钱？",
        "answerable": False,
        "kind": "unanswerable",
    },
]
RGB_ROWS = [
    {
        "id": 0,
        "query": "青松湖音乐节在哪一天开幕？",
        "answer": ["6月8日"],
        "positive": ["青松湖音乐节将于6月8日开幕，主办方预计吸引三万名观众。"],
        "negative": ["青松湖景区今年新建了两座停车场，可停放八百辆汽车。"],
    },
    {
        "id": 1,
        "query": "白鹭机场第二跑道有多长？",
        "answer": ["3600米"],
        "positive": ["白鹭机场第二跑道长3600米，将于年底投入使用。"],
        "negative": ["白鹭机场去年旅客吞吐量增长一成，航线增加至九十条。"],
    },
]


@dataclass
class FakeDoc:
    page_content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


class FakeStore:
    """similarity_search returning fixed documents (records the k asked for)."""

    def __init__(self, docs: list[FakeDoc]) -> None:
        self.docs = docs
        self.asked_k: int | None = None

    def similarity_search(self, query: str, k: int = 4) -> list[FakeDoc]:
        self.asked_k = k
        return self.docs[:k]


def test_langchain_assistant_converts_chunks_and_answers() -> None:
    body = ARTICLE.split("\n\n")[3]
    store = FakeStore([FakeDoc(body, {"id": "rgb-3"}, id="uuid-1"), FakeDoc("无关的文字。", {})])
    assistant = LangChainAssistant(store, k=3)  # not the store's default k
    hits = assistant.hits("滨江大桥哪天正式通车？")
    assert store.asked_k == 3
    assert [h.doc_id for h in hits] == ["rgb-3", ""]
    assert hits[0].chunk_id == "uuid-1" and hits[1].chunk_id == "#2"
    assert [h.rank for h in hits] == [1, 2] and hits[0].end == len(body)
    answer = assistant.ask("滨江大桥哪天正式通车？")
    assert not answer.refused and "5月20日" in answer.text and "[1]" in answer.text
    assert answer.mode["retrieval"].endswith("k=3")


def test_format_table_drops_rows_without_values() -> None:
    summary = {"questions": 2, "k": 4, "hit@1": 0.5, "latency_p50_ms": 3.25, "mrr": None}
    sets = {"rgb": {s: {"summary": summary} for s in SYSTEMS}}
    table = format_table(sets)
    assert "rgb/ours" in table and "rgb/LC" in table
    assert "retrieval hit@1" in table and "0.500" in table and "3.2" in table
    assert "MRR" not in table  # None everywhere: no row


def test_skips_without_shared(tmp_path: Path) -> None:
    printed: list[str] = []
    assert run(printed.append, shared=tmp_path / "absent", results=tmp_path / "r.json") == {}
    assert "skipped" in printed[0] and not (tmp_path / "r.json").exists()


def test_end_to_end_on_synthetic_data(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "bridge.txt").write_text(ARTICLE, encoding="utf-8")
    (shared / "data" / "rgb-zh").mkdir(parents=True)
    (shared / "data" / "rgb-zh" / "zh_refine.json").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RGB_ROWS), encoding="utf-8"
    )
    qset = tmp_path / "set.jsonl"
    qset.write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8"
    )
    printed: list[str] = []
    results = tmp_path / "out" / "compare.json"
    out = run(printed.append, shared=shared, sample_set=qset, rgb_limit=1, results=results)
    assert set(out["summary"]) == {"pages", "rgb", "distractors"}
    for systems in out["summary"].values():
        assert set(systems) == set(SYSTEMS)
        assert systems["ours"]["k"] == 5 and systems["langchain"]["k"] == 4
    pages = out["summary"]["pages"]
    assert pages["ours"]["accuracy"] == 1.0
    # The unanswerable-kind refusal rate is the share of those rows refused.
    for system in SYSTEMS:
        rows = [r for r in out["sets"]["pages"][system]["items"] if not r["answerable"]]
        refused = sum(r["refused"] for r in rows) / len(rows)
        assert pages[system]["refusal:unanswerable"] == refused
    # Pinned: ours refuses the fare question since the refit on the question word's
    # context (2026-12-02; before, it quoted the bridge's 42亿元 cost). A slide must be
    # seen here.
    assert pages["ours"]["refusal:unanswerable"] == 1.0
    # rgb_limit=1: the first RGB row only, its 2 passages (both retrieved at k=4).
    rgb = out["summary"]["rgb"]
    assert rgb["ours"]["questions"] == rgb["langchain"]["questions"] == 1
    assert rgb["langchain"]["store_docs"] == 2 and rgb["langchain"]["hit@4"] == 1.0
    assert out["summary"]["distractors"]["ours"]["questions"] == 1
    assert json.loads(results.read_text(encoding="utf-8"))["rgb_limit"] == 1
    assert any("pages/ours" in line for line in printed)
