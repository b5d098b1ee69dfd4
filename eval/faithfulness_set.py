"""The labelled faithfulness set: true paraphrases and meaning flips of real sentences.

Sentences come from the three ../shared corpora (the two sample pages, CRUD-RAG news,
RGB zh_refine passages), read at run time: nothing of them is stored in the project.
From each source sentence the generator makes

- unsupported sentences, one per type it can apply (each from several surface forms,
  rules in eval/faithfulness_data/perturbations.tsv and entity_swaps.tsv): negation added
  or removed; certainty raised (hedge -> certain, hedge dropped) or lowered; degree or
  quantifier flipped, or an intensifier added; an antonym predicate; a person, place,
  organisation, platform, body, company or medium swapped for one the source never
  names; a number changed; a date, year or relative time changed;
- supported sentences, real paraphrases, never verbatim copies: clauses reordered,
  words swapped for synonyms (eval/faithfulness_data/paraphrases.tsv), trailing clauses dropped, the
  other script (Traditional <-> Simplified), numbers written differently (30000 -> 3萬
  / 三萬 / 30,000, 3 -> 三), and two of these at once.

Each is judged against the passage its source sentence came from (a sample page's
paragraph, a CRUD article's sentence with its neighbours, an RGB passage).

The set is split by source article, never by sentence: within each corpus, articles in
the order of a seeded hash go alternately to the TUNING half (the one the judge's
lexicons and thresholds may be tuned on) and the HELDOUT half (reported, never tuned
on). Deterministic for a seed: same ../shared, same set.

Honesty note: the generator's word lists are its own (eval/faithfulness_data/), written apart from
the judge's lexicons (rag/core/text/data/), but both describe the same Chinese words, so
the held-out figures measure the checks on unseen sentences (scope, alignment,
compounds, paraphrase precision) more than on unseen vocabulary. RGB's zh_fact
counterfactuals (eval.judge_quality) are the set no generator made.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from eval import data

SEED = 12
TUNING, HELDOUT = "tuning", "heldout"
DATA = Path(__file__).with_name("faithfulness_data")
# How many articles (CRUD) or questions (RGB) the set draws from, and sentences from each:
# enough for about a hundred held-out sentences of the rarest type.
CRUD_ARTICLES = 500
RGB_QUESTIONS = 300
SENTENCES_PER_ARTICLE = 2
MIN_SENTENCE, MAX_SENTENCE = 15, 150  # characters: shorter are fragments, longer lists
MIN_CJK = 10  # Chinese characters a sentence needs to be a claim worth judging
# CRUD articles are long: a passage is the sentence with this many characters of its
# neighbours on each side at most (about an ingest chunk).
CONTEXT = 150
UNSUPPORTED_TYPES = ("negation", "modality", "degree", "antonym", "entity", "number", "date")
PARAPHRASES = ("reorder", "synonym", "drop_clause", "script", "numbers")
# Clause openers that lean on the clause before (但, 而, 并且...): such a clause cannot
# move to the front, and a sentence cut before it stays whole.
_LEANING = re.compile(
    r"^(?:但|而|并|且|也|还|又|以|因此|所以|从而|其中|同时|不过|然而|却|则|即|并且|进而|"
    r"否则|于是|因而|此外|另外|甚至|尤其|特别是|包括|其|该|此|他|她|它|这|那)"
)
# First clauses that assert nothing alone (a condition, a concession, a purpose).
_OPENERS = re.compile(r"^(?:如果|若|假如|一旦|即使|虽然|尽管|只要|除非|为了|随着|由于|因为|当)")
# Clause breaks: Chinese commas and semicolons, and ASCII ones not between digits.
_CLAUSE_BREAK = re.compile(r"[，；;]|,(?!\d)|(?<!\d),")
_OPEN, _CLOSE = "“「『《（(【[", "”」』》）)】]"
# jieba tags of names to swap, and tagged words that are not names (城市 ns, 上市 ns).
_NAME_TAGS = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "org"}
_NOT_NAMES = frozenset(
    "城市 上市 国内 国外 全国 国际 中外 海外 境内 境外 全球 地方 各地 当地 本地 外地 省市 "
    "市场 中央 地区 社区 全省 全市 南方 北方 东部 西部 中部 内地 沿海".split()
)


@dataclass(frozen=True)
class Source:
    """A sentence of a real article and the passage it is judged against."""

    corpus: str  # pages, crud, rgb
    article: str  # the article's id: the split goes by it
    sentence: str
    passage: str


@dataclass(frozen=True)
class Item:
    """One labelled sentence of the set."""

    id: str  # stable: corpus, article, sentence hash, type, form
    corpus: str
    article: str
    half: str  # TUNING or HELDOUT
    sentence: str  # the claim to judge
    passage: str  # the source it is judged against
    supported: bool
    type: str  # unsupported: one of UNSUPPORTED_TYPES; supported: "paraphrase"
    form: str  # how it was made: "add:没有", "swap:low→high", "reorder+script"...


# --- word lists ---------------------------------------------------------------------------


def _tsv(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Rule:
    type: str
    form: str
    token: str
    replacements: tuple[str, ...]


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The perturbation rules (eval/faithfulness_data/perturbations.tsv)."""
    out = []
    for cells in _tsv("perturbations.tsv"):
        cells += [""] * (4 - len(cells))
        out.append(Rule(cells[0], cells[1], cells[2], tuple(cells[3].split("|"))))
    return tuple(out)


