"""Fitting and measuring the learned extractive answerer on labelled rows
(eval/answerer_data.py): features through the product's own code, two scikit-learn
HistGradientBoosting models, the refusal threshold and sentence-keeping ratio chosen on
validation rows, the artifact written as JSON, and the figures (accuracy, false and
correct refusals) computed with the product's own decision and quoting functions.

Deterministic: fixed seeds, one thread, no early stopping, rows in a fixed order, so the
same rows give the same artifact bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.answerer_data import (
    FOLDS,
    SPLITS,
    Facts,
    Row,
    cache_path,
    holds,
    holds_any,
    load_rows,
    provenance,
)
from rag.analysis.evidence import Evidence, rank_evidence
from rag.analysis.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    question_vector,
    sentence_matrix,
)
from rag.analysis.query import ANSWER_TYPES, QueryInfo, analyze
from rag.answer.extractive import quote_answer, refusal_answer, select_sentences
from rag.answer.model import AnswererModel, Trees
from rag.answer.policy import decide, years_missing
from rag.core.types import Answer

VERSION = "answerer-v1"
MAX_FALSE_REFUSALS = 0.05  # the bar: at most 5% of answerable questions refused
CROSS_FOLDS = 4  # out-of-fold sentence scores for fitting the answerability model
# Sentence scorer: trees of at most 31 leaves, 400 rounds (validation top-1 sentence
# accuracy rose 1-4 points over 15 leaves, 200 rounds). Answerability: smaller trees,
# slower learning (a few thousand rows, not hundreds of thousands).
SENTENCE_PARAMS = dict(max_iter=400, learning_rate=0.1, max_leaf_nodes=31, l2_regularization=1.0)
ANSWERABLE_PARAMS = dict(max_iter=200, learning_rate=0.05, max_leaf_nodes=8, l2_regularization=1.0)
# Quote fewer sentences while validation accuracy stays within this of quoting three.
ACCURACY_GIVE_UP = 0.005
KEEP_RATIOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class Prepared:
    """A row with everything the answerer computes before deciding."""

    row: Row
    info: QueryInfo
    evidence: list[Evidence]
    X: np.ndarray  # SENTENCE_FEATURES per evidence sentence
    y: np.ndarray  # does the sentence hold a gold answer


def prepare(row: Row) -> Prepared:
    """The product's analysis, evidence and sentence features of ``row``, and labels."""
    info = replace(analyze(row.question), lang=row.lang)
    hits = list(row.hits)
    evidence = rank_evidence(info, hits)
    X = sentence_matrix(info, evidence, hits)
    y = np.array(
        [holds_any(row.facts, hits[e.hit_index].text[e.start : e.end]) for e in evidence],
        dtype=bool,
    )
    return Prepared(row, info, evidence, X, y)


# --- fitting --------------------------------------------------------------------------


