"""Typed contradiction checks of a claim clause against its aligned source region.

Each claim clause is aligned to the source clauses that hold its wording
(rag.core.text.align); the two folded strings are then diffed character by character
(difflib), and every check looks at the places where they differ, with the words of a
lexicon (rag.core.text.lexicon, data files in rag/core/text/data/):

- negation: a negation word (不/沒有/未/並非/否認...; 不惜, 不斷, 無論 are not) in a
  changed place on one side only, whose scope — the characters right after it — is
  text both sides share: 並未裁員 -> 已裁員. A negation inside dropped text negates
  nothing the claim says;
- modality: a certain word (已/正式/宣布) where the source has a hedge (研議/考慮/可能/
  據傳/計劃), a hedge where it has a certain word, or a hedge of the source dropped
  before text both share;
- degree: a quantifier of the other end of the scale (小幅 <-> 大幅, 部分 <-> 全部), or an
  intensifier (大幅, 全面) the source does not have;
- antonym: a predicate of the opposite pole of the same axis (增加/減少, 允許/禁止,
  承認/否認, 今年/去年 as a date);
- entity: a name the sources never name where a same-kind name sits in the source
  (a platform, body, company, medium or place of the entity lexicon; or two names that
  differ before a shared 院/部/局/市/國...).

Each finding names its type and quotes both sides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cached_property, lru_cache

from rag.analysis.query import Facts, cn_to_int, extract_facts, tagged_names, tagged_words
from rag.core.text.align import ClausePair, Region
from rag.core.text.fold import fold, fold_regional, variants
from rag.core.text.lang import CJK
from rag.core.text.lexicon import Lexicon, Match, lexicon, rows
from rag.core.text.words import CN_NUMERALS

# The types a verdict reports, in the order `rag judge --json` documents them.
TYPES = (
    "negation",
    "modality",
    "degree",
    "antonym",
    "entity",
    "number",
    "date",
    "unsupported wording",
)
# Characters after a negation or hedge word within which what it governs begins
# (並未|做出, 可能|會|禁止): when none of them is text both sides share, the word sits in
# dropped or rewritten text and says nothing about the claim.
SCOPE_HEAD = 3
# Longest differing part of a name before a shared suffix (行政|院, 國家發改|委).
MAX_NAME_PART = 4
# Changes this close (shared characters between them) are one change of one word.
MERGE_GAP = 1


@dataclass
class Sources:
    """The passages a claim is judged against, folded for the checks; what is read from
    them is computed on first use and kept."""

    raw: str  # the passages joined
    text: str  # fold_regional(raw): scripts and regional wording made one

    @classmethod
    def of(cls, passages: Sequence[str]) -> Sources:
        """The sources of ``passages``; the same passages give the same object (each
        sentence of an answer is judged against them: folded and read once)."""
        return _sources(tuple(passages))

    @cached_property
    def facts(self) -> Facts:
        """Years, dates, numbers and names the passages state."""
        return extract_facts(self.text, latin_all=True)

    @cached_property
    def values(self) -> frozenset[str]:
        """Every number of the passages, those written with a unit also at their value."""
        return frozenset(self.facts.numbers) | {v for _, v in scaled_numbers(self.text)}

    @cached_property
    def named(self) -> frozenset[int]:
        """Rows of the entity lexicon the passages name (by any alias)."""
        return named_entities(self.text)

    def holds(self, word: str) -> bool:
        """Whether the passages hold the folded ``word``: word for word, or in the other
        region's wording of the whole text (克羅埃西亞 for 克罗地亚: names OpenCC
        converts only as a whole)."""
        return word in self.text or any(word in form for form in variants(self.raw))


@lru_cache(maxsize=32)
def _sources(passages: tuple[str, ...]) -> Sources:
    raw = "\n".join(passages)
    return Sources(raw, fold_regional(raw))


@dataclass(frozen=True)
class Finding:
    """Why a claim clause is not supported by its aligned source region."""

    type: str  # one of TYPES
    reason: str
    region: Region | None = None


@dataclass(frozen=True)
class _Diff:
    claim: str
    source: str
    ops: tuple[tuple[str, int, int, int, int], ...]  # the non-equal difflib opcodes
    claim_shared: tuple[bool, ...]  # per claim character: inside an equal block
    source_shared: tuple[bool, ...]
    claim_map: tuple[int, ...]  # per claim character: its source position when shared, else -1


def _diff(claim: str, source: str) -> _Diff:
    """The character diff of a claim clause and its region. Changes with at most
    MERGE_GAP shared characters between them count as one (部分 vs 全部 diffs as
    +全, =部, -分: one change of a word)."""
    matcher = SequenceMatcher(None, claim, source, autojunk=False)
    claim_shared = [False] * len(claim)
    source_shared = [False] * len(source)
    claim_map = [-1] * len(claim)
    ops: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            claim_shared[i1:i2] = [True] * (i2 - i1)
            source_shared[j1:j2] = [True] * (j2 - j1)
            claim_map[i1:i2] = range(j1, j2)
            continue
        if ops and i1 - ops[-1][2] <= MERGE_GAP and j1 - ops[-1][4] <= MERGE_GAP:
            _, a1, _, b1, _ = ops.pop()
            ops.append(("replace", a1, i2, b1, j2))
        else:
            ops.append((tag, i1, i2, j1, j2))
    return _Diff(
        claim, source, tuple(ops), tuple(claim_shared), tuple(source_shared), tuple(claim_map)
    )


def _in(m: Match, lo: int, hi: int) -> bool:
    """Whether a word overlaps the changed range [lo, hi) (an empty range: the word
    straddles the point where the other side has extra text)."""
    if lo == hi:
        return m.start < lo < m.end
    return m.start < hi and m.end > lo


def _changed(matches: list[Match], lo: int, hi: int) -> list[Match]:
    return [m for m in matches if _in(m, lo, hi)]


_CLAUSE_END = frozenset("，。；：！？,.;:!?\n")


def _first_shared(text: str, shared: Sequence[bool], start: int, limit: int) -> int | None:
    """The first character from ``start`` on that both sides share, among the next
    ``limit`` word characters and before a clause break (spaces, quotes and brackets are
    skipped: 不是“C919”, English words); None when there is none."""
    seen, k = 0, start
    while k < len(text) and seen < limit:
        ch = text[k]
        if ch in _CLAUSE_END:
            return None
        if CJK.match(ch) or ch.isalnum():
            if shared[k]:
                return k
            seen += 1
        k += 1
    return None


def _scope_shared(text: str, shared: Sequence[bool], start: int) -> bool:
    """Whether what a word governs, from ``start`` on, is text both sides share: one of
    the SCOPE_HEAD characters there (before a clause break) is in an equal block."""
    return _first_shared(text, shared, start, SCOPE_HEAD) is not None


def _anchor(text: str, shared: Sequence[bool], word: Match) -> int | None:
    """Where a negation word is tied to text both sides share: its first shared
    character (the 是 of an added 不是, the 未 of 並未 where the other side has 未), or
    else the first shared character after it, within SCOPE_HEAD characters and before
    a clause break; None when there is none (the word sits in dropped or rewritten
    text)."""
    return _first_shared(text, shared, word.start, SCOPE_HEAD + len(word.form))


def _scope_start(word: Match, op_end: int) -> int:
    """Where a negation or hedge word's scope starts: after the word, or after the
    changed text when the word runs past it (不|是 with only 不 added: 是 is shared)."""
    return max(word.start + 1, min(word.end, op_end))


# --- the checks -------------------------------------------------------------------------


def antonym(d: _Diff) -> tuple[str, str] | None:
    """(type, reason) when a claim predicate sits where the source has its opposite."""
    lex = lexicon("antonyms", 3)
    cm, sm = lex.find(d.claim), lex.find(d.source)
    for _, i1, i2, j1, j2 in d.ops:
        for x in _changed(cm, i1, i2):
            for y in _changed(sm, j1, j2):
                for a in x.every:
                    if any(a[0] == b[0] and a[1] != b[1] for b in y.every):
                        return a[2], f"the claim says {x.form} where the source says {y.form}"
    return None


def degree(d: _Diff) -> str | None:
    """Why the claim's degree or quantifier is not the source's (None when it is)."""
    lex = lexicon("degree")
    cm, sm = lex.find(d.claim), lex.find(d.source)
    for _, i1, i2, j1, j2 in d.ops:
        mine, theirs = _changed(cm, i1, i2), _changed(sm, j1, j2)
        for x in mine:
            for y in theirs:
                if x.labels[0] != y.labels[0]:
                    return f"the claim says {x.form} where the source says {y.form}"
        for x in mine:
            if x.labels[0] == "high" and not theirs and x.form not in d.source:
                return f"the claim says {x.form}, which the source does not say"
    return None


_UNSURE = {"hedge", "future"}


def modality(d: _Diff, continues: bool = False) -> str | None:
    """Why the claim is more (or less) certain than the source (None when it is not).
    ``continues``: the claim goes on after this clause, so a hedge that ends the
    source's clause (市場預計，X) frames what the claim says next."""
    lex = lexicon("modality")
    cm, sm = lex.find(d.claim), lex.find(d.source)
    for _, i1, i2, j1, j2 in d.ops:
        mine, theirs = _changed(cm, i1, i2), _changed(sm, j1, j2)
        claim_kinds = {m.labels[0] for m in mine}
        source_kinds = {m.labels[0] for m in theirs}
        unsure = [m for m in theirs if m.labels[0] in _UNSURE]
        hedges = [m for m in theirs if m.labels[0] == "hedge"]
        if hedges and "future" in claim_kinds and "hedge" not in claim_kinds:
            word = next(m.form for m in mine if m.labels[0] == "future")
            return (
                f"the claim says {word} where the source says {hedges[0].form}: it "
                "states as decided what the source only reports as planned or possible"
            )
        if "certain" in claim_kinds and unsure and not claim_kinds & _UNSURE:
            word = next(m.form for m in mine if m.labels[0] == "certain")
            return (
                f"the claim says {word} where the source says {unsure[0].form}: "
                "it states as done what the source only expects"
            )
        if claim_kinds & _UNSURE and "certain" in source_kinds and not source_kinds & _UNSURE:
            word = next(m.form for m in mine if m.labels[0] in _UNSURE)
            said = next(m.form for m in theirs if m.labels[0] == "certain")
            return f"the claim says {word} where the source says {said}"
        if claim_kinds & _UNSURE:
            continue
        for m in theirs:
            if m.labels[0] != "hedge":
                continue
            framing = continues and i2 == len(d.claim) and not d.source[m.end :].strip()
            if framing or _scope_shared(d.source, d.source_shared, _scope_start(m, j2)):
                return (
                    f"the claim leaves out the source's {m.form}: it states as fact what "
                    "the source only reports as planned, possible or rumoured"
                )
    return None


