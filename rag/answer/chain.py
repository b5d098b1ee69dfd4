"""The LLM answering chain, the one path the product runs (``Assistant`` streams through
it): question -> rewrite and translate (rag.answer.rewrite) -> retriever -> prompt ->
ChatOpenAI -> parse and check the citations (rag.answer.verify) -> Answer, as one
LangChain runnable (``build_chain``).

Streaming first: ``chain.stream(inputs)`` yields ``Delta`` items (text as the model
writes it) and then exactly one ``Answer``, always last; ``chain.invoke(inputs)``
consumes that stream and returns the Answer. The Answer is authoritative: its text can
differ from the joined deltas (markers of missing sources removed, a refusal normalised
to the fixed phrase, the extractive answer after a failure mid-stream), so a UI shows
the deltas as they come and then replaces them with ``Answer.text``.

Fallback: when the endpoint fails (timeout, 429 or 5xx after retries, unreachable,
garbage) or the reply cannot be a cited answer (no [n] at all, or only [n] of sources
that do not exist), the extractive answerer answers instead, and the Answer says so in
``mode["llm"]`` and ``warnings``. The answer step does this itself, in one place,
whenever the failure comes. LangChain's ``with_fallbacks`` is not used: in a stream it
switches only when the primary fails before its first chunk
(``RunnableWithFallbacks.stream``, langchain-core 1.7), and an answer can fail after
its text began to stream (a stall, the deadline, output found unusable once complete).

Time: every LLM call of one question (model lookup, rewrite, translation, answer, and
their retries) runs under one ``Deadline`` (``Settings.question_deadline``,
RAG_LLM_DEADLINE); retrieval's time is not counted. A step that runs out of it is
skipped; the answer step that runs out gives the extractive answer, marked "time limit"
in ``mode["llm"]``. Each attempt of the answer streams ChatOpenAI with that attempt's
timeout (at most the time left), retried by ``llm.stream_with_retries`` until its first
chunk (``with_retry`` neither bounds an attempt by a deadline nor retries a stream).

LangChain is imported inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from rag.answer.llm import (
    DEFAULT_MAX_RETRIES,
    Deadline,
    LLMError,
    build_chat_model,
    endpoint_host,
    endpoint_label,
    resolve_target,
    stream_with_retries,
)
from rag.core.config import Settings
from rag.core.text.lang import detect_lang, refusal_phrase
from rag.core.types import (
    CITATION_MARKER,
    REFUSAL_EN,
    REFUSAL_ZH_HANS,
    REFUSAL_ZH_HANT,
    Answer,
    Delta,
    Hit,
    cited_numbers,
)

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable, RunnableConfig

    from rag.retrieval.hybrid import Filters

StreamItem = Delta | Answer


class MalformedOutput(ValueError):
    """The model's reply cannot be used as a cited answer."""


# Marker spellings models use besides [n]: 【1】, ［1］, [source 1], [來源1].
_ODD_MARKER = re.compile(
    r"[\[【［]\s*(?:sources?|來源|来源|資料|资料)?\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】］]",
    re.IGNORECASE,
)
_SQUASH = re.compile(r"[\s\W_]+")
_REFUSAL_PHRASES = tuple(
    _SQUASH.sub("", p.lower()) for p in (REFUSAL_ZH_HANT, REFUSAL_ZH_HANS, REFUSAL_EN)
)
# Ways a model refuses in its own words (used only when it cited nothing).
_REFUSAL_HINT = re.compile(
    r"沒有足夠|没有足够|無法回答|无法回答|無法根據|无法根据|未提及|沒有提及|没有提及|沒有提到|没有提到|"
    r"\b(?:cannot|can't|unable to) answer\b|\bdo(?:es)? not (?:contain|mention|say|provide)\b|"
    r"\b(?:no|not enough|insufficient) information\b|\bI don't know\b",
    re.IGNORECASE,
)
UNVERIFIED_NOTE = {
    "zh-Hant": "（注意：部分陳述未能在來源中核實，請查閱原文。）",
    "zh-Hans": "（注意：部分陈述未能在来源中核实，请查阅原文。）",
    "en": "(Note: some statements could not be verified against the sources; check them.)",
}


# --- checking the model's answer -------------------------------------------------------


def is_refusal(text: str) -> bool:
    """Whether a reply is a refusal: the fixed phrase (any language) with at most a few
    more characters, or, when it cites nothing, a refusal in the model's own words."""
    bare = CITATION_MARKER.sub("", text)
    squashed = _SQUASH.sub("", bare.lower())
    cited = CITATION_MARKER.search(text) is not None
    for phrase in _REFUSAL_PHRASES:
        if phrase in squashed and (not cited or len(squashed) - len(phrase) <= 10):
            return True
    return not cited and len(bare) <= 300 and _REFUSAL_HINT.search(bare) is not None


