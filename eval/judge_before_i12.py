"""The lexical judge as it was before issue 12 (commit 3312faf), frozen: the baseline
that ``python -m eval.judge_quality`` and ``make bench`` print beside today's judge.

A copy of that commit's ``rag.answer.verify.sentence_supported`` (with its ``negated``,
``best_span``, ``_matched_region``) and ``eval.judges.LexicalJudge.check``, unchanged in
behaviour, so "today's judge" can be measured on the same sets as the new one. It still
calls the shared fact extractors (``rag.analysis.query``: numbers, dates, names), which
later changes there can move; everything that issue 12 replaced is kept here as it was.
Not used by the product. The RGB set of ``eval.judge_quality`` perturbs negations with
``negated_before_i12`` so that set stays the 1,753 sentences it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from eval.judges import Judge, Verdict
from rag.core.text.words import CN_NUMERALS, MEASURE_WORDS_JUDGE
from rag.core.types import CITATION_MARKER

MIN_OVERLAP = 0.45
_NEGATION_ZH = re.compile(r"[不未没无非勿别]")
_NOT_NEGATION_ZH = re.compile(
    r"不过|不断|不少|不仅|不但|不同|不久|不论|不管|不错|不如|不只|不光|不单|不时|不利|不足|"
    r"不良|不满|不安|不稳|不法|不幸|不一|未来|无论|无人机|无线|无疑|非常|非洲|是否|别人|别的|"
    r"分别|区别|特别|级别|类别|性别|个别|告别|识别|差别|别墅"
)
_NEGATION_EN = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot)\b|n't\b")
_CN_QUANTITY = re.compile(rf"[{CN_NUMERALS}]+(?=[{MEASURE_WORDS_JUDGE}])")
_CLAUSE = re.compile(r"[，,；;：:]")
MIN_CLAUSE_MATCH = 0.6
MIN_CLAUSE_COVER = 0.8


def negated_before_i12(text: str) -> bool:
    """Whether folded ``text`` holds a negation, by the rule before issue 12 (any
    negation character outside a short list of compounds)."""
    if _NEGATION_EN.search(text):
        return True
    return _NEGATION_ZH.search(_NOT_NEGATION_ZH.sub("", text)) is not None


def _best_span(claim: str, passage: str) -> tuple[int, int]:
    from rag.core.text.fold import fold
    from rag.core.text.grams import wording_overlap
    from rag.core.text.sentences import split_sentences

    folded_claim = fold(claim)
    best, best_score = (0, len(passage)), -1.0
    for start, end in split_sentences(passage):
        score = wording_overlap(folded_claim, fold(passage[start:end]))
        if score > best_score:
            best, best_score = (start, end), score
    return best


def _matched_region(claim: str, sentence: str) -> str:
    from rag.core.text.grams import cjk_bigrams

    spots = [i for g in cjk_bigrams(claim) for i in [sentence.find(g)] if i >= 0]
    if not spots:
        return sentence
    return sentence[min(spots) : max(spots) + 2]


def sentence_supported_before_i12(sentence: str, passage: str) -> tuple[bool, str]:
    """(supported, reason) by ``sentence_supported`` as it was before issue 12."""
    from rag.analysis.query import date_in, extract_facts, latin_in, tagged_names
    from rag.answer.verify import glossary_overlap
    from rag.core.text.fold import fold
    from rag.core.text.grams import wording_overlap
    from rag.core.text.lang import CJK

    claim = fold(CITATION_MARKER.sub("", sentence)).strip()
    source = fold(passage)
    if not claim:
        return True, "empty claim"
    zh_claim = bool(CJK.search(claim))
    cross_lingual = zh_claim != bool(CJK.search(source))
    facts = extract_facts(claim, latin_all=zh_claim)
    have = extract_facts(source, latin_all=True)
    for year in sorted(facts.years):
        if year not in have.years and str(year) not in source:
            return False, f"year {year} not in source"
    for date in facts.dates:
        if not date_in(date, have):
            return False, f"date {date.label()} not in source"
    for number in sorted(facts.numbers):
        if number not in have.numbers:
            return False, f"number {number} not in source"
    for name in sorted(facts.latin):
        if not latin_in(name, source):
            return False, f"name {name!r} not in source"
    for term in sorted(facts.quoted):
        if term not in source:
            return False, f"quoted {term!r} not in source"
    anchored = bool(facts.years or facts.dates or facts.numbers or facts.latin or facts.quoted)
    if cross_lingual:
        share = None if zh_claim else glossary_overlap(CITATION_MARKER.sub("", sentence), source)
        if share is not None and share >= MIN_OVERLAP:
            return True, f"cross-language claim: {share:.0%} of its terms are in the source"
        if anchored:
            return True, "cross-language claim: its numbers, dates and names are in the source"
        return False, "cross-language claim without numbers, dates or names: cannot be checked"
    if zh_claim:
        persons = {w for w, tag in tagged_names(claim) if tag.startswith("nr")}
        for name in sorted(persons):
            if name not in source:
                return False, f"name {name} not in source"
    share = wording_overlap(claim, source)
    if share < MIN_OVERLAP:
        return False, f"only {share:.0%} of the wording is in the source"
    start, end = _best_span(sentence, passage)
    closest = _matched_region(claim, fold(passage[start:end]))
    if negated_before_i12(claim) != negated_before_i12(closest):
        side = "adds" if negated_before_i12(claim) else "drops"
        return False, f"the claim {side} a negation compared with the source"
    return True, f"supported ({share:.0%} of the wording in the source)"


def _clause_negation_agrees(claim: str, source: str) -> bool:
    from rag.core.text.grams import wording_overlap
    from rag.core.text.sentences import split_sentences

    for start, end in split_sentences(source):
        clauses = [c for c in _CLAUSE.split(source[start:end]) if c.strip()]
        matched = "".join(c for c in clauses if wording_overlap(c, claim) >= MIN_CLAUSE_MATCH)
        if matched and wording_overlap(claim, matched) >= MIN_CLAUSE_COVER:
            if negated_before_i12(matched) == negated_before_i12(claim):
                return True
    return False


class LexicalJudgeBeforeI12(Judge):
    """The ``lexical`` judge of commit 3312faf (before issue 12), frozen."""

    name = "lexical (before issue 12)"

    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        from rag.analysis.query import tagged_names
        from rag.core.text.fold import fold

        if not passages:
            return Verdict(False, "no passage to check against", 0.0)
        source = "\n".join(passages)
        ok, reason = sentence_supported_before_i12(sentence, source)
        claim, folded_source = fold(CITATION_MARKER.sub("", sentence)).strip(), fold(source)
        if not ok and "negation" in reason and _clause_negation_agrees(claim, folded_source):
            ok, reason = True, "supported (negation agrees clause by clause)"
        if not ok:
            return Verdict(False, reason, 0.0)
        for name in sorted(frozenset(w for w, _ in tagged_names(claim))):
            if name not in folded_source:
                return Verdict(False, f"name {name} not in source", 0.0)
        for quantity in _CN_QUANTITY.findall(claim):
            if quantity not in folded_source:
                return Verdict(False, f"quantity {quantity} not in source", 0.0)
        return Verdict(True, reason, 1.0)