def negation(d: _Diff, sources: Sources | None = None) -> str | None:
    """Why the claim's negation is not the source's (None when it agrees).

    Each negation word is tied to the first shared character in or after it (its
    anchor); at every anchor the claim and the source must have as many negations,
    counted odd or even (沒有 for 並未 agrees; 並未 dropped or 不 added does not). A negation whose
    scope is dropped or rewritten text governs nothing the claim says, unless the claim
    adds it with wording the ``sources`` never hold (舉辦城市 -> 舉辦非本)."""
    lex = lexicon("negation")
    counts: dict[int, list] = {}  # source position -> [claim cues, source cues, words]
    for m in lex.find(d.claim):
        anchor = _anchor(d.claim, d.claim_shared, m)
        if anchor is None:
            new = _new_wording(d, m)
            if new and sources is not None and not sources.holds(new):
                return f"the claim adds a negation ({m.form}) the source does not have"
            continue
        entry = counts.setdefault(d.claim_map[anchor], [0, 0, "", ""])
        entry[0] += 1
        entry[2] = entry[2] or m.form
    for m in lex.find(d.source):
        anchor = _anchor(d.source, d.source_shared, m)
        if anchor is None:
            continue
        entry = counts.setdefault(anchor, [0, 0, "", ""])
        entry[1] += 1
        entry[3] = entry[3] or m.form
    for _, (mine, theirs, claim_word, source_word) in sorted(counts.items()):
        if mine % 2 == theirs % 2:
            continue
        if mine % 2:
            return f"the claim adds a negation ({claim_word}) the source does not have"
        return f"the claim drops the source's negation ({source_word})"
    return None


