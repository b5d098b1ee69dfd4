"""Sentence evidence: every sentence of the retrieved passages scored against the
question: key-term coverage (sentence, neighbours, passage), the question's hard
constraints (years, dates, numbers, quoted titles, Latin names/codes), whether it holds
the kind of answer asked for and how close to the question's words, and whether other
documents repeat its value (corroboration). Features only; what to do with them is
rag.answer.policy's job."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from rag.analysis.query import (
    Facts,
    QueryInfo,
    date_in,
    extract_facts,
    latin_in,
    tagged_names,
    value_spans,
)
from rag.core.tables import cached_value
from rag.core.text.fold import fold, variants
from rag.core.text.grams import bigrams, found_in
from rag.core.text.mask import blank
from rag.core.text.sentences import QUOTE_BREAKS, cut_long, split_sentences
from rag.core.text.words import CN_NONZERO_NUMERALS
from rag.core.types import Hit

MAX_SUPPORT = 3  # corroborating documents counted at most
# Only a sentence that is itself about the question repeats a value: topical distractors
# share the subject's names, dates and numbers in sentences about something else.
MIN_SUPPORT_COVERAGE = 0.55  # tuned with rag.answer.policy's bars, odd RGB questions
MIN_CONSTRAINTS_IN_SENTENCE = 0.5  # share of the hard constraints inside the sentence
NO_TERM_GAP = 999  # no key term matched exactly in the sentence (bigram matches do not count)
_GAP_KINDS = ("date", "number", "person", "place", "org")
MAX_SENTENCE = 200  # longer sentences are cut at commas into quotable clauses
# A search-snippet date line ("Sep 13, 2016 ... ") is the page's date, not a claim.
_DATELINE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, (?P<y>\d{4}) \.\.\. ")
# "This year" in an article dated 2022 is 2022: relative years resolved against the
# page's date satisfy a question's year (今年7月，《长津湖》收获了…百花奖 for 2022年百花奖).
# Lookbehinds keep 过去年均 and 五年前年收入 from reading as 去年 and 前年.
_RELATIVE_YEAR = re.compile(r"今年|(?<!过)去年|(?<![年过])前年|明年")
_YEAR_OFFSET = {"今年": 0, "去年": -1, "前年": -2, "明年": 1}
# Days named without a date still answer "which day" (预计周三抵达).
_DAY_WORDS = re.compile(
    r"(?:周|星期|礼拜)[一二三四五六日天]|[今明昨前后]天|[今明昨]日|当天|"
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
)
# What a "how many/how much" question measures, and the units that answer it.
_UNIT_RULES = [
    (re.compile(r"多少人|几人|人数|多少名|多少位|人口|how many people"), "人名位万亿"),
    (re.compile(r"多少钱|营收|收入|利润|金额|价格|售价|票价|票房|市值|估值|融资|gdp|成本|"
                r"how much"), "元亿万$¥€"),
    (re.compile(r"增长率|增速|涨幅|跌幅|率|增长了多少|增长多少|上涨了多少|上涨多少|下降了多少|"
                r"下降多少|percent"), "%‰成点"),
    (re.compile(r"几次|多少次|how many times"), "次"),
]  # fmt: skip
# A share answers a question about a share or a change, not one about an amount
# (2021年宝马全球销量 is not answered by 占全球销量的34%).
_ASKS_SHARE = re.compile(
    r"率|增长|增速|增幅|增加|减少|涨|跌|降|升|提高|下滑|回落|上调|下调|同比|环比|变化|"
    r"比例|比重|占|百分|几成|份额|幅度|%|"
    r"\b(?:percent(?:age)?|share|rate|growth|rise|fall|increase|decrease|drop|proportion|"
    r"ratio)s?\b"
)
_SHARE_VALUE = re.compile(r"[\d.,]+\s*(?:%|‰|个?百分点)|百分之[零一二两三四五六七八九十百点]+")
_NUM_UNIT = re.compile(rf"[\d{CN_NONZERO_NUMERALS}][\d.,]*\s*(?:[多余近约]?)\s*(.)")


@dataclass
class Evidence:
    """One candidate sentence of one hit, scored against the question."""

    hit_index: int  # 0-based into hits
    start: int  # offsets of the sentence in hits[hit_index].text
    end: int
    folded: str  # fold() of the sentence
    sentence_coverage: float  # weighted share of key terms found in the sentence
    passage_coverage: float  # ... found anywhere in the passage (and its title)
    constraints_ok: bool  # the passage holds every hard constraint
    missing: tuple[str, ...]  # hard constraints the passage lacks
    type_ok: bool  # the sentence holds the expected kind of answer
    constraints_in_sentence: float  # share of hard constraints inside the sentence
    unit_ok: bool = True  # number questions: a number with the unit asked for
    is_question: bool = False  # the sentence itself asks something (not an answer)
    truncated: bool = False  # a search-snippet cut ("...")
    candidates: frozenset[str] = frozenset()  # answer-type values the sentence offers
    support: int = 0  # how many other documents repeat one (in an on-topic sentence)

    window_coverage: float = 0.0  # ... found in the sentence and its neighbours
    focus_match: float = 1.0  # the question's focus term(s) in the sentence (1 = all)
    # Characters between the nearest value of the asked kind and a key term; None when
    # not measured (another kind, or no value located).
    value_gap: int | None = None

    @property
    def corroborated(self) -> bool:
        return self.support > 0

    @property
    def coverage(self) -> float:
        # The sentence itself counts most; neighbours and the passage cover a subject
        # that the answer sentence only refers back to ("the bridge ... It has six lanes").
        return (
            0.4 * self.sentence_coverage + 0.3 * self.window_coverage + 0.3 * self.passage_coverage
        )

    @property
    def relevance(self) -> float:
        """Ranking score for choosing sentences to quote."""
        return (
            self.coverage
            + (0.25 if self.type_ok else 0.0)
            + (0.1 if self.unit_ok else 0.0)
            + 0.08 * min(self.support, MAX_SUPPORT)
            + (0.1 if self.candidates else 0.0)
            + 0.1 * self.constraints_in_sentence
            - (0.3 if self.is_question else 0.0)
            - (0.05 if self.truncated else 0.0)
            - 0.01 * self.hit_index
        )

    @property
    def admissible(self) -> bool:
        """Could answer: constraints met, answer type (and unit) present, not a question."""
        return (
            self.constraints_ok
            and self.type_ok
            and self.unit_ok
            and not self.is_question
            and self.constraints_in_sentence >= MIN_CONSTRAINTS_IN_SENTENCE
        )


def _idf_file() -> Path:
    return Path(importlib.util.find_spec("jieba").origin).parent / "analyse" / "idf.txt"  # type: ignore[union-attr, arg-type]


def _parse_idf() -> tuple[dict[str, float], float]:
    freq: dict[str, float] = {}
    for line in _idf_file().read_bytes().decode("utf-8").splitlines():
        word, value = line.strip().split(" ")
        freq[word] = float(value)
    return freq, sorted(freq.values())[len(freq) // 2]


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's general-Chinese IDF table and its median, as ``jieba.analyse.TFIDF`` reads
    them from ``jieba/analyse/idf.txt``. Importing jieba.analyse and parsing the
    350k-line file cost about 1 s of CPU in every cold question; the parsed table is
    cached (``rag.core.tables.cached_value``, keyed also by the file's size and mtime;
    about 0.1 s to load)."""
    stat = _idf_file().stat()
    freq, median = cached_value("jieba-idf", _parse_idf, stat.st_size, stat.st_mtime_ns)
    return freq, median


