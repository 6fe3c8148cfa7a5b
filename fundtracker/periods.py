"""UK financial years and their quarters and halves.

The year runs 1 April to 31 March and is named like ``2025/26``. Q1 is Apr–Jun, Q4 Jan–Mar;
H1 is Apr–Sep. The period syntax used everywhere is ``2025/26``, ``2025/26-H1``, ``2025/26-Q2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from fundtracker.errors import PeriodError

_PERIOD = re.compile(r"^(\d{4})/(\d{2})(?:-([QH])([1-4]))?$")
# Years whose every day Python's date can hold (9999/00 would end in the year 10000).
FIRST_YEAR, LAST_YEAR = 1900, 9998


def financial_year_start(day: date) -> int:
    """The calendar year in which the financial year containing ``day`` starts."""
    return day.year if day.month >= 4 else day.year - 1


def year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def _month_start(start_year: int, fiscal_month: int) -> date:
    """First day of fiscal month 1..12 (1 = April) of the year starting in ``start_year``."""
    month = (fiscal_month + 2) % 12 + 1
    year = start_year if fiscal_month <= 9 else start_year + 1
    return date(year, month, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A financial year (kind ``Y``), half (``H``, index 1–2) or quarter (``Q``, index 1–4)."""

    start_year: int
    kind: str = "Y"
    index: int = 1

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if not match:
            raise PeriodError(
                f"'{text}' is not a period; write e.g. 2025/26, 2025/26-H1 or 2025/26-Q2"
            )
        start_year, end_yy, kind, index = match.groups()
        year = int(start_year)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise PeriodError(
                f"'{text}': a financial year from {year_label(FIRST_YEAR)} to "
                f"{year_label(LAST_YEAR)}"
            )
        if (year + 1) % 100 != int(end_yy):
            raise PeriodError(f"'{text}': a financial year runs into the next year (e.g. 2025/26)")
        if kind == "H" and int(index) > 2:
            raise PeriodError(f"'{text}': a year has two halves, H1 and H2")
        return cls(year, kind or "Y", int(index) if index else 1)

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(financial_year_start(day))

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        fiscal_month = (day.month - 4) % 12 + 1
        return cls(financial_year_start(day), "Q", (fiscal_month - 1) // 3 + 1)

    @property
    def months(self) -> int:
        return {"Y": 12, "H": 6, "Q": 3}[self.kind]

    @property
    def start(self) -> date:
        return _month_start(self.start_year, (self.index - 1) * self.months + 1)

    @property
    def end(self) -> date:
        last_month = self.index * self.months
        if last_month == 12:
            return date(self.start_year + 1, 3, 31)
        return _month_start(self.start_year, last_month + 1) - timedelta(days=1)

    @property
    def year(self) -> Period:
        return Period(self.start_year)

    @property
    def short(self) -> str:
        """``Q2``, ``H1`` or ``2025/26`` for a year."""
        return str(self) if self.kind == "Y" else f"{self.kind}{self.index}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def quarters(self) -> list[Period]:
        if self.kind == "Q":
            return [self]
        first = (self.index - 1) * self.months // 3 + 1
        return [Period(self.start_year, "Q", q) for q in range(first, first + self.months // 3)]

    def __str__(self) -> str:
        label = year_label(self.start_year)
        return label if self.kind == "Y" else f"{label}-{self.kind}{self.index}"


def quarters_between(start: date, end: date) -> list[Period]:
    """Every financial quarter that overlaps ``start``..``end``, in order."""
    result: list[Period] = []
    quarter = Period.quarter_of(start)
    while quarter.start <= end:
        result.append(quarter)
        quarter = next_quarter(quarter)
    return result


def next_quarter(quarter: Period) -> Period:
    if quarter.index == 4:
        return Period(quarter.start_year + 1, "Q", 1)
    return Period(quarter.start_year, "Q", quarter.index + 1)


def month_ends(start: date, end: date) -> Iterator[date]:
    """The last day of every month from ``start``'s month to ``end``'s month."""
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        following = date(year + (month == 12), month % 12 + 1, 1)
        yield following - timedelta(days=1)
        year, month = following.year, following.month


def reporting_periods(start: date, end: date, frequency: str) -> list[Period]:
    """The return periods of a grant: its quarters, halves or years, in order."""
    quarters = quarters_between(start, end)
    if frequency == "quarterly":
        return quarters
    seen: list[Period] = []
    for q in quarters:
        period = (
            Period(q.start_year)
            if frequency == "annual"
            else Period(q.start_year, "H", 1 if q.index <= 2 else 2)
        )
        if period not in seen:
            seen.append(period)
    return seen