@lru_cache(maxsize=1)
def entity_swaps() -> dict[str, tuple[str, ...]]:
    """Kind -> the generator's own same-kind names (eval/faithfulness_data/entity_swaps.tsv)."""
    return {cells[0]: tuple(cells[1].split("|")) for cells in _tsv("entity_swaps.tsv")}


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Word -> words that may stand for it (eval/faithfulness_data/paraphrases.tsv)."""
    out: dict[str, list[str]] = {}
    for cells in _tsv("paraphrases.tsv"):
        group = cells[0].split("|")
        for word in group:
            out.setdefault(word, []).extend(w for w in group if w != word)
    return {w: tuple(dict.fromkeys(v)) for w, v in out.items()}


# --- source sentences ---------------------------------------------------------------------


def _good(sentence: str) -> bool:
    from rag.core.text.lang import CJK

    if not MIN_SENTENCE <= len(sentence) <= MAX_SENTENCE:
        return False
    if len(CJK.findall(sentence)) < MIN_CJK or re.match(r"^[A-Z][a-z]{2} \d", sentence):
        return False
    # The generator edits by offsets of the Simplified text: the scripts must align.
    from rag.core.text.fold import to_simplified

    return len(to_simplified(sentence)) == len(sentence)


def _sentences(text: str) -> list[tuple[int, int]]:
    from rag.core.text.sentences import split_sentences

    return [(s, e) for s, e in split_sentences(text) if _good(text[s:e])]


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def page_sources(shared: Path = data.SHARED) -> list[Source]:
    """Every sentence of the two sample pages (cleaned as ingest cleans them), each
    with its paragraph."""
    from ingest.clean import clean_text_dump

    out = []
    for path in sorted((shared / "corpus").iterdir()):
        if not path.is_file():
            continue
        page = clean_text_dump(path.read_text(encoding="utf-8"))
        for paragraph in page.paragraphs:
            for s, e in _sentences(paragraph):
                out.append(Source("pages", path.name, paragraph[s:e].strip(), paragraph))
    return out


def crud_sources(rng: random.Random, articles: int = CRUD_ARTICLES) -> list[Source]:
    """Up to SENTENCES_PER_ARTICLE sentences of ``articles`` CRUD news articles drawn
    with ``rng``, each with CONTEXT characters of its neighbours."""
    lines = list(data.crud_lines())
    out = []
    for index in sorted(rng.sample(range(len(lines)), min(articles, len(lines)))):
        record = data.crud_record(lines[index])
        body = str(record["text"] or "")
        spans = _sentences(body)
        for s, e in sorted(rng.sample(spans, min(SENTENCES_PER_ARTICLE, len(spans)))):
            passage = body[max(0, s - CONTEXT) : e + CONTEXT]
            out.append(Source("crud", str(record["id"]), body[s:e].strip(), passage))
    return out


def rgb_sources(rng: random.Random, questions: int = RGB_QUESTIONS) -> list[Source]:
    """A sentence of one positive passage of each of ``questions`` RGB zh_refine
    questions (the question is the article: its positives tell one story)."""
    rows = data.load_rgb(data.rgb_path("zh_refine"))
    out = []
    for index in sorted(rng.sample(range(len(rows)), min(questions, len(rows)))):
        passages = [p for p in rows[index]["positive"] if _sentences(p)]
        if not passages:
            continue
        passage = rng.choice(passages)
        s, e = rng.choice(_sentences(passage))
        out.append(Source("rgb", f"q{index}", passage[s:e].strip(), passage))
    return out


def halves(sources: Iterable[Source], seed: int = SEED) -> dict[str, str]:
    """Article id -> TUNING or HELDOUT: per corpus, articles sorted by a seeded hash go
    alternately to each half (so the two sample pages land one in each)."""
    by_corpus: dict[str, set[str]] = {}
    for src in sources:
        by_corpus.setdefault(src.corpus, set()).add(src.article)
    out = {}
    for corpus, articles in sorted(by_corpus.items()):
        ordered = sorted(articles, key=lambda a: _key(str(seed), corpus, a))
        for i, article in enumerate(ordered):
            out[f"{corpus}:{article}"] = TUNING if i % 2 == 0 else HELDOUT
    return out


# --- editing a sentence -------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    word: str  # Simplified
    tag: str


def _tokens(simplified: str) -> list[_Token]:
    from rag.analysis.query import tagged_words

    return [_Token(*token) for token in tagged_words(simplified)]


def _traditional(sentence: str) -> bool:
    from rag.core.text.fold import to_simplified

    return to_simplified(sentence) != sentence


def _script(text: str, traditional: bool) -> str:
    """``text`` (Simplified) in the script of the sentence it goes into."""
    from rag.core.text.fold import converter

    return converter("s2t").convert(text) if traditional and text else text


def _edit(sentence: str, start: int, end: int, new: str) -> str:
    """``sentence`` with [start, end) replaced by ``new`` (Simplified, written in the
    sentence's own script)."""
    return sentence[:start] + _script(new, _traditional(sentence)) + sentence[end:]


def _is_verb(tok: _Token) -> bool:
    return tok.tag == "v" and len(tok.word) >= 2 and tok.word not in _REPORTING


# Reporting verbs: "did not say" flips who said what, not the reported fact; skipped.
_REPORTING = frozenset("表示 指出 称 说 介绍 透露 强调 认为 报道 显示 告诉 提到".split())


def _rule_edits(sentence: str, tokens: list[_Token], kind: str) -> list[tuple[int, int, str, str]]:
    """(start, end, replacement, form) for every rule of ``kind`` that applies."""
    out = []
    for rule in rules():
        if rule.type != kind:
            continue
        for i, tok in enumerate(tokens):
            before = tokens[i - 1].word if i else ""
            after = tokens[i + 1].word if i + 1 < len(tokens) else ""
            if rule.token == "@verb":
                # Only a verb that opens its predicate, not one already negated.
                if not _is_verb(tok) or before in _NEGATION_WORDS or before[-1:] in "不没未":
                    continue
                if tok.word[0] in "不没未无非":
                    continue  # 没有+不会 is a double negation, not a flip
            elif tok.word != rule.token:
                continue
            if kind == "negation" and rule.form.startswith("add") and after in _NEGATION_WORDS:
                continue  # 将|尚未 -> 将不尚未 would negate twice
            if rule.form.startswith("add:intensifier") and before in _DEGREE_WORDS:
                continue  # 大幅|上涨 -> 大幅大幅上涨 says nothing new
            if rule.form.startswith("drop") and not re.match(r"[\u4e00-\u9fff]", after):
                continue  # a hedge dropped at a clause's end leaves a broken sentence
            for replacement in rule.replacements:
                new = replacement.replace("{}", tok.word) if "{}" in replacement else replacement
                out.append((tok.start, tok.end, new, rule.form))
    return out


_DEGREE_WORDS = frozenset(
    "大幅 小幅 显著 急剧 全面 全力 略 略微 稍 微幅 大大 明显 大力 全部 部分 所有".split()
)
_NEGATION_WORDS = frozenset("不 没 没有 未 并未 尚未 从未 不再 并非 无法 不能 不会 不是 无".split())


def _numbers(sentence: str, simplified: str, rng: random.Random) -> str | None:
    """A number of the sentence changed (digits, a Chinese numeral, or its unit)."""
    from rag.analysis.query import cn_to_int

    options = []
    inside, _ = _quoted(simplified)
    for m in re.finditer(r"(?<![\d.,\-])\d+(?:\.\d+)?(?![\d.,\-]*[年月日号])", simplified):
        raw = m.group(0)
        if len(raw) == 4 and raw[:2] in ("19", "20"):
            continue  # a year: a date change
        if inside[m.start()] and simplified[m.start() - 1 : m.start()] in "[【":
            continue  # a reference mark [2], which answers strip as a citation
        options.append(("digits", m.start(), m.end(), raw))
    for m in re.finditer(
        r"[一二两三四五六七八九十]+(?=[人名个家位次项届天倍条架辆艘座万亿])", simplified
    ):
        options.append(("numeral", m.start(), m.end(), m.group(0)))
    if not options:
        return None
    kind, start, end, raw = rng.choice(options)
    if kind == "digits":
        value = float(raw)
        for factor in rng.sample([2, 3, 0.5, 1.5, 10], 5):
            changed = value * factor if value else factor
            decimals = len(raw.split(".")[1]) if "." in raw else 0
            new = f"{changed:.{decimals}f}" if decimals else str(round(changed))
            if new != raw and new not in simplified:
                return _edit(sentence, start, end, new)
        return None
    value = cn_to_int(raw)
    numerals = "一二三四五六七八九"
    for new in rng.sample(numerals, len(numerals)):
        if (
            value is not None
            and cn_to_int(new) != value
            and new + simplified[end] not in simplified
        ):
            return _edit(sentence, start, end, new)
    return None


_DATE = re.compile(r"(?<!\d)(1[0-2]|[1-9])月(3[01]|[12]\d|[1-9])[日号]")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=年)")
_MONTH = re.compile(r"(?<![\d年])(1[0-2]|[1-9])(?=月(?!\d))")
_DAY = re.compile(r"(?<![\d月])(3[01]|[12]\d|[1-9])(?=[日号])")


