"""The learned answerer's inputs: one feature vector per candidate sentence, and one per
question (from the sentence scores and the best sentence). Pure functions over the
question analysis, the ranked evidence and the hits; the names below are the order the
fitted models (rag/answer/data/answerer.json.gz) expect, and the artifact records them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

from rag.analysis.evidence import MAX_SUPPORT, Evidence, coverage, term_match, term_weight
from rag.analysis.query import ANSWER_TYPES, NON_WORD, QueryInfo, question_slot
from rag.core.text.fold import fold
from rag.core.text.grams import bigrams
from rag.core.types import Hit

MAX_GAP = 50  # characters: a value farther from the question's words is simply "far"
# The question word's context matched in a sentence: a run shorter than two characters
# matches by chance; an answer value fits between the two sides within SLOT_SPAN.
SLOT_MIN_RUN = 2
SLOT_SPAN = 20
TOP_SENTENCES = 3  # the best-scored sentences the question-level slot features look at
NEAR_BEST = 0.5  # a sentence "near the best" scores at least this share of the best

SENTENCE_FEATURES: tuple[str, ...] = (
    "sentence_coverage",  # IDF-weighted share of the key terms in the sentence
    "window_coverage",  # ... in the sentence and its neighbours
    "passage_coverage",  # ... anywhere in the passage and its title
    "terms_missing_sentence",  # key terms not found whole in the sentence
    "missing_weight_passage",  # heaviest key term absent from the passage, share of all
    "constraints_ok",  # the passage holds every year, date, number, name of the question
    "constraints_in_sentence",  # share of those inside the sentence
    "type_ok",  # the sentence holds the kind of value asked for
    "unit_ok",  # a number with the asked unit (how many people -> 人)
    "is_question",  # the sentence itself asks
    "truncated",  # a search-snippet cut
    "has_candidates",  # it offers a value of the asked kind
    "support",  # other documents repeating that value in on-topic sentences
    "focus_match",  # the asked relation (编剧 in X的编剧是谁) in the sentence
    "value_gap",  # characters between such a value and a key term (NaN: not measured)
    "hit_rank",  # 0-based rank of the passage
    "hit_score",  # the passage's final retrieval score
    "hit_score_gap",  # top passage's score minus this one's
    "dense_score",  # cosine similarity (NaN: not from dense search)
    "lexical_score",  # BM25 (NaN: not from lexical search)
    "position",  # where the sentence starts in the passage, 0..1
    "length",  # characters
    "bigram_share",  # share of the question's character bigrams in the sentence
    "neighbour_share",  # ... in the sentence before or after it (the better one)
    "passage_best_share",  # the best bigram share of any sentence of the same passage
    "below_passage_best",  # how far this sentence's share is below that best
    "common_run",  # longest run of the question's characters in the sentence, chars
    "common_run_share",  # ... as a share of the question's length
    "evidence_rank",  # rank among all candidate sentences by hand-set relevance
    "n_terms",  # key terms of the question
    "n_constraints",  # hard constraints of the question
    *(f"type_{kind}" for kind in ANSWER_TYPES),  # the asked answer type, one-hot
    "title_coverage",  # IDF-weighted share of the key terms in the passage's title
    "slot_left",  # share of the words before the question word found in the sentence
    "slot_right",  # ... of the words after it (NaN: no question word, or nothing there)
    "slot_fit",  # both sides in the sentence, in order, with room for an answer between
)

# Retrieval scores inform the sentence scorer (rank within one question) but not the
# answerability model: their scale depends on the store's size and the embedder, and on
# validation rows the model without them refused more unanswerable questions on every set
# at the same false-refusal bar (README, "Learned answerer").
RETRIEVAL_SCORES = ("hit_score", "hit_score_gap", "dense_score", "lexical_score")
_BEST_COLUMNS = [j for j, name in enumerate(SENTENCE_FEATURES) if name not in RETRIEVAL_SCORES]
_BEST = tuple(f"best_{SENTENCE_FEATURES[j]}" for j in _BEST_COLUMNS)
QUESTION_FEATURES: tuple[str, ...] = (
    "p1",  # sentence scores, best first (0 when fewer sentences)
    "p2",
    "p3",
    "log_sentences",  # log(1 + candidate sentences)
    "n_docs",  # distinct documents among the hits
    "max_bigram_share",
    "any_constraints_ok",
    "any_admissible",
    "hits_missing_weight",  # heaviest key term absent from every passage, share of all
    "hits_coverage",  # IDF-weighted share of the key terms anywhere in the passages
    "hits_bigram_share",  # share of the question's character bigrams anywhere in them
    "other_doc_gap",  # best sentence score minus the best from another document
    "docs_near_best",  # documents with a sentence scoring NEAR_BEST of the best or more
    "top_slot_left",  # slot features, the best of the TOP_SENTENCES best-scored sentences
    "top_slot_right",
    "top_slot_fit",
    *_BEST,  # the best-scored sentence's own features
)
_SLOT_COLUMNS = [SENTENCE_FEATURES.index(f"slot_{side}") for side in ("left", "right", "fit")]
_HITS_AT = QUESTION_FEATURES.index("hits_missing_weight")  # first of the three hits_* features


def sentence_matrix(
    info: QueryInfo, evidence: Sequence[Evidence], hits: Sequence[Hit]
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per evidence sentence, in ``evidence`` order (which is
    best-relevance first, as rank_evidence returns it)."""
    rows = np.zeros((len(evidence), len(SENTENCE_FEATURES)))
    if not evidence:
        return rows
    question = NON_WORD.sub("", info.folded)
    q_grams = bigrams(question)
    top_score = max((h.score for h in hits), default=0.0)
    weights = [term_weight(t) for t in info.terms]
    passage_missing: dict[int, float] = {}
    one_hot = [float(info.answer_type == kind) for kind in ANSWER_TYPES]
    shares = [len(q_grams & bigrams(e.folded)) / len(q_grams) if q_grams else 0.0 for e in evidence]
    neighbours = _neighbours(evidence)
    passage_best: dict[int, float] = {}
    titles: dict[int, float] = {}
    slot = question_slot(info.folded)
    for e, share in zip(evidence, shares, strict=True):
        passage_best[e.hit_index] = max(passage_best.get(e.hit_index, 0.0), share)
    for i, e in enumerate(evidence):
        hit = hits[e.hit_index]
        if e.hit_index not in passage_missing:
            passage = fold(f"{hit.title}\n{hit.text}")
            passage_missing[e.hit_index] = _missing_weight(info.terms, weights, passage)
            titles[e.hit_index] = coverage(info.terms, fold(hit.title))
        run = _common_run(question, e.folded)
        rows[i] = [
            e.sentence_coverage,
            e.window_coverage,
            e.passage_coverage,
            sum(term_match(t, e.folded) < 1 for t in info.terms),
            passage_missing[e.hit_index],
            float(e.constraints_ok),
            e.constraints_in_sentence,
            float(e.type_ok),
            float(e.unit_ok),
            float(e.is_question),
            float(e.truncated),
            float(bool(e.candidates)),
            min(e.support, MAX_SUPPORT),
            e.focus_match,
            math.nan if e.value_gap is None else min(e.value_gap, MAX_GAP),
            e.hit_index,
            hit.score,
            top_score - hit.score,
            math.nan if hit.dense_score is None else hit.dense_score,
            math.nan if hit.lexical_score is None else hit.lexical_score,
            e.start / max(len(hit.text), 1),
            e.end - e.start,
            shares[i],
            max((shares[j] for j in neighbours[i]), default=0.0),
            passage_best[e.hit_index],
            passage_best[e.hit_index] - shares[i],
            run,
            run / max(len(question), 1),
            i,
            len(info.terms),
            len(info.constraints),
            *one_hot,
            titles[e.hit_index],
            *slot_match(slot, e.folded),
        ]
    return rows


