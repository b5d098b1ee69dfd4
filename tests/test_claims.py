"""Citation markers (rag.core.types: marker_numbers, cited_numbers) and an answer's claims
(rag.core.text.claims.split_claims)."""

from __future__ import annotations

import pytest

from rag.core.text.claims import split_claims
from rag.core.types import CITATION_MARKER, cited_numbers, marker_numbers

pytestmark = pytest.mark.unit


def test_marker_numbers_every_separator() -> None:
    text = "[1] [2, 3] [4，5] [6、7] [ 8 ] [9 ,10] [x] [1 2]"
    assert [marker_numbers(m) for m in CITATION_MARKER.finditer(text)] == [
        [1], [2, 3], [4, 5], [6, 7], [8], [9, 10]
    ]  # fmt: skip
    assert cited_numbers("A[2][1]。B[2]") == [2, 1, 2]  # in order, repeats kept
    assert cited_numbers("no markers, [a]") == []


def _view(answer: str) -> list[tuple[str, list[int]]]:
    return [(c.text, c.numbers) for c in split_claims(answer)]


def test_markers_belong_to_their_sentence_or_the_one_before() -> None:
    assert _view("甲说了一件事[1]。乙说了另一件[2]。") == [
        ("甲说了一件事。", [1]),
        ("乙说了另一件。", [2]),
    ]
    # "。[1]" splits before the marker: the run belongs to the sentence before.
    assert _view("甲说了一件事。[1][2]乙说了另一件。[3]") == [
        ("甲说了一件事。", [1, 2]),
        ("乙说了另一件。", [3]),
        ("", []),  # the "[3]" after 。, its markers given away
    ]
    # A marker after words stays with its own sentence.
    assert _view("甲。乙 [1] 丙 [2]") == [("甲。", []), ("乙  丙", [1, 2])]


def test_markers_on_lines_of_their_own_go_to_the_last_sentence_with_words() -> None:
    claims = split_claims("甲说了一件事\n[1]\n[2] 乙说了另一件")
    assert [(c.text, c.numbers) for c in claims] == [
        ("甲说了一件事", [1, 2]),
        ("", []),
        ("乙说了另一件", []),
    ]
    # Before any sentence with words, markers stay where they are.
    assert _view("[1]\n甲说了一件事") == [("", [1]), ("甲说了一件事", [])]


def test_claim_offsets_point_into_the_answer() -> None:
    answer = "根据文章：\n大桥全长12公里。[1]"
    claims = split_claims(answer)
    assert [answer[c.start : c.end] for c in claims] == ["根据文章：", "大桥全长12公里。", "[1]"]
    assert claims[1].markers[0].group(0) == "[1]"