def _new_wording(d: _Diff, m: Match) -> str:
    """The Chinese text after a claim's negation word up to the end of the change it
    sits in, when the word is in a change; "" otherwise."""
    for _, i1, i2, _, _ in d.ops:
        if i1 <= m.start < i2 and i2 > m.end:
            return "".join(ch for ch in d.claim[m.end : i2] if CJK.match(ch))
    return ""


@lru_cache(maxsize=1)
def _suffixes() -> tuple[dict[str, str], frozenset[str]]:
    """Name endings (folded) -> kind, and the deictic first parts (我國, 本市)."""
    kinds: dict[str, str] = {}
    deictic: set[str] = set()
    for row in rows("entity_suffixes"):
        if row.labels[0] == "deictic":
            deictic.update(row.zh)
        else:
            for form in row.zh:
                kinds.setdefault(form, row.labels[0])
    return kinds, frozenset(deictic)


def _ending(text: str) -> tuple[str, str] | None:
    """(kind, suffix) of the longest name ending that ``text`` starts with."""
    kinds, _ = _suffixes()
    for size in (3, 2, 1):
        if text[:size] in kinds and len(text) >= size:
            return kinds[text[:size]], text[:size]
    return None


_NAME_PART = re.compile(rf"^[\u3400-\u9fff]{{1,{MAX_NAME_PART}}}$")
_NUMERAL = re.compile(rf"[{CN_NUMERALS}]")


