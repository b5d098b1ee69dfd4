"""Sentence boundaries in Chinese and English text, and cutting over-long sentences.
Pure functions over offsets: callers slice the original text."""

from __future__ import annotations

import re

# A sentence ends at Chinese 。！？；… (runs of them), or at English .!? followed by
# whitespace; closing quotes and brackets that follow stay with their sentence.
_CLOSERS = "」』”’\"'）)】》"
_SENTENCE_END = re.compile(
    rf"(?:[。！？；!?;]+|…+|\.{{3,}})[{_CLOSERS}]*"
    rf"|(?<=[a-zA-Z0-9%\)])(?<!\b[A-Z])[.!?]+[{_CLOSERS}]*(?=\s|$)"
)
# Where an over-long sentence may be cut, best first.
_SOFT_BREAKS = "，、,：: "


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``; newlines always end one.

    Leading whitespace is not part of a sentence; text between sentences is kept with
    the sentence after it only if it is not whitespace.
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pos, line_end = line.start(), line.end()
        for match in _SENTENCE_END.finditer(text, pos, line_end):
            _add_span(text, spans, pos, match.end())
            pos = match.end()
        _add_span(text, spans, pos, line_end)
    return spans


def _add_span(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def cut_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut one sentence longer than ``size`` at soft breaks (commas), else hard."""
    pieces: list[tuple[int, int]] = []
    while end - start > size:
        window = text[start : start + size]
        cut = max(window.rfind(ch) for ch in _SOFT_BREAKS)
        cut = start + cut + 1 if cut >= size // 2 else start + size
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces
