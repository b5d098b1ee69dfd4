"""Citation verification of a generated answer: every [n] must name a supplied source
whose text supports the sentence it is attached to.

``sentence_supported`` is the judge primitive: the claim's numbers, dates, years, Latin
names, quoted terms and person names must occur in the passage, enough of its wording
must too, and a negation must not be added or dropped.

A claim whose support is instruction-like text in the article (rag.core.text.injection: "ignore
previous instructions", 你現在是…, or the sentences right after such text) is not
verified, however well it matches: an article that addresses the model is not reporting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.analysis.query import date_in, extract_facts, latin_in, tagged_names
from rag.core.text.claims import split_claims
from rag.core.text.fold import fold, variants
from rag.core.text.grams import cjk_bigrams, wording_overlap
from rag.core.text.injection import instruction_near
from rag.core.text.lang import CJK
from rag.core.text.sentences import split_sentences
from rag.core.types import CITATION_MARKER, Answer, Citation, Hit, citation_for, marker_numbers

MIN_OVERLAP = 0.45  # share of the claim's wording (bigrams / words) found in the source
_NEGATION_ZH = re.compile(r"[不未没无非勿别]")
# Compounds whose 不/无/非/未 do not negate the clause.
_NOT_NEGATION_ZH = re.compile(
    r"不过|不断|不少|不仅|不但|不同|不久|不论|不管|不错|不如|不只|不光|不单|不时|不利|不足|"
    r"不良|不满|不安|不稳|不法|不幸|不一|未来|无论|无人机|无线|无疑|非常|非洲|是否|别人|别的|"
    r"分别|区别|特别|级别|类别|性别|个别|告别|识别|差别|别墅"
)
_NEGATION_EN = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot)\b|n't\b")


@dataclass
class VerifiedAnswer:
    """The answer text with bad markers removed, its citations and what happened."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # claims no cited source backs


def negated(text: str) -> bool:
    """Whether folded ``text`` holds a negation (不/未/没有/not ...)."""
    if _NEGATION_EN.search(text):
        return True
    return _NEGATION_ZH.search(_NOT_NEGATION_ZH.sub("", text)) is not None


def best_span(claim: str, passage: str) -> tuple[int, int]:
    """Offsets of the passage sentence that best matches ``claim`` (raw text)."""
    folded_claim = fold(claim)
    best, best_score = (0, len(passage)), -1.0
    for start, end in split_sentences(passage):
        score = wording_overlap(folded_claim, fold(passage[start:end]))
        if score > best_score:
            best, best_score = (start, end), score
    return best


def _matched_region(claim: str, sentence: str) -> str:
    """The part of a source sentence between the first and last bigram it shares with
    the claim: a negation elsewhere in the sentence is about another clause."""
    spots = [i for g in cjk_bigrams(claim) for i in [sentence.find(g)] if i >= 0]
    if not spots:
        return sentence
    return sentence[min(spots) : max(spots) + 2]


def _person_names(folded: str) -> set[str]:
    return {word for word, tag in tagged_names(folded) if tag.startswith("nr")}


def glossary_overlap(english: str, folded_source: str) -> float | None:
    """Share of an English sentence's glossary terms (in Chinese, any regional wording)
    found in a Chinese source; None when the glossary knows none of its words."""
    from rag.analysis.glossary import translate_question

    translation = translate_question(english)
    if translation is None:
        return None

    def present(term: str) -> bool:
        return any(v in folded_source for v in variants(term))

    if not all(present(name) for name in translation.names):
        return 0.0  # a named company, place or person the source does not mention
    terms = translation.analysis.split()
    return sum(present(t) for t in terms) / len(terms)


