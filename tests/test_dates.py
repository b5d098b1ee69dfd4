"""parse_date: finds a date in a line and normalises it to ISO 8601."""

import pytest

from rag.core.text.dates import find_date, parse_date

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-09 21:30", "2025-12-09T21:30"),
        ("2025/12/09", "2025-12-09"),
        ("2025年12月9日 21:30", "2025-12-09T21:30"),
        (" date 2025-08-22 \u3000", "2025-08-22"),
        ("[ 2023-07-28 16：40 ]", "2023-07-28T16:40"),
        ("发布时间：2019-09-05 11:10:22 来源：某网", "2019-09-05T11:10:22"),
        ("2005-5-7 21:23:57", "2005-05-07T21:23:57"),
        ("2019-09-05T11:10:00+08:00", "2019-09-05T11:10:00"),
        ("Dec 9, 2025", "2025-12-09"),
        ("9 December 2025 08:05", "2025-12-09T08:05"),
    ],
)
def test_dates_with_a_year_become_iso(text: str, expected: str) -> None:
    assert parse_date(text) == expected


def test_dates_without_a_year_are_kept_as_written() -> None:
    assert parse_date("08/16  13:50") == "08/16  13:50"
    assert parse_date("8月16日") == "8月16日"


@pytest.mark.parametrize(
    "text", ["", "沒有日期的一行", "2025-13-40", "3/4 of the cake", "第2025號"]
)
def test_no_date(text: str) -> None:
    assert parse_date(text) is None


def test_invalid_time_keeps_the_day() -> None:
    assert parse_date("2025-01-02 25:99") == "2025-01-02"


def test_find_date_gives_the_span() -> None:
    iso, (start, end) = find_date("更新：2024年2月29日 早上")
    assert iso == "2024-02-29"
    assert "更新：2024年2月29日 早上"[start:end].startswith("2024")


def test_find_dates_partial_dates_most_specific_first_and_blanked() -> None:
    from rag.core.text.dates import Date, find_dates

    text = "2022年7月31日开幕，8月闭幕，jul 9 与 31日"
    found, rest = find_dates(text)
    assert [d for d, _ in found] == [
        Date(2022, 7, 31),
        Date(None, 8, None),
        Date(None, 7, 9),
        Date(None, None, 31),
    ]
    for _, (start, end) in found:
        assert rest[start:end].strip() == ""  # blanked, offsets kept
    assert len(rest) == len(text)
    assert find_dates("31日元")[0] == []  # a price, not a day
    assert Date(None, 7, 31).agrees(Date(2022, 7, 31)) and not Date(None, 8, 31).agrees(
        Date(2022, 7, 31)
    )
    assert Date(2022, 7, None).label() == "2022年7月"


def test_year_and_the_ranking_cues() -> None:
    from rag.core.text.dates import DATE_CUE, YEAR, YEAR_CUE

    assert [m.group("y") for m in YEAR.finditer("2022年与2023, 不是2022.5或2022%")] == [
        "2022",
        "2023",
    ]
    for text in ("7月31日", "2022-07-31", "sept. 9 ", "jul 31"):
        assert DATE_CUE.search(text), text
    for text in ("7月", "2022年", "july"):
        assert not DATE_CUE.search(text), text
    assert YEAR_CUE.search("2022 年") and YEAR_CUE.search("in 2022.")
    assert not YEAR_CUE.search("h2022x") and not YEAR_CUE.search("1899年")
