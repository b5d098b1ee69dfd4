"""Extractive answering without an LLM: quote the best sentences verbatim, each with [n]."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.analysis.evidence import Evidence, rank_evidence
from rag.analysis.query import QueryInfo, analyze
from rag.answer.model import AnswererModel, load_model
from rag.answer.policy import decide
from rag.core.text.grams import overlap_of_shorter
from rag.core.text.lang import lead_in, refusal_phrase
from rag.core.types import Answer, Citation, Hit, citation_for

MODE = {"llm": "extractive (no LLM configured)"}
REDUNDANCY = 0.6  # MMR: how much overlap with an already chosen sentence costs
SAME_SENTENCE = 0.8  # a further quote this close to the first one says the same again


# A passage's own reference marks ("…同在”[3]") would read as our citations.
_FOOTNOTE = re.compile(r"\[\d{1,3}\]")


def select_sentences(
    evidence: Sequence[Evidence], scores: Sequence[float], max_sentences: int, keep_ratio: float
) -> list[Evidence]:
    """The best-scored sentences with redundancy control (MMR): each next sentence by its
    score minus its overlap with those already chosen, kept while it scores at least
    ``keep_ratio`` of the best. Best first: the reader sees the answer before the
    context around it."""
    pool = [(e, float(s)) for e, s in zip(evidence, scores, strict=True) if not e.is_question]
    if not pool:
        return []
    top = max(s for _, s in pool)
    chosen: list[Evidence] = []
    while pool and len(chosen) < max_sentences:

        def mmr(item: tuple[Evidence, float]) -> float:
            e, s = item
            seen = max((overlap_of_shorter(e.folded, c.folded) for c in chosen), default=0.0)
            return s - REDUNDANCY * seen * top

        best = max(pool, key=mmr)
        if chosen and (
            mmr(best) < keep_ratio * top
            or overlap_of_shorter(best[0].folded, chosen[0].folded) > SAME_SENTENCE
        ):
            break
        chosen.append(best[0])
        pool.remove(best)
    return chosen


def refusal_answer(info: QueryInfo, hits: list[Hit], reason: str) -> Answer:
    return Answer(
        text=refusal_phrase(info.lang),
        refused=True,
        contexts=list(hits),
        mode={**MODE, "refusal": reason},
    )


def answer_extractive(
    question: str,
    hits: list[Hit],
    *,
    max_sentences: int = 3,
    lang: str | None = None,
    model: AnswererModel | None = None,
) -> Answer:
    """Answer by quoting up to ``max_sentences`` passage sentences verbatim, each followed
    by [n] (1-based index into ``hits``); refuse with the fixed phrase when the passages
    do not hold the answer. Quotes keep the passages' own script. ``lang`` overrides the
    language of the lead-in and refusal (for a question translated before answering)."""
    info = analyze(question)
    if lang:
        info = replace(info, lang=lang)
    model = model or load_model()
    evidence = rank_evidence(info, hits)
    decision = decide(info, evidence, hits, model)
    if decision.refuse:
        return refusal_answer(info, hits, decision.reason)
    chosen = select_sentences(evidence, decision.scores, max_sentences, model.keep_ratio)
    if not chosen:
        return refusal_answer(info, hits, "no sentence to quote")
    return quote_answer(info, evidence, hits, chosen, decision.reason, max_sentences)


def quote_answer(
    info: QueryInfo,
    evidence: Sequence[Evidence],
    hits: list[Hit],
    chosen: list[Evidence],
    reason: str,
    max_sentences: int,
) -> Answer:
    """The answer that quotes ``chosen``, each with its [n]; when another source states
    the same thing with another value, that sentence is quoted too, with a warning."""
    warnings: list[str] = []
    conflict = find_conflict(info, list(evidence), hits, chosen[0])
    if conflict is not None:
        # Both sides are quoted and the reader is told: a journalist must see it.
        if conflict not in chosen:
            chosen = [*chosen[: max_sentences - 1], conflict]
        warnings.append(disagreement_note(info.lang))
    lines = [lead_in(info.lang)]
    citations: list[Citation] = []
    for e in chosen:
        cite = citation_for(e.hit_index + 1, hits[e.hit_index], e.start, e.end)
        citations.append(cite)
        lines.append(f"{_FOOTNOTE.sub('', cite.quote)}[{cite.n}]")
    return Answer(
        text="\n".join(lines),
        refused=False,
        citations=citations,
        contexts=list(hits),
        mode={**MODE, "answer": reason},
        warnings=warnings,
    )


# Kinds whose answers are single values that two sources can state differently.
_VALUE_KINDS = ("date", "year", "number")
CONFLICT_COVERAGE = 0.8  # both sentences must clearly be about what was asked
SAME_CLAIM = 0.6  # bigram overlap, numbers removed, of two wordings of one claim
_DIGITS = re.compile(r"[\d.,%]+")


def find_conflict(
    info: QueryInfo, evidence: list[Evidence], hits: list[Hit], best: Evidence
) -> Evidence | None:
    """A sentence from another document that states the same thing as ``best`` (same
    wording once numbers are set aside) with a different value (a date, year or
    number), or None. Merely different numbers in on-topic sentences are not a
    disagreement: most news sentences hold several."""
    if info.answer_type not in _VALUE_KINDS or not best.candidates:
        return None
    if best.coverage < CONFLICT_COVERAGE:
        return None
    best_doc = hits[best.hit_index].doc_id
    for e in evidence:  # best first
        if (
            e.admissible
            and e.candidates
            and e.coverage >= CONFLICT_COVERAGE
            and hits[e.hit_index].doc_id != best_doc
            and not (e.candidates & best.candidates)
            and overlap_of_shorter(_DIGITS.sub("", e.folded), _DIGITS.sub("", best.folded))
            >= SAME_CLAIM
        ):
            return e
    return None


def disagreement_note(lang: str) -> str:
    return {
        "zh-Hant": "各來源對此說法不一致，請比對引文。",
        "zh-Hans": "各来源对此说法不一致，请比对引文。",
    }.get(lang, "The sources disagree on this; compare the quotes.")