def slot_match(slot: tuple[str, str] | None, sentence: str) -> tuple[float, float, float]:
    """How much of the question word's context (rag.analysis.query.question_slot) a
    folded sentence repeats: the longest run of the words just before it (as a share),
    of the words just after it, and 1.0 when both runs are there in order with at most
    SLOT_SPAN characters between them (where the answer would sit). Reading-comprehension
    baselines align the question's words around the gap the same way."""
    if slot is None:
        return math.nan, math.nan, math.nan
    left, right = slot
    n_left = next((n for n in range(len(left), 0, -1) if left[-n:] in sentence), 0)
    n_right = next((n for n in range(len(right), 0, -1) if right[:n] in sentence), 0)
    fit = 0.0
    if n_left >= SLOT_MIN_RUN and n_right >= SLOT_MIN_RUN:
        at = sentence.find(left[-n_left:])
        after = sentence.find(right[:n_right], at + n_left)
        fit = float(after >= 0 and after - (at + n_left) <= SLOT_SPAN)
    return (
        n_left / len(left) if left else math.nan,
        n_right / len(right) if right else math.nan,
        fit,
    )


def _neighbours(evidence: Sequence[Evidence]) -> list[list[int]]:
    """For each evidence sentence, the indices of the sentences right before and after
    it in the same passage."""
    by_hit: dict[int, list[tuple[int, int]]] = {}
    for i, e in enumerate(evidence):
        by_hit.setdefault(e.hit_index, []).append((e.start, i))
    out: list[list[int]] = [[] for _ in evidence]
    for spans in by_hit.values():
        spans.sort()
        for k, (_, i) in enumerate(spans):
            out[i] = [spans[j][1] for j in (k - 1, k + 1) if 0 <= j < len(spans)]
    return out


