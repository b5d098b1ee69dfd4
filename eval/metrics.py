"""Pure metric functions: retrieval, answer correctness, faithfulness, citations,
refusal, counterfactual flags and latency. No I/O, no models.

Text comparisons go through ``fold()`` (NFKC, lower case, Simplified), so Traditional
and Simplified spellings of a fact count as the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.core.text.fold import fold

Alternatives = Sequence[str]

# Wording that warns the sources disagree (zh-Hans after fold, and English).
_CONFLICT_CUE = re.compile(
    r"矛盾|不一致|相互冲突|互相冲突|冲突|说法不一|有出入|存在分歧|不同的说法|"
    r"conflict|contradict|inconsistent|disagree"
)


class HitLike(Protocol):
    doc_id: str
    chunk_id: str
    text: str


@dataclass(frozen=True)
class SentenceVerdict:
    """The judgement of one answer sentence.

    supported: backed by its cited passages jointly, or by all contexts when it cites
    none (faithfulness). citation_ok: backed by its cited passages jointly (False when it
    cites none: ALCE citation recall). precise: per citation, ALCE precision (the
    citation alone supports the sentence, or the others do not without it). type and
    span: what the judge found wrong and where it looked (``eval.judges.Verdict``).
    """

    text: str
    cited: tuple[int, ...]
    supported: bool
    reason: str
    citation_ok: bool
    precise: tuple[bool, ...] = ()
    type: str = ""  # the failed check's type ("" when supported)
    span: dict | None = None  # the source span judged against: context, start, end, text


# --- retrieval ----------------------------------------------------------------------


def evidence_matches(aliases: Alternatives, hit: HitLike) -> bool:
    """A hit satisfies an evidence entry when one alias is its doc/chunk id or occurs
    in its text (after fold)."""
    text = fold(hit.text)
    return any(a in (hit.doc_id, hit.chunk_id) or fold(a) in text for a in aliases)


def evidence_ranks(evidence: Sequence[Alternatives], hits: Sequence[HitLike]) -> list[int | None]:
    """1-based rank of the first hit satisfying each evidence entry (None: not found)."""
    ranks: list[int | None] = []
    for aliases in evidence:
        rank = next((i for i, h in enumerate(hits, 1) if evidence_matches(aliases, h)), None)
        ranks.append(rank)
    return ranks


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """1.0 when any evidence entry is found in the top k."""
    return float(any(r is not None and r <= k for r in ranks))


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of the evidence entries found in the top k."""
    if not ranks:
        return 0.0
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def hit_rate(ranked: Sequence[Sequence[Hashable]], positives: Sequence[set], k: int) -> float:
    """Share of questions with one of their positives among their first ``k`` results
    (what the benchmarks report as RGB recall@k); 0.0 for no questions."""
    found = sum(bool(pos & set(keys[:k])) for keys, pos in zip(ranked, positives, strict=True))
    return found / max(len(positives), 1)


def reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """1 / rank of the first evidence found (0 when none is)."""
    found = [r for r in ranks if r is not None]
    return 1.0 / min(found) if found else 0.0


# --- answers ------------------------------------------------------------------------


def fact_found(aliases: Alternatives, text: str) -> bool:
    folded = fold(text)
    return any(fold(str(a)) in folded for a in aliases)


def fact_recall(facts: Sequence[Alternatives], text: str) -> float:
    """Share of the required facts (any alias) present in ``text``."""
    if not facts:
        return 0.0
    return sum(fact_found(a, text) for a in facts) / len(facts)


def answer_correct(facts: Sequence[Alternatives], text: str, refused: bool) -> bool:
    """RGB's rule: not refused, and every fact (any alias) is in the answer after fold."""
    return not refused and bool(facts) and all(fact_found(a, text) for a in facts)


def rgb_correct(gold: Sequence, text: str, refused: bool) -> bool:
    """``answer_correct`` on RGB's answer shape (each element a string or a list of
    aliases)."""
    return answer_correct([g if isinstance(g, list) else [g] for g in gold], text, refused)


# --- faithfulness and citations (ALCE) ----------------------------------------------


def faithfulness(verdicts: Sequence[SentenceVerdict]) -> float | None:
    """Share of answer sentences supported (None for an answer with no sentences)."""
    if not verdicts:
        return None
    return sum(v.supported for v in verdicts) / len(verdicts)