def _name_part(text: str) -> bool:
    _, deictic = _suffixes()
    return bool(_NAME_PART.match(text)) and text not in deictic and not _NUMERAL.search(text)


# jieba tags of words that are no part of a name: verbs, adverbs, prepositions,
# conjunctions, particles, pronouns, numerals, measure words, locality words.
_NOT_NAME_TAGS = ("v", "d", "p", "c", "u", "r", "m", "q", "f", "ad", "y", "e")


def _words(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, tag) of the jieba words of folded text."""
    return tuple((start, end, tag) for start, end, _, tag in tagged_words(text))


def _name_like(text: str, lo: int, hi: int) -> bool:
    """Whether the words of ``text`` covering [lo, hi) may be part of a name (none is a
    verb, adverb, preposition... by jieba's tags): 指出|政府 is no name, 行政|院 is."""
    return not any(
        s < hi and e > lo and tag.startswith(_NOT_NAME_TAGS) and tag not in ("vn", "nr")
        for s, e, tag in _words(text)
    )


def _source_name(d: _Diff, j1: int, j2: int) -> str | None:
    """A name jieba tags (person, place, organisation, other) in the source region that
    the changed range [j1, j2) falls in."""
    for name, _ in tagged_names(d.source):
        start = d.source.find(name)
        while start >= 0:
            if start <= j1 and j2 <= start + len(name) and j2 > j1:
                return name
            start = d.source.find(name, start + 1)
    return None


_LATIN_WORD = re.compile(r"[a-z][a-z0-9]+")


def entity(d: _Diff, sources: Sources) -> str | None:
    """Why a name of the claim is a substitution (None when none is), where the claim
    changes the source:

    - a lexicon entity the sources never name where a same-kind entity sits in the
      source;
    - a name that differs from the source's before a shared ending (立法|院 -> 行政|院)
      and that the sources never hold;
    - any new wording the sources never hold, or a Latin word they never hold, put
      where the source has a name (a lexicon entity, or one jieba tags).
    """
    lex: Lexicon = lexicon("entities")
    cm, sm = lex.find(d.claim), lex.find(d.source)
    for tag, i1, i2, j1, j2 in d.ops:
        mine_entities = _changed(cm, i1, i2)
        theirs_entities = _changed(sm, j1, j2)
        for x in mine_entities:
            if x.row in sources.named:
                continue
            for y in theirs_entities:
                if y.labels[0] == x.labels[0] and y.row != x.row:
                    return f"the claim names {x.form} where the source names {y.form}"
        if tag != "replace":
            continue
        mine, theirs = d.claim[i1:i2], d.source[j1:j2]
        if any(x.row in sources.named for x in mine_entities):
            continue  # an alias of a name the sources have (鴻海 for 富士康)
        latin = [w for w in _LATIN_WORD.findall(mine) if not sources.holds(w)]
        new = "".join(ch for ch in mine if CJK.match(ch))
        fresh = len(new) >= 2 and not sources.holds(new)
        if latin or fresh:
            old = theirs_entities[0].form if theirs_entities else _source_name(d, j1, j2)
            if old and latin:
                return f"the claim names {latin[0]} where the source names {old}"
            if old and _name_like(d.claim, i1, i2):
                return f"the claim names {mine.strip()} where the source names {old}"
        if not (_name_part(mine) and _name_part(theirs)):
            continue
        ending = _ending(d.claim[i2:]) if i2 < len(d.claim) and d.claim_shared[i2] else None
        if ending is not None:
            new, old = mine + ending[1], theirs + ending[1]
        elif _ending(mine[-1:]) and _ending(theirs[-1:]) and min(len(mine), len(theirs)) > 1:
            new, old = mine, theirs
        else:
            continue
        if (
            not sources.holds(new)
            and old in d.source
            and _name_like(d.claim, i1, i2)
            and _name_like(d.source, j1, j2)
        ):
            return f"the claim names {new} where the source names {old}"
    return None


def check_pair(pair: ClausePair, sources: Sources, *, continues: bool = False) -> Finding | None:
    """The first contradiction between a claim clause and its aligned region, by type:
    number or date in the aligned place, antonym, degree, modality, entity, negation (a
    denial turned into an admission is an antonym before it is a negation).
    ``continues``: another claim clause follows this one."""
    d = _diff(fold_regional(pair.claim), pair.region.text)
    if not d.ops:
        return None
    found = numbers_in_place(d) or antonym(d)
    if found:
        return Finding(found[0], found[1], pair.region)
    for kind, reason in (
        ("degree", degree(d)),
        ("modality", modality(d, continues)),
        ("entity", entity(d, sources)),
        ("negation", negation(d, sources)),
    ):
        if reason:
            return Finding(kind, reason, pair.region)
    return None


_NUMBER_TOKEN = re.compile(
    r"\d+(?:,\d{3})*(?:\.\d+)?(?:万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千)?"
)
_DATE_UNIT = re.compile(r"^(?:年|月|日|号|时|点)")
_DIGITS_ONLY = re.compile(r"^[\d.,]+$")


def _number_near(text: str, lo: int, hi: int) -> re.Match[str] | None:
    """The number (digits, with its unit) that overlaps the changed range [lo, hi) or
    touches it."""
    for m in _NUMBER_TOKEN.finditer(text):
        if m.start() <= hi and m.end() >= lo:
            return m
    return None


def _value(token: str) -> str | None:
    scaled = scaled_numbers(token)
    if scaled:
        return scaled[0][1]
    try:
        return _plain(Decimal(token.replace(",", "")))
    except InvalidOperation:
        return None


def numbers_in_place(d: _Diff) -> tuple[str, str] | None:
    """(type, reason) when the claim puts another number where its aligned source has
    one (3萬 and 30,000 are the same number; a value written elsewhere in the passage
    does not make it right): a date when a 年/月/日 follows it."""
    for tag, i1, i2, j1, j2 in d.ops:
        if not any(c.isdigit() for c in d.claim[max(0, i1 - 1) : i2 + 1]):
            continue
        extra = d.claim[i1:i2] + d.source[j1:j2]
        if tag != "replace" and not _DIGITS_ONLY.match(extra):
            continue  # text one side has and the other lacks ([13] before a date)
        mine = _number_near(d.claim, i1, i2)
        theirs = _number_near(d.source, j1, j2)
        if mine is None or theirs is None:
            continue
        if _value(mine.group(0)) == _value(theirs.group(0)):
            continue
        after = d.source[theirs.end() :] or d.claim[mine.end() :]
        kind = "date" if _DATE_UNIT.match(after) else "number"
        return kind, f"the claim says {mine.group(0)} where the source says {theirs.group(0)}"
    return None


def named_entities(folded: str) -> frozenset[int]:
    """Rows of the entity lexicon that folded text names (by any alias)."""
    return frozenset(m.row for m in lexicon("entities").find(folded))


def unnamed_entities(folded_claim: str, sources: Sources) -> list[str]:
    """Entity-lexicon names of the claim whose entity the sources never name."""
    found = lexicon("entities").find(folded_claim)
    return [m.form for m in found if m.row not in sources.named] if found else []


# --- numbers written with a unit ----------------------------------------------------------

_UNITS = {"万亿": 10**12, "千亿": 10**11, "百亿": 10**10, "十亿": 10**9, "亿": 10**8,
          "千万": 10**7, "百万": 10**6, "十万": 10**5, "万": 10**4, "千": 10**3}  # fmt: skip
_SCALED = re.compile(
    r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)\s*"
    r"(万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千)"
)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def scaled_numbers(folded: str) -> list[tuple[str, str]]:
    """(mantissa, value) of the numbers written with a unit in folded text: 3万 ->
    ("3", "30000"), 1.5亿 -> ("1.5", "150000000"), 三万 -> ("3", "30000"). So 3萬,
    30,000 and 三萬 compare as the same number."""
    out = []
    for m in _SCALED.finditer(folded):
        raw, unit = m.group(1), m.group(2)
        if raw[0].isdigit():
            try:
                mantissa = Decimal(raw.replace(",", ""))
            except InvalidOperation:
                continue
        else:
            value = cn_to_int(raw)
            if value is None:
                continue
            mantissa = Decimal(value)
        out.append((_plain(mantissa), _plain(mantissa * _UNITS[unit])))
    return out


