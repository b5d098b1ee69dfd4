"""Sentence boundaries in Chinese and English text, and cutting over-long sentences.
Pure functions over offsets: callers slice the original text."""

from __future__ import annotations

import re
import string

# A sentence ends at Chinese 。！？；… (runs of them), or at English .!? followed by
# whitespace; closing quotes and brackets that follow stay with their sentence.
_CLOSERS = "」』”’\"'）)】》"
_SENTENCE_END = re.compile(
    rf"(?:[。！？；!?;]+|…+|\.{{3,}})[{_CLOSERS}]*"
    rf"|(?<=[a-zA-Z0-9%\)])(?<!\b[A-Z])[.!?]+[{_CLOSERS}]*(?=\s|$)"
)
# Where an over-long sentence may be cut (the last one in reach is taken). Two sets, as
# each user has always cut: chunking also at colons and spaces (English clauses), quoting
# (rag.analysis.evidence) also at semicolons but not at spaces.
CHUNK_BREAKS = "，、,：: "
QUOTE_BREAKS = "，,、；："
# Characters of numbers, dates, codes and Latin words (2022-03-15, 3.5%, h20): a cut
# between two of them would split one token.
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-./:%,")


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


def cut_long(
    text: str,
    start: int,
    end: int,
    size: int,
    *,
    breaks: str = CHUNK_BREAKS,
    shortest: int | None = None,
    whole_tokens: bool = False,
    skip_space: bool = False,
) -> list[tuple[int, int]]:
    """Offsets of the pieces of the sentence ``text[start:end]``, each at most ``size``
    long: cut after the last of ``breaks`` in reach when that leaves a piece of at least
    ``shortest`` characters (default ``size // 2``), else hard at ``size``.

    ``whole_tokens`` moves a cut back out of a number, date or Latin word
    (…公告 2022-0|3-15); ``skip_space`` starts the next piece after the whitespace that
    follows a cut. The defaults are the chunker's rule; the quote splitter
    (rag.analysis.evidence) uses QUOTE_BREAKS, a third of the size, and both options.
    """
    shortest = size // 2 if shortest is None else shortest
    pieces: list[tuple[int, int]] = []
    while end - start > size:
        window = text[start : start + size]
        cut = max(window.rfind(ch) for ch in breaks)
        cut = start + cut + 1 if cut >= shortest else start + size
        while (
            whole_tokens
            and cut > start + 1
            and text[cut - 1] in _TOKEN_CHARS
            and text[cut] in _TOKEN_CHARS
        ):
            cut -= 1
        pieces.append((start, cut))
        start = cut
        while skip_space and start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces
