"""Pick the article body out of a page's lines: the densest run of prose, minus furniture.

Shared by text dumps and HTML: both are first turned into a sequence of ``Line``s (HTML
lines also carry how much of their text sits inside links).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ingest.furniture import (
    cut_glued_related,
    furniture_reason,
    is_prose,
    visible_len,
)

LONG_PROSE = 80  # a repeated line this long with a full stop is body printed twice, not a caption
MAX_LINK_RATIO = 0.5  # lines with more of their text in links are navigation
PLAIN_MIN = 20  # with links known, link-free lines this long count as weak prose...
PLAIN_WEIGHT = 0.5  # ...at this share of their length
# Furniture that sits between body paragraphs (captions, often printed twice): it must
# not split the body, so it costs little.
MILD = frozenset({"caption", "twice"})
MILD_PENALTY = 5
MAX_GAP = 2  # unsupported lines extend_run may step over
# Kinds a supported extension may cover (weak furniture signals that tables and agendas
# trip: dates, short label rows, repeated cells), and which of them it keeps.
EXTENDABLE = frozenset({"prose", "short", "repeated", "date", "menu", "empty"})
KEPT_IN_EXTENSION = frozenset({"prose", "short", "repeated", "date", "menu"})


SHORT_SENTENCE_MIN = 8  # visible characters


@dataclass(frozen=True)
class Line:
    """One line of a page: its text and how many of its characters are link text."""

    text: str
    link_chars: int = 0

    @property
    def link_ratio(self) -> float:
        """Share of the visible characters that sit inside links."""
        n = visible_len(self.text)
        return min(1.0, self.link_chars / n) if n else 0.0


@dataclass(frozen=True)
class Verdict:
    """What a line is ("prose", "short", or a furniture reason) and its block score."""

    kind: str
    score: float


def _key(text: str) -> str:
    """Comparison key for repetition: the text without whitespace."""
    return "".join(text.split())


def classify(lines: list[Line], title: str = "", *, links_known: bool = False) -> list[Verdict]:
    """A verdict per line.

    Prose scores its length (less its link share). Furniture, repeated lines, link lists
    and the headlines under a list header score negatively, so a run of them separates
    blocks; captions printed twice cost little, since they sit between body paragraphs.
    Other short lines (a subheading, a headline) cost a little, so a long run of
    headlines also separates.
    With ``links_known`` (HTML), long link-free lines count as weak prose.
    """
    counts = Counter(_key(line.text) for line in lines)
    title_key = _key(title)
    seen: set[str] = set()
    verdicts = []
    in_list = False  # after a list header ("更多新聞"), until a line of body text

    def next_key(i: int) -> str:
        return _key(lines[i + 1].text) if i + 1 < len(lines) else ""

    for i, line in enumerate(lines):
        key = _key(line.text)
        n = len(key)
        kind = furniture_reason(line.text)
        if kind is None and key == title_key and n:
            kind = "title"
        if kind == "list header":
            in_list = True
        elif in_list and (
            (n >= 15 and "。" in line.text)
            or (links_known and n >= PLAIN_MIN and line.link_chars == 0)
        ):
            in_list = False  # where links are known, listed headlines are links
        elif in_list and kind is None:
            kind = "listed"
        if kind is None and counts[key] > 1:
            # Captions and headline lists are printed twice; a long paragraph printed
            # twice (a mirrored block) keeps its first copy.
            if n >= LONG_PROSE and "。" in line.text and key not in seen:
                kind = None
            elif key in (_key(lines[i - 1].text) if i else "", next_key(i)):
                kind = "twice"  # a caption printed twice in a row, inside the body
            else:
                kind = "repeated"
        seen.add(key)
        if kind is None and line.link_ratio > MAX_LINK_RATIO:
            kind = "links"
        if kind in MILD:
            verdicts.append(Verdict(kind, -MILD_PENALTY))
        elif kind is not None:
            verdicts.append(Verdict(kind, -min(max(n, 10), 40)))
        elif is_prose(line.text):
            verdicts.append(Verdict("prose", n * (1 - line.link_ratio)))
        elif links_known and n >= PLAIN_MIN and line.link_chars == 0:
            # Some writers separate clauses with spaces instead of punctuation; where we
            # know links, a long link-free line is more likely such text than a headline.
            verdicts.append(Verdict("short", PLAIN_WEIGHT * n))
        elif n >= SHORT_SENTENCE_MIN and line.text.rstrip().endswith("。"):
            # A short line closed by a full stop is a sentence (an article's last
            # remark), not a headline: it may join the body, but weighs little.
            verdicts.append(Verdict("short", 0.25 * n))
        else:
            verdicts.append(Verdict("short", -0.5 * min(n, 20)))
    return verdicts


def densest_run(scores: list[float]) -> tuple[int, int] | None:
    """(start, end) inclusive of the contiguous run with the largest positive sum, or None."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += score
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def extend_run(
    verdicts: list[Verdict], span: tuple[int, int], supported: Callable[[int], bool | None]
) -> tuple[int, int]:
    """``span`` grown outwards over lines a second extractor also kept.

    ``supported(i)`` says whether line i is in the other extractor's output (None: too
    short to tell). Growth stops at furniture or link lists, and at ``MAX_GAP``
    unsupported lines in a row; it always ends on a supported line. This recovers body
    parts with little prose (tables, lists) that the density run leaves out.
    """
    start, end = span
    for step in (-1, 1):
        i, gap, edge = (start if step < 0 else end) + step, 0, None
        while 0 <= i < len(verdicts) and verdicts[i].kind in EXTENDABLE:
            ok = supported(i)
            if ok:
                edge, gap = i, 0
            elif ok is False:
                gap += 1
                if gap > MAX_GAP:
                    break
            i += step
        if edge is not None:
            start, end = (edge, end) if step < 0 else (start, edge)
    return start, end


def body_indices(
    verdicts: list[Verdict], span: tuple[int, int], core: tuple[int, int]
) -> list[int]:
    """Indices of the body lines inside ``span``: prose and short lines.

    Outside the ``core`` density run (in parts added by ``extend_run``) repeated cells,
    date rows and label rows are kept too: tables and agendas are made of them.
    """
    keep = []
    for i in range(span[0], span[1] + 1):
        kind = verdicts[i].kind
        if kind in ("prose", "short") or (
            kind in KEPT_IN_EXTENSION and not core[0] <= i <= core[1]
        ):
            keep.append(i)
    return keep


def select_body(
    lines: list[Line],
    title: str = "",
    supported: Callable[[int], bool | None] | None = None,
    *,
    links_known: bool = False,
) -> tuple[list[str], tuple[int, int] | None]:
    """The body paragraphs of ``lines`` (glued related links cut) and the run they came from.

    ``supported`` optionally reports which lines a second extractor kept (see extend_run).
    """
    verdicts = classify(lines, title, links_known=links_known)
    core = densest_run([v.score for v in verdicts])
    if core is None:
        return [], None
    span = extend_run(verdicts, core, supported) if supported else core
    paragraphs = []
    for i in body_indices(verdicts, span, core):
        text = cut_glued_related(lines[i].text).strip()
        if text:
            paragraphs.append(text)
    return paragraphs, span
