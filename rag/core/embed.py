"""Embedders: an offline hashed n-gram embedder and a sentence-transformers wrapper.

Nothing heavy is imported at module import: sentence-transformers (and torch) load only
when a SentenceTransformerEmbedder is built (through ``rag.core.models``), so
``rag --help`` stays instant.
"""

from __future__ import annotations

import functools
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.core.models import ModelUnavailable, load_model, model_available
from rag.core.text.fold import to_simplified

HASH_NAME = "hash-ngram-v1"


class EmbedderUnavailable(ModelUnavailable):
    """A requested model is not on this machine (nothing is downloaded implicitly)."""


@runtime_checkable
class Embedder(Protocol):
    """What indexing and retrieval need from an embedder."""

    name: str
    dim: int

    def config(self) -> dict:
        """JSON-serializable settings; ``embedder_from_config`` rebuilds the embedder."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dim) with L2-normalized rows."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 array of shape (dim,), L2-normalized."""
        ...


# --------------------------------------------------------------------------- hashing


@functools.lru_cache(maxsize=1)
def _bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """(fold, word) over the BMP (built once, then from the cache: rag.core.tables)."""
    from rag.core.tables import cached

    fold, word = cached("embed-bmp", _build_bmp_tables)
    return fold, word


def _build_bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """(fold, word) over the BMP: each character's NFKC + lowercase form where that is one
    character (else itself), and whether the folded character is a letter or digit."""
    fold = np.arange(0x10000, dtype=np.int64)
    word = np.zeros(0x10000, dtype=bool)
    for cp in range(0x10000):
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and len(folded.lower()) == 1:
            folded = folded.lower()
        if len(folded) != 1:  # multi-character expansions (ligatures, "(一)") stay as they are
            folded = ch
        fold[cp] = ord(folded)
        word[cp] = unicodedata.category(folded)[0] in "LN"
    return fold, word


_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_FNV = np.uint64(0x100000001B3)
_S33 = np.uint64(33)


