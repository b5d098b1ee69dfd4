"""Near-duplicate detection: banded LSH compares only documents that share a band."""

from __future__ import annotations

import numpy as np
import pytest

from ingest import dedup
from tests.synth import article_text

pytestmark = pytest.mark.unit


def test_lsh_compares_only_candidates_and_finds_the_near_copy(monkeypatch):
    old = {f"old{i}": dedup.signature(article_text(i)) for i in range(3000)}
    text = article_text(7)
    new = {
        "copy-of-7": dedup.signature(text.replace("。", "！", 1)),  # one character changed
        "fresh": dedup.signature(article_text(99_999)),
    }
    compared = []
    real = dedup.similarity

    def counting(a: np.ndarray, b: np.ndarray) -> float:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(dedup, "similarity", counting)
    pairs = dedup.near_duplicates(new, old)
    assert [(a, b) for a, b, _ in pairs] == [("copy-of-7", "old7")]
    # All pairs would be 2 x 3000 comparisons; LSH compares a handful.
    assert len(compared) < 50
    assert dedup.near_duplicates({}, old) == []
