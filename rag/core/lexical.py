"""Lexical (BM25) index over Chinese/English mixed text, built with numpy.

Tokens come from folded text (NFKC, lower case, Simplified: ``fold()`` applied per
character), so a Traditional question matches a Simplified passage. Han, kana and Hangul
runs become overlapping character bigrams (a one-character run stays a unigram); runs of
other letters and digits stay whole ("h20", "2025", "6.4": a dot between digits belongs
to the number).

Why not jieba or bm25s's own build: on the RGB zh passages, BM25 over jieba words gets
recall@1 0.66-0.68 against 0.63 for bigrams (recall@5 about equal), but jieba needs tens
of seconds for 100k chunks. bm25s's ``index`` loops over documents in Python (about 13 s
at 100k, plus 7 s of Python tokenizing); this module computes the same Lucene-variant
BM25 weights (bm25s's default, k1=1.5, b=0.75) in a few numpy passes and scores a query
from a term-major sparse matrix.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

from rag.core.tables import cached, inputs
from rag.core.text.fold import to_simplified

# BM25 (Lucene variant) saturation and length normalization: bm25s's defaults.
K1, B = 1.5, 0.75
# Bump when tokens change (classes, folding, bigram or word rules, key hashing): an
# on-disk index records ``tokenizer_id()`` and is rebuilt when it differs, instead of
# answering new queries with old token keys. OpenCC and Unicode updates count too.
TOKENIZER_VERSION = "bigram-v1"

_HAN, _WORD = 1, 2  # character classes; 0 is a separator
_DOC_BITS = 22  # a (token, doc) pair is packed in one int64: token key << 22 | doc
_MAX_DOCS = 1 << _DOC_BITS
_WORD_FLAG = np.int64(1 << 40)  # word-token keys live in [2^40, 2^41), bigrams below 2^32
_HASH_MUL = np.uint64(0x100000001B3)  # FNV-1a prime
_HASH_SEED = np.uint64(0xCBF29CE484222325)
_SEP = "\n"  # documents are folded together, joined by a separator character


def tokenizer_id(version: str | None = None) -> str:
    """What the tokens depend on: this module's token rules (``version``, by default
    today's), Unicode and OpenCC."""
    return f"{version or TOKENIZER_VERSION}|{inputs()}"


@lru_cache(maxsize=1)
def _fold_table() -> np.ndarray:
    """``fold()`` of every BMP character on its own (built once, then from the cache)."""
    return cached("lexical-fold", _build_fold_table, TOKENIZER_VERSION)[0]


@lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """Class of every BMP code point (built once, then from the cache)."""
    return cached("lexical-classes", _build_char_classes, TOKENIZER_VERSION)[0]


def _build_fold_table() -> tuple[np.ndarray]:
    """``fold()`` of every BMP character on its own, where it gives one character.

    Folding a whole corpus with NFKC and OpenCC costs seconds per 10M characters; a
    per-character table is a numpy gather. It differs from ``fold()`` only where OpenCC
    would convert a multi-character phrase differently, and queries use the same table.
    """
    skip = {ord(_SEP), *range(0xD800, 0xE000)}  # the separator and surrogates stay as is
    chars = [" " if cp in skip else chr(cp) for cp in range(0x10000)]
    nfkc = [unicodedata.normalize("NFKC", c).lower() for c in chars]
    nfkc = [m if len(m) == 1 and m != _SEP else c for m, c in zip(nfkc, chars, strict=True)]
    simplified = to_simplified(_SEP.join(nfkc)).split(_SEP)
    table = np.arange(0x10000, dtype=np.int64)
    for cp, (before, after) in enumerate(zip(nfkc, simplified, strict=True)):
        if cp not in skip:
            table[cp] = ord(after) if len(after) == 1 and after != _SEP else ord(before)
    return (table,)


def _build_char_classes() -> tuple[np.ndarray]:
    """Class of every BMP code point: Han-like (bigrammed), word (kept whole) or 0."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        if unicodedata.category(chr(cp))[0] in "LN":
            table[cp] = _WORD
    for lo, hi in (
        (0x3040, 0x30FF),  # kana
        (0x3400, 0x4DBF),  # CJK extension A
        (0x4E00, 0x9FFF),  # CJK unified ideographs
        (0xAC00, 0xD7AF),  # Hangul syllables
        (0xF900, 0xFAFF),  # CJK compatibility ideographs
    ):
        table[lo : hi + 1] = _HAN
    return (table,)


def _code_points(text: str) -> np.ndarray:
    """Folded code points of ``text`` (see ``_fold_table``); beyond the BMP unchanged."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    bmp = cps < 0x10000
    cps[bmp] = _fold_table()[cps[bmp]]
    return cps


def _classify(cps: np.ndarray) -> np.ndarray:
    """Class per code point; characters beyond the BMP are separators."""
    cls = np.zeros(len(cps), dtype=np.uint8)
    bmp = cps < 0x10000
    cls[bmp] = _char_classes()[cps[bmp]]
    # A dot between two digits is part of the number (6.4, 472.58).
    dots = np.flatnonzero(cps[1:-1] == ord(".")) + 1
    if len(dots):
        digit = (cps >= ord("0")) & (cps <= ord("9"))
        inner = dots[digit[dots - 1] & digit[dots + 1]]
        cls[inner] = _WORD
    return cls


def _keys(cps: np.ndarray, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """int64 token keys of folded code points, and the position where each token starts.

    Han bigram: c1 << 16 | c2; lone Han character: its code point; word run: a 40-bit
    FNV hash of its characters, offset by 2^40. The three ranges never overlap.
    """
    n = len(cps)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cls = _classify(cps)
    padded = np.concatenate(([0], cls, [0]))
    change = np.flatnonzero(padded[1:] != padded[:-1])  # run boundaries
    starts, ends = change[:-1], change[1:]
    keep = cls[np.minimum(starts, n - 1)] != 0
    starts, ends = starts[keep], ends[keep]
    run_cls = cls[starts]

    han = run_cls == _HAN
    # Han runs: every adjacent pair; single characters stand alone.
    han_mask = cls == _HAN
    # Adjacent Han characters are always in the same run (runs are maximal).
    pair = np.flatnonzero(han_mask[:-1] & han_mask[1:])
    single = starts[han][(ends[han] - starts[han]) == 1]
    bigram_keys = (cps[pair] << 16) | cps[pair + 1]
    single_keys = cps[single]

    wstarts, wends = starts[~han], ends[~han]
    word_keys = _hash_runs(cps, wstarts, wends)

    keys = np.concatenate((bigram_keys, single_keys, word_keys))
    pos = np.concatenate((pair, single, wstarts))
    if not ordered:  # the index does not need the tokens in text order
        return keys, pos
    order = np.argsort(pos, kind="stable")
    return keys[order], pos[order]


def _hash_runs(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """40-bit FNV-1a hash of each run cps[start:end], vectorized over runs."""
    h = np.full(len(starts), _HASH_SEED, dtype=np.uint64)
    lengths = ends - starts
    active = np.arange(len(starts))
    offset = 0
    while len(active):
        active = active[lengths[active] > offset]
        if not len(active):
            break
        h[active] = (h[active] ^ cps[starts[active] + offset].astype(np.uint64)) * _HASH_MUL
        offset += 1
    return (h >> np.uint64(24)).astype(np.int64) | _WORD_FLAG


def tokenize(text: str) -> list[str]:
    """The tokens of ``text`` as strings (bigrams, lone Han characters, whole words)."""
    cps = _code_points(text)
    folded = cps.astype(np.uint32).tobytes().decode("utf-32-le")
    cls = _classify(cps)
    tokens: list[str] = []
    i, n = 0, len(folded)
    while i < n:
        c = cls[i]
        j = i + 1
        while j < n and cls[j] == c:
            j += 1
        if c == _HAN:
            run = folded[i:j]
            tokens.extend([run] if j - i == 1 else [run[k : k + 2] for k in range(j - i - 1)])
        elif c == _WORD:
            tokens.append(folded[i:j])
        i = j
    return tokens


def query_keys(text: str) -> np.ndarray:
    """Distinct token keys of a query, in first-seen order."""
    keys, _ = _keys(_code_points(text))
    _, first = np.unique(keys, return_index=True)
    return keys[np.sort(first)]


def _corpus_keys(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token keys of all texts and the document index of each token."""
    # The table never maps a character to or from the separator, so boundaries survive.
    cps = _code_points(_SEP.join(t.replace(_SEP, " ") for t in texts))
    keys, pos = _keys(cps, ordered=False)
    seps = np.flatnonzero(cps == ord(_SEP))
    return keys, np.searchsorted(seps, pos)


def postings(
    texts: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Term-major postings of ``texts``: (vocab, indptr, docs, tf, doc_len).

    ``vocab`` holds the sorted token keys; the postings of ``vocab[i]`` are
    ``docs[indptr[i]:indptr[i+1]]`` (int32 text numbers, ascending) with their term
    frequencies ``tf`` (float32); ``doc_len`` is each text's token count (float32).
    """
    n_docs = len(texts)
    if n_docs >= _MAX_DOCS:
        raise ValueError(f"at most {_MAX_DOCS - 1} chunks per index")
    keys, doc = _corpus_keys(texts) if texts else (np.zeros(0, np.int64),) * 2
    doc_len = np.bincount(doc, minlength=n_docs).astype(np.float32)
    # One sort orders the (term, doc) pairs term-major with docs ascending: it gives
    # the vocabulary, document frequencies and term frequencies at once.
    packed = np.sort((keys << _DOC_BITS) | doc)
    new_pair = np.ones(len(packed), dtype=bool)
    new_pair[1:] = packed[1:] != packed[:-1]
    pair_start = np.flatnonzero(new_pair)
    tf = np.diff(np.append(pair_start, len(packed))).astype(np.float32)
    pairs = packed[pair_start]
    pair_term, pair_doc = pairs >> _DOC_BITS, pairs & (_MAX_DOCS - 1)
    new_term = np.ones(len(pairs), dtype=bool)
    new_term[1:] = pair_term[1:] != pair_term[:-1]
    term_start = np.flatnonzero(new_term)
    vocab = pair_term[term_start]
    indptr = np.append(term_start, len(pairs)).astype(np.int64)
    return vocab, indptr, pair_doc.astype(np.int32), tf, doc_len


def bm25_idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """Lucene/bm25s IDF of terms with document frequencies ``df`` (float32)."""
    return np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


def average_length(doc_len: np.ndarray) -> float:
    """Mean token count (float32 mean, as the weights were always computed); 1 if none."""
    return float(doc_len.mean()) if len(doc_len) and doc_len.sum() else 1.0


def bm25_weights(
    idf: np.ndarray, tf: np.ndarray, doc_len: np.ndarray, avg_len: float, k1: float, b: float
) -> np.ndarray:
    """BM25 weight of each (term, doc) posting, float32. Element-wise, so computing it
    for some postings at query time gives the same bits as for all at build time."""
    norm = k1 * (1 - b + b * doc_len / avg_len)
    return (idf * tf / (tf + norm)).astype(np.float32)


class LexicalIndex:
    """BM25 (Lucene variant, k1=1.5, b=0.75 as bm25s) over chunk ids."""

    def __init__(
        self,
        ids: list[str],
        vocab: np.ndarray,
        indptr: np.ndarray,
        docs: np.ndarray,
        weights: np.ndarray,
        idf: np.ndarray,
        k1: float = K1,
        b: float = B,
    ) -> None:
        self.ids = ids
        self.vocab = vocab  # sorted token keys
        self.indptr = indptr  # postings of vocab[i] are docs/weights[indptr[i]:indptr[i+1]]
        self.docs = docs
        self.weights = weights  # precomputed BM25 term weight per (term, doc)
        self.idf = idf
        self.k1, self.b = k1, b

    @classmethod
    def build(cls, ids: list[str], texts: list[str], k1: float = K1, b: float = B) -> LexicalIndex:
        """Index ``texts`` (one per id). About 3 s for 100k 300-character chunks."""
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        if len(ids) >= _MAX_DOCS:
            raise ValueError(f"at most {_MAX_DOCS - 1} chunks per index")
        n_docs = len(ids)
        vocab, indptr, docs, tf, doc_len = postings(texts)
        idf = bm25_idf(n_docs, np.diff(indptr).astype(np.float32))
        term_of_pair = np.repeat(np.arange(len(vocab)), np.diff(indptr))
        weights = bm25_weights(idf[term_of_pair], tf, doc_len[docs], average_length(doc_len), k1, b)
        return cls(list(ids), vocab, indptr, docs, weights, idf, k1, b)

    def __len__(self) -> int:
        return len(self.ids)

    def _rows(self, text: str) -> np.ndarray:
        keys = query_keys(text)
        if not len(keys) or not len(self.vocab):
            return np.zeros(0, np.int64)
        rows = np.minimum(np.searchsorted(self.vocab, keys), len(self.vocab) - 1)
        return rows[self.vocab[rows] == keys]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (float32, in id order); repeated query terms count once."""
        out = np.zeros(len(self.ids), dtype=np.float32)
        for row in self._rows(query):
            lo, hi = self.indptr[row], self.indptr[row + 1]
            out[self.docs[lo:hi]] += self.weights[lo:hi]  # docs are distinct within a row
        return out

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (id, score), best first; chunks sharing no token are left out."""
        if k <= 0 or not self.ids:
            return []
        scores = self.scores(query)
        top = top_k(scores, k)
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def term_idf(self, tokens: list[str]) -> dict[str, float]:
        """IDF of each string token (from ``tokenize``); 0 for tokens not in the index."""
        out: dict[str, float] = {}
        for token in tokens:
            rows = self._rows(token)
            keys = query_keys(token)
            out[token] = float(self.idf[rows[0]]) if len(keys) == 1 and len(rows) else 0.0
        return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]