def _fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: a fixed avalanche, identical in every process."""
    x = x ^ (x >> _S33)
    x = x * _M1
    x = x ^ (x >> _S33)
    x = x * _M2
    return x ^ (x >> _S33)


def _simplified(text: str) -> str:
    """Traditional -> Simplified (``fold.to_simplified``), so both scripts give the same
    n-grams; lone surrogates (from broken input), which OpenCC cannot take, are dropped:
    the embedder embeds any string."""
    try:
        return to_simplified(text)
    except UnicodeEncodeError:
        return to_simplified(text.encode("utf-8", "ignore").decode("utf-8"))


class HashEmbedder:
    """Signed feature hashing of character n-grams; offline, weights-free, deterministic.

    Text is converted Traditional->Simplified and each character NFKC-folded and
    lowercased, so both scripts (and full-width Latin) embed alike. N-grams (1-3 by
    default) never cross punctuation or spaces; each is counted with 1 + log(tf).
    """

    kind = "hash"

    def __init__(
        self,
        dim: int = 1024,
        ngrams: Sequence[int] = (1, 2, 3),
        order_weights: Sequence[float] | None = None,
        sublinear_tf: bool = True,
        batch_size: int = 2048,
    ) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.name = HASH_NAME
        self.dim = int(dim)
        self.ngrams = tuple(int(n) for n in ngrams)
        # Unigrams weigh double by default: measured best on RGB zh (see eval/bench_embed.py).
        if order_weights is None:
            order_weights = [2.0 if n == 1 else 1.0 for n in self.ngrams]
        if len(order_weights) != len(self.ngrams):
            raise ValueError("order_weights must match ngrams")
        self.order_weights = tuple(float(w) for w in order_weights)
        self.sublinear_tf = bool(sublinear_tf)
        self.batch_size = int(batch_size)

    def config(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "dim": self.dim,
            "ngrams": list(self.ngrams),
            "order_weights": list(self.order_weights),
            "sublinear_tf": self.sublinear_tf,
        }

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out[start : start + len(batch)] = self._embed_batch(batch)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """A text with no letters or digits gets the zero vector."""
        return self._embed_batch([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        n_docs = len(texts)
        if n_docs == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        simplified = [_simplified(t) for t in texts]
        # One code-point array for the batch; "\0" separates documents and, being
        # neither letter nor digit, stops n-grams at document edges.
        joined = "\0".join(simplified) + "\0"
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        lengths = np.fromiter((len(t) + 1 for t in simplified), dtype=np.int64, count=n_docs)
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # Per-character NFKC + lowercase by table lookup: full-width Latin and digits
        # match ASCII, and it costs a fraction of unicodedata.normalize on every text.
        fold, word = _bmp_tables()
        bmp = cps < 0x10000
        cps[bmp] = fold[cps[bmp]]
        # Characters beyond the BMP (rare CJK extensions, emoji) count as word characters.
        valid = np.ones(len(cps), dtype=bool)
        valid[bmp] = word[cps[bmp]]
        codes = cps.astype(np.uint64)

        size = n_docs * self.dim
        flat = np.zeros(size)
        for order, order_weight in zip(self.ngrams, self.order_weights, strict=True):
            span = len(codes) - order + 1
            if span <= 0:
                continue
            ok = valid[:span].copy()
            seed = (0x9E3779B97F4A7C15 * order) & 0xFFFFFFFFFFFFFFFF  # distinct per order
            h = np.full(span, seed, dtype=np.uint64)
            for k in range(order):
                if k:
                    ok &= valid[k : k + span]
                h = (h ^ codes[k : k + span]) * _FNV
            pos = np.flatnonzero(ok)
            if not len(pos):
                continue
            h = _fmix64(h[pos])
            # Cell = (sign, document, bucket); the sign is the hash's low bit, the bucket
            # comes from its high bits.
            bucket = ((h >> np.uint64(32)) % np.uint64(self.dim)).astype(np.int64)
            negative = (h & np.uint64(1)).astype(np.int64)
            cell = negative * size + doc_of[pos] * self.dim + bucket
            # Counted apart per order and sign, so 1 + log(tf) applies to (nearly always)
            # a single n-gram's count, as if there were no hashing collisions.
            counts = np.bincount(cell, minlength=2 * size)
            if self.sublinear_tf:
                # 1 + log(tf) by table lookup over the few distinct counts (0 stays 0):
                # the same float64 values as computing it per cell; 100 chunks embed in
                # 3.5 ms instead of 5.4 (measured 2026-12-02).
                table = np.zeros(int(counts.max()) + 1)
                table[1:] = 1.0 + np.log(np.arange(1, len(table), dtype=np.float64))
                tf = table[counts]
            else:
                tf = counts.astype(np.float64)
            flat += order_weight * (tf[:size] - tf[size:])
        vecs = flat.reshape(n_docs, self.dim)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (vecs / norms).astype(np.float32)


# In the vector index, new stores keep hash vectors folded to this many dimensions, and
# dense search re-scores what the index returns, with the lexical side's hits, at the
# full dimension (``rag.core.store.Store.dense_search``). HNSW holds every indexed
# vector in memory: 1024-d float32 was 0.86 GB of the 1.3 GB a cold `rag ask` used at
# 203k chunks. On RGB (eval/bench_retrieval.py's in-memory retriever), folding to 512
# and re-scoring the 100 candidates kept recall@1 (0.837) and recall@5 (0.980 -> 0.983);
# folding to 256 lost 0.02 of recall@1. Re-scoring embeds ~100-200 passages per query
# (3.5 ms per 100), so only the hash embedder folds.
HASH_INDEX_DIM = 512


def index_dim(embedder: Embedder) -> int:
    """The dimension a new store indexes ``embedder``'s vectors at (see HASH_INDEX_DIM)."""
    if (
        isinstance(embedder, HashEmbedder)
        and embedder.dim > HASH_INDEX_DIM
        and embedder.dim % HASH_INDEX_DIM == 0
    ):
        return HASH_INDEX_DIM
    return embedder.dim


