"""Sentence-aware chunking for Chinese and English text. Pure functions."""

from __future__ import annotations

import re

from ingest.models import Article, Chunk

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


def _cut_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
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


def chunk_spans(text: str, size: int = 300, overlap: int = 1) -> list[tuple[int, int]]:
    """Offsets of chunks of at most ``size`` characters made of whole sentences.

    Neighbouring chunks share their last/first ``overlap`` sentences when those fit.
    A sentence is split only when it alone is longer than ``size``.
    """
    if size < 20:
        raise ValueError(f"chunk size {size} is too small (minimum 20 characters)")
    sentences: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        sentences.extend(_cut_long(text, start, end, size))
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        first = i
        end = sentences[i][1]
        i += 1
        while i < len(sentences) and sentences[i][1] - sentences[first][0] <= size:
            end = sentences[i][1]
            i += 1
        chunks.append((sentences[first][0], end))
        if i >= len(sentences):
            break
        # Step back for the overlap, but always make progress past ``first``.
        back = max(first + 1, i - overlap)
        while back < i and sentences[i][1] - sentences[back][0] > size:
            back += 1
        i = back
    return chunks


def chunk_article(article: Article, size: int = 300, overlap: int = 1) -> list[Chunk]:
    """Chunks of an article; ids are versioned by content so a new version never
    overwrites the old one before it is complete."""
    version = article.content_hash[:12]
    chunks = []
    for index, (start, end) in enumerate(chunk_spans(article.text, size, overlap)):
        chunks.append(
            Chunk(
                chunk_id=f"{article.doc_id}:{version}:{index}",
                doc_id=article.doc_id,
                index=index,
                text=article.text[start:end],
                start=start,
                end=end,
                title=article.title,
                published=article.published,
                source=article.source,
                url=article.url,
            )
        )
    return chunks
