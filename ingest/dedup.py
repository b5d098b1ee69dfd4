"""Near-duplicate detection: MinHash over character shingles, banded LSH. Pure functions."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from rag.core.text.fold import fold

NUM_HASHES = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.6 Jaccard almost always meet in a band
SHINGLE = 5
MAX_BUCKET = 50
# One seed per hash function, fixed: signatures must be stable across runs.
_SEEDS = np.random.default_rng(20251209).integers(0, 2**63, NUM_HASHES, dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a full-avalanche 64-bit hash (wrapping arithmetic).

    A linear (a*x + b) mod p family with 31-bit a and x is nearly monotone in x, so every
    function would pick the same minimum shingle; this does not.
    """
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signature(text: str) -> np.ndarray:
    """MinHash signature (uint32[NUM_HASHES]) of the text's folded character shingles."""
    chars = np.frombuffer("".join(fold(text).split()).encode("utf-32-le"), dtype=np.uint32).astype(
        np.uint64
    )
    if len(chars) < SHINGLE:
        chars = np.pad(chars, (0, SHINGLE - len(chars)))
    shingles = np.zeros(len(chars) - SHINGLE + 1, dtype=np.uint64)
    for offset in range(SHINGLE):  # polynomial rolling hash, wraps mod 2**64
        shingles = shingles * np.uint64(1_000_003) + chars[offset : offset + len(shingles)]
    hashed = _mix(np.unique(shingles)[None, :] ^ _SEEDS[:, None])
    return (hashed.min(axis=1) >> np.uint64(32)).astype(np.uint32)


def to_hex(sig: np.ndarray) -> str:
    return sig.astype(">u4").tobytes().hex()


def from_hex(text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(text), dtype=">u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return np.count_nonzero(a == b) / NUM_HASHES


def near_duplicates(
    new: dict[str, np.ndarray], old: dict[str, np.ndarray], threshold: float = 0.8
) -> list[tuple[str, str, float]]:
    """(new_id, other_id, similarity) for each new document close to another one.

    ``other_id`` may be another new document or an old one; each pair is listed once.
    A band shared by very many documents is boilerplate, not syndication: skipped.
    """
    if not new:
        return []
    rows = NUM_HASHES // BANDS

    def bands(sig: np.ndarray) -> list[tuple[int, bytes]]:
        return [(b, sig[b * rows : (b + 1) * rows].tobytes()) for b in range(BANDS)]

    # Buckets only for the new documents' bands: an old document joins one only if it
    # shares that band, so a run costs O(new + old) band lookups, never all pairs.
    wanted = {key for sig in new.values() for key in bands(sig)}
    buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
    everything = {**old, **new}
    for doc_id, sig in everything.items():
        for key in bands(sig):
            if key in wanted:
                buckets[key].append(doc_id)
    seen: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str, float]] = []
    for members in buckets.values():
        if len(members) < 2 or len(members) > MAX_BUCKET:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a == b or (a not in new and b not in new):
                    continue
                first, second = (a, b) if a in new else (b, a)
                key = (min(a, b), max(a, b))
                if key in seen:
                    continue
                seen.add(key)
                score = similarity(everything[a], everything[b])
                if score >= threshold:
                    pairs.append((first, second, round(score, 3)))
    return sorted(pairs)