def normalize_markers(text: str) -> str:
    """Citation markers rewritten as [n] (from 【n】, ［n］, [source n]...)."""
    return _ODD_MARKER.sub(lambda m: f"[{m.group(1)}]", text)


def finish_answer(
    question: str, text: str, hits: Sequence[Hit], *, lang: str | None = None, llm: str = ""
) -> Answer:
    """The Answer for the model's reply ``text``: a refusal, or the text with its
    citations checked against ``hits``. MalformedOutput when it cannot be used."""
    from rag.answer.verify import verify_citations

    lang = lang or detect_lang(question)
    body = normalize_markers(text.strip())
    mode = {"llm": llm} if llm else {}
    if not body:
        raise MalformedOutput("an empty answer")
    if is_refusal(body):
        return Answer(
            refusal_phrase(lang),
            refused=True,
            contexts=list(hits),
            mode={**mode, "refusal": "the model found no answer in the sources"},
        )
    cited = cited_numbers(body)
    if not cited:
        raise MalformedOutput("an answer without any [n] citation")
    if not any(1 <= n <= len(hits) for n in cited):
        listed = ", ".join(f"[{n}]" for n in sorted(set(cited)))
        raise MalformedOutput(
            f"an answer citing only sources that do not exist ({listed}; {len(hits)} were supplied)"
        )
    checked = verify_citations(body, list(hits), drop_unsupported=False)
    answer_text = checked.text
    if checked.unsupported or any(not c.supported for c in checked.citations):
        answer_text += "\n" + UNVERIFIED_NOTE.get(lang, UNVERIFIED_NOTE["en"])
    return Answer(
        answer_text,
        refused=False,
        citations=list(checked.citations),
        contexts=list(hits),
        mode=mode,
        warnings=list(checked.warnings),
    )


def extractive_answer(question: str, hits: Sequence[Hit], lang: str | None = None) -> Answer:
    """The extractive answer, with quotes of instruction-like article text unverified."""
    from rag.answer.extractive import answer_extractive
    from rag.answer.verify import mark_instruction_quotes

    return mark_instruction_quotes(answer_extractive(question, list(hits), lang=lang))


def offline_question(question: str, lang: str | None) -> str:
    """The text the extractive answerer analyses for ``question``: an English question
    over Chinese articles in its glossary terms (as the offline path asks it,
    ``Assistant.retrieve``), any other question as it is."""
    from rag.analysis.glossary import translation_for

    translation = translation_for(question, lang)
    return question if translation is None else translation.analysis


def fallback_answer(
    question: str,
    hits: Sequence[Hit],
    error: Exception,
    settings: Settings,
    model: str = "",
    lang: str | None = None,
) -> Answer:
    """The extractive answer, marked as a fallback from the LLM and why."""
    host = endpoint_host(settings)
    who = f"{model} @ {host}" if model else host
    if isinstance(error, LLMError):
        warning = f"{error}; showing the extractive answer instead."
        why = error.kind.replace("_", " ")
        if error.kind == "deadline":
            why = f"time limit of {settings.question_deadline:g} s reached"
    else:
        endpoint = endpoint_label(settings)
        warning = f"LLM {model or '(model)'} at {endpoint} gave {error}; "
        warning += "showing the extractive answer instead."
        why = "malformed output"
    answer = extractive_answer(offline_question(question, lang), hits, lang)
    return replace(
        answer,
        mode={**answer.mode, "llm": f"extractive fallback ({why} from {who})"},
        warnings=[warning, *answer.warnings],
    )


def _no_sources(lang: str) -> Answer:
    return Answer(
        refusal_phrase(lang),
        refused=True,
        mode={"llm": "not called (no sources)", "refusal": "no passages retrieved"},
    )


# --- the answering chain ---------------------------------------------------------------


class Retriever(Protocol):
    """What the chain needs of a retriever (``rag.retrieval.hybrid.HybridRetriever``)."""

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        extra_queries: Sequence[str] = (),
    ) -> list[Hit]: ...


@dataclass(frozen=True)
class Turn:
    """One question on its way through the chain; each step returns a new one."""

    question: str  # as the user asked it
    history: tuple[tuple[str, str], ...]
    k: int
    filters: Filters | None
    deadline: Deadline
    standalone: str = ""  # the question answered: a follow-up rewritten, else as asked
    query: str = ""  # what is searched
    extra_queries: tuple[str, ...] = ()  # Chinese search terms for an English question
    lang: str = ""  # the language to answer in: the user's question's
    hits: tuple[Hit, ...] = ()


