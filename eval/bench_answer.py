"""Benchmark of the offline answerer (extractive answer + calibrated refusal) on RGB zh.

Two stores, each one corpus searched with the product's plain BM25 (rag.core.lexical: folded
character bigrams and whole ASCII words; no dense search, no rescoring; top 5), so the
answerer is measured on weaker candidates than the product gives it:
- full: all positive and negative passages of the 300 questions. Reports answer
  accuracy (RGB's rule: every answer element, any alias, appears in the answer text,
  after fold()) and the false refusal rate.
- distractors: only the negative passages. Reports the correct refusal rate.

Run: ``python -m eval.bench_answer`` (skips, exit 0, when ../shared is absent).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from eval import data
from eval.metrics import rgb_correct
from rag.answer.extractive import answer_extractive
from rag.core.types import Answer, Hit

TOP_K = 5


class PassageIndex:
    """BM25 over the passages (the product's lexical index); enough to make candidates."""

    def __init__(self, passages: Sequence[str]) -> None:
        from rag.core.lexical import LexicalIndex

        self.passages = list(passages)
        self.index = LexicalIndex.build([str(i) for i in range(len(self.passages))], self.passages)

    def search(self, query: str, k: int = TOP_K) -> list[Hit]:
        hits = []
        for rank, (pid, score) in enumerate(self.index.search(query, k), start=1):
            text = self.passages[int(pid)]
            hits.append(
                Hit(chunk_id=f"p{pid}", doc_id=f"p{pid}", text=text, title="",
                    end=len(text), score=score, rank=rank)
            )  # fmt: skip
        return hits


def evaluate(rows: list[dict], index: PassageIndex) -> tuple[list[Answer], list[list[Hit]], float]:
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
        if data.skipped("bench_answer", print_fn, data.RGB_REFINE):
            return {"skipped": True}
        rows = data.load_rgb()
    rgb = data.RgbPassages.from_rows(rows)
    full_index = PassageIndex(rgb.texts)
    answers, hits, latency = evaluate(rows, full_index)
    correct = sum(
        rgb_correct(r["answer"], a.text, a.refused) for a, r in zip(answers, rows, strict=True)
    )
    refused = sum(a.refused for a in answers)
    in_hits = sum(
        rgb_correct(r["answer"], "\n".join(h.text for h in hs), refused=False)
        for hs, r in zip(hits, rows, strict=True)
    )
    # Every negative passage, also those that are another question's positive.
    neg_index = PassageIndex([rgb.texts[i] for i in rgb.negatives])
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
    print_fn(f"RGB zh_refine, {n} questions, plain BM25 top {TOP_K}, extractive answerer")
    print_fn(f"full store:        accuracy {result['accuracy']:.3f} "
             f"(answer in top {TOP_K}: {result['answer_in_top5']:.3f}), "
             f"false refusals {result['false_refusal_rate']:.3f}")  # fmt: skip
    print_fn(f"distractor store:  correct refusals {result['correct_refusal_rate']:.3f}")
    print_fn(
        f"latency:           {result['latency_ms']:.1f} ms per question (BM25 retrieval + answer)"
    )
    return result


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    run()
    sys.exit(0)
