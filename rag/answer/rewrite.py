"""Question rewriting and query translation: a follow-up made standalone (by the LLM, or
offline by adding the previous question's topic), Chinese search terms for an English
question, and the language to answer in.

History is a list of (question, answer) pairs, oldest first. The LLM calls here are the
small steps of the answering chain (``rag.answer.chain``); each runs under the
question's ``Deadline`` and gives way (the question unchanged, no translation) when it
fails.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.answer.llm import (
    DEFAULT_MAX_RETRIES,
    Deadline,
    LLMError,
    build_chat_model,
    call_with_retries,
    resolve_target,
)
from rag.core.config import Settings
from rag.core.text.lang import CJK, detect_lang

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate

log = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]

_LABEL = re.compile(r"^\s*(?:standalone question|question|query|rewritten)\s*[:：]\s*", re.I)
SMALL_REPLY_TOKENS = 256  # a rewritten question or a line of search terms


def _complete(
    prompt: ChatPromptTemplate,
    inputs: dict[str, str],
    settings: Settings,
    max_retries: int,
    deadline: Deadline,
) -> str:
    """One non-streaming completion through prompt | model | parser; LLMError on failure."""
    from langchain_core.output_parsers import StrOutputParser

    target = resolve_target(settings, max_retries=max_retries, deadline=deadline)
    model = build_chat_model(settings, model=target.model, max_tokens=SMALL_REPLY_TOKENS)
    return call_with_retries(
        target.endpoint,
        lambda seconds: (prompt | model.bind(timeout=seconds) | StrOutputParser()).invoke(inputs),
        deadline,
        timeout=settings.llm_timeout,
        max_retries=max_retries,
    )


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = _LABEL.sub("", line)
        line = line.strip().strip("\"'“”「」『』`").strip()
        if line:
            return line
    return ""


def _same_script(text: str, lang: str) -> str | None:
    """``text`` in the language and script ``lang``, or None when it is another language."""
    got = detect_lang(text, default_zh=lang if lang != "en" else "zh-Hans")
    if got == lang:
        return text
    if "en" in (got, lang):
        return None
    from rag.core.text.fold import converter

    return converter("s2twp" if lang == "zh-Hant" else "t2s").convert(text)


def rewrite_question(
    question: str,
    history: History | None,
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
) -> str:
    """A standalone version of ``question`` given the (question, answer) ``history``.

    No history (or no LLM configured): the question unchanged, without calling the LLM.
    A failed call or an unusable reply also gives the question unchanged (logged): a
    reply in another language, or one that drops a key term or constraint of the
    question (``keeps_key_terms``), is not the same question. The rewrite keeps the
    question's language and script.
    """
    if not history or not settings.llm_configured:
        return question
    from rag.analysis.followup import keeps_key_terms
    from rag.answer.prompts import format_history, rewrite_prompt

    try:
        reply = _complete(
            rewrite_prompt(),
            {"history": format_history(history), "question": question.strip()},
            settings,
            max_retries,
            deadline or Deadline.for_question(settings),
        )
    except LLMError as exc:
        log.warning("question rewrite skipped: %s", exc)
        return question
    line = _first_line(reply)
    if not line or len(line) > 3 * len(question) + 200:
        return question
    rewritten = _same_script(line, detect_lang(question))
    if rewritten is None or not keeps_key_terms(question, rewritten):
        log.warning("question rewrite ignored: it does not keep the question's key terms")
        return question
    return rewritten


def translate_query(
    question: str,
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
) -> str | None:
    """Chinese search terms for an English ``question`` (for retrieval over Chinese
    articles); None for a Chinese question, with no LLM configured, or when the call
    fails or the reply holds no Chinese."""
    if detect_lang(question) != "en" or not settings.llm_configured:
        return None
    from rag.answer.prompts import translate_prompt

    try:
        reply = _complete(
            translate_prompt(),
            {"question": question.strip()},
            settings,
            max_retries,
            deadline or Deadline.for_question(settings),
        )
    except LLMError as exc:
        log.warning("query translation skipped: %s", exc)
        return None
    line = _first_line(reply)
    return line if CJK.search(line) else None


def standalone_offline(question: str, history: History) -> str:
    """Without an LLM, a follow-up (``rag.analysis.followup.is_follow_up``: a pronoun, an
    elided subject, 那…/…呢) is searched together with the previous question's topic; any
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
    tie = detect_lang(standalone)
    return detect_lang(question, default_zh=tie if tie != "en" else "zh-Hans")
