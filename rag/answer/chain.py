"""LLM answering as LangChain runnables: numbered sources -> prompt -> ChatOpenAI -> text
-> citation check (rag.answer.verify) -> Answer.

When the endpoint fails (timeout, 429 or 5xx after retries, unreachable, garbage) or the
reply cannot be a cited answer (no [n] at all, or only [n] of sources that do not exist),
the extractive answerer answers instead, and the Answer says so in ``mode["llm"]`` and
``warnings``.

Time: every LLM call of one question (model lookup, rewrite, translation, answer, and
their retries) runs under one ``Deadline`` (``Settings.question_deadline``,
RAG_LLM_DEADLINE). A step that runs out of it is skipped; the answer step that runs out
gives the extractive answer, marked "time limit" in ``mode["llm"]``.

Streaming: ``stream_with_llm`` yields ``Delta`` items (text as the model writes it) and
then exactly one ``Answer``, always last. The Answer is authoritative: its text can
differ from the joined deltas (markers of missing sources removed, a refusal normalised
to the fixed phrase, the extractive answer after a failure mid-stream), so a UI shows
the deltas as they come and then replaces them with ``Answer.text``.

History is a list of (question, answer) pairs, oldest first.

LangChain is imported inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer.llm import (
    DEFAULT_MAX_RETRIES,
    Deadline,
    LLMError,
    build_chat_model,
    call_with_retries,
    endpoint_host,
    endpoint_label,
    resolve_model,
    stream_with_retries,
)
from rag.core.config import Settings
from rag.core.text.lang import CJK, detect_lang, refusal_phrase
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
    from langchain_core.documents import Document
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import Runnable, RunnableConfig

log = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]


StreamItem = Delta | Answer


class MalformedOutput(ValueError):
    """The model's reply cannot be used as a cited answer."""


