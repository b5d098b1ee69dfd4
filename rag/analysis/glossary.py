"""Offline query translation for English questions over Chinese articles.

With no LLM there is no translator, and the weights-free embedder cannot match across
languages; a small hand-made glossary of news vocabulary (rag/analysis/data/en_zh_glossary.tsv)
turns an English question into Chinese search terms. Names and codes it does not know
(H20, CNBC, Blackwell) are kept as written: Chinese articles print them in Latin letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.core.text.words import EN_CAPITALIZED_NOT_NAMES

GLOSSARY = Path(__file__).parent / "data" / "en_zh_glossary.tsv"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.'-]*[A-Za-z0-9]|[A-Za-z]|\d+(?:[.,]\d+)*%?")
_MAX_PHRASE = 4


@dataclass(frozen=True)
class Translation:
    analysis: str  # one Chinese form per matched phrase: what the answerer checks
    search: str  # every Chinese form: what retrieval searches
    matched: int  # English phrases found in the glossary
    names: tuple[str, ...] = ()  # Chinese forms of capitalized phrases (Huawei, Beijing)


@lru_cache(maxsize=1)
def glossary() -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, chinese = line.split("\t")
        entries[english.strip().lower()] = tuple(c.strip() for c in chinese.split("|"))
    return entries


def translation_for(question: str, lang: str | None) -> Translation | None:
    """The glossary terms an English question (``lang`` "en") is searched and analysed
    with over Chinese articles; None for any other question or with no term known."""
    return translate_question(question) if lang == "en" else None


@lru_cache(maxsize=1024)  # the judge and the answerer look at the same English sentences
def translate_question(question: str) -> Translation | None:
    """Chinese search terms for an English question, or None when nothing is known."""
    words = _WORD.findall(question)
    table = glossary()
    analysis: list[str] = []
    search: list[str] = []
    names: list[str] = []
    matched = 0
    i = 0
    while i < len(words):
        for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            phrase = " ".join(w.lower() for w in words[i : i + size])
            if phrase in table:
                forms = table[phrase]
                if _is_name(words[i], first=i == 0) and not words[i].isupper():
                    names.append(forms[0])
                analysis.append(forms[0])
                search.extend(forms)
                matched += 1
                i += size
                break
        else:
            word = words[i]
            if _is_name(word, first=i == 0):
                analysis.append(word)
                search.append(word)
            i += 1
    if not matched:
        return None
    search_text = " ".join(dict.fromkeys(search))
    return Translation(" ".join(analysis), search_text, matched, tuple(names))


def _is_name(word: str, *, first: bool) -> bool:
    """Codes (H20, 5G), acronyms (CNBC) and capitalized words past the first."""
    if any(ch.isdigit() for ch in word):
        return True
    if len(word) > 1 and word.isupper():
        return True
    return not first and word[:1].isupper() and word.lower() not in EN_CAPITALIZED_NOT_NAMES
