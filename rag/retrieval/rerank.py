"""Cross-encoder reranking of retrieved passages (sentence-transformers, loaded lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.core.embed import EmbedderUnavailable, is_local_path, model_available, unavailable_error


class RerankerUnavailable(EmbedderUnavailable):
    """A requested cross-encoder is not on this machine."""


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a local CrossEncoder on CPU; higher is better."""

    def __init__(self, model: str, *, batch_size: int = 32, max_length: int = 512) -> None:
        if not model_available(model):
            raise RerankerUnavailable(
                str(unavailable_error("Reranker model", model, ", or run without a reranker"))
            )
        from rag.core.config import apply_offline_env

        apply_offline_env()  # before transformers is imported, so nothing retries the hub
        from sentence_transformers import CrossEncoder

        if is_local_path(model):
            model = str(Path(model).expanduser().resolve())
        try:
            self._model = CrossEncoder(
                model, device="cpu", local_files_only=True, max_length=max_length
            )
        except Exception as exc:  # a cache entry or directory that is not a usable model
            raise RerankerUnavailable(f"Could not load reranker model {model!r}: {exc}") from exc
        self.name = model
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