def _date(sentence: str, simplified: str, tokens: list[_Token], rng: random.Random) -> str | None:
    """A date, year, month, day or relative time of the sentence changed."""
    options: list[tuple[int, int, str]] = []
    for m in _DATE.finditer(simplified):
        month, day = int(m.group(1)), int(m.group(2))
        for mo, d in ((month % 12 + 1, day), (month, day % 28 + 1)):
            options.append((m.start(), m.end(), f"{mo}月{d}{m.group(0)[-1]}"))
    for m in _YEAR.finditer(simplified):
        options.append((m.start(1), m.end(1), str(int(m.group(1)) + rng.choice([-2, -1, 1]))))
    if not options:
        for m in _MONTH.finditer(simplified):
            options.append((m.start(1), m.end(1), str(int(m.group(1)) % 12 + 1)))
        for m in _DAY.finditer(simplified):
            options.append((m.start(1), m.end(1), str(int(m.group(1)) % 28 + 1)))
    for start, end, new, _ in _rule_edits(sentence, tokens, "date"):
        options.append((start, end, new))
    options = [o for o in options if simplified[o[0] : o[1]] != o[2]]
    if not options:
        return None
    start, end, new = rng.choice(options)
    return _edit(sentence, start, end, new)


def _entity(
    src: Source,
    simplified: str,
    tokens: list[_Token],
    pools: dict[str, list[str]],
    rng: random.Random,
) -> tuple[str, str] | None:
    """(sentence, form): a name swapped for a same-kind name the passage never names."""
    from rag.core.text.fold import fold

    folded_passage = fold(src.passage)
    options: list[tuple[int, int, str, str]] = []
    swaps = entity_swaps()
    for tok in tokens:
        for kind, names in swaps.items():
            if tok.word in names:
                options += [(tok.start, tok.end, n, kind) for n in names if n != tok.word]
        kind = _NAME_TAGS.get(tok.tag)
        if kind and len(tok.word) >= 2 and tok.word not in _NOT_NAMES:
            options += [(tok.start, tok.end, n, kind) for n in pools.get(kind, [])]
        # A body named by its ending: X部 -> Y部 from the generator's bodies.
        for body in swaps.get("body", ()):
            if tok.word != body and len(tok.word) >= 3 and tok.word[-1] == body[-1] == "部":
                options.append((tok.start, tok.end, body, "body"))
    options = [o for o in options if fold(o[2]) not in folded_passage]
    if not options:
        return None
    start, end, new, kind = rng.choice(options)
    return _edit(src.sentence, start, end, new), f"swap:{kind}"


