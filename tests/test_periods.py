from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtracker.errors import PeriodError
from fundtracker.periods import Period, month_ends, quarters_between, reporting_periods


def test_quarter_boundaries() -> None:
    q2 = Period.parse("2025/26-Q2")
    assert (q2.start, q2.end) == (date(2025, 7, 1), date(2025, 9, 30))
    q4 = Period.parse("2025/26-Q4")
    assert (q4.start, q4.end) == (date(2026, 1, 1), date(2026, 3, 31))
    h1 = Period.parse("2025/26-H1")
    assert (h1.start, h1.end) == (date(2025, 4, 1), date(2025, 9, 30))
    year = Period.parse("2025/26")
    assert (year.start, year.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert str(q2) == "2025/26-Q2" and q2.short == "Q2"
    assert Period.parse("2099/00").end == date(2100, 3, 31)


@pytest.mark.parametrize("text", ["2025/27", "2025-26", "2025/26-Q5", "2025/26-H3", "Q2", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(text)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_date_is_in_exactly_its_quarter(day: date) -> None:
    quarter = Period.quarter_of(day)
    assert quarter.contains(day)
    assert quarter.year.contains(day)
    assert Period.parse(str(quarter)) == quarter
    halves = [Period(quarter.start_year, "H", 1), Period(quarter.start_year, "H", 2)]
    assert sum(h.contains(day) for h in halves) == 1


def test_quarters_and_months_of_a_two_year_grant() -> None:
    quarters = quarters_between(date(2025, 4, 1), date(2027, 3, 31))
    assert [str(q) for q in quarters][:2] == ["2025/26-Q1", "2025/26-Q2"]
    assert len(quarters) == 8
    assert len(list(month_ends(date(2025, 4, 1), date(2026, 3, 31)))) == 12
    assert [
        str(p) for p in reporting_periods(date(2025, 4, 1), date(2026, 3, 31), "half-yearly")
    ] == ["2025/26-H1", "2025/26-H2"]
