"""The question-answering service: retrieval + answering, models and indexes kept loaded.

``Assistant`` is the reusable object (UI, batch ``rag ask``); ``ask()`` is the one-call
convenience that builds one for a single question. With an LLM, questions go through
the answering chain (``rag.answer.chain.build_chain``); without one, the extractive
answerer quotes the passages (no LangChain import, so ``rag ask`` starts sooner).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.core.config import Settings, apply_offline_env
from rag.core.text.fold import variants
from rag.core.types import Answer, Delta, Hit
from rag.retrieval.hybrid import Filters, HybridRetriever

MAX_QUESTION_CHARS = 2000
Turn = tuple[str, str]  # (user question, assistant answer)


@dataclass(frozen=True)
class Retrieval:
    """The passages found for a question, and how the extractive answerer reads it."""

    analysis: str  # the text analysed: the standalone question, or its glossary terms
    lang: str  # the language of the answer or refusal
    hits: list[Hit]


class QuestionError(ValueError):
    """A question that cannot be asked as given (empty, too long)."""


class Assistant:
    """Answers questions over one store. Create once, ask many times."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        db: str | Path | None = None,
        create: bool = False,
    ) -> None:
        """``create``: make an empty store when there is none (the UI, which can ingest
        uploads); otherwise a missing store is a ``StoreError`` naming where it looked."""
        apply_offline_env()  # the library's entry point: offline before any model loads
        self.settings = (settings or Settings.from_env()).with_(db=Path(db) if db else None)
        self.retriever = HybridRetriever.open(self.settings, create=create)
        self.chain = None  # the LLM answering chain, when an LLM is configured
        if self.settings.llm_configured:
            from rag.answer.chain import build_chain

            self.chain = build_chain(self.retriever, self.settings)

    @property
    def mode(self) -> dict[str, str]:
        """What answers: embedder, retrieval and LLM (its endpoint without credentials).
        The CLI, the UI status line, the serve banner and eval reports all show this."""
        from rag.answer.llm import endpoint_label
        from rag.core.embed import describe

        llm = (
            f"{self.settings.llm_model or 'default model'} via {endpoint_label(self.settings)}"
            if self.settings.llm_configured
            else "extractive (no LLM configured)"
        )
        return {
            "embedder": describe(self.retriever.store.embedder),
            "retrieval": self.retriever.describe(),
            "llm": llm,
        }

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
    ) -> Answer:
        """Answer one question with cited passages, or refuse."""
        answer: Answer | None = None
        for item in self.stream(question, history=history, k=k, filters=filters):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        *,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
    ) -> Iterator[Delta | Answer]:
        """Text deltas as they are generated, then the final verified Answer."""
        question = check_question(question)
        history = list(history or [])
        filters = to_filters(filters)
        k = self.settings.top_k if k is None else k
        if k < 1:
            raise QuestionError(f"k must be at least 1 (got {k})")
        from rag.core.text.lang import unsupported_language

        language = unsupported_language(question)
        if language is not None:
            answer = self._unsupported(language)
            yield Delta(answer.text)
            yield answer
            return
        if self.chain is not None:
            inputs = {"question": question, "history": history, "k": k, "filters": filters}
            for item in self.chain.stream(inputs):
                if isinstance(item, Answer):
                    item = replace(item, mode={**self.mode, **item.mode})
                yield item
            return
        from rag.answer.chain import extractive_answer

        found = self.retrieve(question, history=history, k=k, filters=filters)
        answer = extractive_answer(found.analysis, found.hits, found.lang)
        mode = {**self.mode, **{k: v for k, v in answer.mode.items() if k != "llm"}}
        answer = replace(answer, mode=mode)
        yield Delta(answer.text)
        yield answer

    def retrieve(
        self,
        question: str,
        *,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
    ) -> Retrieval:
        """What the offline answerer is given for ``question``: the passages retrieved for
        it (a follow-up searched with its topic; English also with glossary terms), the
        text to analyse and the answer's language. Benchmarks and training use this, so
        they see exactly what ``ask`` does."""
        from rag.analysis.glossary import translation_for
        from rag.answer.rewrite import answer_lang, standalone_offline

        k = self.settings.top_k if k is None else k
        filters = to_filters(filters)
        standalone = standalone_offline(question, list(history or []))
        lang = answer_lang(question, standalone)
        translation = translation_for(standalone, lang)
        if translation is None:
            return Retrieval(standalone, lang, self.retriever.search(standalone, k, filters))
        # English over Chinese articles: search and check with glossary terms.
        extra = [translation.search, *variants(translation.search)[1:]]
        hits = self.retriever.search(standalone, k, filters, extra_queries=extra)
        return Retrieval(translation.analysis, "en", hits)

    def _unsupported(self, language: str) -> Answer:
        """The answer to a question in a language the service does not read."""
        from rag.core.text.lang import unsupported_message

        mode = {**self.mode, "llm": "not called (unsupported language)"}
        mode["refusal"] = f"question in {language}"
        return Answer(unsupported_message(language), refused=True, mode=mode)


def ask(
    question: str,
    *,
    db: str | Path | None = None,
    history: Sequence[Turn] | None = None,
    k: int | None = None,
    filters: Filters | dict[str, Any] | None = None,
) -> Answer:
    """Answer one question (loads everything; use ``Assistant`` for many questions)."""
    return Assistant(db=db).ask(question, history=history, k=k, filters=filters)


def check_question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(question):,} characters long; "
            f"the limit is {MAX_QUESTION_CHARS:,}"
        )
    return question


def to_filters(filters: Filters | dict[str, Any] | None) -> Filters:
    if filters is None or isinstance(filters, Filters):
        return filters or Filters()
    sources = filters.get("sources") or filters.get("source") or ()
    if isinstance(sources, str):
        sources = (sources,)
    return Filters(since=filters.get("since"), until=filters.get("until"), sources=tuple(sources))
