"""Retrieval quality and latency on RGB zh, weights-free (BM25 + hash embedder).

All distinct passages of zh_refine.json (positive and negative, 300 questions) form one
corpus; a question is a hit@k when one of ITS positives is in the top k. Latency is
per query, measured on that corpus and on ~100k chunks (RGB + CRUD-RAG news cut into
300-character chunks, the news chunks repeated until 100k).

    python -m eval.bench_retrieval
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared"
RGB = SHARED / "data" / "rgb-zh" / "zh_refine.json"
CRUD = SHARED / "data" / "crud-rag-news"
LARGE = 100_000


def load_rgb(path: Path = RGB) -> tuple[list[str], list[str], list[set[int]]]:
    """(passages, questions, positive passage indices per question), deduplicated."""
    passages: list[str] = []
    index: dict[str, int] = {}
    questions: list[str] = []
    positives: list[set[int]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            questions.append(row["query"])
            pos: set[int] = set()
            for kind in ("positive", "negative"):
                for text in row[kind]:
                    if text not in index:
                        index[text] = len(passages)
                        passages.append(text)
                    if kind == "positive":
                        pos.add(index[text])
            positives.append(pos)
    return passages, questions, positives


def crud_chunks(size: int = 300) -> list[str]:
    """CRUD-RAG news documents cut into ``size``-character pieces."""
    chunks = []
    for path in sorted(CRUD.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            body = line.split("，正文：", 1)[-1].strip()
            chunks.extend(body[i : i + size] for i in range(0, len(body), size))
    return [c for c in chunks if len(c) > 20]


class Retriever:
    """Lexical + dense (numpy matrix-vector) + RRF + optional second stage."""

    def __init__(self, texts: list[str]) -> None:
        from rag.core.embed import HashEmbedder
        from rag.core.lexical import LexicalIndex

        self.texts = texts
        self.ids = [str(i) for i in range(len(texts))]
        t0 = time.perf_counter()
        self.lexical = LexicalIndex.build(self.ids, texts)
        self.build_lexical_s = time.perf_counter() - t0
        self.embedder = HashEmbedder()
        t0 = time.perf_counter()
        self.vectors = self.embedder.embed_documents(texts)
        self.build_dense_s = time.perf_counter() - t0

    def bm25(self, q: str, k: int) -> list[int]:
        return [int(i) for i, _ in self.lexical.search(q, k)]

    def dense_scores(self, q: str) -> np.ndarray:
        return self.vectors @ self.embedder.embed_query(q)

    def dense(self, q: str, k: int) -> list[int]:
        from rag.core.lexical import top_k

        return [int(i) for i in top_k(self.dense_scores(q), k)]

    def fused(self, q: str, k: int, rerank: bool = True, weights=None) -> list[int]:
        from rag.core.lexical import top_k
        from rag.retrieval.fusion import rrf
        from rag.retrieval.hybrid import FIRST_STAGE, POOL
        from rag.retrieval.passage_rank import Candidate, Weights, rescore

        # The product's first stage and pool sizes (rag.retrieval.hybrid), over in-memory vectors.
        lex_scores = self.lexical.scores(q)
        den_scores = self.dense_scores(q)
        lex = top_k(lex_scores, FIRST_STAGE)
        den = top_k(den_scores, FIRST_STAGE)
        pool = [int(i) for i, _ in rrf([[str(i) for i in lex], [str(i) for i in den]])[:POOL]]
        if not rerank:
            return pool[:k]
        cands = [
            Candidate(str(i), self.texts[i], float(lex_scores[i]), float(den_scores[i]))
            for i in pool
        ]
        ranked = rescore(q, cands, self.lexical.term_idf, weights or Weights())
        return [int(i) for i, _ in ranked[:k]]


def evaluate(
    search: Callable[[str, int], list[int]],
    questions: list[str],
    positives: list[set[int]],
    depth: int = 10,
) -> dict[str, float]:
    """recall@1/@5/@10 and per-query latency (ms, p50/p95) of ``search``."""
    hits = {1: 0, 5: 0, 10: 0}
    times = []
    for question, pos in zip(questions, positives, strict=True):
        t0 = time.perf_counter()
        ranked = search(question, depth)
        times.append((time.perf_counter() - t0) * 1000)
        for k in hits:
            hits[k] += bool(pos & set(ranked[:k]))
    n = len(questions)
    return {
        "r@1": hits[1] / n,
        "r@5": hits[5] / n,
        "r@10": hits[10] / n,
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
    }


def run(print_fn: Callable[[str], None] = print, large: bool = True) -> dict:
    """Run the benchmark, print a table, return the figures ({} when data is absent)."""
    if not RGB.exists():
        print_fn(f"bench_retrieval: skipped, {RGB} not found (needs ../shared).")
        return {}
    from rag.retrieval.passage_rank import Weights

    passages, questions, positives = load_rgb()
    r = Retriever(passages)
    no_type = Weights(answer_type=0.0)
    no_facts = Weights(year=0.0, date=0.0, names=0.0)
    no_window = Weights(window=0.0)
    methods: dict[str, Callable[[str, int], list[int]]] = {
        "bm25 (bigrams)": r.bm25,
        "dense (hash embedder)": r.dense,
        "langchain baseline (dense top-4)": lambda q, k: r.dense(q, 4),
        "rrf(bm25, dense)": lambda q, k: r.fused(q, k, rerank=False),
        "rrf + rerank": r.fused,
        "  rerank without answer type": lambda q, k: r.fused(q, k, weights=no_type),
        "  rerank without year/date/names": lambda q, k: r.fused(q, k, weights=no_facts),
        "  rerank without window coverage": lambda q, k: r.fused(q, k, weights=no_window),
    }
    results: dict = {"corpus": len(passages), "questions": len(questions), "methods": {}}
    print_fn(f"RGB zh_refine: {len(questions)} questions, {len(passages)} passages")
    header = f"{'method':36} {'r@1':>6} {'r@5':>6} {'r@10':>6} {'p50 ms':>8} {'p95 ms':>8}"
    print_fn(header)
    for name, search in methods.items():
        m = evaluate(search, questions, positives)
        results["methods"][name] = m
        print_fn(_row(name, m))
    print_fn("(langchain baseline returns 4 passages: its r@5 and r@10 are r@4)")
    if large and CRUD.exists():
        results["large"] = _large(passages, questions, positives, print_fn)
    return results


def _row(name: str, m: dict[str, float]) -> str:
    return (
        f"{name:36} {m['r@1']:6.3f} {m['r@5']:6.3f} {m['r@10']:6.3f} "
        f"{m['p50_ms']:8.2f} {m['p95_ms']:8.2f}"
    )


def _large(passages, questions, positives, print_fn) -> dict:
    news = crud_chunks()
    texts = list(passages)
    while len(texts) < LARGE:  # repeated news chunks only add latency, not answers
        texts.extend(news[: LARGE - len(texts)])
    r = Retriever(texts)
    print_fn(
        f"\n{len(texts)} chunks ({len(news)} distinct news chunks repeated + RGB): "
        f"lexical build {r.build_lexical_s:.1f} s, hash embedding {r.build_dense_s:.1f} s"
    )
    out = {"chunks": len(texts), "build_lexical_s": r.build_lexical_s}
    for name, search in {
        "bm25 (bigrams)": r.bm25,
        "dense (hash embedder)": r.dense,
        "rrf + rerank (full pipeline)": r.fused,
    }.items():
        m = evaluate(search, questions, positives)
        out[name] = m
        print_fn(_row(name, m))
    return out


if __name__ == "__main__":
    sys.exit(0 if run() is not None else 1)
