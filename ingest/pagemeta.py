"""Title, date, byline and outlet found among a page's lines, relative to the body run."""

from __future__ import annotations

from collections import Counter

from ingest.blocks import Line
from ingest.furniture import (
    byline_of,
    furniture_reason,
    is_date_line,
    source_from_line,
    visible_len,
)
from rag.core.text.dates import parse_date

TITLE_MIN, TITLE_MAX = 6, 80  # headline length bounds, in visible characters
TITLE_WINDOW = 6  # how many candidate lines before the body run are considered


def title_before(lines: list[Line], start: int) -> str:
    """The headline among the lines before the body run starting at ``start``.

    Candidates are headline-sized lines without a full stop that are not furniture.
    A candidate repeated elsewhere on the page wins (sites list the article itself among
    their headlines); otherwise the longest of the last few candidates before the body.
    """
    counts = Counter("".join(line.text.split()) for line in lines)
    candidates = [
        line.text
        for line in lines[:start]
        if TITLE_MIN <= visible_len(line.text) <= TITLE_MAX
        and "。" not in line.text
        and line.link_ratio <= 0.5
        and furniture_reason(line.text) is None
    ]
    if not candidates:
        return ""
    repeated = [c for c in candidates if counts["".join(c.split())] > 1]
    if repeated:
        return repeated[-1]
    return max(candidates[-TITLE_WINDOW:], key=visible_len)


def date_near(lines: list[Line], span: tuple[int, int]) -> str | None:
    """The date of the last date line before the body run, else of the first inside it."""
    start, end = span
    for line in reversed(lines[:start]):
        if is_date_line(line.text):
            return parse_date(line.text)
    for line in lines[start : end + 1]:
        if is_date_line(line.text):
            return parse_date(line.text)
    return None


def byline_near(lines: list[Line], span: tuple[int, int], window: int = 12) -> str | None:
    """The first byline line shortly before or inside the body run."""
    start, end = span
    for line in lines[max(0, start - window) : end + 1]:
        byline = byline_of(line.text)
        if byline:
            return byline
    return None


def source_in(lines: list[Line]) -> str | None:
    """The outlet named by the first copyright or "來源：" line on the page."""
    for line in lines:
        if visible_len(line.text) <= 120:
            name = source_from_line(line.text)
            if name:
                return name
    return None
