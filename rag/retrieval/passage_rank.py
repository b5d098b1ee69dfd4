"""Weights-free second stage: rescore a few dozen candidates with question-aware cues.

Cues, all on folded text: how much of the question's (IDF-weighted) wording the passage
covers, and how much one sentence window covers (proximity); whether the passage agrees
with the question's years, dates and names; and whether the best-matching window holds a
value of the asked type (a date for 何时/when, a number for 多少/how many, a year for
哪一年). The cues are mixed linearly with the first-stage scores. Then the best dozen
passages are rescored with the answerer's own sentence evidence (rag.analysis.evidence): the best
sentence's relevance and whether it would let the answerer answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.analysis.query import QueryInfo, analyze, date_in, extract_facts, latin_in
from rag.core.lexical import tokenize
from rag.core.text.dates import DATE_CUE, YEAR, YEAR_CUE
from rag.core.text.fold import fold
from rag.core.text.words import CN_NONZERO_NUMERALS, MEASURE_WORDS_AMOUNT

# Question wording that says what is asked, not what a passage contains.
_ASKING = re.compile(
    r"是什么|什么样|什么|是多少|多少|哪一年|哪一天|哪些|哪个|哪位|哪里|哪儿|哪家|哪年|哪天|哪|"
    r"是谁|谁是|谁|何时|何地|为何|如何|怎么样|怎样|怎么|是否|几|吗|呢|请问"
)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;\n]+|$)")
_ELLIPSIS = re.compile(r"\s*(?:\.{3,}|…+)\s*")
_HAS_NUMBER = re.compile(rf"\d|[{CN_NONZERO_NUMERALS}]+[{MEASURE_WORDS_AMOUNT}]")


@dataclass(frozen=True)
class Weights:
    """How the cues are mixed. Defaults were set on RGB zh (see eval/bench_retrieval)."""

    lexical: float = 0.5  # BM25 score / best BM25 among the candidates
    dense: float = 0.5  # cosine similarity (already in [-1, 1])
    coverage: float = 0.0  # IDF-weighted share of the question's tokens in the passage
    window: float = 1.0  # the same share within the best window of two sentences
    year: float = 2.0  # the passage names the question's year (- if only other years)
    date: float = 1.0  # the passage holds the question's dates (- if it has other dates)
    names: float = 1.0  # share of the question's Latin names and quoted titles present
    answer_type: float = 1.0  # the best window holds a value of the asked type
    # Answer-aware pass over the best ``evidence_depth`` passages: the answerer's own
    # sentence evidence (rag.analysis.evidence) -- the best sentence's relevance, and whether it
    # could answer at all (constraints met, answer type present). Not the refusal bar
    # itself: that weighs corroboration among the retrieved documents, and a ranking
    # that chased it moved positives out of the top 5 on RGB.
    evidence: float = 2.0
    admissible: float = 0.5
    evidence_depth: int = 12


@dataclass(frozen=True)
class Candidate:
    """A first-stage result to rescore."""

    chunk_id: str
    text: str
    lexical: float = 0.0
    dense: float = 0.0


def query_tokens(question: str) -> list[str]:
    """Distinct index tokens of the question's content (question words removed)."""
    return list(dict.fromkeys(tokenize(_ASKING.sub(" ", fold(question)))))


def windows(folded: str, size: int = 2) -> list[str]:
    """Overlapping runs of ``size`` sentences (search-snippet ellipses end a sentence)."""
    text = _ELLIPSIS.sub("。", folded)
    sentences = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    if len(sentences) <= size:
        return ["".join(sentences)] if sentences else [folded]
    return ["".join(sentences[i : i + size]) for i in range(len(sentences) - size + 1)]


def _coverage(tokens: Sequence[str], idf: dict[str, float], text: str) -> float:
    total = sum(idf[t] for t in tokens)
    return sum(idf[t] for t in tokens if t in text) / total if total else 0.0


def _has_type(kind: str, text: str) -> bool:
    if kind == "date":
        return bool(DATE_CUE.search(text))
    if kind == "year":
        return bool(YEAR_CUE.search(text))
    if kind == "number":
        return bool(_HAS_NUMBER.search(YEAR_CUE.sub(" ", text)))
    return False