def _answer_stream(
    question: str,
    hits: Sequence[Hit],
    lang: str,
    deadline: Deadline,
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    config: RunnableConfig | None = None,
) -> Iterator[StreamItem]:
    """The answer step: ``Delta`` items as the model writes, then the checked ``Answer``
    (always last; the extractive answer, marked, whenever the LLM fails)."""
    from rag.answer.prompts import answer_inputs, answer_prompt

    hits = list(hits)
    if not hits:
        yield _no_sources(lang)
        return
    model = ""
    try:
        target = resolve_target(settings, max_retries=max_retries, deadline=deadline)
        model = target.model
        llm = build_chat_model(settings, model=model, streaming=True)
        messages = answer_prompt().invoke(answer_inputs(question, hits, lang), config)

        def open_stream(seconds: float) -> Iterator[str]:
            """The text of the reply as it comes, from one request that gives up after
            ``seconds``. ChatOpenAI.stream is read directly, not through ``|
            StrOutputParser()``: a LangChain transform step whose reader stops goes on
            reading its input to the end, for tracing, so a closed answer held its
            request until the model finished or timed out."""
            chunks = llm.stream(messages, config, timeout=seconds)
            try:
                for chunk in chunks:
                    yield str(chunk.text)
            finally:
                chunks.close()

        parts: list[str] = []
        stream = stream_with_retries(
            target.endpoint,
            open_stream,
            deadline,
            timeout=settings.llm_timeout,
            max_retries=max_retries,
        )
        for chunk in stream:
            if chunk:
                parts.append(chunk)
                yield Delta(chunk)
        answer = finish_answer(question, "".join(parts), hits, lang=lang, llm=target.label)
    except (LLMError, MalformedOutput) as exc:
        answer = fallback_answer(question, hits, exc, settings, model, lang)
    yield answer


def build_chain(
    retriever: Retriever, settings: Settings, *, max_retries: int = DEFAULT_MAX_RETRIES
) -> Runnable[dict[str, Any], StreamItem]:
    """The answering chain over ``retriever`` with the LLM of ``settings``.

    Input: ``{"question", "history"?, "k"?, "filters"?, "deadline"?}`` (history: the
    (question, answer) pairs before, oldest first; k: passages, default RAG_TOP_K;
    deadline: default one starting now). Steps: rewrite a follow-up into a standalone
    question, add Chinese search terms for an English one, retrieve with both, answer
    in the language of the user's question. ``stream`` yields the deltas and then the
    Answer; ``invoke`` returns the Answer. Never raises for endpoint or output faults.
    """
    from langchain_core.runnables import RunnableLambda

    from rag.answer.rewrite import (
        answer_lang,
        rewrite_question,
        standalone_offline,
        translate_query,
    )

    if not settings.llm_configured:
        raise ValueError("the answering chain needs an LLM: set OPENAI_BASE_URL or RAG_LLM_MODEL")

    def start(x: dict[str, Any]) -> Turn:
        return Turn(
            question=x["question"],
            history=tuple(x.get("history") or ()),
            k=settings.top_k if x.get("k") is None else x["k"],
            filters=x.get("filters"),
            deadline=x.get("deadline") or Deadline.for_question(settings),
        )

    def rewrite(turn: Turn) -> Turn:
        standalone = rewrite_question(
            turn.question, turn.history, settings, max_retries=max_retries, deadline=turn.deadline
        )
        # No usable rewrite: search as the offline path would (a follow-up with the
        # previous topic), answer the question as asked.
        query = standalone
        if standalone == turn.question:
            query = standalone_offline(turn.question, turn.history)
        extra = translate_query(
            standalone, settings, max_retries=max_retries, deadline=turn.deadline
        )
        return replace(
            turn,
            standalone=standalone,
            query=query,
            extra_queries=(extra,) if extra else (),
            lang=answer_lang(turn.question, standalone),
        )

    def retrieve(turn: Turn) -> Turn:
        started = time.monotonic()
        hits = retriever.search(turn.query, turn.k, turn.filters, extra_queries=turn.extra_queries)
        # The time limit is the LLM's: retrieval's time is given back.
        deadline = turn.deadline.extended(time.monotonic() - started)
        return replace(turn, hits=tuple(hits), deadline=deadline)

    def answer(turn: Turn, config: RunnableConfig) -> Iterator[StreamItem]:
        # Already standalone: the history is not passed on (it would be rewritten twice).
        yield from _answer_stream(
            turn.standalone,
            turn.hits,
            turn.lang,
            turn.deadline,
            settings,
            max_retries=max_retries,
            config=config,
        )

    return (
        RunnableLambda(start, name="start")
        | RunnableLambda(rewrite, name="rewrite")
        | RunnableLambda(retrieve, name="retrieve")
        | RunnableLambda(answer, name="answer")
    )