def sentence_supported(sentence: str, passage: str) -> tuple[bool, str]:
    """(supported, reason): does ``passage`` back the claim ``sentence``?"""
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
        # Wording cannot be compared across languages; an English claim's vocabulary can
        # be, through the news glossary the offline translator uses.
        share = None if zh_claim else glossary_overlap(CITATION_MARKER.sub("", sentence), source)
        if share is not None and share >= MIN_OVERLAP:
            return True, f"cross-language claim: {share:.0%} of its terms are in the source"
        if anchored:
            return True, "cross-language claim: its numbers, dates and names are in the source"
        return False, "cross-language claim without numbers, dates or names: cannot be checked"
    if zh_claim:
        for name in sorted(_person_names(claim)):
            if name not in source:
                return False, f"name {name} not in source"
    share = wording_overlap(claim, source)
    if share < MIN_OVERLAP:
        return False, f"only {share:.0%} of the wording is in the source"
    start, end = best_span(sentence, passage)
    closest = _matched_region(claim, fold(passage[start:end]))
    if negated(claim) != negated(closest):
        side = "adds" if negated(claim) else "drops"
        return False, f"the claim {side} a negation compared with the source"
    return True, f"supported ({share:.0%} of the wording in the source)"


def verify_citations(
    answer_text: str, contexts: list[Hit], *, drop_unsupported: bool = True
) -> VerifiedAnswer:
    """Check every [n] of ``answer_text`` against ``contexts`` (n is 1-based).

    Markers naming no supplied source are removed. A marker whose source does not back
    its sentence is removed too (or kept, with ``drop_unsupported=False``); either way
    its Citation is returned with ``supported=False`` and a warning says why.
    """
    warnings: list[str] = []
    citations: list[Citation] = []
    unsupported: list[str] = []
    replacements: dict[tuple[int, int], str] = {}
    seen: set[tuple[int, int, int, bool]] = set()
    for claim in split_claims(answer_text):
        if not claim.markers:
            continue
        sentence = claim.text
        backed = False
        for m in claim.markers:
            keep: list[int] = []
            for n in marker_numbers(m):
                if not 1 <= n <= len(contexts):
                    warnings.append(
                        f"Removed citation [{n}]: only {len(contexts)} sources were supplied."
                    )
                    continue
                hit = contexts[n - 1]
                ok, reason = sentence_supported(sentence, hit.text)
                start, end = best_span(sentence, hit.text)
                injected = instruction_reason(hit, start, end) if ok else None
                if injected:
                    ok, reason = False, injected
                if (n, start, end, ok) not in seen:
                    seen.add((n, start, end, ok))
                    citations.append(citation_for(n, hit, start, end, supported=ok))
                backed = backed or ok
                if ok or not drop_unsupported:
                    keep.append(n)
                if not ok:
                    action = "Removed" if drop_unsupported else "Unverified"
                    warnings.append(f"{action} citation [{n}] for “{_short(sentence)}”: {reason}.")
            replacements[m.span()] = "".join(f"[{n}]" for n in keep)
        if not backed:
            unsupported.append(sentence)
    return VerifiedAnswer(_apply(answer_text, replacements), citations, warnings, unsupported)


def instruction_reason(hit: Hit, start: int, end: int) -> str | None:
    """Why the quote [start, end) of ``hit`` cannot support a claim when it is (or
    follows) instruction-like text; None otherwise."""
    flag = instruction_near(hit.text, start, end)
    if flag is None:
        return None
    phrase = _short(flag.phrase)
    return f"its source text is an instruction to the model (“{phrase}”), not reporting"


def mark_instruction_quotes(answer: Answer) -> Answer:
    """``answer`` with citations whose quote is instruction-like article text marked
    unsupported, each with a warning (for answers that quote, e.g. the extractive one)."""
    marked: list[Citation] = []
    warnings = list(answer.warnings)
    for cite in answer.citations:
        hit = answer.contexts[cite.n - 1] if 1 <= cite.n <= len(answer.contexts) else None
        reason = instruction_reason(hit, cite.quote_start, cite.quote_end) if hit else None
        if reason and cite.supported:
            cite = replace(cite, supported=False)
            warnings.append(f"Unverified citation [{cite.n}]: {reason}.")
        marked.append(cite)
    return replace(answer, citations=marked, warnings=warnings)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _apply(text: str, replacements: dict[tuple[int, int], str]) -> str:
    out, pos = [], 0
    for (start, end), new in sorted(replacements.items()):
        chunk = text[pos:start]
        if not new:
            chunk = chunk.rstrip(" ")  # "claim [7]." -> "claim."
        out.append(chunk + new)
        pos = end
    out.append(text[pos:])
    return "".join(out)
