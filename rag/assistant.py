"""The question-answering service: retrieval + answering, models and indexes kept loaded.

``Assistant`` is the reusable object (UI, batch ``rag ask``); ``ask()`` is the one-call
convenience that builds one for a single question.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.core.config import Settings, apply_offline_env
from rag.core.text.fold import variants
from rag.core.types import Answer, Delta
from rag.retrieval.hybrid import Filters, HybridRetriever

MAX_QUESTION_CHARS = 2000
Turn = tuple[str, str]  # (user question, assistant answer)


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
        apply_offline_env()
        self.settings = (settings or Settings.from_env()).with_(db=Path(db) if db else None)
        self.retriever = HybridRetriever.open(self.settings, create=create)

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
        if self.settings.llm_configured:
            yield from self._stream_llm(question, history, k, filters)
            return
        from rag.analysis.glossary import translate_question
        from rag.answer.chain import extractive_answer

        standalone = standalone_offline(question, history)
        lang = answer_lang(question, standalone)
        translation = translate_question(standalone) if lang == "en" else None
        if translation is None:
            hits = self.retriever.search(standalone, k, filters)
            answer = extractive_answer(standalone, hits, lang)
        else:
            # English over Chinese articles: search and check with glossary terms.
            extra = [translation.search, *variants(translation.search)[1:]]
            hits = self.retriever.search(standalone, k, filters, extra_queries=extra)
            answer = extractive_answer(translation.analysis, hits, "en")
        answer.mode = {**self.mode, **{k: v for k, v in answer.mode.items() if k != "llm"}}
        yield Delta(answer.text)
        yield answer

    def _unsupported(self, language: str) -> Answer:
        """The answer to a question in a language the service does not read."""
        from rag.core.text.lang import unsupported_message

        mode = {**self.mode, "llm": "not called (unsupported language)"}
        mode["refusal"] = f"question in {language}"
        return Answer(unsupported_message(language), refused=True, mode=mode)

    def _stream_llm(
        self, question: str, history: list[Turn], k: int, filters: Filters
    ) -> Iterator[Delta | Answer]:
        from rag.answer.chain import rewrite_question, stream_with_llm, translate_query
        from rag.answer.llm import Deadline

        # One time limit for the LLM calls of this question together (rewrite, translation,
        # answer, retries); past it, the extractive answer.
        deadline = Deadline.for_question(self.settings)
        standalone = rewrite_question(question, history, self.settings, deadline=deadline)
        # No usable rewrite: search as the offline path would (a follow-up with the
        # previous topic), answer the question as asked.
        query = standalone if standalone != question else standalone_offline(question, history)
        extra = translate_query(standalone, self.settings, deadline=deadline)
        started = time.monotonic()
        hits = self.retriever.search(query, k, filters, extra_queries=[extra] if extra else ())
        deadline = deadline.extended(time.monotonic() - started)  # the limit is the LLM's
        lang = answer_lang(question, standalone)
        # Already standalone: passing the history too would rewrite it a second time.
        stream = stream_with_llm(standalone, hits, self.settings, deadline=deadline, lang=lang)
        for item in stream:
            if isinstance(item, Answer):
                item.mode = {**self.mode, **item.mode}
            yield item


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


def standalone_offline(question: str, history: Sequence[Turn]) -> str:
    """Without an LLM, a follow-up (``rag.analysis.followup.is_follow_up``: a pronoun, an elided
    subject, 那…/…呢) is searched together with the previous question's topic; any
    other question stands alone, however short."""
    if not history:
        return question
    from rag.analysis.followup import is_follow_up

    if is_follow_up(question):
        from rag.analysis.query import topic_of

        return f"{topic_of(history[-1][0])} {question}"
    return question


def answer_lang(question: str, standalone: str) -> str:
    """The language to answer in: the user's question's, not that of the text searched
    (a merged follow-up or a rewrite); the standalone text only breaks a tie (a question
    of characters shared by both scripts)."""
    from rag.core.text.lang import detect_lang

    tie = detect_lang(standalone)
    return detect_lang(question, default_zh=tie if tie != "en" else "zh-Hans")