def _hgb(params: dict, X: np.ndarray, y: np.ndarray, w: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(**params, early_stopping=False, random_state=0)
    with threadpool_limits(1):  # one thread: float sums in one order, same bytes every run
        return model.fit(X, y, sample_weight=w)


def set_weights(rows: Sequence[Row]) -> np.ndarray:
    """Each set weighs the same in a fit, however many rows it has."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.set] = counts.get(row.set, 0) + 1
    return np.array([len(rows) / (len(counts) * counts[r.set]) for r in rows])


def fit_sentences(items: Sequence[Prepared]) -> object:
    """The sentence scorer, on the sentences of answerable questions (the only ones a
    gold span can be in)."""
    used = [p for p in items if p.row.answerable and len(p.evidence)]
    w_row = set_weights([p.row for p in used])
    X = np.vstack([p.X for p in used])
    y = np.concatenate([p.y for p in used])
    w = np.concatenate([np.full(len(p.evidence), wr) for p, wr in zip(used, w_row, strict=True)])
    return _hgb(SENTENCE_PARAMS, X, y, w)


def export(model: object) -> dict:
    """A fitted HistGradientBoostingClassifier as the arrays rag.answer.model.Trees reads."""
    out: dict[str, list] = {k: [] for k in ("roots", "feature", "threshold", "missing_left",
                                            "left", "right", "value")}  # fmt: skip
    offset = 0
    for iteration in model._predictors:  # type: ignore[attr-defined]
        nodes = iteration[0].nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not exported")
        out["roots"].append(offset)
        for node in nodes:
            leaf = bool(node["is_leaf"])
            out["feature"].append(-1 if leaf else int(node["feature_idx"]))
            out["threshold"].append(float(node["num_threshold"]))
            out["missing_left"].append(bool(node["missing_go_to_left"]))
            out["left"].append(offset + int(node["left"]))
            out["right"].append(offset + int(node["right"]))
            out["value"].append(float(node["value"]) if leaf else 0.0)
        offset += len(nodes)
    out["baseline"] = float(np.ravel(model._baseline_prediction)[0])  # type: ignore[attr-defined]
    return out


def question_rows(items: Sequence[Prepared], scorer: Trees) -> np.ndarray:
    return np.vstack([_question(p, scorer) for p in items])


def _question(p: Prepared, scorer: Trees) -> np.ndarray:
    scores = scorer.proba(p.X) if len(p.evidence) else np.zeros(0)
    return question_vector(p.info, p.evidence, p.row.hits, p.X, scores)


def out_of_fold_questions(items: Sequence[Prepared]) -> np.ndarray:
    """Question vectors whose sentence scores come from a scorer that did not see the
    question's article (cross-fitting): in-sample scores are too good to learn from."""
    from eval.answerer_data import bucket

    folds = [bucket(p.row.group, "cross", CROSS_FOLDS) for p in items]
    out = np.zeros((len(items), len(QUESTION_FEATURES)))
    for k in range(CROSS_FOLDS):
        scorer = Trees.from_json(
            export(fit_sentences([p for p, f in zip(items, folds, strict=True) if f != k]))
        )
        for i, (p, f) in enumerate(zip(items, folds, strict=True)):
            if f == k:
                out[i] = _question(p, scorer)
    return out


def fit_answerable(items: Sequence[Prepared], Q: np.ndarray) -> object:
    rows = [p.row for p in items]
    y = np.array([r.answerable for r in rows])
    w = set_weights(rows)
    for name in {r.set for r in rows}:  # classes weigh the same within each set
        mask = np.array([r.set == name for r in rows])
        for label in (True, False):
            sel = mask & (y == label)
            if sel.any():
                w[sel] *= mask.sum() / (2 * sel.sum())
    return _hgb(ANSWERABLE_PARAMS, Q, y, w)


# --- deciding and measuring with the product's own functions -----------------------------


def answer(p: Prepared, model: AnswererModel, max_sentences: int = 3) -> Answer:
    """Exactly what rag.answer.extractive.answer_extractive returns for the row (the
    evidence is computed once and reused)."""
    hits = list(p.row.hits)
    decision = decide(p.info, p.evidence, hits, model)
    if decision.refuse:
        return refusal_answer(p.info, hits, decision.reason)
    chosen = select_sentences(p.evidence, decision.scores, max_sentences, model.keep_ratio)
    if not chosen:
        return refusal_answer(p.info, hits, "no sentence to quote")
    return quote_answer(p.info, p.evidence, hits, chosen, decision.reason, max_sentences)


@dataclass(frozen=True)
class Figures:
    """What the issue asks of an answerer on one set."""

    n_answerable: int
    n_unanswerable: int
    accuracy: float  # answerable questions answered with a gold answer in the text
    false_refusals: float  # answerable questions refused
    correct_refusals: float  # unanswerable questions refused
    mean_quotes: float  # sentences quoted per answer given

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def outcomes(
    rows: Sequence[Row], answers: Sequence[Answer]
) -> dict[str, tuple[list[Row], list[bool]]]:
    """{figure: (the rows it is a share of, one flag per row)} for accuracy, false and
    correct refusals: what Figures averages and a sampling interval resamples."""
    pos = [(r, a) for r, a in zip(rows, answers, strict=True) if r.answerable]
    neg = [(r, a) for r, a in zip(rows, answers, strict=True) if not r.answerable]
    return {
        "accuracy": ([r for r, _ in pos], [correct(r.facts, a) for r, a in pos]),
        "false_refusals": ([r for r, _ in pos], [a.refused for _, a in pos]),
        "correct_refusals": ([r for r, _ in neg], [a.refused for _, a in neg]),
    }


def figures(rows: Sequence[Row], answers: Sequence[Answer]) -> Figures:
    shares = {key: _share(flags) for key, (_, flags) in outcomes(rows, answers).items()}
    given = [a for a in answers if not a.refused]
    return Figures(
        n_answerable=sum(r.answerable for r in rows),
        n_unanswerable=sum(not r.answerable for r in rows),
        **shares,
        mean_quotes=sum(len(a.citations) for a in given) / len(given) if given else 0.0,
    )


def correct(facts: Facts, answer: Answer) -> bool:
    return not answer.refused and holds(facts, answer.text)


def _share(flags) -> float:  # type: ignore[no-untyped-def]
    values = list(flags)
    return sum(values) / len(values) if values else math.nan


def threshold_for(probs: np.ndarray, answerable: np.ndarray) -> float:
    """The highest bar that refuses at most MAX_FALSE_REFUSALS of the answerable rows."""
    p = np.sort(probs[answerable])
    return float(p[int(math.floor(MAX_FALSE_REFUSALS * len(p)))]) if len(p) else 0.0


def calibrate(
    by_set: dict[str, tuple[np.ndarray, np.ndarray]],
) -> float:
    """One threshold for every set: the lowest of the per-set bars, so that false
    refusals stay at or below 5% on each set's validation rows."""
    return min(threshold_for(p, y) for p, y in by_set.values())


# --- the artifact -----------------------------------------------------------------------


def artifact(
    sentence_model: object,
    answerable_model: object,
    threshold: float,
    keep_ratio: float,
    gates: Gates,
    data: dict,
    metrics: dict,
) -> dict:
    import sklearn

    return {
        "version": VERSION,
        "fitted_with": {"scikit-learn": sklearn.__version__},
        "data": data,
        "sentence_features": list(SENTENCE_FEATURES),
        "question_features": list(QUESTION_FEATURES),
        "threshold": threshold,
        "keep_ratio": keep_ratio,
        "refuse_without_constraints": gates.constraints,
        "refuse_without_years": gates.years,
        "refuse_without_type": list(gates.types),
        "metrics": metrics,
        "sentence_model": export(sentence_model),
        "answerable_model": export(answerable_model),
    }


def dumps(data: dict) -> str:
    """The artifact's bytes: sorted keys, one line per top-level key's value."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def model_of(data: dict) -> AnswererModel:
    return AnswererModel.from_json(json.loads(dumps(data)))


def evaluate(
    items: Sequence[Prepared], model: AnswererModel, keep: Callable[[Row], bool] = lambda r: True
) -> dict[str, Figures]:
    """Figures per set for the rows ``keep`` selects."""
    out = {}
    for name in sorted({p.row.set for p in items}):
        chosen = [p for p in items if p.row.set == name and keep(p.row)]
        out[name] = figures([p.row for p in chosen], [answer(p, model) for p in chosen])
    return out


# --- the whole fit ---------------------------------------------------------------------


@dataclass(frozen=True)
class Gates:
    """The old rules' hard checks kept in front of the model: refuse when no passage
    holds the question's constraints (or, narrower, its years); refuse a question of one
    of ``types`` when no sentence holds a value of the asked kind."""

    constraints: bool = False
    years: bool = False  # refuse when no passage holds the question's years
    types: tuple[str, ...] = ()


GATE_TYPES = tuple(t for t in ANSWER_TYPES if t != "other")  # "other" is always type_ok


def choose_gates(bars: Callable[[Gates], tuple[float, float] | None], log=print) -> Gates:  # type: ignore[no-untyped-def]
    """Greedy on validation rows: the constraint check, then each answer type's check,
    kept unless it lowers mean correct refusals at the calibrated threshold (a check
    that costs nothing on validation is kept: it refuses only answers that cannot hold
    what was asked)."""

    def worth(g: Gates) -> float:
        result = bars(g)
        return -1.0 if result is None else result[1]

    best = Gates()
    score = worth(best)
    # Each step offers one more check on top of those kept so far.
    steps: list[Callable[[Gates], Gates]] = [
        lambda g: replace(g, constraints=True),
        lambda g: replace(g, years=True),  # the narrower form: only the question's years
        *(lambda g, kind=kind: replace(g, types=(*g.types, kind)) for kind in GATE_TYPES),
    ]
    for step in steps:
        option = step(best)
        value = worth(option)
        if value >= score:
            best, score = option, value
    log(f"  hard checks kept: constraints {'on' if best.constraints else 'off'}, years "
        f"{'on' if best.years else 'off'}, answer "
        f"types {', '.join(best.types) or 'none'} (val correct refusals {score:.3f})")  # fmt: skip
    return best


def usable(row: Row) -> bool:
    """Rows whose label is trustworthy for fitting and calibrating: an RGB "distractor"
    question whose retrieved passages hold every answer fact is answerable in truth."""
    return row.answerable or not row.answer_in_hits()


def prepare_all(sets: Sequence[str], cache: Path, rebuild: bool, log=print) -> list[Prepared]:  # type: ignore[no-untyped-def]
    items: list[Prepared] = []
    for name in sets:
        started = time.perf_counter()
        rows = load_rows(name, cache, rebuild=rebuild)
        items += [prepare(r) for r in rows]
        log(f"  {name}: {len(rows)} rows ({time.perf_counter() - started:.0f} s)")
    return items


def fit(items: Sequence[Prepared], data: dict, log=print) -> dict:  # type: ignore[no-untyped-def]
    """The artifact fitted on ``items``' train rows, calibrated on their val rows."""
    train = [p for p in items if p.row.split == "train" and usable(p.row)]
    val = [p for p in items if p.row.split == "val" and usable(p.row)]
    log(f"  fitting on {len(train)} rows, calibrating on {len(val)}")
    sentence_model = fit_sentences(train)
    answerable_model = fit_answerable(train, out_of_fold_questions(train))
    scorer = Trees.from_json(export(sentence_model))
    classifier = Trees.from_json(export(answerable_model))
    probs = classifier.proba(question_rows(val, scorer))
    sets = sorted({p.row.set for p in val})

    answerable = np.array([it.row.answerable for it in val])
    in_set = {name: np.array([it.row.set == name for it in val]) for name in sets}
    no_constraints = np.array([not any(e.constraints_ok for e in it.evidence) for it in val])
    no_years = np.array([bool(years_missing(it.info, it.evidence)) for it in val])
    no_type = np.array([not any(e.type_ok for e in it.evidence) for it in val])
    asked = np.array([it.info.answer_type for it in val])

    def bars(gates: Gates) -> tuple[float, float] | None:
        """(threshold, mean correct refusals on val) with these hard checks; None when the
        checks alone refuse more than MAX_FALSE_REFUSALS of some set's answerable rows."""
        refused = np.zeros(len(val), dtype=bool)
        if gates.years:
            refused |= no_years
        if gates.constraints:
            refused |= no_constraints
        refused |= no_type & np.isin(asked, gates.types)
        p = np.where(refused, 0.0, probs)
        if any(refused[m & answerable].mean() > MAX_FALSE_REFUSALS for m in in_set.values()):
            return None
        threshold = calibrate({n: (p[m], answerable[m]) for n, m in in_set.items()})
        shares = [(p[m & ~answerable] < threshold).mean() for m in in_set.values()
                  if (m & ~answerable).any()]  # fmt: skip
        return threshold, float(np.mean(shares))

    gates = choose_gates(bars, log)
    threshold, _ = bars(gates) or (0.0, 0.0)
    log(f"  threshold {threshold:.4f}")
    draft = artifact(sentence_model, answerable_model, threshold, 0.0, gates, data, {})
    model = model_of(draft)
    accuracy = {
        ratio: np.mean(
            [f.accuracy for f in evaluate(val, replace(model, keep_ratio=ratio)).values()]
        )
        for ratio in KEEP_RATIOS
    }
    keep = max(r for r in KEEP_RATIOS if accuracy[r] >= accuracy[0.0] - ACCURACY_GIVE_UP)
    log(f"  keep ratio {keep} (val accuracy {accuracy[keep]:.3f}; "
        f"{accuracy[0.0]:.3f} quoting up to three)")  # fmt: skip
    final = model_of({**draft, "keep_ratio": keep})
    metrics = {
        split: {name: f.as_dict() for name, f in evaluate(
            [p for p in items if p.row.split == split], final, usable).items()}
        for split in ("val", "test")
    }  # fmt: skip
    return artifact(sentence_model, answerable_model, threshold, keep, gates, data, metrics)


def data_record(items: Sequence[Prepared], sets: Sequence[str], cache: Path) -> dict:
    """Where the rows came from, how they were split, and a digest of them."""
    counts = {
        name: {split: sum(1 for p in items if p.row.set == name and p.row.split == split)
               for split, _ in SPLITS}
        for name in sets
    }  # fmt: skip
    rows = hashlib.sha256()
    for name in sets:
        rows.update(cache_path(name, cache).read_bytes())
    return {
        "inputs": provenance(sets),
        "rows_sha256": rows.hexdigest(),
        "rows": counts,
        "split": "by article (sha256 of its id): 60% train, 20% val, 20% test; RGB by "
        "question: odd train (1 mod 4) and val (3 mod 4), even test",
        "unanswerable": f"DRCD/CMRC: asked of a store missing the question's article "
        f"({FOLDS} removal folds); RGB: asked of the distractor-only store",
        "max_false_refusals": MAX_FALSE_REFUSALS,
    }
