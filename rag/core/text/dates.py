"""Find a publish date in a line of text and normalise it to ISO 8601."""

from __future__ import annotations

import re
from datetime import date

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
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
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
            month = _MONTHS.get(match["mon"].lower())
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
