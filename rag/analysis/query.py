"""Question analysis: key terms, hard constraints and the expected answer type.

Also the fact extractors (years, dates, numbers, Latin names, quoted terms) that the
refusal check and the citation verifier share. Everything works on ``fold()``ed text
(NFKC, lower case, Simplified), so both scripts and full-width digits behave alike.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rag.core.text.dates import YEAR, Date, find_dates
from rag.core.text.fold import fold
from rag.core.text.lang import detect_lang
from rag.core.text.mask import blank
from rag.core.text.words import (
    CN_NUMERALS,
    EN_QUESTION_STOP,
    MEASURE_WORDS,
    MONTHS,
    ZH_QUESTION_STOP,
)

ANSWER_TYPES = ("date", "year", "number", "person", "place", "org", "reason", "other")

# --- fact extraction -------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\d.])\d+(?:,\d{3})+(?:\.\d+)?|(?<![\d.])\d+(?:\.\d+)?")
# Chinese numerals count only before a measure word, so 一起/统一 are not numbers.
# 哪一天/每一年/某一家 ask or generalize; they state no number.
_CN_NUMBER = re.compile(
    rf"(?<![哪每某任同])[{CN_NUMERALS}兆]*[一二两三四五六七八九十][{CN_NUMERALS}兆]*"
    rf"(?=[{MEASURE_WORDS}]|分之|个百分点)"
)
# A year written in Chinese digits (二〇三〇年, 二零二二年).
_CN_YEAR = re.compile(r"(?<![〇零一二三四五六七八九十百千])([〇零一二三四五六七八九]{4})(?=年)")
# A percentage in words (百分之五, 百分之三点五): the number after 百分之.
_CN_PERCENT = re.compile(
    r"百分之([〇零一二两三四五六七八九十百千]+(?:点[〇零一二三四五六七八九]+)?)"
)
# An Arabic number scaled by a Chinese unit (12万, 3.5亿, 1.2兆): its value, so that
# 12万 and 120,000 are the same number.
_SCALED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*([万亿兆])")
# Codes such as h20, c919, u14 are names, not numbers.
_CODE = re.compile(r"[a-z]+\d[a-z0-9]*|[a-z]+-\d+")
_QUOTED = re.compile(r"[《“「『\"']([^《》“”「」『』\"']{2,30})[》”」』\"']")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Facts:
    """Checkable facts of a text: what a claim must share with its source."""

    years: frozenset[int] = frozenset()
    dates: tuple[Date, ...] = ()
    numbers: frozenset[str] = frozenset()  # normalized, e.g. "12", "8.1"
    latin: frozenset[str] = frozenset()  # lower-cased names/codes: "h20", "nvidia"
    quoted: frozenset[str] = frozenset()  # folded text inside 《》“”「」


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
# Large units, largest first: 一兆二千亿 is 1 x 10^12 + 2000 x 10^8 (兆 is 10^12 in Taiwan's
# usage, which is how news writes amounts).
_CN_LARGE_UNITS = (("兆", 10**12), ("亿", 10**8), ("万", 10**4))


def cn_to_int(text: str) -> int | None:
    """Value of a Chinese numeral such as 十六, 二十三, 两千, 一兆二千亿, 二〇三〇 (digit by
    digit when it has no unit), or None if ``text`` is not one."""
    if not text:
        return None
    for unit, size in _CN_LARGE_UNITS:
        if unit in text:
            left, _, right = text.partition(unit)
            high = cn_to_int(left) if left else 1
            low = cn_to_int(right) if right else 0
            return None if high is None or low is None else high * size + low
    if all(ch in _CN_DIGITS for ch in text):  # 二〇三〇: written digit by digit
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    section, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_SMALL_UNITS:
            section += (current or 1) * _CN_SMALL_UNITS[ch]
            current = 0
        else:
            return None
    return section + current


def _norm_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def extract_facts(text: str, *, latin_all: bool = False) -> Facts:
    """Years, dates, numbers, Latin names and quoted terms of ``text``.

    Latin tokens count as names when they hold a digit or a capital past the first
    letter of a sentence (H20, Nvidia, TikTok); ``latin_all`` takes every word of three
    letters or more (for Chinese text, where any Latin word is a name or a code).
    """
    nfkc = unicodedata.normalize("NFKC", text)
    quoted = frozenset(fold(m.group(1)).strip() for m in _QUOTED.finditer(nfkc))
    latin = _latin_names(nfkc, latin_all)
    dated, work = find_dates(fold(nfkc))
    dates = [date for date, _ in dated]
    years = {date.year for date in dates if date.year}
    work = blank(_CODE, work)
    years.update(int(m.group("y")) for m in YEAR.finditer(work))
    years.update(int(cn_to_int(m.group(1)) or 0) for m in _CN_YEAR.finditer(work))
    work = blank(_CN_YEAR, blank(YEAR, work))
    numbers = {_cn_decimal(m.group(1)) for m in _CN_PERCENT.finditer(work)}
    numbers.discard(None)
    work = blank(_CN_PERCENT, work)
    for m in _SCALED.finditer(work):
        numbers.add(_scaled(m.group(1), m.group(2)))
    work = blank(_SCALED, work)
    numbers.update(_norm_number(m.group(0)) for m in _NUMBER.finditer(work))
    for m in _CN_NUMBER.finditer(work):
        value = cn_to_int(m.group(0))
        if value is not None:
            numbers.add(str(value))
    return Facts(frozenset(years), tuple(dates), frozenset(numbers), latin, quoted)  # type: ignore[arg-type]


def _cn_decimal(text: str) -> str | None:
    """三点五 -> "3.5", 三十五 -> "35" (None if not a numeral)."""
    whole, _, fraction = text.partition("点")
    value = cn_to_int(whole)
    if value is None:
        return None
    if not fraction:
        return str(value)
    return _norm_number(f"{value}." + "".join(str(_CN_DIGITS[ch]) for ch in fraction))


def _scaled(number: str, unit: str) -> str:
    """12 and 万 -> "120000"; 3.5 and 亿 -> "350000000" (exact decimal arithmetic)."""
    from decimal import Decimal

    size = dict(_CN_LARGE_UNITS)[unit]
    return _norm_number(format(Decimal(number.replace(",", "")) * size, "f"))


def value_spans(folded: str, kind: str, question: Facts) -> list[tuple[int, int]]:
    """(start, end) offsets of the dates (kind "date") or numbers (kind "number": not
    dates, years or codes, and not a number the question gives) in a folded sentence."""
    dated, work = find_dates(folded)
    if kind == "date":
        return [span for _, span in dated]
    work = blank(YEAR, blank(_CODE, work))
    spans = [m.span() for m in _NUMBER.finditer(work)
             if _norm_number(m.group(0)) not in question.numbers]  # fmt: skip
    return spans + [m.span() for m in _CN_NUMBER.finditer(work)]


def _latin_names(nfkc: str, latin_all: bool) -> frozenset[str]:
    names: set[str] = set()
    for m in _LATIN.finditer(nfkc):
        token = m.group(0).strip(".")
        low = token.lower()
        if low in EN_QUESTION_STOP or low in MONTHS:
            continue
        has_digit = any(c.isdigit() for c in token)
        if has_digit and len(token) >= 2:
            names.add(low)
        elif latin_all and len(token) >= 3:
            names.add(low)
        elif any(c.isupper() for c in token[1:]) or (
            token[0].isupper() and not _sentence_initial(nfkc, m.start()) and len(token) >= 2
        ):
            names.add(low)
    return frozenset(names)


def _sentence_initial(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in '.!?。！？\n"“「'


def latin_in(token: str, folded_text: str) -> bool:
    """``token`` occurs in ``folded_text`` as a whole token (h20 is not in h200); a code
    with digits also matches with spaces inside ("emnlp2022" in "emnlp 2022")."""
    # A digit next to a letter is a token edge (2023q1 holds q1; 888plus holds plus),
    # a digit next to a digit is not (h20 is not in h200).
    before = r"(?<![a-z0-9])" if token[:1].isdigit() else r"(?<![a-z])"
    after = r"(?![a-z0-9])" if token[-1:].isdigit() else r"(?![a-z])"
    if re.search(rf"{before}{re.escape(token)}{after}", folded_text):
        return True
    if not any(c.isdigit() for c in token):
        return False
    spaced = r"\s*".join(re.escape(c) for c in token.replace(" ", ""))
    return re.search(rf"(?<![a-z0-9]){spaced}(?![a-z0-9])", folded_text) is not None


def date_in(date: Date, facts: Facts) -> bool:
    """``date`` agrees with a date of ``facts`` on its month and day."""
    return any(date.agrees(d) and (date.month is None or d.month is not None) for d in facts.dates)


# --- question analysis -----------------------------------------------------------------

# Type cues, checked in order on the folded (Simplified, lower-case) question.
_TYPE_RULES: list[tuple[str, re.Pattern[str]]] = [
    # 改为什么/成为什么 ask "into what", not "why".
    ("reason", re.compile(
        r"(?<![改成作称视认变转定列])为什么|为何|什么原因|原因|缘故|\bwhy\b|how come"
    )),
    ("number", re.compile(r"多长时间|多久|how long")),
    ("year", re.compile(r"哪一年|哪年|哪个年份|什么年份|\b(?:which|what) year\b|in what year")),
    ("date", re.compile(
        r"何时|什么时候|什么时间|哪天|哪一天|几月|几号|几日|日期|时间|\bwhen\b|what date|what day"
    )),
    ("number", re.compile(
        r"多少|几|多大|多高|多远|多重|how many|how much|what percentage|what share|"
        r"人数|数量|金额|价格|售价|票价|营收|收入|利润|产量|总量|规模|增长率|增速|涨幅|比例|"
        r"比率|税率|利率|通胀率|失业率|震级|得分|比分|市值|估值|销量|销售额|人口|总额|席位|gdp"
    )),
    ("person", re.compile(
        r"谁|哪位|什么人|哪个人|哪些人|主演|导演|演员|编剧|作者|得主|\bwho(?:m|se)?\b"
    )),
    ("place", re.compile(
        r"哪里|哪儿|在哪|何地|何处|哪个城市|哪座城市|哪个国家|哪国|哪个省|地点|举办地|举行地|"
        r"\bwhere\b|which (?:city|country|province|place)"
    )),
    ("org", re.compile(
        r"哪家|哪个公司|什么公司|哪间|哪个机构|哪个组织|哪支|哪个队|哪个团队|"
        r"which (?:company|firm|team|organi[sz]ation)"
    )),
]  # fmt: skip

_PUNCT = re.compile(r"^[\W_]+$")


@dataclass
class QueryInfo:
    """What the answerer needs to know about a question."""

    text: str  # the question as asked
    folded: str  # fold()ed: NFKC, lower case, Simplified
    lang: str  # "zh-Hant", "zh-Hans" or "en"
    terms: list[str]  # folded content words, question words and stopwords removed
    answer_type: str  # one of ANSWER_TYPES
    facts: Facts = field(default_factory=Facts)  # the question's hard constraints
    # The term(s) the question word attaches to (the asked relation: 《X》的编剧是谁 ->
    # 编剧; 谁是X的船长 -> 船长; no question word: the last term).
    focus: list[str] = field(default_factory=list)

    @property
    def constraints(self) -> list[str]:
        """Readable list of the hard constraints (years, dates, numbers, names)."""
        f = self.facts
        return (
            [str(y) for y in sorted(f.years)]
            + [d.label() for d in f.dates]
            + sorted(f.numbers)
            + sorted(f.latin)
            + sorted(f.quoted)
        )


@lru_cache(maxsize=1)
def load_jieba():  # type: ignore[no-untyped-def]
    """jieba, its dictionary loaded and its logger quieted (it announces the load on
    stderr, and resets its logger when imported). The one way in for rag and eval."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(folded: str) -> list[str]:
    """Words of folded text: jieba for Chinese, whole words for Latin runs."""
    return [w.strip() for w in load_jieba().lcut(folded) if w.strip()]


