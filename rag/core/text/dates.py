"""Dates in text, for three uses, each with its own patterns (one month table):

- a page's publish date (``find_date``, ``parse_date``): the first date of a line with
  its time, normalised to ISO 8601; a year is needed for that, else it is kept as written;
- the dates and years a question or sentence names (``find_dates``, ``YEAR``), as parts
  to compare: a month or a day alone counts (7月, 31日), and each part is range-checked;
- cheap cues for ranking (``DATE_CUE``, ``YEAR_CUE``): does a passage hold a month-and-day
  date, a year; a regex search per candidate, no extraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rag.core.text.mask import blank
from rag.core.text.words import MONTH_ABBREVIATIONS, MONTHS

# --- a page's publish date ------------------------------------------------------------

_SEP = r"[-/.]"
_TIME = r"(?:[\sT]*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})(?:\s*[:：]\s*(?P<S>\d{2}))?)?"
# Year-first dates: 2025-12-09, 2025/12/09, 2025.12.09, 2025年12月9日, each with an optional
# time (full-width colons included, as Chinese pages often type them).
_YMD = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:"
    + _SEP
    + r"|年)\s*(?P<m>\d{1,2})\s*(?:"
    + _SEP
    + r"|月)\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    + _TIME
)
# English dates: "Dec 9, 2025" and "9 December 2025".
_MDY_EN = re.compile(
    r"\b(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME
)
_DMY_EN = re.compile(
    r"\b(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3})[a-z]*\.?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME
)
# Dates without a year (08/16 13:50, 8月16日): kept as written, since the year is unknown.
_NO_YEAR = re.compile(
    r"(?<![\d/])(?P<m>\d{1,2})\s*(?:/|月)\s*(?P<d>\d{1,2})(?![\d/])\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2}))?"
)


def _iso(y: int, m: int, d: int, hh: str | None, mm: str | None, ss: str | None) -> str | None:
    """ISO date or datetime, or None when the fields are not a real date or time."""
    try:
        day = date(y, m, d)
    except ValueError:
        return None
    if hh is None or mm is None:
        return day.isoformat()
    h, mi = int(hh), int(mm)
    if h > 23 or mi > 59 or (ss is not None and int(ss) > 59):
        return day.isoformat()
    clock = f"{h:02d}:{mi:02d}" + (f":{int(ss):02d}" if ss is not None else "")
    return f"{day.isoformat()}T{clock}"


def find_date(text: str) -> tuple[str, tuple[int, int]] | None:
    """The first date in ``text`` as (ISO string or the text as written, span), or None.

    Dates with a year become ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]``; a month/day
    without a year is returned as written (stripped).
    """
    for match in _YMD.finditer(text):
        iso = _iso(
            int(match["y"]), int(match["m"]), int(match["d"]), match["H"], match["M"], match["S"]
        )
        if iso:
            return iso, match.span()
    for pattern in (_MDY_EN, _DMY_EN):
        for match in pattern.finditer(text):
            month = MONTHS.get(match["mon"].lower())
            if month:
                iso = _iso(
                    int(match["y"]), month, int(match["d"]), match["H"], match["M"], match["S"]
                )
                if iso:
                    return iso, match.span()
    for match in _NO_YEAR.finditer(text):
        m, d = int(match["m"]), int(match["d"])
        # Require a time or the 月/日 characters: a bare "3/4" is more often a fraction.
        if 1 <= m <= 12 and 1 <= d <= 31 and (match["H"] or "月" in match.group()):
            return match.group().strip(), match.span()
    return None


def parse_date(text: str) -> str | None:
    """The first date in ``text``, ISO-normalised when it has a year, else as written.

    >>> parse_date("[ 2023-07-28 16：40 ]")
    '2023-07-28T16:40'
    >>> parse_date("08/16  13:50")
    '08/16  13:50'
    """
    found = find_date(text)
    return found[0] if found else None


# --- dates and years named in text, as facts ----------------------------------------------


@dataclass(frozen=True)
class Date:
    """A date as named in text; a part the text leaves out is None (7月31日: no year)."""

    year: int | None
    month: int | None
    day: int | None

    def agrees(self, other: Date) -> bool:
        """Same on every field both give (a bare 31日 agrees with 7月31日)."""
        pairs = ((self.year, other.year), (self.month, other.month), (self.day, other.day))
        return all(a is None or b is None or a == b for a, b in pairs)

    def label(self) -> str:
        parts = [f"{self.year}年" if self.year else "", f"{self.month}月" if self.month else ""]
        return "".join(parts) + (f"{self.day}日" if self.day else "")


_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
# Dates, most specific first; each match is masked so its parts are not counted again.
_FACT_DATES = [
    # 2022年7月31日 / 7月31日 / 7月31号 / 7月 (month alone) / 2022年7月
    re.compile(r"(?:(?P<y>(?:19|20)\d{2})\s*年\s*)?(?P<m>1[0-2]|0?[1-9])\s*月\s*"
               r"(?:(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号]?)?(?!\d)"),
    # 2022-07-31, 2022/7/31, 2022.7.31
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>1[0-2]|0?[1-9])[-/.]"
               r"(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)"),
    # july 31, 2025 / jul 31
    re.compile(rf"\b(?P<mn>{_MONTH_NAME})\.?\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
               r"(?:,?\s+(?P<y>(?:19|20)\d{2}))?"),
    # 31 july 2025
    re.compile(rf"\b(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s+(?P<mn>{_MONTH_NAME})\b"
               r"(?:,?\s+(?P<y>(?:19|20)\d{2}))?"),
    # day alone: 31日 / 31号 (not 31日元)
    re.compile(r"(?<![\d月])(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号](?!元)"),
]  # fmt: skip
YEAR = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?![\d.%])")  # not 2022.5, not 2022%


def find_dates(folded: str) -> tuple[list[tuple[Date, tuple[int, int]]], str]:
    """The dates of folded text with their offsets, most specific pattern first, and
    the text with them blanked (so their parts are not counted again)."""
    found: list[tuple[Date, tuple[int, int]]] = []
    for pattern in _FACT_DATES:
        for m in pattern.finditer(folded):
            groups = m.groupdict()
            month = MONTHS[groups["mn"]] if groups.get("mn") else groups.get("m")
            day = Date(
                int(groups["y"]) if groups.get("y") else None,
                int(month) if month else None,
                int(groups["d"]) if groups.get("d") else None,
            )
            found.append((day, m.span()))
        folded = blank(pattern, folded)
    return found, folded


# --- cues for ranking -------------------------------------------------------------------

# A month-and-day date (7月31日, 2022-07-31, jul 31) in folded text.
DATE_CUE = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|"
    rf"(?:{MONTH_ABBREVIATIONS})[a-z]*\.?\s+\d{{1,2}}\b"
)
# A year: four digits before 年, or standing alone.
YEAR_CUE = re.compile(r"(?:19|20)\d{2}\s*年|\b(?:19|20)\d{2}\b")
