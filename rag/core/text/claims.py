"""An answer's claims: its sentences, each with the [n] markers that belong to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.core.text.sentences import split_sentences
from rag.core.types import CITATION_MARKER, marker_numbers


@dataclass(frozen=True)
class Claim:
    """A sentence of an answer and the citation markers that belong to it."""

    start: int  # offsets of the sentence in the answer (markers included)
    end: int
    text: str  # the sentence without its markers, stripped; "" when it has none else
    markers: tuple[re.Match[str], ...]

    @property
    def numbers(self) -> list[int]:
        """The source numbers its markers name, in order, repeats kept."""
        return [n for m in self.markers for n in marker_numbers(m)]


def split_claims(answer: str) -> list[Claim]:
    """Every sentence of ``answer`` with its markers.

    A marker run opening a sentence (split_sentences cuts "…。[1]" before the marker)
    belongs to the closest sentence before it that has words; with none, it stays where
    it is. So "A。[1]", "A\\n[1]" and "A\\n[1]\\n[2]" all cite [1] (and [2]) for A.
    """
    spans = split_sentences(answer)
    texts = [CITATION_MARKER.sub("", answer[start:end]).strip() for start, end in spans]
    markers: list[list[re.Match[str]]] = [[] for _ in spans]
    for m in CITATION_MARKER.finditer(answer):
        index = next((i for i, (s, e) in enumerate(spans) if s <= m.start() < e), None)
        if index is None:
            continue
        leading = not CITATION_MARKER.sub("", answer[spans[index][0] : m.start()]).strip()
        if leading:
            earlier = next((j for j in range(index - 1, -1, -1) if texts[j]), None)
            index = index if earlier is None else earlier
        markers[index].append(m)
    return [
        Claim(start, end, text, tuple(found))
        for (start, end), text, found in zip(spans, texts, markers, strict=True)
    ]
