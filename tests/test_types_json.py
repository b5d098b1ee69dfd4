"""Answer/Citation/Hit.to_json: the one serializer behind `rag ask --json`, the feedback
log and eval rows; each shape pinned key by key, in order."""

from __future__ import annotations

import pytest

from rag.core.types import Answer, Citation, Hit

pytestmark = pytest.mark.unit

HIT = Hit(
    chunk_id="d1:v1:0",
    doc_id="d1",
    text="滨江大桥将在5月20日正式通车。",
    title="滨江大桥通车",
    source="甲報",
    published="2025-03-12",
    url="https://news.example.com/1",
    score=0.123456789,
    rank=1,
)
CITATION = Citation(
    n=1,
    doc_id="d1",
    chunk_id="d1:v1:0",
    title="滨江大桥通车",
    source="甲報",
    published="2025-03-12",
    url="https://news.example.com/1",
    quote="滨江大桥将在5月20日正式通车。",
    quote_start=0,
    quote_end=15,
    supported=False,
)
ANSWER = Answer(
    text="滨江大桥将在5月20日正式通车。[1]",
    refused=False,
    citations=[CITATION],
    contexts=[HIT],
    mode={"llm": "extractive", "embedder": "hash", "refusal": "none"},
    warnings=["來源說法不一"],
)


def test_rag_ask_json_contract() -> None:
    out = ANSWER.to_json("大桥哪天通车？")
    assert list(out) == ["question", "answer", "refused", "citations", "contexts", "mode",
                         "warnings"]  # fmt: skip
    assert out["citations"] == [
        {
            "n": 1,
            "doc_id": "d1",
            "title": "滨江大桥通车",
            "source": "甲報",
            "published": "2025-03-12",
            "url": "https://news.example.com/1",
            "quote": "滨江大桥将在5月20日正式通车。",
        }
    ]
    assert list(out["citations"][0]) == ["n", "doc_id", "title", "source", "published", "url",
                                         "quote"]  # fmt: skip
    assert out["contexts"] == [
        {
            "rank": 1,
            "doc_id": "d1",
            "chunk_id": "d1:v1:0",
            "title": "滨江大桥通车",
            "text": "滨江大桥将在5月20日正式通车。",
            "score": 0.123457,
        }
    ]
    # The three mode keys always, "" when unset; other mode entries stay out.
    assert out["mode"] == {"embedder": "hash", "retrieval": "", "llm": "extractive"}
    assert out["warnings"] == ["來源說法不一"] and out["refused"] is False


def test_feedback_replay_record() -> None:
    out = ANSWER.to_json("大桥哪天通车？", replay=True)
    assert list(out) == ["question", "answer", "refused", "citations", "contexts", "mode"]
    assert out["citations"] == [
        {
            "n": 1,
            "doc_id": "d1",
            "chunk_id": "d1:v1:0",
            "title": "滨江大桥通车",
            "quote": "滨江大桥将在5月20日正式通车。",
            "supported": False,
        }
    ]
    assert list(out["citations"][0]) == ["n", "doc_id", "chunk_id", "title", "quote",
                                         "supported"]  # fmt: skip
    assert out["contexts"] == ["d1:v1:0"]
    assert out["mode"] == ANSWER.mode and out["mode"] is not ANSWER.mode


def test_eval_row_citation() -> None:
    assert CITATION.to_json(provenance=False) == {
        "n": 1,
        "doc_id": "d1",
        "title": "滨江大桥通车",
        "quote": "滨江大桥将在5月20日正式通车。",
    }
