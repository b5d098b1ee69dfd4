"""Citation verification of a generated answer: every [n] must name a supplied source
whose text supports the sentence it is attached to.

``check_claim`` is the judge primitive (the lexical judge, ``rag judge`` and the LLM
path's verify step all use it). A claim is supported when

- its numbers, dates, years, Latin names, quoted terms, Chinese quantities and the names
  jieba tags are in the sources (3萬 = 30,000 = 三萬);
- enough of its wording is there too;
- each of its clauses, aligned to the source clauses that hold its wording
  (rag.core.text.align), agrees with them on negation, modality, degree, antonym
  predicates and entities (rag.answer.checks).

The verdict names the type of the first failed check and the source span it was
judged against (``ClaimCheck``).

A claim whose support is instruction-like text in the article (rag.core.text.injection: "ignore
previous instructions", 你現在是…, or the sentences right after such text) is not
verified, however well it matches: an article that addresses the model is not reporting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rag.analysis.query import cn_to_int, date_in, extract_facts, latin_in, tagged_names
from rag.answer import checks
from rag.core.text.align import Region, align, best_sentence
from rag.core.text.claims import split_claims
from rag.core.text.fold import fold, fold_regional, variants
from rag.core.text.grams import wording_overlap
from rag.core.text.injection import instruction_near
from rag.core.text.lang import CJK
from rag.core.text.lexicon import lexicon
from rag.core.text.words import CN_NUMERALS, MEASURE_WORDS_JUDGE
from rag.core.types import CITATION_MARKER, Answer, Citation, Hit, citation_for, marker_numbers

MIN_OVERLAP = 0.45  # share of the claim's wording (bigrams / words) found in the source
# Below this share a claim is not about what its source says, and a contradiction found
# in it would be a coincidence: it is "unsupported wording" without a typed check. Above
# it, a typed change (考慮 -> 已宣布 in a short sentence costs half its bigrams) names
# the verdict.
MIN_TYPED_OVERLAP = 0.25
# A quantity with 萬 or 億 is an amount: compared by value, whatever way it is written.
_LARGE = re.compile(r"[万亿]")
# A Chinese numeral before a measure word (三名, 两次): a stated quantity. Without 万 亿 %
# a numeral run is taken whole or not at all (三万多 gives no quantity).
# Not after a digit: the 万 of 3万元 is the unit of an Arabic number (checked by value).
_CN_QUANTITY = re.compile(rf"(?<![0-9.,])[{CN_NUMERALS}]+(?=[{MEASURE_WORDS_JUDGE}])")
# What jieba sometimes tags as a name but is a count (五十二人 -> 二人/nr).
_COUNT = re.compile(rf"^[{CN_NUMERALS}]+[{MEASURE_WORDS_JUDGE}]?$")
TYPES = checks.TYPES


@dataclass(frozen=True)
class ClaimCheck:
    """The verdict on one claim: supported or not, why, the type of the failed check
    (one of ``TYPES``; "" when supported) and the source span it was judged against
    (``passage``: index into the passages given; offsets into that passage)."""

    supported: bool
    reason: str
    type: str = ""
    passage: int | None = None
    start: int = 0
    end: int = 0
    quote: str = ""  # the source span's text, as the passage writes it

    def span_json(self) -> dict | None:
        """The source span as JSON (``rag judge --json``), or None without one."""
        if self.passage is None:
            return None
        return {"passage": self.passage, "start": self.start, "end": self.end,
                "text": self.quote}  # fmt: skip


@dataclass
class VerifiedAnswer:
    """The answer text with bad markers removed, its citations and what happened."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # claims no cited source backs


def best_span(claim: str, passage: str) -> tuple[int, int]:
    """Offsets of the passage sentence that best matches ``claim`` (raw text)."""
    region = best_sentence(fold(claim), [passage])
    return (region.start, region.end) if region else (0, len(passage))


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


def _fail(kind: str, reason: str, region: Region | None, passages: Sequence[str]) -> ClaimCheck:
    return _with_span(ClaimCheck(False, reason, kind), region, passages)