def perturb(
    src: Source, pools: dict[str, list[str]], rng: random.Random
) -> list[tuple[str, str, str]]:
    """(sentence, type, form) for each unsupported type the generator can make from
    ``src`` (one per type, its surface form drawn with ``rng``)."""
    from rag.core.text.fold import to_simplified

    simplified = to_simplified(src.sentence)
    tokens = _tokens(simplified)
    out = []
    for kind in ("negation", "modality", "degree", "antonym"):
        edits = _rule_edits(src.sentence, tokens, kind)
        if edits:
            # A surface form first (add:不是, remove:未, raise:hedge→certain...), then
            # a place for it: every form the sentence allows gets an even chance.
            forms = sorted({form for *_, form in edits})
            form = rng.choice(forms)
            start, end, new, _ = rng.choice([e for e in edits if e[3] == form])
            out.append((_edit(src.sentence, start, end, new), kind, form))
    entity = _entity(src, simplified, tokens, pools, rng)
    if entity:
        out.append((entity[0], "entity", entity[1]))
    number = _numbers(src.sentence, simplified, rng)
    if number:
        out.append((number, "number", "changed"))
    date = _date(src.sentence, simplified, tokens, rng)
    if date:
        out.append((date, "date", "changed"))
    return [(s, k, f) for s, k, f in out if s != src.sentence]


