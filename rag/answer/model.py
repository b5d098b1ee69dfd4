"""The learned answerer's two models, read from a small JSON artifact and evaluated with
numpy: a sentence scorer (which sentences hold the answer) and an answerability
classifier (answer or refuse). Both are gradient-boosted trees fitted by scikit-learn
(`make train`, eval/train_answerer.py); scikit-learn is not imported here, so loading
costs milliseconds and adds no heavy import to `rag ask`."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# gzip-compressed JSON (a third of the size: tree arrays repeat); mtime 0 keeps the
# bytes a function of the content, so `make train` stays byte-reproducible.
ARTIFACT = Path(__file__).parent / "data" / "answerer.json.gz"


@dataclass(frozen=True)
class Trees:
    """A binary gradient-boosted tree ensemble (scikit-learn's HistGradientBoosting
    layout): nodes of all trees in flat arrays, each tree's root index, the baseline."""

    baseline: float
    roots: np.ndarray  # int: index of each tree's root node
    feature: np.ndarray  # int: feature tested at a node (-1 at a leaf)
    threshold: np.ndarray  # float: go left when x <= threshold
    missing_left: np.ndarray  # bool: where NaN goes
    left: np.ndarray  # int: absolute node index
    right: np.ndarray
    value: np.ndarray  # float: a leaf's contribution to the raw score

    @classmethod
    def from_json(cls, data: dict) -> Trees:
        return cls(
            baseline=float(data["baseline"]),
            roots=np.asarray(data["roots"], dtype=np.int64),
            feature=np.asarray(data["feature"], dtype=np.int64),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            missing_left=np.asarray(data["missing_left"], dtype=bool),
            left=np.asarray(data["left"], dtype=np.int64),
            right=np.asarray(data["right"], dtype=np.int64),
            value=np.asarray(data["value"], dtype=np.float64),
        )

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of ``X``, as scikit-learn computes them."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            return np.zeros(len(X))
        rows = np.arange(len(X))
        node = np.repeat(self.roots[None, :], len(X), axis=0)  # (samples, trees)
        while True:
            feature = self.feature[node]
            inner = feature >= 0
            if not inner.any():
                break
            x = X[rows[:, None], np.where(inner, feature, 0)]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return self.baseline + self.value[node].sum(axis=1)

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``X``."""
        return 1.0 / (1.0 + np.exp(-self.raw(X)))


@dataclass(frozen=True)
class AnswererModel:
    """The fitted artifact: feature names (the order the vectors must follow), the two
    ensembles, the refusal threshold chosen on validation data, and the sentence
    selection ratio."""

    sentence_features: tuple[str, ...]
    question_features: tuple[str, ...]
    sentence: Trees
    answerable: Trees
    threshold: float  # refuse below this answerability probability
    keep_ratio: float  # quote a further sentence only if its score is this share of the best
    refuse_without_constraints: bool  # refuse when no passage holds the question's constraints
    refuse_without_years: bool  # ... when no passage holds the question's years
    refuse_without_type: tuple[str, ...]  # asked types refused when no sentence holds one
    version: str

    @classmethod
    def from_json(cls, data: dict) -> AnswererModel:
        """The model in ``data``; an error when it was fitted on other features than the
        code computes (the trees would read the wrong columns and mis-score silently)."""
        from rag.analysis.features import QUESTION_FEATURES, SENTENCE_FEATURES

        for key, code in (("sentence_features", SENTENCE_FEATURES),
                          ("question_features", QUESTION_FEATURES)):  # fmt: skip
            if tuple(data[key]) != code:
                raise ValueError(
                    f"the answerer artifact's {key} differ from the code's: run make train"
                )
        return cls(
            sentence_features=tuple(data["sentence_features"]),
            question_features=tuple(data["question_features"]),
            sentence=Trees.from_json(data["sentence_model"]),
            answerable=Trees.from_json(data["answerable_model"]),
            threshold=float(data["threshold"]),
            keep_ratio=float(data["keep_ratio"]),
            refuse_without_constraints=bool(data["refuse_without_constraints"]),
            refuse_without_years=bool(data.get("refuse_without_years", False)),
            refuse_without_type=tuple(data.get("refuse_without_type", ())),
            version=str(data["version"]),
        )


def read_artifact(path: Path = ARTIFACT) -> dict:
    """The artifact's JSON object."""
    return json.loads(gzip.decompress(Path(path).read_bytes()))


def write_artifact(path: Path, text: str) -> None:
    """Store the artifact's JSON ``text`` the way read_artifact reads it."""
    Path(path).write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


@lru_cache(maxsize=4)
def load_model(path: Path = ARTIFACT) -> AnswererModel:
    """The artifact at ``path``, read once per process (it never changes at run time)."""
    return AnswererModel.from_json(read_artifact(path))