# Marker spellings models use besides [n]: 【1】, ［1］, [source 1], [來源1].
_ODD_MARKER = re.compile(
    r"[\[【［]\s*(?:sources?|來源|来源|資料|资料)?\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】］]",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(?:standalone question|question|query|rewritten)\s*[:：]\s*", re.I)
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


@dataclass(frozen=True)
class _Target:
    """Which model at which endpoint answered, for mode and messages (no key)."""

    model: str
    endpoint: str
    host: str

    @property
    def label(self) -> str:
        return f"{self.model} @ {self.host}"


def _target(settings: Settings, max_retries: int, deadline: Deadline) -> _Target:
    return _Target(
        resolve_model(settings, max_retries=max_retries, deadline=deadline),
        endpoint_label(settings),
        endpoint_host(settings),
    )


def _invoke(
    chain: Callable[[float], Runnable[dict[str, str], str]],
    inputs: dict[str, str],
    target: _Target,
    settings: Settings,
    max_retries: int,
    deadline: Deadline,
) -> str:
    """``chain(seconds).invoke(inputs)``, retried under ``deadline``; LLMError on failure."""
    return call_with_retries(
        target.endpoint,
        lambda seconds: chain(seconds).invoke(inputs),
        deadline,
        timeout=settings.llm_timeout,
        max_retries=max_retries,
    )


# --- small LLM calls: rewrite and translation ------------------------------------------


def _complete(
    prompt: ChatPromptTemplate,
    inputs: dict[str, str],
    settings: Settings,
    max_retries: int,
    deadline: Deadline,
) -> str:
    """One non-streaming completion through prompt | model | parser; LLMError on failure."""
    from langchain_core.output_parsers import StrOutputParser

    target = _target(settings, max_retries, deadline)
    model = build_chat_model(settings, model=target.model, max_tokens=256)

    def chain(seconds: float) -> Runnable[dict[str, str], str]:
        return prompt | model.bind(timeout=seconds) | StrOutputParser()

    return _invoke(chain, inputs, target, settings, max_retries, deadline)


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
    answer = extractive_answer(question, hits, lang)
    answer.mode = {**answer.mode, "llm": f"extractive fallback ({why} from {who})"}
    answer.warnings = [warning, *answer.warnings]
    return answer


def _no_sources(lang: str) -> Answer:
    return Answer(
        refusal_phrase(lang),
        refused=True,
        mode={"llm": "not called (no sources)", "refusal": "no passages retrieved"},
    )


# --- the answering chain ---------------------------------------------------------------


def generation_chain(
    settings: Settings, model: str, *, streaming: bool, timeout: float | None = None
) -> Runnable[dict[str, str], str]:
    """prompt | ChatOpenAI | StrOutputParser over the inputs of ``prompts.answer_inputs``;
    each request gives up after ``timeout`` seconds (default RAG_LLM_TIMEOUT)."""
    from langchain_core.output_parsers import StrOutputParser

    from rag.answer.prompts import answer_prompt

    llm = build_chat_model(settings, model=model, streaming=streaming)
    bound = llm.bind(timeout=settings.llm_timeout if timeout is None else timeout)
    return answer_prompt() | bound | StrOutputParser()


def _prepare(
    question: str,
    hits: Sequence[Hit],
    history: History | None,
    settings: Settings,
    retries: int,
    deadline: Deadline,
    lang: str | None = None,
) -> tuple[str, list[Hit], str]:
    """(question to answer, hits, language of the user's question)."""
    lang = lang or detect_lang(question)
    if history:
        question = rewrite_question(
            question, history, settings, max_retries=retries, deadline=deadline
        )
    return question, list(hits), lang


def answer_runnable(
    settings: Settings, *, max_retries: int = DEFAULT_MAX_RETRIES
) -> Runnable[dict[str, Any], Answer]:
    """Runnable ``{"question", "hits", "history"?} -> Answer`` (no streaming): generation
    and verification, with the extractive answer as the fallback (``with_fallbacks``)."""
    from langchain_core.runnables import RunnableLambda

    from rag.answer.prompts import answer_inputs

    def prepare(x: dict[str, Any]) -> dict[str, Any]:
        deadline = x.get("deadline") or Deadline.for_question(settings)
        question, hits, lang = _prepare(
            x["question"],
            x.get("hits") or [],
            x.get("history"),
            settings,
            max_retries,
            deadline,
            x.get("lang"),
        )
        return {"question": question, "hits": hits, "lang": lang, "deadline": deadline}

    def generate(x: dict[str, Any]) -> Answer:
        deadline = x["deadline"]
        target = _target(settings, max_retries, deadline)
        inputs = answer_inputs(x["question"], x["hits"], x["lang"])

        def chain(seconds: float) -> Runnable[dict[str, str], str]:
            return generation_chain(settings, target.model, streaming=False, timeout=seconds)

        text = _invoke(chain, inputs, target, settings, max_retries, deadline)
        return finish_answer(x["question"], text, x["hits"], lang=x["lang"], llm=target.label)

    def fallback(x: dict[str, Any]) -> Answer:
        model = settings.llm_model or ""  # a model found via /models is not known here
        return fallback_answer(x["question"], x["hits"], x["error"], settings, model, x["lang"])

    def route(x: dict[str, Any]) -> Answer | Runnable[dict[str, Any], Answer]:
        if not x["hits"]:
            return _no_sources(x["lang"])
        if not settings.llm_configured:
            return extractive_answer(x["question"], x["hits"], x["lang"])
        return RunnableLambda(generate, name="llm_answer").with_fallbacks(
            [RunnableLambda(fallback, name="extractive_fallback")],
            exceptions_to_handle=(LLMError, MalformedOutput),
            exception_key="error",
        )

    return RunnableLambda(prepare, name="prepare") | RunnableLambda(route, name="route")


def answer_with_llm(
    question: str,
    hits: list[Hit],
    settings: Settings,
    *,
    history: list[tuple[str, str]] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
    lang: str | None = None,
) -> Answer:
    """Answer ``question`` from ``hits`` (source [n] is ``hits[n-1]``) with the LLM of
    ``settings``. With ``history``, the question is first rewritten into a standalone
    one. Never raises for endpoint or output faults: those give the extractive answer,
    marked in ``mode["llm"]`` and ``warnings``. ``deadline`` (default: one starting now)
    bounds all its LLM calls; ``lang`` is the language to answer in (default: the
    question's)."""
    inputs = {
        "question": question,
        "hits": hits,
        "history": history,
        "deadline": deadline,
        "lang": lang,
    }
    return answer_runnable(settings, max_retries=max_retries).invoke(inputs)


def stream_with_llm(
    question: str,
    hits: list[Hit],
    settings: Settings,
    *,
    history: list[tuple[str, str]] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
    lang: str | None = None,
) -> Iterator[StreamItem]:
    """Like ``answer_with_llm``, streaming: ``Delta`` items as the model writes, then the
    final, verified ``Answer`` (always the last item, also after a fallback)."""
    from rag.answer.prompts import answer_inputs

    deadline = deadline or Deadline.for_question(settings)
    question, hits, lang = _prepare(question, hits, history, settings, max_retries, deadline, lang)
    if not hits:
        yield _no_sources(lang)
        return
    if not settings.llm_configured:
        yield extractive_answer(question, hits, lang)
        return
    model = ""
    try:
        target = _target(settings, max_retries, deadline)
        model = target.model
        inputs = answer_inputs(question, hits, lang)

        def open_stream(seconds: float) -> Iterator[str]:
            chain = generation_chain(settings, model, streaming=True, timeout=seconds)
            return chain.stream(inputs)

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


# --- composing with LangChain retrievers -----------------------------------------------

_HIT_FIELDS = ("published", "source", "url")
_HIT_FLOATS = ("dense_score", "lexical_score")


def hit_from_document(doc: Document, rank: int) -> Hit:
    """A Hit from a LangChain Document whose metadata carries Hit fields (missing ones
    get defaults; the chunk id falls back to ``doc.id``)."""
    meta = dict(doc.metadata or {})
    chunk_id = str(meta.get("chunk_id") or doc.id or meta.get("id") or f"chunk-{rank}")

    def opt_float(key: str) -> float | None:
        value = meta.get(key)
        return None if value is None else float(value)

    return Hit(
        chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id") or chunk_id),
        text=doc.page_content,
        title=str(meta.get("title") or ""),
        **{k: (None if meta.get(k) is None else str(meta[k])) for k in _HIT_FIELDS},
        start=int(meta.get("start") or 0),
        end=int(meta.get("end") or len(doc.page_content)),
        score=float(meta.get("score") or 0.0),
        **{k: opt_float(k) for k in _HIT_FLOATS},
        rank=int(meta.get("rank") or rank),
    )


def retrieve_hits(
    retriever: BaseRetriever, queries: Sequence[str], config: RunnableConfig | None = None
) -> list[Hit]:
    """Hits for one or more queries; several result lists are fused (RRF by chunk id)
    and cut to the length of the longest list."""
    from rag.retrieval.fusion import rrf

    lists = [
        [hit_from_document(d, i) for i, d in enumerate(retriever.invoke(q, config), start=1)]
        for q in queries
    ]
    if len(lists) == 1:
        return lists[0]
    by_id: dict[str, Hit] = {}
    for hits in lists:
        for hit in hits:
            by_id.setdefault(hit.chunk_id, hit)
    fused = rrf([[h.chunk_id for h in hits] for hits in lists])
    out: list[Hit] = []
    for rank, (chunk_id, score) in enumerate(fused[: max(map(len, lists))], start=1):
        hit = by_id[chunk_id]
        hit.rank, hit.score = rank, score
        out.append(hit)
    return out


def build_chain(
    retriever: BaseRetriever,
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    translate: bool = True,
) -> Runnable[dict[str, Any], Answer]:
    """Runnable ``{"question", "history"?} -> Answer`` over any LangChain retriever whose
    Documents carry Hit fields in their metadata: rewrite the follow-up into a standalone
    question, add Chinese search terms for an English question, retrieve with both, then
    answer (the language of the answer is the language of the user's question)."""
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    def start(x: dict[str, Any]) -> Deadline:
        return x.get("deadline") or Deadline.for_question(settings)

    def standalone(x: dict[str, Any]) -> str:
        return rewrite_question(
            x["question"],
            x.get("history"),
            settings,
            max_retries=max_retries,
            deadline=x["deadline"],
        )

    def queries(x: dict[str, Any]) -> list[str]:
        if not translate:
            return [x["standalone"]]
        extra = translate_query(
            x["standalone"], settings, max_retries=max_retries, deadline=x["deadline"]
        )
        return [x["standalone"], extra] if extra else [x["standalone"]]

    def hits(x: dict[str, Any], config: RunnableConfig) -> list[Hit]:
        return retrieve_hits(retriever, x["queries"], config)

    def answer(x: dict[str, Any]) -> Answer:
        return answer_runnable(settings, max_retries=max_retries).invoke(
            {
                "question": x["standalone"],
                "hits": x["hits"],
                "deadline": x["deadline"],
                "lang": detect_lang(x["question"]),
            }
        )

    return (
        RunnablePassthrough.assign(deadline=RunnableLambda(start, name="deadline"))
        | RunnablePassthrough.assign(standalone=RunnableLambda(standalone, name="rewrite"))
        | RunnablePassthrough.assign(queries=RunnableLambda(queries, name="translate"))
        | RunnablePassthrough.assign(hits=RunnableLambda(hits, name="retrieve"))
        | RunnableLambda(answer, name="answer")
    )