NAME_TAGS = ("nr", "ns", "nt", "nz")  # jieba's person, place, organization, other name


@lru_cache(maxsize=1)
def load_tagger():  # type: ignore[no-untyped-def]
    """jieba's part-of-speech tagger (its word-tag table loads on import: ~0.5 s), after
    ``load_jieba``, decoding with ``rag.analysis.viterbi`` (jieba's output, ~6x faster).
    A retriever loads both when it opens (``HybridRetriever.open``)."""
    load_jieba()
    import jieba.posseg

    from rag.analysis.viterbi import viterbi

    # jieba.posseg calls its decoder through this module global (jieba 0.42.1).
    jieba.posseg.viterbi = viterbi
    return jieba.posseg


@lru_cache(maxsize=8192)
def tagged_words(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, word, tag) of every jieba word of ``text``, by its tagger (cached:
    the retriever's answer-aware pass, the answerer, the verifier and the judge look at
    the same sentences)."""
    out, pos = [], 0
    for word, tag in load_tagger().lcut(text):
        out.append((pos, pos + len(word), word, tag))
        pos += len(word)
    return tuple(out)


def tagged_names(sentence: str) -> tuple[tuple[str, str], ...]:
    """(word, tag) of the proper names (2+ characters) jieba tags in a sentence."""
    return tuple(
        (word, tag)
        for _, _, word, tag in tagged_words(sentence)
        if tag.startswith(NAME_TAGS) and len(word) >= 2
    )


def topic_of(question: str) -> str:
    """The question's subject without what it asks (its type cues and punctuation),
    folded: carried into a follow-up so the follow-up keeps its own question type."""
    folded = fold(question)
    for _, pattern in _TYPE_RULES:
        folded = pattern.sub(" ", folded)
    return re.sub(r"[?？!！。,，]+", " ", folded).strip()


def answer_type(folded: str) -> str:
    for kind, pattern in _TYPE_RULES:
        if pattern.search(folded):
            return kind
    return "other"


# Tiny glossary for English questions: month names become dates through extract_facts;
# nothing else is translated (without a model, English over Chinese may simply refuse).


def analyze(question: str) -> QueryInfo:
    """Normalized text, key terms, hard constraints and answer type of ``question``."""
    lang = detect_lang(question)
    folded = fold(question).strip()
    facts = extract_facts(question, latin_all=lang != "en")
    terms: list[str] = []
    previous = ""
    for word in tokenize(folded):
        previous, after_wh = word, previous in ("哪", "几")
        if after_wh and len(word) == 1:  # 哪|天, 几|位: jieba split the question word
            continue
        if (
            _PUNCT.match(word)
            or word in ZH_QUESTION_STOP
            or word in EN_QUESTION_STOP
            or word in MONTHS
        ):
            continue
        if re.fullmatch(r"[\d.,%]+", word):  # numbers are constraints, not terms
            continue
        if re.fullmatch(r"[a-z]", word):  # a lone letter (B站 -> b) is not a term
            continue
        if word.startswith(("几", "多少", "哪", "什么")):  # 几条, 多少钱, 哪部: question words
            continue
        if word not in terms:
            terms.append(word)
    return QueryInfo(
        question, folded, lang, terms, answer_type(folded), facts, focus_terms(folded, terms)
    )


_WH_WORD = re.compile(
    r"^(?:谁|什么|什么样|什么时候|哪.*|多少.*|几.*|何时|何地|何处|为何|为什么|如何|怎么|怎样|是否)$"
)


# The question word as it sits in a (folded, Simplified) Chinese question, longest forms
# first so 哪一年 is taken whole; the words around it are what an answering sentence
# repeats around the answer (X的首都是哪里 -> X的首都是Y).
_WH_SPAN = re.compile(
    r"什么时候|什么样|什么|哪一[年个位天种家座条项所次部]|哪[年个位里儿些天种家座条项所国次部]?|"
    r"多少[年人次个元]?|几[年个位次种天月岁]?|谁|为何|为什么|如何|何[时地处年人种物者]|怎么样?|"
    r"怎样|是否"
)
SLOT_CONTEXT = 6  # characters kept on each side of the question word
NON_WORD = re.compile(r"[\W_]+")  # punctuation and spaces, dropped before comparing text


def question_slot(folded: str) -> tuple[str, str] | None:
    """The (up to SLOT_CONTEXT) word characters before and after the first question word
    of a folded question, punctuation dropped; None when it has no question word."""
    m = _WH_SPAN.search(folded)
    if not m:
        return None
    left = NON_WORD.sub("", folded[: m.start()])[-SLOT_CONTEXT:]
    right = NON_WORD.sub("", folded[m.end() :])[:SLOT_CONTEXT]
    return left, right


def focus_terms(folded: str, terms: list[str]) -> list[str]:
    """The key term next to the (first) question word: on its left when the question
    ends with it (X的编剧是谁), on its right when it sits inside (X是谁创立的), the last
    term when it opens the question (谁是X的船长) or when there is none (X男单冠军)."""
    if not terms:
        return []
    words = tokenize(folded)
    known = set(terms)
    asks = [i for i, w in enumerate(words) if _WH_WORD.match(w)]
    if not asks:
        return terms[-1:]
    at = asks[0]

    def nearest(indices: range) -> list[str]:
        for j in indices:
            if words[j] in known and len(words[j]) > 1:
                return [words[j]]
            if _PUNCT.match(words[j]) or words[j] not in ZH_QUESTION_STOP:
                return []
        return []

    before = any(w in known for w in words[:at])
    after = any(w in known for w in words[at + 1 :])
    if not after:
        return nearest(range(at - 1, -1, -1))
    if not before:
        return terms[-1:]
    return nearest(range(at + 1, len(words))) or nearest(range(at - 1, -1, -1))