def _fact_problem(claim: str, sources: checks.Sources, zh_claim: bool) -> tuple[str, str] | None:
    """(type, reason) of the first number, date, year, name or quoted term of the claim
    that the sources do not hold."""
    source = sources.text
    facts = extract_facts(claim, latin_all=zh_claim)
    have = sources.facts
    for year in sorted(facts.years):
        if year not in have.years and str(year) not in source:
            return "date", f"year {year} not in source"
    for date in facts.dates:
        if not date_in(date, have):
            return "date", f"date {date.label()} not in source"
    values = sources.values
    mine = checks.scaled_numbers(claim)  # 3萬 = 30,000 = 三萬
    for number in sorted(facts.numbers):
        if number in values or any(m == number and v in values for m, v in mine):
            continue
        return "number", f"number {number} not in source"
    for mantissa, value in mine:
        if value not in values:
            return "number", f"number {mantissa} × its unit ({value}) not in source"
    for name in sorted(facts.latin):
        if not latin_in(name, source) and not _named_alias(name, sources):
            return "entity", f"name {name!r} not in source"
    for term in sorted(facts.quoted):
        if not sources.holds(term):
            return "entity", f"quoted {term!r} not in source"
    return None


def _named_alias(name: str, sources: checks.Sources) -> bool:
    """Whether a Latin name is an alias, in the entity lexicon, of an entity the
    sources name in another form (Facebook for 臉書)."""
    return any(m.form == name and m.row in sources.named for m in lexicon("entities").find(name))


def _missing_name(plain: str, sources: checks.Sources, tag: str = "") -> str | None:
    """The first name jieba tags in the folded claim (of tags starting with ``tag``:
    "nr", persons only; "" any name) that the sources do not hold; counts it takes for
    names (二人) are not names."""
    for word, found in tagged_names(plain):
        if found.startswith(tag) and not _COUNT.match(word) and not sources.holds(word):
            return word
    return None


def _anchored(claim: str, zh_claim: bool) -> bool:
    facts = extract_facts(claim, latin_all=zh_claim)
    return bool(facts.years or facts.dates or facts.numbers or facts.latin or facts.quoted)


def check_claim(sentence: str, passages: Sequence[str]) -> ClaimCheck:
    """Do ``passages`` (taken together) support the claim ``sentence``?"""
    plain = fold(CITATION_MARKER.sub("", sentence)).strip()  # names, alignment
    claim = fold_regional(plain)  # facts and wording, compared with regional wording one
    passages = list(passages)  # spans index into them as given, empty ones included
    if not claim:
        return ClaimCheck(True, "empty claim")
    if not any(passages):
        return ClaimCheck(False, "no passage to check against", "unsupported wording")
    sources = checks.Sources.of(passages)
    source = sources.text
    zh_claim = bool(CJK.search(claim))
    best = best_sentence(plain, passages)
    problem = _fact_problem(claim, sources, zh_claim)
    if problem:
        return _fail(problem[0], problem[1], best, passages)
    if zh_claim != bool(CJK.search(source)):
        return _cross_lingual(sentence, claim, source, zh_claim, best, passages)
    # A person the sources never name fails first, whatever else the claim shares.
    missing = _missing_name(plain, sources, "nr") if zh_claim else None
    if missing:
        return _fail("entity", f"name {missing} not in source", best, passages)
    share = wording_overlap(claim, source)
    if share >= MIN_TYPED_OVERLAP:
        # A claim about what the source says, changed: the type of the change is the
        # verdict's type, even when the change also costs it most of its wording.
        pairs = align(plain, passages)
        for i, pair in enumerate(pairs):
            finding = checks.check_pair(pair, sources, continues=i < len(pairs) - 1)
            if finding:
                return _fail(finding.type, finding.reason, finding.region, passages)
    if share < MIN_OVERLAP:
        reason = f"only {share:.0%} of the wording is in the source"
        return _fail("unsupported wording", reason, best, passages)
    missing = _missing_name(plain, sources) if zh_claim else None
    if missing:
        return _fail("entity", f"name {missing} not in source", best, passages)
    unnamed = checks.unnamed_entities(claim, sources)
    if unnamed:
        return _fail("entity", f"the source never names {unnamed[0]}", best, passages)
    for m in _CN_QUANTITY.finditer(claim):
        quantity, measure = m.group(0), claim[m.end()]
        value = cn_to_int(quantity)
        if quantity in source or f"{value}{measure}" in source:
            continue
        if _LARGE.search(quantity) and str(value) in sources.values:
            continue  # 三萬元 where the source writes 3萬元 or 30,000元
        return _fail("number", f"quantity {quantity} not in source", best, passages)
    ok = ClaimCheck(True, f"supported ({share:.0%} of the wording in the source)")
    return _with_span(ok, best, passages)


