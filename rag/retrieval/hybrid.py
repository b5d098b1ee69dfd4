"""Hybrid retrieval over the store: dense (Chroma) + lexical BM25, fused with RRF, then a
question-aware second stage (and a cross-encoder when one is configured)."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.config import Settings
from rag.core.store import Store
from rag.core.text.fold import variants
from rag.core.types import Hit

log = logging.getLogger(__name__)

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

    def accepts(self, meta: dict[str, Any]) -> bool:
        day = meta.get("published_day")
        if self.since and (day is None or day < _day(self.since)):
            return False
        if self.until and (day is None or day > _day(self.until)):
            return False
        return not self.sources or meta.get("source") in self.sources


def _day(iso: str) -> int:
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        raise ValueError(f"not a valid ISO date (YYYY-MM-DD): {iso!r}") from None
    return day.year * 10000 + day.month * 100 + day.day


class ChunkTable:
    """The committed chunks held in memory: ids, texts, metadata, and the lexical index
    derived from them. Rebuilt from Chroma alone when the store changes."""

    def __init__(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]], lexical):  # type: ignore[no-untyped-def]
        self.ids = ids
        self.texts = texts
        self.metas = metas
        self.lexical = lexical
        self.row = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def load(cls, store: Store, cache_dir: Path | None) -> ChunkTable:
        """Chunks from the store; the lexical index from the cache when it matches."""
        from rag.retrieval.lexical import LexicalIndex

        fingerprint = store.fingerprint()
        ids, texts, metas = [], [], []
        for cid, text, meta in store.iter_chunks():
            ids.append(cid)
            texts.append(text)
            metas.append(meta)
        path = cache_dir / fingerprint if cache_dir else None
        lexical = None
        if path and (path / "bm25.json").exists():
            try:
                lexical = LexicalIndex.load(path)
                if lexical.ids != ids:
                    lexical = None
            except (OSError, ValueError) as exc:
                log.warning("rebuilding the lexical index (%s)", exc)
                lexical = None
        if lexical is None:
            lexical = LexicalIndex.build(
                ids, [lexical_text(t, m) for t, m in zip(texts, metas, strict=True)]
            )
            if path:
                if cache_dir and cache_dir.exists():
                    shutil.rmtree(cache_dir, ignore_errors=True)  # older fingerprints
                lexical.save(path)
        return cls(ids, texts, metas, lexical)


def lexical_text(text: str, meta: dict[str, Any]) -> str:
    """What BM25 sees of a chunk: the article title too, unless the text starts with it."""
    title = str(meta.get("title") or "")
    if not title or text.startswith(title.rstrip("…")):
        return text
    return f"{title}\n{text}"


class HybridRetriever:
    """Dense + lexical retrieval with fusion and a second stage; keeps indexes loaded."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._table: ChunkTable | None = None
        self._generation = ""
        self._reload = threading.Lock()  # sessions share one retriever (UI, batch)
        self._reranker = None
        if settings.reranker:
            from rag.retrieval.rerank import CrossEncoderReranker

            self._reranker = CrossEncoderReranker(settings.reranker)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> HybridRetriever:
        """A retriever over the store; a missing one is an error unless ``create``."""
        return cls(Store.open(settings, create=create), settings)

    @property
    def table(self) -> ChunkTable:
        """The chunk table, reloaded when the store changed since the last look."""
        generation = self.store.generation()
        if self._table is None or generation != self._generation:
            with self._reload:
                if self._table is None or generation != self._generation:
                    if self._table is not None:  # a write since: see it in dense search too
                        self.store.follow(generation)
                    cache = Path(self.settings.db) / "lexical" / self.settings.collection
                    self._table = ChunkTable.load(self.store, cache)
                    self._generation = generation
        return self._table

    def describe(self) -> str:
        parts = ["hybrid: dense + BM25 (RRF)", "question-aware rescoring"]
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
        from rag.retrieval.lexical import top_k
        from rag.retrieval.passage_rank import Candidate, rescore

        table = self.table
        if not table.ids or not query.strip():
            return []
        filters = filters or Filters()
        extra = [q for q in extra_queries if q and q.strip()]
        # Other regional wordings (芯片/晶片) are searched lexically; the embedder sees
        # little difference between them, so they get no dense search of their own.
        queries = [query, *variants(query)[1:], *extra]
        dense_queries = {query, *extra}
        mask = None
        if filters:
            mask = np.array([filters.accepts(m) for m in table.metas], dtype=bool)
        rankings: list[list[str]] = []
        lexical_scores = np.zeros(len(table.ids), dtype=np.float32)
        dense_scores: dict[str, float] = {}
        for q in queries:
            scores = table.lexical.scores(q)
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            lexical_scores = np.maximum(lexical_scores, scores)
            top = top_k(scores, FIRST_STAGE)
            rankings.append([table.ids[i] for i in top if scores[i] > 0])
            if q not in dense_queries:
                continue
            vector = self.store.embedder.embed_query(q)
            dense = [
                (cid, score)
                for cid, score, _, _ in self.store.dense_search(
                    vector, FIRST_STAGE, filters.chroma_where()
                )
                if cid in table.row  # only committed chunks
            ]
            rankings.append([cid for cid, _ in dense])
            for cid, score in dense:
                dense_scores[cid] = max(score, dense_scores.get(cid, -1.0))
        fused = rrf(rankings)[:POOL]
        if not fused:
            return []
        candidates = [
            Candidate(
                chunk_id=cid,
                text=table.texts[table.row[cid]],
                lexical=float(lexical_scores[table.row[cid]]),
                dense=dense_scores.get(cid, 0.0),
            )
            for cid, _ in fused
        ]
        ranked = rescore(query, candidates, table.lexical.term_idf)
        if self._reranker is not None:
            top = [cid for cid, _ in ranked[: max(k * 3, 10)]]
            ce = self._reranker.score(query, [table.texts[table.row[c]] for c in top])
            ranked = sorted(zip(top, (float(s) for s in ce), strict=True), key=lambda x: -x[1])
        return [
            self._hit(table, cid, score, rank, lexical_scores, dense_scores)
            for rank, (cid, score) in enumerate(ranked[:k], start=1)
        ]

    def _hit(
        self, table: ChunkTable, cid: str, score: float, rank: int, lexical_scores, dense_scores
    ) -> Hit:  # type: ignore[no-untyped-def]
        row = table.row[cid]
        meta = table.metas[row]
        return Hit(
            chunk_id=cid,
            doc_id=str(meta.get("doc_id", "")),
            text=table.texts[row],
            title=str(meta.get("title", "")),
            published=meta.get("published"),
            source=meta.get("source"),
            url=meta.get("url"),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            score=float(score),
            dense_score=dense_scores.get(cid),
            lexical_score=float(lexical_scores[row]),
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