def term_weight(term: str) -> float:
    """Rarity weight from jieba's general-Chinese IDF table; unknown words (names,
    new terms) count as rare. Single characters count half: they match by chance."""
    freq, median = _idf()
    weight = freq.get(term, max(median, 10.0))
    return weight * (0.5 if len(term) == 1 else 1.0)


def term_match(term: str, folded: str) -> float:
    """1 if ``term`` occurs; for Chinese terms, else the share of its bigrams found
    (踩踏事故 vs 踩踏事件), discounted; Latin terms must match whole."""
    if re.fullmatch(r"[a-z0-9.\-]+", term):
        if latin_in(term, folded):
            return 1.0
        # English inflection: "open" in "opened", "bridge" in "bridges".
        if term.isalpha() and len(term) >= 3:
            return 0.9 if re.search(rf"\b{term}(?:s|es|ed|d|ing)\b", folded) else 0.0
        return 0.0
    forms = variants(term)
    if any(form in folded for form in forms):
        return 1.0
    grams = bigrams(term)
    if not grams:
        return 0.0
    return 0.8 * found_in(grams, folded) / len(grams)


def coverage(terms: list[str], folded: str) -> float:
    if not terms:
        return 0.0
    weights = [term_weight(t) for t in terms]
    got = sum(w * term_match(t, folded) for t, w in zip(terms, weights, strict=True))
    return got / sum(weights)