def fold(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Rows of width D (a multiple of ``dim``) folded to ``dim``: the D/dim slices summed,
    then L2-normalized. For hashed features this is hashing into ``dim`` buckets (bucket
    h mod D lands in h mod dim), so cosines of folded rows approximate the full ones."""
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.shape[-1] == dim:
        return rows
    if rows.shape[-1] % dim:
        raise ValueError(f"cannot fold {rows.shape[-1]}-d vectors to {dim}-d")
    folded = rows.reshape(*rows.shape[:-1], -1, dim).sum(axis=-2)
    norms = np.linalg.norm(folded, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (folded / norms).astype(np.float32)


# ------------------------------------------------------------ sentence-transformers


def default_prefixes(model: str) -> tuple[str, str]:
    """(query prefix, passage prefix) the model family was trained with.

    Only the model's own name counts (last path part), not the folders it sits in.
    """
    return ("query: ", "passage: ") if "e5" in Path(model).name.lower() else ("", "")


class SentenceTransformerEmbedder:
    """A local sentence-transformers model on CPU, with normalized embeddings."""

    kind = "sentence-transformers"

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
    ) -> None:
        self._model, model = load_model(
            "sentence-transformer",
            model,
            what="Embedding model",
            hint=', or use the offline embedder "hash" (RAG_EMBEDDER=hash)',
            error=EmbedderUnavailable,
        )
        q, p = default_prefixes(model)
        self.name = model
        self.query_prefix = q if query_prefix is None else query_prefix
        self.passage_prefix = p if passage_prefix is None else passage_prefix
        self.batch_size = int(batch_size)
        # sentence-transformers 6 renamed get_sentence_embedding_dimension to this.
        dim = self._model.get_embedding_dimension()
        if dim is None:
            dim = int(self._encode(["x"], "").shape[1])
        self.dim = int(dim)

    def config(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "dim": self.dim,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
        }

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vecs = self._model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts, self.passage_prefix)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prefix)[0]


# ------------------------------------------------------------------------ factories


def load_embedder(spec: str, *, default_model: str) -> Embedder:
    """Build an embedder from a user spec: "hash", "auto", or a model name or path.

    "auto" uses ``default_model`` when it is on this machine, else the hash embedder, and
    never raises. A named model that is missing raises EmbedderUnavailable.
    """
    spec = spec.strip()
    if spec == "hash" or spec == HASH_NAME:
        return HashEmbedder()
    if spec == "auto":
        if model_available(default_model):
            try:
                return SentenceTransformerEmbedder(default_model)
            except EmbedderUnavailable as exc:  # on disk but unusable: say so, still answer
                warnings.warn(f"{exc}; using the offline hash embedder", stacklevel=2)
        return HashEmbedder()
    return SentenceTransformerEmbedder(spec)


def embedder_from_config(config: dict[str, Any]) -> Embedder:
    """Rebuild an embedder from its ``config()`` output (e.g. stored with an index)."""
    kind = config.get("kind")
    if kind == HashEmbedder.kind:
        embedder: Embedder = HashEmbedder(
            dim=config["dim"],
            ngrams=config.get("ngrams", (1, 2, 3)),
            order_weights=config.get("order_weights"),
            sublinear_tf=config.get("sublinear_tf", True),
        )
    elif kind == SentenceTransformerEmbedder.kind:
        embedder = SentenceTransformerEmbedder(
            config["name"],
            query_prefix=config.get("query_prefix"),
            passage_prefix=config.get("passage_prefix"),
        )
    else:
        raise ValueError(f"Unknown embedder kind {kind!r} in {config!r}")
    if "dim" in config and embedder.dim != config["dim"]:
        raise EmbedderUnavailable(
            f"Embedder {embedder.name!r} now gives {embedder.dim}-d vectors, but the index "
            f"was built with {config['dim']}-d ones: rebuild the index."
        )
    return embedder


def describe_index(embedder: Embedder, dim: int) -> str:
    """How a store indexes ``embedder``'s vectors, e.g. "512-d index, re-scored at 1024-d"."""
    if dim == embedder.dim:
        return f"{dim}-d index"
    return f"{dim}-d index, re-scored at {embedder.dim}-d"


def describe(embedder: Embedder) -> str:
    """Short human label, e.g. "hash-ngram-v1 (offline, weights-free, 1024-d)"."""
    if isinstance(embedder, HashEmbedder):
        return f"{embedder.name} (offline, weights-free, {embedder.dim}-d)"
    if isinstance(embedder, SentenceTransformerEmbedder):
        return f"sentence-transformers: {embedder.name} ({embedder.dim}-d)"
    return f"{embedder.name} ({embedder.dim}-d)"
