"""The answering chain the product runs (``rag.answer.chain.build_chain``) over a retriever
that returns the same passages for every question: for tests of what the chain does
after retrieval (rewrite, translation, prompt, streaming, checks, fallbacks). The LLM is
the fake OpenAI server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.answer.chain import StreamItem, build_chain
from rag.answer.llm import DEFAULT_MAX_RETRIES
from rag.core.config import Settings
from rag.core.types import Answer, Hit


@dataclass
class FixedPassages:
    """Returns ``hits`` (at most k) for any query; records each search."""

    hits: Sequence[Hit]
    searches: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def search(
        self, query: str, k: int = 5, filters: Any = None, extra_queries: Sequence[str] = ()
    ) -> list[Hit]:
        self.searches.append((query, tuple(extra_queries)))
        return list(self.hits[:k])


def chain_stream(
    question: str,
    hits: Sequence[Hit],
    settings: Settings,
    *,
    history: Sequence[tuple[str, str]] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> list[StreamItem]:
    """Every item ``chain.stream`` yields for ``question``: the deltas, then the Answer."""
    chain = build_chain(FixedPassages(hits), settings, max_retries=max_retries)
    return list(chain.stream({"question": question, "history": list(history or [])}))


def chain_answer(
    question: str,
    hits: Sequence[Hit],
    settings: Settings,
    *,
    history: Sequence[tuple[str, str]] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> Answer:
    """The Answer of ``chain.invoke`` (which consumes the same stream)."""
    chain = build_chain(FixedPassages(hits), settings, max_retries=max_retries)
    result = chain.invoke({"question": question, "history": list(history or [])})
    assert isinstance(result, Answer), result
    return result