def missing_constraints(info: QueryInfo, folded: str, facts: Facts) -> list[str]:
    """The question's hard constraints that ``folded`` text (with ``facts``) lacks."""
    q = info.facts
    missing = [str(y) for y in sorted(q.years) if y not in facts.years and str(y) not in folded]
    missing += [d.label() for d in q.dates if not date_in(d, facts)]
    missing += [n for n in sorted(q.numbers) if n not in facts.numbers]
    missing += [t for t in sorted(q.quoted) if t not in folded]
    for token in sorted(q.latin):
        # In an English question an ordinary capitalized word (China) need not appear
        # in a Chinese passage; codes with digits (H20) and any Latin word in a Chinese
        # question are names the passage must hold.
        hard = info.lang != "en" or any(c.isdigit() for c in token)
        if hard and not latin_in(token, folded):
            missing.append(token)
    return missing


def has_answer_type(info: QueryInfo, sentence: str, facts: Facts) -> bool:
    """Whether a (folded) sentence holds the kind of answer the question asks for,
    beyond what the question itself already states."""
    kind, q = info.answer_type, info.facts
    if kind == "date":
        if _DAY_WORDS.search(sentence):
            return True
        return any((d.month or d.day) and not any(d == qd for qd in q.dates) for d in facts.dates)
    if kind == "year":
        return bool(facts.years - q.years) or any(d.year for d in facts.dates)
    if kind == "number":
        return bool(facts.numbers - q.numbers)
    if kind == "reason":
        # News often gives a cause without a connective (成為…導火線), so a cue helps
        # ranking but is not required.
        return True
    if kind in ("person", "place", "org"):
        return _has_new_name(info, sentence, facts)
    return True


def answer_view(info: QueryInfo, folded: str) -> str:
    """The sentence as a source of answer values: shares blanked out (same length) when
    the question asks for an amount."""
    if info.answer_type != "number" or _ASKS_SHARE.search(info.folded):
        return folded
    return blank(_SHARE_VALUE, folded)


def value_gap(info: QueryInfo, sentence: str, facts: Facts) -> int | None:
    """Characters between the nearest value of the asked kind in a folded sentence and
    a key term of the question there (a large number when no key term is there); None
    when no value is located or the kind is not measured."""
    kind = info.answer_type
    if kind not in _GAP_KINDS:
        return None
    if kind in ("date", "number"):
        values = value_spans(sentence, kind, info.facts)
        if kind == "date":
            values += [m.span() for m in _DAY_WORDS.finditer(sentence)]
    else:
        values = [m.span() for name in _new_names(info, sentence, facts)
                  for m in re.finditer(re.escape(name), sentence)]  # fmt: skip
    if not values:
        return None
    terms = [m.span() for term in info.terms for form in variants(term)
             for m in re.finditer(re.escape(form), sentence)]  # fmt: skip
    if not terms:
        return NO_TERM_GAP  # the sentence only refers back to the subject: not beside
    return min(max(0, max(v[0], t[0]) - min(v[1], t[1])) for v in values for t in terms)


def unit_ok(info: QueryInfo, sentence: str) -> bool:
    """For a number question that names what it measures (people, money, a rate), a
    number in the sentence carries one of the matching units."""
    units = "".join(chars for pattern, chars in _UNIT_RULES if pattern.search(info.folded))
    if info.answer_type != "number" or not units:
        return True
    return any(m.group(1) in units for m in _NUM_UNIT.finditer(sentence))


def answer_candidates(info: QueryInfo, sentence: str, facts: Facts) -> frozenset[str]:
    """The values of the asked-for kind in a sentence, as comparable keys."""
    kind, q = info.answer_type, info.facts
    if kind == "date":
        return frozenset(f"d{d.month}-{d.day}" for d in facts.dates if d.month and d.day)
    if kind == "year":
        return frozenset(f"y{y}" for y in facts.years - q.years)
    if kind == "number":
        return frozenset(f"n{n}" for n in facts.numbers - q.numbers if n not in ("0", "1"))
    if kind in ("person", "place", "org", "other"):
        return frozenset(f"e{name}" for name in _new_names(info, sentence, facts))
    return frozenset()


def _new_names(info: QueryInfo, sentence: str, facts: Facts) -> set[str]:
    names = set(facts.latin - info.facts.latin) | set(facts.quoted - info.facts.quoted)
    names.update(word for word, _ in tagged_names(sentence) if word not in info.folded)
    return names


