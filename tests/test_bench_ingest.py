"""The ingest benchmark's parts: CRUD conversion and the LangChain tutorial baseline."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from eval import data
from eval.baseline_langchain import TOP_K, ingest_langchain, open_langchain_store
from eval.data import crud_dir, crud_line_id, crud_record, write_crud_jsonl
from ingest.pipeline import page_from_record
from rag.core.text.dates import parse_date

pytestmark = pytest.mark.integration


def test_to_record_splits_time_and_body() -> None:
    line = "[ 2023-07-28 16：40 ] ，正文：第一句话。第二句话。"
    record = crud_record(line)
    assert record["published"] == "[ 2023-07-28 16：40 ]"
    assert record["text"] == "第一句话。第二句话。"
    assert record["source"] is None and "title" not in record
    assert record["id"] == crud_line_id(line) == crud_record(line)["id"]  # stable
    assert crud_record("，正文：只有正文。")["published"] is None


def test_crud_conversion_first_lines(tmp_path: Path) -> None:
    if crud_dir() is None:
        pytest.skip("../shared/data/crud-rag-news is not on this machine")
    out = tmp_path / "crud.jsonl"
    assert write_crud_jsonl(out, limit=50) == 50
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 50
    assert len({r["id"] for r in records}) == 50
    with_year = 0
    for record in records:
        assert set(record) == {"id", "published", "source", "text"}
        assert record["text"].strip() and "正文：" not in record["text"][:5]
        page = page_from_record(record)  # what ingest does with a jsonl record
        assert page.title and page.paragraphs
        if record["published"] and re.search(r"20\d\d", record["published"]):
            with_year += 1
            assert parse_date(record["published"]) is not None, record["published"]
            assert re.match(r"20\d\d-\d\d-\d\d", page.published or ""), record["published"]
    assert with_year > 25  # most CRUD articles carry a full date


def _synthetic_jsonl(path: Path) -> None:
    # Invented sentences only: nothing from ../shared/corpus lives in tracked files.
    topics = ["水稻种植", "城市公交", "高校招生", "海洋气象", "博物馆展览", "社区医疗"]
    with path.open("w", encoding="utf-8") as handle:
        for i, topic in enumerate(topics):
            text = "".join(
                f"第{j}段：本报讯，关于{topic}的消息在这里继续，编号{i}-{j}。" for j in range(40)
            )
            record = {"id": f"doc-{i}", "published": f"2024-03-{i + 1:02d} 10:00", "text": text}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def test_langchain_baseline_ingests_and_retrieves(tmp_path: Path) -> None:
    jsonl = tmp_path / "tiny.jsonl"
    _synthetic_jsonl(jsonl)
    started = time.perf_counter()
    summary = ingest_langchain(jsonl, tmp_path / "lc")
    elapsed = time.perf_counter() - started
    assert summary["docs"] == 6
    assert summary["chunks"] > 6  # ~1,400-character texts need more than one 1000-char chunk
    assert summary["stored"] == summary["chunks"]
    # The reported time is this call's, in seconds (rounded to ms): within the outer timing.
    assert 0 < summary["seconds"] <= round(elapsed, 3) + 0.001
    store = open_langchain_store(tmp_path / "lc")  # reopened, as the retrieval baseline does
    hits = store.similarity_search("海洋气象的消息", k=TOP_K)
    assert len(hits) == TOP_K < summary["chunks"]  # k of the many chunks
    assert "海洋气象" in hits[0].page_content
    assert hits[0].metadata["id"] == "doc-3"


def test_bench_skips_without_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import eval.bench_ingest as bench

    monkeypatch.setattr(data, "CRUD_DIR", tmp_path / "absent")
    lines: list[str] = []
    assert bench.run(print_fn=lines.append) == {}
    assert len(lines) == 1 and "skipped" in lines[0]
