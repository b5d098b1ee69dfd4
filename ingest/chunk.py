"""Sentence-aware chunking for Chinese and English text. Pure functions."""

from __future__ import annotations

from ingest.models import Article
from rag.core.text.sentences import cut_long, split_sentences
from rag.core.types import Chunk


def chunk_spans(text: str, size: int = 300, overlap: int = 1) -> list[tuple[int, int]]:
    """Offsets of chunks of at most ``size`` characters made of whole sentences.

    Neighbouring chunks share their last/first ``overlap`` sentences when those fit.
    A sentence is split only when it alone is longer than ``size``.
    """
    if size < 20:
        raise ValueError(f"chunk size {size} is too small (minimum 20 characters)")
    sentences: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        sentences.extend(cut_long(text, start, end, size))
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