def _common_run(question: str, sentence: str) -> int:
    """Length of the longest run of characters the question and the sentence share
    (questions often copy a phrase of the sentence that answers them)."""
    if not question or not sentence:
        return 0
    matcher = SequenceMatcher(None, question, sentence, autojunk=False)
    return matcher.find_longest_match(0, len(question), 0, len(sentence)).size


def question_vector(
    info: QueryInfo,
    evidence: Sequence[Evidence],
    hits: Sequence[Hit],
    sentences: np.ndarray,
    scores: np.ndarray,
) -> np.ndarray:
    """QUESTION_FEATURES for one question, from its sentence rows and their scores."""
    passages = _hits_features(info, hits)
    if len(scores) == 0:
        empty = np.full(len(QUESTION_FEATURES), np.nan)
        empty[:_HITS_AT] = 0.0  # no sentences
        empty[QUESTION_FEATURES.index("n_docs")] = len({h.doc_id for h in hits})
        empty[_HITS_AT : _HITS_AT + len(passages)] = passages
        return empty
    order = np.argsort(-scores, kind="stable")
    top = [float(scores[order[k]]) if k < len(order) else 0.0 for k in range(3)]
    best_doc = hits[evidence[order[0]].hit_index].doc_id
    other = max(
        (float(scores[i]) for i in order if hits[evidence[i].hit_index].doc_id != best_doc),
        default=0.0,
    )
    near = {hits[evidence[i].hit_index].doc_id for i in order if scores[i] >= NEAR_BEST * top[0]}
    slots = sentences[order[:TOP_SENTENCES]][:, _SLOT_COLUMNS]
    head = [
        *top,
        math.log1p(len(scores)),
        len({h.doc_id for h in hits}),
        float(sentences[:, SENTENCE_FEATURES.index("bigram_share")].max()),
        float(any(e.constraints_ok for e in evidence)),
        float(any(e.admissible for e in evidence)),
        *passages,
        top[0] - other,
        len(near),
        *(np.nan if np.isnan(col).all() else float(np.nanmax(col)) for col in slots.T),
    ]
    return np.concatenate([np.asarray(head, dtype=float), sentences[order[0], _BEST_COLUMNS]])


def _hits_features(info: QueryInfo, hits: Sequence[Hit]) -> list[float]:
    """hits_missing_weight, hits_coverage, hits_bigram_share: the key terms and the
    question's bigrams against every passage at once (a same-topic store often lacks
    the one rare word the question is about)."""
    text = fold("\n".join(f"{h.title}\n{h.text}" for h in hits))
    weights = [term_weight(t) for t in info.terms]
    q_grams = bigrams(NON_WORD.sub("", info.folded))
    return [
        _missing_weight(info.terms, weights, text),
        coverage(info.terms, text),
        len(q_grams & bigrams(NON_WORD.sub("", text))) / len(q_grams) if q_grams else 0.0,
    ]


def _missing_weight(terms: Sequence[str], weights: Sequence[float], folded: str) -> float:
    """The heaviest key term not found whole in ``folded`` text, as a share of all the
    terms' weight (0 when every term is there)."""
    absent = [w for t, w in zip(terms, weights, strict=True) if term_match(t, folded) < 1]
    return max(absent, default=0.0) / (sum(weights) or 1.0)
