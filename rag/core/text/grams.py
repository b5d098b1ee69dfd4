"""Character bigrams and word sets of folded text, and the overlap measures built on them.

Each measure is a small named function, because each user asks a different question:
how much of a term or claim a text holds (``found_in``, ``share_in``), how alike two sentences are
(``overlap_of_shorter``), how much of a claim's wording a source holds
(``wording_overlap``). Inputs are ``fold()``ed text.
"""

from __future__ import annotations

import re

from rag.core.text.lang import CJK
from rag.core.text.words import EN_CLAIM_STOP

_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")


def bigrams(text: str) -> set[str]:
    """Every pair of adjacent characters of ``text``."""
    return {text[i : i + 2] for i in range(len(text) - 1)}


def cjk_bigrams(text: str) -> set[str]:
    """The pairs of adjacent characters whose second one is a Han character: Chinese
    wording, without the pairs inside Latin words and numbers."""
    return {text[i : i + 2] for i in range(len(text) - 1) if CJK.match(text[i + 1])}


def content_words(text: str) -> set[str]:
    """Latin words and numbers of two or more characters, function words left out
    (EN_CLAIM_STOP)."""
    return {w for w in _WORD.findall(text) if w not in EN_CLAIM_STOP and len(w) > 1}


def found_in(grams: set[str], text: str) -> int:
    """How many of ``grams`` occur in ``text`` (as substrings)."""
    return sum(g in text for g in grams)


def share_in(grams: set[str], text: str) -> float:
    """Share of ``grams`` that occur in ``text`` (as substrings); 0 when there are none."""
    if not grams:
        return 0.0
    return found_in(grams, text) / len(grams)


def overlap_of_shorter(a: str, b: str) -> float:
    """How alike two texts are: the share of the shorter one's bigrams (as a set, the one
    with fewer distinct bigrams) that the other has too; 0 when either has none."""
    ga, gb = bigrams(a), bigrams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def wording_overlap(claim: str, source: str) -> float:
    """How much of a claim's wording ``source`` holds: the share of the claim's Chinese
    bigrams found in it, or for a claim without Chinese the share of its content words
    among the source's; 1 when the claim has neither (nothing to compare)."""
    grams = cjk_bigrams(claim)
    if grams:
        return share_in(grams, source)
    words = content_words(claim)
    if not words:
        return 1.0
    return len(words & content_words(source)) / len(words)
