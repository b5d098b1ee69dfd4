"""Plain data types inside ingest: a raw input, a cleaned page, an Article (a Chunk,
which crosses to the store, lives in rag.core.types)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CleanedPage:
    """What cleaning keeps of one page: metadata plus body paragraphs, verbatim.

    ``published`` is an ISO date or datetime when it could be parsed, else the string
    as given (a bad date never fails a page), else None.
    """

    title: str
    paragraphs: tuple[str, ...]
    published: str | None = None
    source: str | None = None
    url: str | None = None
    byline: str | None = None

    @property
    def text(self) -> str:
        """The cleaned body: paragraphs joined by a newline. Chunk offsets index into it."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class RawDocument:
    """One unit of input before cleaning: a whole file, or one line of a .jsonl file."""

    path: str  # the file it came from (resolved path)
    kind: str  # "txt", "html", "md" or "jsonl"
    raw_hash: str  # sha256 of the raw bytes of this unit
    data: bytes = b""  # raw bytes (txt/html/md)
    record: dict | None = None  # the parsed JSON object (jsonl)
    line: int | None = None  # 1-based line number (jsonl)

    @property
    def where(self) -> str:
        """Human name for messages: the path, plus the line for jsonl."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True)
class Article:
    """A cleaned article with its identity, ready to chunk."""

    doc_id: str
    title: str
    text: str
    published: str | None
    source: str | None
    url: str | None
    path: str
    content_hash: str  # of the text and its citation metadata: what decides re-embedding
    raw_hash: str  # sha256 of the raw input: what decides re-cleaning
