"""Hybrid retrieval over the store: dense (Chroma) + lexical BM25, fused with RRF, then a
question-aware second stage (and a cross-encoder when one is configured)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from rag.core.config import Settings
from rag.core.lexstore import LexicalSnapshot, LexicalStore
from rag.core.store import Store
from rag.core.text.fold import variants
from rag.core.types import Hit

FIRST_STAGE = 100  # candidates taken from each of lexical and dense search
POOL = 30  # fused candidates given to the second stage


@dataclass(frozen=True)
class Filters:
    """Metadata filters: ISO dates (inclusive) and outlet names."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.since:
            clauses.append({"published_day": {"$gte": _day(self.since)}})
        if self.until:
            clauses.append({"published_day": {"$lte": _day(self.until)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _day(iso: str) -> int:
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        raise ValueError(f"not a valid ISO date (YYYY-MM-DD): {iso!r}") from None
    return day.year * 10000 + day.month * 100 + day.day


class HybridRetriever:
    """Dense + lexical retrieval with fusion and a second stage.

    The lexical side is the on-disk index (``rag.core.lexstore``), mapped, not read:
    opening it costs the same at 10 chunks and at a million. Passage text and metadata
    come from Chroma by id, for the fused candidates only."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._lexical = LexicalStore.of(settings)
        self._index: LexicalSnapshot | None = None
        self._generation = ""
        self._reload = threading.Lock()  # sessions share one retriever (UI, batch)
        self._reranker = None
        if settings.reranker:
            from rag.retrieval.rerank import CrossEncoderReranker

            self._reranker = CrossEncoderReranker(settings.reranker)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> HybridRetriever:
        """A retriever over the store; a missing one is an error unless ``create``.

        Ready to answer: the store's vector index loads in the background
        (``Store.warm``) while this thread loads the second stage's tokenizer and
        tagger, so a cold ``rag ask`` pays for the longer of the two, not both."""
        from rag.analysis.query import load_tagger

        store = Store.open(settings, create=create)
        store.warm()
        load_tagger()
        return cls(store, settings)

    def refresh(self) -> LexicalSnapshot:
        """Open the lexical snapshot of the store's current generation if the store
        changed since the last look (and make dense search follow another process's
        writes). Cheap when nothing changed: one generation read."""
        generation = self.store.generation()
        if self._index is None or generation != self._generation:
            with self._reload:
                if self._index is None or generation != self._generation:
                    if self._index is not None:  # a write since: see it in dense search too
                        self.store.follow(generation)
                    self._index = self._lexical.current(self.store)
                    self._generation = generation
        return self._index

    def describe(self) -> str:
        from rag.core.embed import describe_index

        index = describe_index(self.store.embedder, self.store.index_dim)
        parts = [f"hybrid: dense ({index}) + BM25 (RRF)", "question-aware rescoring"]
        if self._reranker is not None:
            parts.append(f"cross-encoder {self.settings.reranker}")
        return ", ".join(parts)

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        extra_queries: Sequence[str] = (),
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` (and its translations), best first."""
        from rag.retrieval.fusion import rrf

        index = self.refresh()
        if not len(index) or not query.strip():
            return []
        filters = filters or Filters()
        extra = [q for q in extra_queries if q and q.strip()]
        # Other regional wordings (芯片/晶片) are searched lexically; the embedder sees
        # little difference between them, so they get no dense search of their own.
        queries = [query, *variants(query)[1:], *extra]
        dense_queries = {query, *extra}
        mask = _filter_mask(index, filters)
        rankings: list[list[str]] = []
        lexical_scores = np.zeros(index.total, dtype=np.float32)
        dense_scores: dict[str, float] = {}
        rows: dict[str, int] = {}  # chunk id -> index row, for every ranked chunk
        passages: dict[str, tuple[str, dict[str, Any]]] = {}  # fetched so far
        for q in queries:
            ranking, scores = lexical_ranking(index, q, mask, rows)
            lexical_scores = np.maximum(lexical_scores, scores)
            rankings.append(ranking)
            if q in dense_queries:
                dense = self._dense_ranking(index, q, filters, rows, ranking)
                rankings.append([cid for cid, _, _, _ in dense])
                for cid, score, text, meta in dense:
                    dense_scores[cid] = max(score, dense_scores.get(cid, -1.0))
                    passages[cid] = (text, meta)
        fused = [cid for cid, _ in rrf(rankings)[:POOL]]
        if not fused:
            return []
        passages.update(self.store.get_chunks([cid for cid in fused if cid not in passages]))
        lexical = {cid: float(lexical_scores[rows[cid]]) for cid in fused}
        ranked = self._rank(query, index, fused, passages, lexical, dense_scores, k)
        return [
            _hit(cid, passages[cid], score, rank, lexical[cid], dense_scores.get(cid))
            for rank, (cid, score) in enumerate(ranked[:k], start=1)
        ]

    def _dense_ranking(
        self,
        index: LexicalSnapshot,
        query: str,
        filters: Filters,
        rows: dict[str, int],
        lexical: Sequence[str],
    ) -> list[tuple[str, float, str, dict[str, Any]]]:
        """Dense (chunk_id, cosine, text, metadata) for ``query``, best first, committed
        chunks only (a running write's chunks are in Chroma before their commit, not in
        the index). ``lexical``, the same query's lexical hits, are scored too where the
        vector index is folded (``Store.dense_search``)."""
        vector = self.store.embedder.embed_query(query)
        found = self.store.dense_search(vector, FIRST_STAGE, filters.chroma_where(), lexical)
        rows.update(index.rows_of([cid for cid, _, _, _ in found]))
        return [row for row in found if row[0] in rows]

    def _rank(
        self,
        query: str,
        index: LexicalSnapshot,
        fused: list[str],
        passages: dict[str, tuple[str, dict[str, Any]]],
        lexical: dict[str, float],
        dense_scores: dict[str, float],
        k: int,
    ) -> list[tuple[str, float]]:
        """The second stage: question-aware rescoring, then the cross-encoder if any."""
        from rag.retrieval.passage_rank import Candidate, rescore

        candidates = [
            Candidate(
                chunk_id=cid,
                text=passages[cid][0],
                lexical=lexical[cid],
                dense=dense_scores.get(cid, 0.0),
            )
            for cid in fused
        ]
        ranked = rescore(query, candidates, index.term_idf)
        if self._reranker is None:
            return ranked
        top = [cid for cid, _ in ranked[: max(k * 3, 10)]]
        ce = self._reranker.score(query, [passages[c][0] for c in top])
        return sorted(zip(top, (float(s) for s in ce), strict=True), key=lambda x: -x[1])


def _filter_mask(index: LexicalSnapshot, filters: Filters) -> np.ndarray | None:
    """Rows the filters accept (from the index's day and outlet columns), or None."""
    if not filters:
        return None
    return index.column_mask(
        _day(filters.since) if filters.since else None,
        _day(filters.until) if filters.until else None,
        filters.sources,
    )


def lexical_ranking(
    index: LexicalSnapshot, query: str, mask: np.ndarray | None, rows: dict[str, int]
) -> tuple[list[str], np.ndarray]:
    """The FIRST_STAGE best chunk ids for ``query`` by BM25 (filtered), and every row's
    score; records the row of each ranked id in ``rows``."""
    from rag.core.lexical import top_k

    scores = index.scores(query)
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    top = [int(i) for i in top_k(scores, FIRST_STAGE) if scores[i] > 0]
    ids = index.ids_of(top)
    rows.update(zip(ids, top, strict=True))
    return ids, scores


def _hit(
    cid: str,
    passage: tuple[str, dict[str, Any]],
    score: float,
    rank: int,
    lexical: float,
    dense: float | None,
) -> Hit:
    text, meta = passage
    return Hit(
        chunk_id=cid,
        doc_id=str(meta.get("doc_id", "")),
        text=text,
        title=str(meta.get("title", "")),
        published=meta.get("published"),
        source=meta.get("source"),
        url=meta.get("url"),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        score=float(score),
        dense_score=dense,
        lexical_score=lexical,
        rank=rank,
    )


def as_langchain_retriever(retriever: HybridRetriever, k: int = 5, filters: Filters | None = None):  # type: ignore[no-untyped-def]
    """The hybrid retriever as a LangChain ``BaseRetriever`` (Documents carry Hit fields)."""
    from dataclasses import asdict

    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class NewsRetriever(BaseRetriever):
        """Hybrid news retriever (dense + BM25 + rescoring)."""

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            hits = retriever.search(query, k=k, filters=filters)
            return [Document(page_content=h.text, metadata=asdict(h)) for h in hits]

    return NewsRetriever()
