"""Plain data types that cross layers: a stored Chunk, a retrieval Hit, a Citation, an
Answer. All frozen: a stage that changes one returns a new one (``dataclasses.replace``),
so an object handed on never changes under its holder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: text plus where it sits in the article's cleaned text."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int  # character offset into Article.text
    end: int
    title: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def embedding_input(self) -> str:
        """What the embedder sees of this chunk (``embedding_input``)."""
        return embedding_input(self.title, self.text)


def embedding_input(title: str, text: str) -> str:
    """The text a chunk is embedded as: its title, then its text. The title gives every
    chunk of an article its topic; it is embedded, not stored in the chunk text, so
    quotes and offsets stay exact."""
    return f"{title}\n{text}"


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, with the scores that ranked it."""

    chunk_id: str
    doc_id: str
    text: str
    title: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    start: int = 0  # offsets of the passage in the article's cleaned text
    end: int = 0
    score: float = 0.0  # the final (fused or reranked) score
    dense_score: float | None = None
    lexical_score: float | None = None
    rank: int = 0  # 1-based rank in the final list

    def to_json(self) -> dict[str, Any]:
        """The passage as an answer's context in JSON (``rag ask --json``)."""
        return {
            "rank": self.rank,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Citation:
    """A [n] marker in an answer and the passage span it points at."""

    n: int  # the marker number, 1-based into Answer.contexts
    doc_id: str
    chunk_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    quote: str  # verbatim text of the cited passage
    quote_start: int  # offsets of the quote inside the passage text
    quote_end: int
    supported: bool = True  # False when the citation check could not verify it
    # When not supported: the answer sentence the marker belongs to, the type of the
    # failed check (negation, modality, degree, antonym, entity, number, date,
    # unsupported wording) and why, for the UI to mark that sentence.
    claim: str = ""
    type: str = ""
    reason: str = ""

    def to_json(self, *, provenance: bool = True, replay: bool = False) -> dict[str, Any]:
        """The citation in JSON: ``n``, ``doc_id``, ``title``, ``quote``, plus

        provenance: ``source``, ``published``, ``url`` (to follow the source up: the
        ``rag ask --json`` contract);
        replay: ``chunk_id`` and the check's ``supported`` (which passage was quoted and
        whether it was verified: what the feedback log keeps to replay an answer).
        """
        out: dict[str, Any] = {"n": self.n, "doc_id": self.doc_id}
        if replay:
            out["chunk_id"] = self.chunk_id
        out["title"] = self.title
        if provenance:
            out.update(source=self.source, published=self.published, url=self.url)
        out["quote"] = self.quote
        if replay:
            out["supported"] = self.supported
        return out


def citation_for(
    n: int,
    hit: Hit,
    start: int,
    end: int,
    supported: bool = True,
    *,
    claim: str = "",
    type: str = "",
    reason: str = "",
) -> Citation:
    """A Citation of ``hit.text[start:end]`` as source [n] (with the check's verdict on
    ``claim`` when it is not supported)."""
    return Citation(
        n=n,
        doc_id=hit.doc_id,
        chunk_id=hit.chunk_id,
        title=hit.title,
        source=hit.source,
        published=hit.published,
        url=hit.url,
        quote=hit.text[start:end],
        quote_start=start,
        quote_end=end,
        supported=supported,
        claim=claim,
        type=type,
        reason=reason,
    )


@dataclass(frozen=True)
class Delta:
    """A piece of answer text as it is generated (streaming)."""

    text: str


# The mode entries every ``rag ask --json`` answer carries ("" when unset).
MODE_KEYS = ("embedder", "retrieval", "llm")


@dataclass(frozen=True)
class Answer:
    """What the service returns: the text, whether it refused, the citations, the
    passages given to the answerer (``contexts``; [n] is ``contexts[n-1]``), how it was
    made (``mode``) and what the reader must know (``warnings``)."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    contexts: list[Hit] = field(default_factory=list)
    mode: dict[str, str] = field(default_factory=dict)  # embedder, retrieval, llm
    warnings: list[str] = field(default_factory=list)

    def to_json(self, question: str, *, replay: bool = False) -> dict[str, Any]:
        """The answer to ``question`` in JSON.

        Default: the ``rag ask --json`` contract (citations with provenance, contexts
        with their text and score, the three ``MODE_KEYS``, warnings). ``replay``: what
        the feedback log keeps to replay the answer in an eval, small enough for a line
        per rating: citations with chunk id and check verdict, contexts as chunk ids (the
        store holds their text), the whole mode, no warnings.
        """
        out: dict[str, Any] = {
            "question": question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_json(provenance=not replay, replay=replay) for c in self.citations],
        }
        if replay:
            out["contexts"] = [h.chunk_id for h in self.contexts]
            out["mode"] = dict(self.mode)
            return out
        out["contexts"] = [h.to_json() for h in self.contexts]
        out["mode"] = {key: self.mode.get(key, "") for key in MODE_KEYS}
        out["warnings"] = list(self.warnings)
        return out


REFUSAL_ZH_HANT = "文章中沒有足夠的資訊回答這個問題。"
REFUSAL_ZH_HANS = "文章中没有足够的信息回答这个问题。"
REFUSAL_EN = "The articles do not contain enough information to answer this question."

# A citation marker in answer text: [1], [1, 2], [1，2], [1、2]. Group 1 holds the numbers.
CITATION_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*\]")
_MARKER_SEPARATOR = re.compile(r"\s*[,，、]\s*")


def marker_numbers(marker: re.Match[str]) -> list[int]:
    """The source numbers one CITATION_MARKER match names, in order ([1，2] -> [1, 2])."""
    return [int(n) for n in _MARKER_SEPARATOR.split(marker.group(1))]


def cited_numbers(text: str) -> list[int]:
    """The source numbers of every [n] marker in ``text``, in order, repeats kept."""
    return [n for m in CITATION_MARKER.finditer(text) for n in marker_numbers(m)]
