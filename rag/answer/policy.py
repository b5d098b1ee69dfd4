"""The extractive answerer's decision: answer or refuse, and how much each candidate
sentence is worth quoting. Learned from labelled data (rag/answer/model.py, fitted by
`make train`): a sentence scorer over each sentence's evidence features and an
answerability classifier over the question's best evidence, with a refusal threshold
chosen on validation data so false refusals stay at or below 5% on each training set.
Two checks stay rules because they are not judgements: no passages, and a question with
nothing to look for. The old rules' hard checks, "no passage holds the question's years,
dates, numbers or names", its narrower form "no passage holds the question's years", and
"no sentence holds a value of the asked kind" (per answer type), apply only where the
fitted artifact says validation data showed they pay (eval/answerer_fit.py chooses them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.analysis.evidence import Evidence
from rag.analysis.features import question_vector, sentence_matrix
from rag.analysis.query import QueryInfo
from rag.answer.model import AnswererModel, load_model
from rag.core.types import Hit


@dataclass(frozen=True)
class Decision:
    """Whether to refuse and why; the answerability probability; one score per evidence
    sentence (evidence order) for choosing what to quote."""

    refuse: bool
    reason: str
    answerable: float = 0.0
    scores: tuple[float, ...] = ()


def score(
    info: QueryInfo, evidence: Sequence[Evidence], hits: Sequence[Hit], model: AnswererModel
) -> tuple[np.ndarray, float]:
    """(sentence scores, answerability probability) from the fitted models."""
    sentences = sentence_matrix(info, evidence, hits)
    scores = model.sentence.proba(sentences) if len(evidence) else np.zeros(0)
    question = question_vector(info, evidence, hits, sentences, scores)
    return scores, float(model.answerable.proba(question[None, :])[0])


def decide(
    info: QueryInfo,
    evidence: Sequence[Evidence],
    hits: Sequence[Hit],
    model: AnswererModel | None = None,
) -> Decision:
    """Answer or refuse, from ranked ``evidence`` over ``hits``."""
    if not evidence:
        return Decision(True, "no passages")
    if not info.terms and not info.constraints:
        return Decision(True, "the question has no content words to look for")
    model = model or load_model()
    scores, answerable = score(info, evidence, hits, model)
    kept = tuple(float(s) for s in scores)
    if model.refuse_without_constraints and not any(e.constraints_ok for e in evidence):
        missing = min((e.missing for e in evidence), key=len)
        return Decision(True, f"no passage mentions {', '.join(missing)}", answerable, kept)
    if model.refuse_without_years and (missing := years_missing(info, evidence)):
        return Decision(True, f"no passage mentions {', '.join(missing)}", answerable, kept)
    if info.answer_type in model.refuse_without_type and not any(e.type_ok for e in evidence):
        return Decision(
            True, f"no passage sentence holds a {info.answer_type} answer", answerable, kept
        )
    if answerable < model.threshold:
        return Decision(
            True,
            f"answerable with probability {answerable:.2f}, below the bar of "
            f"{model.threshold:.2f} (best sentence scores {max(kept):.2f})",
            answerable,
            kept,
        )
    return Decision(
        False,
        f"answerable with probability {answerable:.2f} (bar {model.threshold:.2f}; "
        f"{info.answer_type} question, best sentence scores {max(kept):.2f})",
        answerable,
        kept,
    )


def years_missing(info: QueryInfo, evidence: Sequence[Evidence]) -> list[str]:
    """The question's years when no passage holds all of them (relative years such as
    今年 resolved against the page's date, as rag.analysis.evidence does); else []."""
    # Evidence.missing lists an absent year as str(year) (evidence.missing_constraints).
    years = [str(y) for y in sorted(info.facts.years)]
    if not years or any(set(years).isdisjoint(e.missing) for e in evidence):
        return []
    return years