# --- English claims over Chinese sources --------------------------------------------------


def english_region(terms: Sequence[str], passages: Sequence[str]) -> Region | None:
    """The source sentence holding most of an English claim's glossary ``terms`` (in
    Chinese, any regional wording); None when it holds none."""
    from rag.core.text.sentences import split_sentences

    best: tuple[int, int, int, int] | None = None
    for p, passage in enumerate(passages):
        for start, end in split_sentences(passage):
            text = fold(passage[start:end])
            hits = sum(any(v in text for v in variants(t)) for t in terms)
            if hits and (best is None or hits > best[0]):
                best = (hits, p, start, end)
    if best is None:
        return None
    _, p, start, end = best
    return Region(p, start, end, fold(passages[p][start:end]))


def english_flip(claim: str, source: str) -> tuple[str, str] | None:
    """(type, reason) when a folded English claim says the opposite of the folded
    Chinese sentence it aligns to (no positions to compare across languages, so only
    what one side has and the other lacks): an antonym pole the sentence has only the
    opposite of; a negation the sentence lacks; a certain word where the sentence only
    hedges; an intensifier where the sentence only has a low degree."""
    lex = lexicon("antonyms", 3)
    mine, theirs = lex.find(claim), lex.find(source)
    for x in mine:
        same = [y for y in theirs if y.labels[:2] == x.labels[:2]]
        other = [y for y in theirs if y.labels[0] == x.labels[0] and y.labels[1] != x.labels[1]]
        if other and not same:
            return x.labels[2], f"the claim says {x.form} where the source says {other[0].form}"
    negations = lexicon("negation")
    cue = negations.find(claim)
    if cue and not negations.find(source):
        return "negation", f"the claim adds a negation ({cue[0].form}) the source does not have"
    kinds = {m.labels[0] for m in lexicon("modality").find(source)}
    certain = [m for m in lexicon("modality").find(claim) if m.labels[0] == "certain"]
    if certain and "hedge" in kinds and "certain" not in kinds:
        return "modality", f"the claim says {certain[0].form} where the source only expects it"
    levels = {m.labels[0] for m in lexicon("degree").find(source)}
    high = [m for m in lexicon("degree").find(claim) if m.labels[0] == "high"]
    if high and "low" in levels and "high" not in levels:
        return "degree", f"the claim says {high[0].form} where the source has a lower degree"
    return None