def _cross_lingual(
    sentence: str,
    claim: str,
    source: str,
    zh_claim: bool,
    best: Region | None,
    passages: Sequence[str],
) -> ClaimCheck:
    """An English claim over Chinese sources (or the reverse): wording cannot be
    compared across languages; an English claim's vocabulary can be, through the news
    glossary the offline translator uses, and its antonyms, negation and certainty
    through the English forms of the lexicons."""
    anchored = _anchored(claim, zh_claim)
    share = None if zh_claim else glossary_overlap(CITATION_MARKER.sub("", sentence), source)
    if share is not None and share >= MIN_OVERLAP:
        flip = _english_flip(claim, sentence, passages)
        if flip:
            return _fail(flip[0], flip[1], flip[2], passages)
        reason = f"cross-language claim: {share:.0%} of its terms are in the source"
        return _with_span(ClaimCheck(True, reason), best, passages)
    if anchored:
        flip = None if zh_claim else _english_flip(claim, sentence, passages)
        if flip:
            return _fail(flip[0], flip[1], flip[2], passages)
        reason = "cross-language claim: its numbers, dates and names are in the source"
        return _with_span(ClaimCheck(True, reason), best, passages)
    reason = "cross-language claim without numbers, dates or names: cannot be checked"
    return _fail("unsupported wording", reason, best, passages)


def _with_span(check: ClaimCheck, region: Region | None, passages: Sequence[str]) -> ClaimCheck:
    """``check`` pointing at ``region`` of the passages (unchanged when there is none)."""
    if region is None:
        return check
    quote = passages[region.passage][region.start : region.end]
    return replace(check, passage=region.passage, start=region.start, end=region.end, quote=quote)


def _english_flip(
    claim: str, sentence: str, passages: Sequence[str]
) -> tuple[str, str, Region] | None:
    """(type, reason, region) when an English claim says the opposite of the Chinese
    sentence its glossary terms align to: an antonym pole, a negation the sentence does
    not have, or a certain word where the sentence only has a hedge."""
    from rag.analysis.glossary import translate_question

    translation = translate_question(CITATION_MARKER.sub("", sentence))
    terms = translation.analysis.split() if translation else []
    region = checks.english_region(terms, passages)
    if region is None:
        return None
    found = checks.english_flip(claim, region.text)
    return (found[0], found[1], region) if found else None


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
                check = check_claim(sentence, [hit.text])
                ok, reason, kind = check.supported, check.reason, check.type
                start, end = (
                    (check.start, check.end)
                    if check.passage is not None
                    else best_span(sentence, hit.text)
                )
                injected = instruction_reason(hit, start, end) if ok else None
                if injected:
                    ok, reason, kind = False, injected, "instruction"
                if (n, start, end, ok) not in seen:
                    seen.add((n, start, end, ok))
                    verdict = {} if ok else {"claim": sentence, "type": kind, "reason": reason}
                    citations.append(citation_for(n, hit, start, end, supported=ok, **verdict))
                backed = backed or ok
                if ok or not drop_unsupported:
                    keep.append(n)
                if not ok:
                    action = "Removed" if drop_unsupported else "Unverified"
                    why = f"{kind}: {reason}" if kind and kind != "instruction" else reason
                    warnings.append(f"{action} citation [{n}] for “{_short(sentence)}”: {why}.")
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