# --- paraphrases ----------------------------------------------------------------------------


def _quoted(text: str) -> tuple[list[bool], bool]:
    """Per character, whether it is inside quotes or brackets (a quotation, a title, a
    reference); and whether they all close."""
    depth, straight, out = 0, False, []
    for ch in text:
        if ch == '"':
            straight = not straight
            out.append(True)
            continue
        if ch in _CLOSE and depth:
            depth -= 1
            out.append(True)
            continue
        if ch in _OPEN:
            depth += 1
        out.append(depth > 0 or straight)
    return out, depth == 0 and not straight


def _clauses(sentence: str) -> tuple[list[str], str] | None:
    """The clauses of a sentence (without their commas) and its end punctuation; None
    when quotes or brackets do not close (a clause edit could break them). Commas
    inside quotes or brackets do not cut."""
    body = sentence.rstrip("。！？!?；;…")
    tail = sentence[len(body) :]
    inside, balanced = _quoted(body)
    if not balanced:
        return None
    cuts = [m for m in _CLAUSE_BREAK.finditer(body) if not inside[m.start()]]
    out, start = [], 0
    for m in cuts:
        out.append(body[start : m.start()].strip())
        start = m.end()
    out.append(body[start:].strip())
    return out, tail


def _comma(sentence: str) -> str:
    return "," if "," in sentence and "，" not in sentence else "，"


