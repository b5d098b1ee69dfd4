"""Rank fusion: combine several best-first id lists into one."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(
    rankings: Sequence[Sequence[str]],
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(id) = sum of weight / (k + rank), rank 1-based.

    Best first. Equal scores keep the order in which the ids were first seen (lists
    in the given order, each best first), so the result is deterministic. An id
    repeated within one list counts at its best rank only.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    if k < 0:
        raise ValueError("k must be >= 0")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[str] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    # dicts keep insertion (first-seen) order and sorted() is stable: ties keep it.
    return sorted(scores.items(), key=lambda kv: -kv[1])


def min_max(scores: Sequence[float]) -> list[float]:
    """Scores scaled to [0, 1] (all 1.0 when they are equal); for mixing score scales."""
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi == lo:
        return [1.0] * len(scores)
    return [(s - lo) / (hi - lo) for s in scores]
