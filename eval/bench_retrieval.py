"""Retrieval quality and latency on RGB zh, weights-free (BM25 + hash embedder).

All distinct passages of zh_refine.json (positive and negative, 300 questions) form one
corpus; a question is a hit@k when one of ITS positives is in the top k. Latency is
per query, measured on that corpus and on ~100k chunks (RGB + CRUD-RAG news cut into
300-character chunks, the news chunks repeated until 100k).

    python -m eval.bench_retrieval
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from eval import data
from eval.metrics import hit_rate, percentile

LARGE = 100_000


def crud_chunks(size: int = 300) -> list[str]:
    """CRUD-RAG news documents cut into ``size``-character pieces."""
    chunks = []
    for line in data.crud_lines():
        body = data.crud_record(line)["text"]
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
    ranked, times = [], []
    for question in questions:
        t0 = time.perf_counter()
        ranked.append(search(question, depth))
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "r@1": hit_rate(ranked, positives, 1),
        "r@5": hit_rate(ranked, positives, 5),
        "r@10": hit_rate(ranked, positives, 10),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
    }


def run(print_fn: Callable[[str], None] = print, large: bool = True) -> dict:
    """Run the benchmark, print a table, return the figures ({} when data is absent)."""
    if data.skipped("bench_retrieval", print_fn, data.RGB_REFINE):
        return {}
    from rag.retrieval.passage_rank import Weights

    rgb = data.RgbPassages.from_rows(data.load_rgb())
    passages, questions, positives = rgb.texts, rgb.questions, rgb.positives
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
    if large and data.crud_dir() is not None:
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
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    sys.exit(0 if run() is not None else 1)
