"""Text normalization for matching: Traditional -> Simplified, width and case folding.

Only used to compare text (embedding, lexical search, citation checks). Stored and
displayed text is never converted.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified (OpenCC t2s). Keeps the length in practice."""
    return _t2s().convert(text) if text else text


def fold(text: str) -> str:
    """Text for matching: NFKC (full-width -> ASCII), lower case, Simplified script."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())
