"""Where a claim's support lies: each clause of a claim aligned to the run of source
clauses, inside one sentence of one passage, that holds most of its wording (bigrams of
folded text, so Traditional and Simplified align alike).

The faithfulness checks (rag.answer.checks) compare a claim clause with its aligned
source region only, not with the whole passage: a negation, hedge or quantifier in
another clause or sentence says nothing about this one. Offsets are into the raw
passage; compared text is folded piece by piece, so offsets never drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.core.text.fold import fold, fold_regional
from rag.core.text.grams import cjk_bigrams, content_words, wording_overlap
from rag.core.text.sentences import split_sentences

# Clause breaks: Chinese and ASCII commas, semicolons and colons, but not an ASCII comma
# or colon between digits (30,000; 16:40).
_CLAUSE_BREAK = re.compile(r"[，；：;]|(?<!\d)[,:]|[,:](?!\d)")
# A claim clause may merge up to this many adjacent source clauses (an answer often
# joins "A，B" into one clause); longer runs would let any clause match a whole sentence.
MAX_RUN = 3
# A claim clause this short (characters, folded) is merged with the next one: 此外，
# 不過， 據悉， frame a clause and align to nothing on their own.
MIN_CLAUSE = 4


@dataclass(frozen=True)
class Region:
    """A stretch of one source passage: offsets into the raw passage, folded text."""

    passage: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ClausePair:
    """A claim clause (folded) and the source region it is aligned to."""

    claim: str
    region: Region
    coverage: float  # share of the claim clause's wording found in the region


_END = "。！？!?；;…."


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of ``text`` (breaks, end punctuation and whitespace
    left out)."""
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in _END):
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def claim_clauses(folded: str) -> list[str]:
    """The clauses of a folded claim, a very short one joined to the next (to the one
    before when it is last), with the break between them as the claim writes it."""
    spans = clause_spans(folded)
    kept: list[tuple[int, int]] = []
    start: int | None = None
    for s, e in spans:
        start = s if start is None else start
        if e - start >= MIN_CLAUSE:
            kept.append((start, e))
            start = None
    if start is not None:  # a short last clause
        end = spans[-1][1]
        kept = kept[:-1] + [(kept[-1][0] if kept else start, end)]
    return [folded[s:e] for s, e in kept]


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    grams: frozenset[str]


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    folded: str
    grams: frozenset[str]  # all its clauses' wording
    clauses: tuple[_Clause, ...]


@lru_cache(maxsize=512)
def _sentences(passage: str) -> tuple[_Sentence, ...]:
    """Each sentence of ``passage``, folded, with its clauses and their wording (cached:
    every claim of an answer is aligned against the same passages)."""
    whole = fold(passage)
    # fold() keeps the length unless NFKC expands a character (…, ㎏): then each piece
    # is folded on its own, else the folded passage is sliced by the raw offsets.
    same = len(whole) == len(passage)

    def folded(start: int, end: int) -> str:
        return whole[start:end] if same else fold(passage[start:end])

    out = []
    for s_start, s_end in split_sentences(passage):
        clauses = []
        for c_start, c_end in clause_spans(passage[s_start:s_end]):
            start, end = s_start + c_start, s_start + c_end
            clauses.append(_Clause(start, end, frozenset(_wording(folded(start, end)))))
        if clauses:
            union = frozenset().union(*(c.grams for c in clauses))
            out.append(_Sentence(s_start, s_end, folded(s_start, s_end), union, tuple(clauses)))
    return tuple(out)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


# A number counts for less than a word when aligning: the region about the same thing
# is the one to judge a changed value against (乙廠產量120 aligns to 乙廠產量80, not to
# 甲廠產量120), yet a number still tells two regions with the same words apart.
NUMBER_WEIGHT = 0.5


def _weight(grams: set[str] | frozenset[str]) -> float:
    return sum(NUMBER_WEIGHT if g[:1].isdigit() else 1.0 for g in grams)


def _wording(folded: str) -> set[str]:
    """What aligns a clause: its Chinese bigrams, Latin words and numbers (增長15% finds
    the clause with 15, not another 增長)."""
    return cjk_bigrams(folded) | content_words(folded) | set(_NUMBER.findall(folded))


def align_clause(clause: str, passages: Sequence[str]) -> ClausePair | None:
    """The source region (a run of at most MAX_RUN clauses of one sentence) holding most
    of the folded claim ``clause``'s wording; ties go to the region with less other
    wording. None when the clause has no wording or none of it is in the passages."""
    grams = _wording(clause)
    if not grams:
        return None
    total = _weight(grams)
    best: tuple[float, float, int, int, int] | None = None  # coverage, precision, p, s, e
    for p, passage in enumerate(passages):
        for whole in _sentences(passage):
            if grams.isdisjoint(whole.grams):
                continue
            sentence = whole.clauses
            for i in range(len(sentence)):
                union: set[str] = set()
                for j in range(i, min(i + MAX_RUN, len(sentence))):
                    union |= sentence[j].grams
                    shared = grams & union
                    if not shared:
                        continue
                    hit = _weight(shared)
                    key = (
                        hit / total,
                        len(shared) / len(union),
                        p,
                        sentence[i].start,
                        sentence[j].end,
                    )
                    if best is None or key[:2] > best[:2]:
                        best = key
    if best is None:
        return None
    coverage, _, p, start, end = best
    region = Region(p, start, end, fold_regional(passages[p][start:end]))
    return ClausePair(clause, region, coverage)


def align(folded_claim: str, passages: Sequence[str]) -> list[ClausePair]:
    """Every clause of a folded claim with its aligned source region. A clause that
    aligns to nothing alone (減少2.0%: one bigram) is aligned together with the clause
    before it (or, first, the one after it)."""
    pairs: list[ClausePair] = []
    carry = ""
    for clause in claim_clauses(folded_claim):
        pair = align_clause(carry + clause, passages)
        if pair is None and pairs:
            merged = align_clause(pairs[-1].claim + "," + carry + clause, passages)
            if merged is not None:
                pairs[-1] = merged
                carry = ""
                continue
        if pair is None:
            carry += clause + ","
            continue
        pairs.append(pair)
        carry = ""
    return pairs


def best_sentence(folded_claim: str, passages: Sequence[str]) -> Region | None:
    """The source sentence holding the largest share of the whole claim's wording
    (``wording_overlap``; the first one on a tie): the span a citation quotes and a
    supported claim is shown with."""
    best: tuple[float, int, int, int] | None = None
    for p, passage in enumerate(passages):
        for sentence in _sentences(passage):
            score = wording_overlap(folded_claim, sentence.folded)
            if best is None or score > best[0]:
                best = (score, p, sentence.start, sentence.end)
    if best is None:
        return None
    _, p, start, end = best
    return Region(p, start, end, fold_regional(passages[p][start:end]))


def support_regions(folded_claim: str, passages: Sequence[str]) -> list[Region]:
    """The source sentences that hold the claim's aligned clauses, in passage order and
    without repeats: the premise an NLI or LLM judge reads instead of whole passages."""
    found: dict[tuple[int, int, int], None] = {}
    for pair in align(folded_claim, passages):
        region = pair.region
        for sentence in _sentences(passages[region.passage]):
            if sentence.start <= region.start < sentence.end:
                found[(region.passage, sentence.start, sentence.end)] = None
    return [
        Region(p, start, end, fold_regional(passages[p][start:end]))
        for p, start, end in sorted(found)
    ]