def reorder(sentence: str, rng: random.Random) -> str | None:
    """Two adjacent clauses swapped, when neither leans on what came before it."""
    split = _clauses(sentence)
    if split is None:
        return None
    clauses, tail = split
    if len(clauses) < 2 or any(not c for c in clauses):
        return None
    from rag.core.text.fold import to_simplified

    spots = [
        i
        for i in range(len(clauses) - 1)
        if all(
            len(c) >= 6
            and not _LEANING.match(to_simplified(c))
            and not _OPENERS.match(to_simplified(c))
            for c in clauses[i : i + 2]
        )
    ]
    if not spots:
        return None
    i = rng.choice(spots)
    clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
    return _comma(sentence).join(clauses) + (tail or "。")


def drop_clause(sentence: str, rng: random.Random) -> str | None:
    """The sentence cut after one of its clauses: what is kept is said as the source
    says it (the cut never leaves a condition or concession alone, nor cuts before a
    clause that leans on the kept ones... that clause is simply not kept)."""
    split = _clauses(sentence)
    from rag.core.text.fold import to_simplified

    if split is None:
        return None
    clauses = split[0]
    if len(clauses) < 2 or _OPENERS.match(to_simplified(clauses[0])):
        return None
    cuts = [k for k in range(1, len(clauses)) if len("".join(clauses[:k])) >= 10]
    if not cuts:
        return None
    k = rng.choice(cuts)
    return _comma(sentence).join(clauses[:k]) + "。"


def synonym(sentence: str, rng: random.Random) -> str | None:
    """One or two words swapped for a synonym of the generator's list."""
    from rag.core.text.fold import to_simplified

    tokens = _tokens(to_simplified(sentence))
    table = synonyms()
    inside, _ = _quoted(sentence)
    spots = [t for t in tokens if t.word in table and not inside[t.start]]
    if not spots:
        return None
    out = sentence
    for tok in sorted(rng.sample(spots, min(2, len(spots))), key=lambda t: -t.start):
        out = _edit(out, tok.start, tok.end, rng.choice(table[tok.word]))
    return out


def other_script(sentence: str, rng: random.Random) -> str | None:
    """The sentence in the other script (Traditional <-> Simplified; Taiwan phrasing
    some of the time)."""
    from rag.core.text.fold import converter

    if _traditional(sentence):
        out = converter("t2s").convert(sentence)
    else:
        out = converter("s2twp" if rng.random() < 0.3 else "s2t").convert(sentence)
    return out if out != sentence else None


_CN_DIGITS = "零一二三四五六七八九"