def _has_new_name(info: QueryInfo, sentence: str, facts: Facts) -> bool:
    """A proper name (jieba name/place/org tag, Latin name or quoted title) that the
    question does not already contain."""
    if (facts.latin - info.facts.latin) or (facts.quoted - info.facts.quoted):
        return True
    return any(word not in info.folded for word, _ in tagged_names(sentence))


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a passage, over-long ones cut at commas into quotable clauses
    (never inside a number, date or Latin word)."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        spans.extend(
            cut_long(
                text,
                start,
                end,
                MAX_SENTENCE,
                breaks=QUOTE_BREAKS,
                shortest=MAX_SENTENCE // 3,
                whole_tokens=True,
                skip_space=True,
            )
        )
    return spans


def page_year(hit: Hit) -> int | None:
    """The year the passage was published: its date, or a search-snippet dateline."""
    m = re.match(r"(?:19|20)\d\d", hit.published or "")
    if m:
        return int(m.group(0))
    m = _DATELINE.match(hit.text)
    return int(m.group("y")) if m else None


def with_relative_years(facts: Facts, folded: str, year: int | None) -> Facts:
    """``facts`` plus the years that 今年/去年/明年... in ``folded`` stand for."""
    if year is None:
        return facts
    resolved = {year + _YEAR_OFFSET[m.group(0)] for m in _RELATIVE_YEAR.finditer(folded)}
    return replace(facts, years=facts.years | resolved) if resolved else facts


MIN_TAGGED_COVERAGE = 0.2
_NAMED_KINDS = ("person", "place", "org", "other")  # answer kinds found by name tagging


def rank_evidence(info: QueryInfo, hits: list[Hit]) -> list[Evidence]:
    """Every sentence of every hit, scored; best (by relevance) first."""
    out: list[Evidence] = []
    n_constraints = len(info.constraints)
    for index, hit in enumerate(hits):
        body = blank(_DATELINE, hit.text)
        year = page_year(hit)
        passage = fold(f"{hit.title}\n{body}")
        passage_facts = extract_facts(passage, latin_all=True)
        missing = missing_constraints(
            info, passage, with_relative_years(passage_facts, passage, year)
        )
        passage_cov = coverage(info.terms, passage)
        spans = candidate_spans(body)
        for k, (start, end) in enumerate(spans):
            folded = fold(body[start:end])
            window = fold(body[spans[max(k - 1, 0)][0] : spans[min(k + 1, len(spans) - 1)][1]])
            facts = extract_facts(folded, latin_all=True)
            answers = answer_view(info, folded)
            answer_facts = facts if answers == folded else extract_facts(answers, latin_all=True)
            stated = with_relative_years(facts, folded, year)
            inside = n_constraints - len(missing_constraints(info, folded, stated))
            window_cov = coverage(info.terms, window)
            # Name tagging (jieba's HMM) is the costliest step; a sentence that shares
            # little with the question cannot answer it, so it is not tagged.
            tag = info.answer_type not in _NAMED_KINDS or window_cov >= MIN_TAGGED_COVERAGE
            out.append(
                Evidence(
                    hit_index=index,
                    start=start,
                    end=end,
                    folded=folded,
                    sentence_coverage=coverage(info.terms, folded),
                    passage_coverage=passage_cov,
                    constraints_ok=not missing,
                    missing=tuple(missing),
                    # "other" needs no tags to be typed; named kinds do.
                    type_ok=(tag or info.answer_type == "other")
                    and has_answer_type(info, folded, answer_facts),
                    constraints_in_sentence=inside / n_constraints if n_constraints else 1.0,
                    unit_ok=unit_ok(info, folded),
                    is_question=folded.rstrip().endswith(("?", "吗", "呢")),
                    truncated=folded.rstrip().endswith(("...", "…")),
                    window_coverage=window_cov,
                    candidates=(
                        answer_candidates(info, folded, answer_facts) if tag else frozenset()
                    ),
                    focus_match=min((term_match(t, folded) for t in info.focus), default=1.0),
                    value_gap=value_gap(info, answers, answer_facts) if tag else None,
                )
            )
    # Redundancy: an answer value that a second passage repeats is likely the answer.
    # Only another document counts (overlapping chunks of one article repeat sentences).
    by_doc: dict[str, set[str]] = {}
    for e in out:
        if e.coverage >= MIN_SUPPORT_COVERAGE:
            by_doc.setdefault(hits[e.hit_index].doc_id, set()).update(e.candidates)
    for e in out:
        doc = hits[e.hit_index].doc_id
        e.support = max(
            (sum(c in v for k, v in by_doc.items() if k != doc) for c in e.candidates),
            default=0,
        )
    out.sort(key=lambda e: e.relevance, reverse=True)
    return out
