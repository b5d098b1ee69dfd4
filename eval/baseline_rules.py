"""The rule-based refusal policy this project shipped before the learned answerer
(issue 11), kept only as a benchmark baseline: `make bench` runs it side by side with
the learned answerer on the same retrieved passages. Thresholds were hand-tuned on the
odd RGB questions. Not used by the product.

It answers only when some retrieved sentence (a) sits in a passage that holds every hard
constraint of the question, (b) carries the expected kind of answer within a few
characters of the question's own words, (c) covers enough of the question's key terms,
weighted by rarity, and (d) is confident enough: among several retrieved documents its
value must be repeated by another document in a sentence about the question too, unless
the sentence is self-contained."""

from __future__ import annotations

from rag.analysis.evidence import MAX_SUPPORT, Evidence, rank_evidence
from rag.analysis.query import QueryInfo, analyze
from rag.answer.extractive import REDUNDANCY, quote_answer, refusal_answer
from rag.core.text.grams import overlap_of_shorter
from rag.core.types import Answer, Hit

KEEP_RATIO = 0.6  # later sentences must score at least this share of the best

# The bar a candidate sentence must clear is on its *confidence*: weighted key-term
# coverage (sentence, neighbours and passage mixed) plus a bonus per other document that
# repeats its answer value (corroboration, up to MAX_SUPPORT documents). Tuned on the
# odd-indexed RGB zh questions (full store vs distractor-only store, hash embedder): a
# value of the asked type (date, number, name...) found in one source only is not enough
# when several documents were retrieved -- topical distractors hold plenty of dates and
# numbers about the same subject -- while a full-coverage sentence whose value one other
# document repeats is. Untyped questions ("what is ...") have no value to corroborate,
# so a lower bar, which corroboration also helps to reach.
SUPPORT_BONUS = 0.25
# ... and a small one when the answer sentence itself names the asked relation (the
# question's focus term: 编剧 in 《X》的编剧是谁), not only its subject.
FOCUS_BONUS = 0.1
MIN_CONFIDENCE_TYPED = 1.3
MIN_CONFIDENCE_UNTYPED = 0.8
# With fewer distinct documents than this among the hits, no second source could have
# repeated the value: a sentence then needs this much coverage alone.
MIN_DOCS_FOR_CORROBORATION = 3
MIN_COVERAGE_FEW_DOCS = 0.65
_TYPED = ("date", "year", "number", "person", "place", "org")
# A value answers only when stated beside the question's words ("how many" needs a
# number next to the matched terms): at most this many characters between a value of
# the asked kind and a key term in the sentence (odd RGB questions: 8-12 refuse the same
# distractors; answered questions have their value 0-5 characters from a key term).
MAX_VALUE_GAP = 12


def decide(info: QueryInfo, evidence: list[Evidence], n_docs: int = 0) -> tuple[bool, str]:
    """(refuse, reason) from ranked evidence; ``n_docs``: distinct documents in the hits."""
    if not evidence:
        return True, "no passages"
    if not info.terms and not info.constraints:
        return True, "the question has no content words to look for"
    if not any(e.constraints_ok for e in evidence):
        missing = min((e.missing for e in evidence), key=len)
        return True, f"no passage mentions {', '.join(missing)}"
    admissible = [e for e in evidence if e.admissible]
    if not admissible:
        return True, f"no matching sentence holds a {info.answer_type} answer"
    for e in sorted(admissible, key=lambda e: confidence(e), reverse=True):
        if passes(info, e, n_docs):
            how = f"corroborated by {e.support}" if e.corroborated else "single source"
            return False, (
                f"answerable ({info.answer_type}, coverage {e.coverage:.2f}, {how}, "
                f"confidence {confidence(e):.2f})"
            )
    best = max(admissible, key=confidence)
    return True, (
        f"best sentence covers {best.coverage:.2f} of the question's key terms, "
        f"{best.support} other document(s) repeat its value: confidence "
        f"{confidence(best):.2f} (needs {required_confidence(info, n_docs):.2f})"
    )


def confidence(e: Evidence) -> float:
    """Coverage plus the corroboration and focus bonuses: what the refusal bar is
    compared with."""
    return e.coverage + SUPPORT_BONUS * min(e.support, MAX_SUPPORT) + FOCUS_BONUS * e.focus_match


def required_confidence(info: QueryInfo, n_docs: int) -> float:
    """The confidence bar for the question, given how many documents were retrieved."""
    if n_docs < MIN_DOCS_FOR_CORROBORATION:
        return MIN_COVERAGE_FEW_DOCS
    return MIN_CONFIDENCE_TYPED if info.answer_type in _TYPED else MIN_CONFIDENCE_UNTYPED


def passes(info: QueryInfo, e: Evidence, n_docs: int) -> bool:
    """Whether one sentence alone would let ``decide`` answer."""
    beside = e.value_gap is None or e.value_gap <= MAX_VALUE_GAP
    return (
        e.admissible
        and beside
        and (confidence(e) >= required_confidence(info, n_docs) or self_contained(e))
    )


def self_contained(e: Evidence) -> bool:
    """A single-source answer strong enough alone (a fact one article reports): the
    sentence itself holds every key term, the focus term exactly, and every constraint."""
    return (
        e.sentence_coverage >= 0.999 and e.focus_match >= 1.0 and e.constraints_in_sentence >= 1.0
    )


def should_refuse(info: QueryInfo, hits: list[Hit]) -> tuple[bool, str]:
    """Whether the passages cannot answer the question, and why."""
    return decide(info, rank_evidence(info, hits), len({h.doc_id for h in hits}))


def select_sentences(evidence: list[Evidence], max_sentences: int) -> list[Evidence]:
    """Best sentences with redundancy control (MMR): admissible ones first, then by
    relevance minus overlap with those already chosen."""
    # Wider than the refusal bar: a sentence may leave the year to its passage.
    pool = [e for e in evidence if e.constraints_ok and e.type_ok and not e.is_question]
    pool = pool or [e for e in evidence if e.constraints_ok]
    if not pool:
        return []
    top = max(e.relevance for e in pool)
    chosen: list[Evidence] = []
    while pool and len(chosen) < max_sentences:

        def mmr(e: Evidence) -> float:
            seen = max((overlap_of_shorter(e.folded, c.folded) for c in chosen), default=0.0)
            return e.relevance - REDUNDANCY * seen

        best = max(pool, key=mmr)
        if chosen and (
            mmr(best) < KEEP_RATIO * top or overlap_of_shorter(best.folded, chosen[0].folded) > 0.8
        ):
            break
        chosen.append(best)
        pool.remove(best)
    # Best first: the reader sees the answer before the context around it.
    return chosen


def answer_rules(question: str, hits: list[Hit], *, max_sentences: int = 3) -> Answer:
    """The old extractive answer: the rule-based decision, then sentences by relevance."""
    info = analyze(question)
    evidence = rank_evidence(info, hits)
    refuse, reason = decide(info, evidence, len({h.doc_id for h in hits}))
    if refuse:
        return refusal_answer(info, hits, reason)
    chosen = select_sentences(evidence, max_sentences)
    if not chosen:
        return refusal_answer(info, hits, "no sentence to quote")
    return quote_answer(info, evidence, hits, chosen, reason, max_sentences)