def cues(
    info: QueryInfo, tokens: Sequence[str], idf: dict[str, float], text: str
) -> dict[str, float]:
    """The question-aware cues of one passage, each in [-1, 1]."""
    folded = fold(text)
    cov = _coverage(tokens, idf, folded)
    best_window, best = folded, -1.0
    for window in windows(folded):
        share = _coverage(tokens, idf, window)
        if share > best:
            best_window, best = window, share
    q = info.facts
    year = 0.0
    if q.years:  # a plain regex: full fact extraction of every candidate is too slow
        years = {int(m.group("y")) for m in YEAR.finditer(folded)}
        year = 1.0 if q.years & years else (-1.0 if years else 0.0)
    date = 0.0
    asked_dates = [d for d in q.dates if d.month and d.day]
    if asked_dates:
        facts = extract_facts(text)
        hits = sum(date_in(d, facts) for d in asked_dates)
        date = hits / len(asked_dates) if hits else (-1.0 if facts.dates else 0.0)
    names_asked = list(q.latin) + list(q.quoted)
    names = 0.0
    if names_asked:
        present = sum(
            latin_in(n, folded) if n in q.latin else fold(n) in folded for n in names_asked
        )
        names = present / len(names_asked)
    return {
        "coverage": cov,
        "window": max(best, 0.0),
        "year": year,
        "date": date,
        "names": names,
        "answer_type": 1.0 if _has_type(info.answer_type, best_window) else 0.0,
    }


def rescore(
    question: str,
    candidates: Sequence[Candidate],
    idf_of: Callable[[list[str]], dict[str, float]],
    weights: Weights | None = None,
) -> list[tuple[str, float]]:
    """Candidates rescored, best first, as (chunk_id, score).

    ``idf_of`` gives the IDF of index tokens (``LexicalIndex.term_idf``). Ties keep the
    candidates' order.
    """
    if not candidates:
        return []
    weights = weights or Weights()
    info = analyze(question)
    tokens = query_tokens(question)
    idf = idf_of(tokens)
    top_lexical = max(c.lexical for c in candidates) or 1.0
    scored = []
    for cand in candidates:
        c = cues(info, tokens, idf, cand.text)
        score = (
            weights.lexical * cand.lexical / top_lexical
            + weights.dense * cand.dense
            + sum(getattr(weights, name) * value for name, value in c.items())
        )
        scored.append((cand.chunk_id, score))
    ranked = sorted(scored, key=lambda kv: -kv[1])
    if weights.evidence_depth > 1 and (weights.evidence or weights.admissible):
        ranked = _evidence_pass(info, candidates, ranked, weights)
    return ranked


def _doc_of(chunk_id: str) -> str:
    """The document part of a store chunk id (``doc_id:version:index``)."""
    parts = chunk_id.rsplit(":", 2)
    return parts[0] if len(parts) == 3 else chunk_id


def _evidence_pass(
    info: QueryInfo,
    candidates: Sequence[Candidate],
    ranked: list[tuple[str, float]],
    weights: Weights,
) -> list[tuple[str, float]]:
    """Re-sort the head of ``ranked`` by adding the answerer's sentence evidence."""
    from rag.analysis.evidence import rank_evidence
    from rag.core.types import Hit

    depth = min(weights.evidence_depth, len(ranked))
    text_of = {c.chunk_id: c.text for c in candidates}
    head = ranked[:depth]
    hits = [
        Hit(chunk_id=cid, doc_id=_doc_of(cid), text=text_of[cid], title="", end=len(text_of[cid]))
        for cid, _ in head
    ]
    best: dict[int, float] = {}
    ok: dict[int, float] = {}
    for e in rank_evidence(info, hits):
        best[e.hit_index] = max(best.get(e.hit_index, 0.0), e.relevance)
        if e.admissible:
            ok[e.hit_index] = 1.0
    rescored = [
        (cid, score + weights.evidence * best.get(i, 0.0) + weights.admissible * ok.get(i, 0.0))
        for i, (cid, score) in enumerate(head)
    ]
    return sorted(rescored, key=lambda kv: -kv[1]) + ranked[depth:]
