"""Benchmark of the offline answerer (extractive answer + calibrated refusal) on RGB zh.

Two stores, each one corpus searched with a plain BM25 over character bigrams of
fold()ed text (top 5 per question):
- full: all positive and negative passages of the 300 questions. Reports answer
  accuracy (RGB's rule: every answer element, any alias, appears in the answer text,
  after fold()) and the false refusal rate.
- distractors: only the negative passages. Reports the correct refusal rate.

Run: ``python -m eval.bench_answer`` (skips, exit 0, when ../shared is absent).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.normalize import fold
from rag.extractive import answer_extractive
from rag.types import Answer, Hit

SHARED = Path(__file__).resolve().parents[2] / "shared"
RGB = SHARED / "data" / "rgb-zh" / "zh_refine.json"
TOP_K = 5


def load_rgb(path: Path = RGB) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def bigrams(text: str) -> list[str]:
    folded = "".join(fold(text).split())
    return [folded[i : i + 2] for i in range(len(folded) - 1)] or [folded]


class BigramIndex:
    """A small bm25s index over char bigrams; enough to make candidate passages."""

    def __init__(self, passages: Sequence[str]) -> None:
        import bm25s

        self.passages = list(passages)
        self.retriever = bm25s.BM25()
        self.retriever.index([bigrams(p) for p in self.passages], show_progress=False)

    def search(self, query: str, k: int = TOP_K) -> list[Hit]:
        import numpy as np

        ids, scores = self.retriever.retrieve(
            [bigrams(query)], k=min(k, len(self.passages)), show_progress=False
        )
        hits = []
        for rank, (i, s) in enumerate(zip(ids[0], scores[0], strict=True), start=1):
            text = self.passages[int(i)]
            hits.append(
                Hit(chunk_id=f"p{int(i)}", doc_id=f"p{int(i)}", text=text, title="",
                    end=len(text), score=float(np.float64(s)), rank=rank)
            )  # fmt: skip
        return hits


def answer_ok(answer: Answer, gold: list) -> bool:
    """RGB's rule: every element of ``gold`` (a string or a list of aliases) is in the text."""
    if answer.refused:
        return False
    text = fold(answer.text)
    for element in gold:
        aliases = element if isinstance(element, list) else [element]
        if not any(fold(str(a)) in text for a in aliases):
            return False
    return True


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def evaluate(rows: list[dict], index: BigramIndex) -> tuple[list[Answer], list[list[Hit]], float]:
    """Answers for every row, the hits they used, and seconds per question."""
    answers, all_hits = [], []
    start = time.perf_counter()
    for row in rows:
        hits = index.search(row["query"])
        all_hits.append(hits)
        answers.append(answer_extractive(row["query"], hits))
    return answers, all_hits, (time.perf_counter() - start) / max(len(rows), 1)


def run(print_fn: Callable[..., None] = print, rows: list[dict] | None = None) -> dict:
    """Run both stores; return the figures (empty dict with "skipped" when no data)."""
    if rows is None:
        if not RGB.exists():
            print_fn(f"skipped: RGB data not found at {RGB} (../shared is absent)")
            return {"skipped": True}
        rows = load_rgb()
    full_index = BigramIndex(unique([p for r in rows for p in r["positive"] + r["negative"]]))
    answers, hits, latency = evaluate(rows, full_index)
    correct = sum(answer_ok(a, r["answer"]) for a, r in zip(answers, rows, strict=True))
    refused = sum(a.refused for a in answers)
    in_hits = sum(
        answer_ok(Answer(text="\n".join(h.text for h in hs), refused=False), r["answer"])
        for hs, r in zip(hits, rows, strict=True)
    )
    neg_index = BigramIndex(unique([p for r in rows for p in r["negative"]]))
    neg_answers, _, neg_latency = evaluate(rows, neg_index)
    correct_refusals = sum(a.refused for a in neg_answers)
    n = len(rows)
    result = {
        "questions": n,
        "accuracy": correct / n,
        "answer_in_top5": in_hits / n,
        "false_refusal_rate": refused / n,
        "correct_refusal_rate": correct_refusals / n,
        "latency_ms": 1000 * (latency + neg_latency) / 2,
    }
    print_fn(f"RGB zh_refine, {n} questions, BM25 char-bigram top {TOP_K}, extractive answerer")
    print_fn(f"full store:        accuracy {result['accuracy']:.3f} "
             f"(answer in top {TOP_K}: {result['answer_in_top5']:.3f}), "
             f"false refusals {result['false_refusal_rate']:.3f}")  # fmt: skip
    print_fn(f"distractor store:  correct refusals {result['correct_refusal_rate']:.3f}")
    print_fn(
        f"latency:           {result['latency_ms']:.1f} ms per question (BM25 retrieval + answer)"
    )
    return result


if __name__ == "__main__":
    run()
    sys.exit(0)