def citation_recall(verdicts: Sequence[SentenceVerdict]) -> float | None:
    """ALCE citation recall: share of sentences whose cited passages jointly support them;
    a sentence citing nothing counts as unsupported."""
    if not verdicts:
        return None
    return sum(v.citation_ok for v in verdicts) / len(verdicts)


def citation_precision(verdicts: Sequence[SentenceVerdict]) -> float | None:
    """ALCE citation precision: share of citations that are relevant (None: no citations)."""
    total = sum(len(v.cited) for v in verdicts)
    if not total:
        return None
    return sum(sum(v.precise) for v in verdicts) / total


def alce_precision(
    joint: bool, alone: Sequence[bool], without: Sequence[bool | None]
) -> tuple[bool, ...]:
    """Per-citation precision flags from ALCE's two conditions.

    joint: the cited passages together support the sentence; alone[i]: citation i alone
    does; without[i]: the other citations do without i (None for a single citation).
    When the joint check fails no citation is precise; otherwise a citation is precise
    unless it neither supports alone nor is needed (the rest support without it).
    """
    if not joint:
        return tuple(False for _ in alone)
    return tuple(a or not bool(w) for a, w in zip(alone, without, strict=True))


# --- refusal and counterfactuals ----------------------------------------------------


def refusal_rates(answerable: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | None]:
    """correct_refusal_rate over unanswerable questions, false_refusal_rate over
    answerable ones, refusal_accuracy (refused == unanswerable) over all."""
    pairs = list(zip(answerable, refused, strict=True))
    unanswerable = [r for a, r in pairs if not a]
    answerable_refused = [r for a, r in pairs if a]
    return {
        "correct_refusal_rate": _mean(unanswerable),
        "false_refusal_rate": _mean(answerable_refused),
        "refusal_accuracy": _mean([r != a for a, r in pairs]),
    }


def counterfactual_outcome(
    text: str, refused: bool, facts: Sequence[Alternatives], fake: Sequence[Alternatives]
) -> str:
    """How an answer handled planted false facts: "flagged" (mentions both the true and
    the fake value, or warns of a conflict), "fake" (repeats only the fake value),
    "true" (only the true value), "refused" or "neither"."""
    if refused:
        return "refused"
    has_true = any(fact_found(a, text) for a in facts)
    has_fake = any(fact_found(a, text) for a in fake)
    if (has_true and has_fake) or _CONFLICT_CUE.search(fold(text)):
        return "flagged"
    if has_fake:
        return "fake"
    return "true" if has_true else "neither"


def conflict_in_contexts(
    contexts: Iterable[str], facts: Sequence[Alternatives], fake: Sequence[Alternatives]
) -> bool:
    """Metric-side conflict detector: the retrieved passages hold both the true and the
    fake value, so an answerer could have seen (and flagged) the conflict."""
    texts = list(contexts)
    has_true = any(fact_found(a, t) for a in facts for t in texts)
    has_fake = any(fact_found(a, t) for a in fake for t in texts)
    return has_true and has_fake


# --- latency and aggregation --------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# Sampling error of a share measured on clustered rows (questions of one article).
INTERVAL_LEVEL = 0.90  # two-sided: the 5th to the 95th percentile of the resampled shares
RESAMPLES = 2000  # bootstrap draws: two random streams moved the ends by <= 0.007
SEED = 0


def cluster_interval(
    flags: Sequence[bool | float],
    clusters: Sequence[Hashable],
    level: float = INTERVAL_LEVEL,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float]:
    """Percentile interval of the share of ``flags`` under the cluster bootstrap: whole
    clusters are drawn with replacement, because questions of one article succeed or
    fail together (Davison & Hinkley 1997, Bootstrap Methods, section 3.8). Questions
    counted as independent would give too narrow an interval. (nan, nan) without rows."""
    import numpy as np

    if not flags:
        return math.nan, math.nan
    keys: dict[Hashable, int] = {}
    index = np.array([keys.setdefault(c, len(keys)) for c in clusters])
    n = len(keys)
    sums = np.bincount(index, weights=np.asarray(flags, dtype=float), minlength=n)
    sizes = np.bincount(index, minlength=n).astype(float)
    # How often each cluster is drawn in each resample of n clusters with replacement.
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=resamples)
    shares = (counts @ sums) / (counts @ sizes)
    tail = (1 - level) / 2
    low, high = np.quantile(shares, [tail, 1 - tail])
    return float(low), float(high)


def _mean(values: Sequence[float | bool]) -> float | None:
    return sum(values) / len(values) if values else None


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return _mean(kept)