def _cn_small(n: int) -> str:
    """1..99 in Chinese numerals."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def numbers(sentence: str, rng: random.Random) -> str | None:
    """A number written another way with the same value: 30000 -> 3万 / 三万 / 30,000,
    3万 -> 30000, 1,200 -> 1200, 5人 -> 五人."""
    from rag.core.text.fold import to_simplified

    simplified = to_simplified(sentence)
    inside, _ = _quoted(simplified)
    options: list[tuple[int, int, str]] = []
    for m in re.finditer(
        r"(?<![\d.,A-Za-z\-])(?<![A-Za-z] )(\d{1,3}(?:,\d{3})+|\d+)(?![\d.,\-])"
        r"(?!\s*[年月日号%万亿千])",
        simplified,
    ):
        raw = m.group(1)
        value = int(raw.replace(",", ""))
        if len(raw) == 4 and raw[:2] in ("19", "20"):
            continue
        if value >= 10_000 and value % 10_000 == 0:
            wan = value // 10_000
            options.append((m.start(), m.end(), f"{wan}万"))
            if wan < 100:
                options.append((m.start(), m.end(), f"{_cn_small(wan)}万"))
        if value >= 1000 and "," not in raw:
            options.append((m.start(), m.end(), f"{value:,}"))
        if "," in raw:
            options.append((m.start(), m.end(), str(value)))
        nxt = simplified[m.end() : m.end() + 1]
        if 0 < value < 100 and nxt and nxt in "人名个家位次项届天倍条辆艘座":
            options.append((m.start(), m.end(), _cn_small(value)))
    for m in re.finditer(
        r"(?<![\d.,\-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)万(?!亿)", simplified
    ):
        value = round(float(m.group(1).replace(",", "")) * 10_000)
        options.append((m.start(), m.end(), f"{value:,}" if value >= 1000 else str(value)))
    options = [o for o in options if not inside[o[0]]]  # a quotation stays as written
    if not options:
        return None
    start, end, new = rng.choice(options)
    return _edit(sentence, start, end, new)


_MAKERS: dict[str, Callable[[str, random.Random], str | None]] = {
    "reorder": reorder,
    "synonym": synonym,
    "drop_clause": drop_clause,
    "script": other_script,
    "numbers": numbers,
}


def paraphrase(src: Source, rng: random.Random) -> list[tuple[str, str]]:
    """(sentence, form) for each paraphrase the generator can make of ``src``: each
    kind once, and one pair of two kinds applied in turn."""
    out: list[tuple[str, str]] = []
    for name, make in _MAKERS.items():
        made = make(src.sentence, rng)
        if made and made != src.sentence:
            out.append((made, name))
    if len(out) >= 1:
        first, form = rng.choice(out)
        others = [n for n in _MAKERS if n != form]
        for name in rng.sample(others, len(others)):
            made = _MAKERS[name](first, rng)
            if made and made != first:
                out.append((made, f"{form}+{name}"))
                break
    return out


# --- the set ------------------------------------------------------------------------------


def _pools(sources: list[Source]) -> dict[str, list[str]]:
    """Kind -> the names jieba tags in the source sentences (a swap takes one that the
    passage it goes into never names)."""
    from rag.core.text.fold import to_simplified

    names: dict[str, set[str]] = {}
    for src in sources:
        for tok in _tokens(to_simplified(src.sentence)):
            kind = _NAME_TAGS.get(tok.tag)
            if kind and len(tok.word) >= 2 and tok.word not in _NOT_NAMES:
                names.setdefault(kind, set()).add(tok.word)
    return {kind: sorted(words) for kind, words in names.items()}


def sources(seed: int = SEED, shared: Path = data.SHARED, scale: float = 1.0) -> list[Source]:
    """The source sentences of the set (``scale`` < 1 draws fewer: for quick tests)."""
    rng = random.Random(seed)
    out = page_sources(shared)
    out += crud_sources(rng, max(1, int(CRUD_ARTICLES * scale)))
    out += rgb_sources(rng, max(1, int(RGB_QUESTIONS * scale)))
    return out


def inputs(shared: Path = data.SHARED) -> tuple[Path, ...]:
    """The ../shared files and folders the set is built from (page_sources, the CRUD
    news, rgb_sources): what a run checks before building."""
    return (shared / "corpus", *data.crud_files(), data.RGB_REFINE)


def build(seed: int = SEED, shared: Path = data.SHARED, scale: float = 1.0) -> list[Item]:
    """The labelled set (deterministic for a seed and the same ../shared)."""
    srcs = sources(seed, shared, scale)
    split = halves(srcs, seed)
    pools = _pools(srcs)
    items: list[Item] = []
    seen: set[tuple[str, str]] = set()
    for src in srcs:
        rng = random.Random(_key(str(seed), src.corpus, src.article, src.sentence))
        half = split[f"{src.corpus}:{src.article}"]
        made = [(s, False, kind, form) for s, kind, form in perturb(src, pools, rng)]
        made += [(s, True, "paraphrase", form) for s, form in paraphrase(src, rng)]
        for sentence, supported, kind, form in made:
            if (sentence, src.passage) in seen or (supported and sentence in src.passage):
                continue  # a repeat, or a "paraphrase" that is a verbatim copy after all
            seen.add((sentence, src.passage))
            ident = f"{src.corpus}:{_key(src.article)[:8]}:{_key(src.sentence)[:8]}:{kind}:{form}"
            items.append(
                Item(
                    ident,
                    src.corpus,
                    src.article,
                    half,
                    sentence,
                    src.passage,
                    supported,
                    kind,
                    form,
                )
            )
    return items
