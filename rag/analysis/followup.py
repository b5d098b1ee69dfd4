"""Questions in a conversation: whether a question leans on the previous turn, and
whether an LLM's standalone rewrite of it still asks the same thing.

Both use the question analysis of rag.analysis.query (folded key terms, constraints, names).
"""

from __future__ import annotations

import re

from rag.core.text.fold import fold, variants

# Words that point back at something said before (folded: Simplified, lower case).
ANAPHORS = frozenset(
    """它 它们 他 她 他们 她们 其 该 此 这 那 这个 那个 这些 那些 这家 那家 这位 那位 这项 那项
    这次 那次 这件事 那件事 此事 该公司 上述 前者 后者
    it its they them their theirs he him his she her this that these those""".split()
)
# Openings and endings of a follow-up: 那…, 還有…, 另外…, "and …", "what about …";
# "X呢？" ("and X?").
_LEAD = re.compile(r"^(?:那|那么|还有|另外|and\b|what about\b|how about\b|and what\b)")
_TAIL = re.compile(r"呢\s*[?？]?\s*$")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]*")
# Predicates that name no subject: "什麼時候發生的？" still needs one from before.
BARE_PREDICATES = frozenset(
    """发生 开始 结束 出现 造成 导致 影响 回应 决定 宣布 公布 发布 进行 完成 计划 打算 需要
    happen happened start started end ended begin began announce announced""".split()
)


def _names_something(question: str, terms: list[str]) -> bool:
    """Whether the question names its own subject: a proper name (jieba's tags), a Latin
    name or code, a quoted term, or a capitalised key term (Nvidia, also first)."""
    from rag.analysis.query import extract_facts, tagged_names

    facts = extract_facts(question)
    capitalised = {w.lower() for w in _CAPITALISED.findall(question)}
    return bool(
        facts.latin or facts.quoted or tagged_names(fold(question)) or capitalised & set(terms)
    )


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the previous turn: it opens like a follow-up (那…,
    還有…, and…, what about…) or ends in 呢; it refers back with a pronoun (它, 他們,
    這家, it, they...) and names nothing itself; or it has no subject at all (為什麼？,
    什麼時候發生的？, why?). Its length plays no part."""
    from rag.analysis.query import analyze, tokenize

    info = analyze(question)
    folded = info.folded
    if _LEAD.match(folded) or _TAIL.search(folded):
        return True
    own = [t for t in info.terms if t not in ANAPHORS and t not in BARE_PREDICATES]
    if not own and not info.constraints:
        return True
    refers_back = any(word in ANAPHORS for word in tokenize(folded))
    return refers_back and not _names_something(question, info.terms)


def keeps_key_terms(question: str, rewrite: str) -> bool:
    """Whether ``rewrite`` still asks what ``question`` asks: each key term of the
    question (pronouns aside; any regional wording) and each of its constraints (years,
    dates, numbers, names, quoted terms) is in the rewrite."""
    from rag.analysis.query import analyze, date_in, extract_facts, latin_in

    asked = analyze(question)
    folded = fold(rewrite)
    for term in asked.terms:
        if term in ANAPHORS:
            continue
        if not any(v in folded for v in variants(term)):
            return False
    wanted = asked.facts
    have = extract_facts(rewrite, latin_all=asked.lang != "en")
    return (
        wanted.years <= have.years
        and wanted.numbers <= have.numbers
        and all(date_in(d, have) for d in wanted.dates)
        and all(latin_in(name, folded) for name in wanted.latin)
        and all(q in folded for q in wanted.quoted)
    )
