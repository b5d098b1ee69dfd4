"""Word lists of the faithfulness checks, read from data files (rag/core/text/data/*.tsv).

Every file has ``#`` comment lines and tab-separated rows: one or more label columns,
then the zh-Hans forms, the zh-Hant forms and the English forms (``|`` between forms,
``-`` or nothing for none). Chinese forms are folded (``fold``: Simplified, lower case),
so one list matches both scripts of folded text; English forms match whole words.
Rows whose first label is ``compound`` list words that only contain a listed form
(不惜 holds 不, 模擬 holds 擬): they are matched like the other forms (leftmost, then
longest, wins) and then dropped, so 不惜 hides its 不 while 並未來源 still holds 並未.
A form may sit in several rows (反對: against a proposal and against a permission).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.core.text.fold import fold

DATA = Path(__file__).with_name("data")
COMPOUND = "compound"


@dataclass(frozen=True)
class Row:
    """One row of a lexicon file: its labels and its forms."""

    labels: tuple[str, ...]
    zh: tuple[str, ...]  # folded Chinese forms of both scripts, without repeats
    en: tuple[str, ...]  # lower-case English forms


@dataclass(frozen=True)
class Match:
    """A lexicon form found in folded text."""

    start: int
    end: int
    form: str
    labels: tuple[str, ...]  # the labels of its first row
    row: int  # index of its first row in the file's rows: forms of one row are aliases
    every: tuple[tuple[str, ...], ...] = ()  # the labels of every row that holds it


def _forms(cell: str) -> list[str]:
    return [f.strip() for f in cell.split("|") if f.strip() and f.strip() != "-"]


@lru_cache(maxsize=32)
def rows(name: str, labels: int = 1) -> tuple[Row, ...]:
    """The rows of ``data/<name>.tsv`` whose first ``labels`` columns are labels."""
    out = []
    path = DATA / f"{name}.tsv"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t") + [""] * 3
        if len(line.split("\t")) < labels + 2:
            raise ValueError(f"{path}:{number}: expected {labels} label columns and 3 forms")
        hans, hant, en = cells[labels : labels + 3]
        zh = tuple(dict.fromkeys(fold(f) for f in _forms(hans) + _forms(hant)))
        out.append(Row(tuple(cells[:labels]), zh, tuple(f.lower() for f in _forms(en))))
    return tuple(out)


@dataclass(frozen=True)
class Lexicon:
    """A lexicon file compiled for search: its forms and its compounds, one pattern."""

    labels_of: dict[str, tuple[tuple[str, ...], ...]]  # form -> labels of each row with it
    row_of: dict[str, int]  # form -> index of its first row
    pattern: re.Pattern[str] | None

    def find(self, folded: str) -> list[Match]:
        """Every form in ``folded`` text, left to right (at a place, the longest form
        or compound wins; compounds are then left out)."""
        if self.pattern is None:
            return []
        out = []
        for m in self.pattern.finditer(folded):
            every = self.labels_of.get(m.group(0))
            if every:
                out.append(Match(m.start(), m.end(), m.group(0), every[0],
                                 self.row_of[m.group(0)], every))  # fmt: skip
        return out


def _trie(forms: list[str]) -> str:
    """A regex matching any of ``forms``, longest first, as a trie of nested groups:
    the regex engine then follows one branch per character instead of trying every
    form at every position (hundreds of forms over every passage)."""
    root: dict = {}
    for form in forms:
        node = root
        for ch in form:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:  # a form ends here: the longer forms are optional, tried first (greedy)
            return f"(?:{body})?" if len(branches) > 1 or len(branches[0]) > 1 else f"{body}?"
        return body

    return build(root)


def _alternation(forms: list[str]) -> str:
    """A regex for ``forms``: Chinese forms anywhere, English forms as whole words."""
    zh = sorted({f for f in forms if not (f.isascii() and f[:1].isalnum())})
    en = sorted({f for f in forms if f.isascii() and f[:1].isalnum()})
    parts = []
    if zh:
        parts.append(_trie(zh))
    if en:
        # Not \b: a Chinese character is a word character, so 在facebook上 has none.
        parts.append(rf"(?<![a-z0-9])(?:{_trie(en)})(?![a-z0-9])")
    return "|".join(parts)


@lru_cache(maxsize=32)
def lexicon(name: str, labels: int = 1) -> Lexicon:
    """``data/<name>.tsv`` compiled (cached: each file is read once per process)."""
    labels_of: dict[str, list[tuple[str, ...]]] = {}
    row_of: dict[str, int] = {}
    compound_forms: list[str] = []
    for index, row in enumerate(rows(name, labels)):
        if row.labels[0] == COMPOUND:
            compound_forms += row.zh + row.en
            continue
        for form in row.zh + row.en:
            labels_of.setdefault(form, []).append(row.labels)
            row_of.setdefault(form, index)
    forms = list(labels_of) + compound_forms
    pattern = re.compile(_alternation(forms)) if forms else None
    every = {form: tuple(dict.fromkeys(found)) for form, found in labels_of.items()}
    return Lexicon(every, row_of, pattern)
