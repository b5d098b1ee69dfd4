"""jieba.posseg's HMM decoder (``jieba.posseg.viterbi.viterbi``) over numpy arrays.

jieba tags the words its dictionary lacks (most new names) by a Viterbi pass over 256
(position, tag) states in pure Python: a fifth of a search's time (20.6 of 81.7 ms per
question at 209k chunks, measured 2026-12-02), most of it on characters outside its
per-character state table, where every state pairs with every previous one. This is the
same algorithm step for step (the same sums, in the same order, the same tie-breaking),
so its output is jieba's: ``tests/test_query.py`` compares the two on random
strings. ``rag.analysis.query.load_tagger`` installs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MIN_FLOAT = -3.14e100  # jieba's log-probability of an emission it has not seen
MIN_INF = float("-inf")  # ... and of a transition it has not seen

State = tuple[str, str]  # (B/M/E/S, part-of-speech tag)


@dataclass(frozen=True)
class Model:
    """jieba's HMM as arrays; states sorted, so a larger index is a larger tuple (which
    is how jieba's ``max`` over (probability, state) breaks ties)."""

    states: tuple[State, ...]
    index: dict[State, int]
    start: np.ndarray  # (n,)
    trans: np.ndarray  # (n, n): log P(to | from), -inf where jieba has none
    follows: np.ndarray  # (n, n) bool: jieba lists the transition
    has_next: np.ndarray  # (n,) bool: the state has any transition out
    emit: Mapping[State, Mapping[str, float]]
    char_states: Mapping[str, Sequence[State]]


def build_model(
    char_states: Mapping[str, Sequence[State]],
    start_p: Mapping[State, float],
    trans_p: Mapping[State, Mapping[State, float]],
    emit_p: Mapping[State, Mapping[str, float]],
) -> Model:
    states = tuple(sorted(trans_p))
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    trans = np.full((n, n), MIN_INF)
    follows = np.zeros((n, n), dtype=bool)
    for s, nexts in trans_p.items():
        for t, p in nexts.items():
            trans[index[s], index[t]] = p
            follows[index[s], index[t]] = True
    return Model(
        states=states,
        index=index,
        start=np.array([start_p[s] for s in states]),
        trans=trans,
        follows=follows,
        has_next=follows.any(axis=1),
        emit=emit_p,
        char_states=char_states,
    )


@lru_cache(maxsize=1)
def jieba_model() -> Model:
    """The model jieba.posseg ships (its tables are imported with it)."""
    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P

    return build_model(char_state_tab_P, start_P, trans_P, emit_P)


def decode(model: Model, obs: str) -> tuple[float, list[State]]:
    """(log probability, state per character) of the best path, as jieba's viterbi."""
    n = len(model.states)
    back: list[np.ndarray] = []  # per character: state -> previous state (-1: none)
    alive = _states_of(model, obs[0], None)
    scores = model.start[alive] + _emissions(model, alive, obs[0])
    for char in obs[1:]:
        keep = model.has_next[alive]
        prev, prev_scores = alive[keep], scores[keep]
        expected = model.follows[prev].any(axis=0)
        alive = _states_of(model, char, expected)
        if not len(alive):
            alive = np.flatnonzero(expected) if expected.any() else np.arange(n)
        # (V[t-1][y0] + trans) + emit, as jieba sums it; the last maximum is the one
        # with the largest previous state (prev is sorted).
        total = prev_scores[:, None] + model.trans[np.ix_(prev, alive)]
        total = total + _emissions(model, alive, char)[None, :]
        best = len(prev) - 1 - np.argmax(total[::-1], axis=0)
        pointer = np.full(n, -1)
        pointer[alive] = prev[best]
        back.append(pointer)
        scores = total[best, np.arange(len(alive))]
    last = len(alive) - 1 - int(np.argmax(scores[::-1]))
    state, prob = int(alive[last]), float(scores[last])
    route = [state]
    for pointer in reversed(back):
        state = int(pointer[state])
        route.append(state)
    return prob, [model.states[i] for i in reversed(route)]


def _states_of(model: Model, char: str, expected: np.ndarray | None) -> np.ndarray:
    """Sorted indices of the states ``char`` may take (every state for a character jieba
    has no entry for), among ``expected`` ones when given."""
    listed = model.char_states.get(char)
    if listed is None:
        return np.arange(len(model.states)) if expected is None else np.flatnonzero(expected)
    idx = np.array(sorted(model.index[s] for s in listed), dtype=np.int64)
    return idx if expected is None else idx[expected[idx]]


def _emissions(model: Model, states: np.ndarray, char: str) -> np.ndarray:
    return np.array([model.emit[model.states[i]].get(char, MIN_FLOAT) for i in states])


def viterbi(obs, states, start_p, trans_p, emit_p):  # type: ignore[no-untyped-def]
    """Drop-in for ``jieba.posseg.viterbi`` (the same arguments). jieba passes its own
    tables every time; they are turned into arrays once (``jieba_model``)."""
    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P

    given, jiebas = (states, start_p, trans_p, emit_p), (char_state_tab_P, start_P, trans_P, emit_P)
    if all(a is b for a, b in zip(given, jiebas, strict=True)):
        return decode(jieba_model(), obs)
    return decode(build_model(*given), obs)
