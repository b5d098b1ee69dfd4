"""Cross-encoder reranking of retrieved passages (sentence-transformers, loaded lazily)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.core.embed import EmbedderUnavailable
from rag.core.models import load_model


class RerankerUnavailable(EmbedderUnavailable):
    """A requested cross-encoder is not on this machine."""


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a local CrossEncoder on CPU; higher is better."""

    def __init__(self, model: str, *, batch_size: int = 32, max_length: int = 512) -> None:
        self._model, self.name = load_model(
            "cross-encoder",
            model,
            what="Reranker model",
            hint=", or run without a reranker",
            error=RerankerUnavailable,
            max_length=max_length,
        )
        self.batch_size = int(batch_size)

    def config(self) -> dict:
        return {"kind": "cross-encoder", "name": self.name}

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One float32 score per passage, in the given order."""
        passages = list(passages)
        if not passages:
            return np.zeros(0, dtype=np.float32)
        scores = self._model.predict(
            [(query, p) for p in passages],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(scores, dtype=np.float32).reshape(len(passages))
