"""Outcome measures (issue 15): what a project is funded to achieve, and how far it has got.

A measure counts something (``count``: "80 individuals supported") or reports a proportion
(``percent``: "80% report improved wellbeing", entered each quarter as 41 of 50). Targets are
exact integers: whole units for a count, tenths of a percent for a percent (825 = 82.5%).

To date means the grant's quarters ended by the period end (docs/FIGURES.md, Outcomes):
- a count's target to date is the sum of its quarterly targets to date (without quarterly
  targets the annual target is spread evenly in whole units, the remainder in the last
  quarter: 10 over four quarters is 2, 2, 2, 4); its actual to date is the sum of its actuals;
- a percent's target to date is its target (the latest quarter's target to date when it has
  quarterly targets); its actual to date is 100 × Σ numerators ÷ Σ denominators, null with
  no denominators;
- % of target = actual to date ÷ target to date × 100 as shown (percents to one decimal),
  null when the target to date is 0. Every figure is rounded once, half up, to one decimal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fundtracker.errors import FundtrackerError
from fundtracker.models import OUTCOME_UNITS, OutcomeActual, OutcomeMeasure
from fundtracker.periods import Period

COUNT, PERCENT = OUTCOME_UNITS
LARGEST_COUNT = 999_999_999  # a headcount beyond this is a typo
_WHOLE = re.compile(r"^\d{1,9}$")
_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d))?$")


class OutcomeError(FundtrackerError, ValueError):
    """A target or actual that is not a whole count or a percentage with one decimal."""


# --- Values as typed and as stored ----------------------------------------------------------


def parse_count(value: object, what: str = "count") -> int:
    """A whole number of people, sessions, ... (``80``, ``"80"``); never negative or fractional."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
    else:
        raise OutcomeError(f"{what} must be a whole number such as 80 (got {value!r})")
    if not _WHOLE.match(text) or int(text) > LARGEST_COUNT:
        raise OutcomeError(
            f"{what} must be a whole number from 0 to {LARGEST_COUNT:,} (got {text!r})"
        )
    return int(text)


def parse_percent(value: object, what: str = "target") -> int:
    """A percentage (``80``, ``"80%"``, ``82.5``, ``"82.5%"``) in tenths (800, 825); at most one
    decimal, from 0 to 100."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise OutcomeError(f"{what} must be a percentage such as 80% or 82.5% (got {value!r})")
    text = repr(value) if isinstance(value, float) else str(value)
    match = _PERCENT.match(text.strip().removesuffix("%").strip())
    if match is None:
        raise OutcomeError(
            f"{what} {text!r} is not a percentage such as 80% or 82.5% (one decimal at most)"
        )
    tenths = int(match.group(1)) * 10 + int(match.group(2) or 0)
    if tenths > 1000:
        raise OutcomeError(f"{what} {text} must be at most 100%")
    return tenths


def parse_target(unit: str, value: object, what: str = "target") -> int:
    """A target in the stored form of its unit."""
    return parse_count(value, what) if unit == COUNT else parse_percent(value, what)


def tenths_text(tenths: int) -> str:
    """825 -> "82.5", 800 -> "80.0": a percentage to one decimal, as the report gives it."""
    return f"{tenths // 10}.{tenths % 10}"


def shown_target(unit: str, stored: int) -> int | str:
    """A target as the report and the workbook give it: a count as an integer, a percent as a
    string with one decimal."""
    return stored if unit == COUNT else tenths_text(stored)


def file_target(unit: str, stored: int) -> int | str:
    """A target as a grant file writes it: 80 or "82.5%"."""
    return stored if unit == COUNT else f"{tenths_text(stored).removesuffix('.0')}%"


def tenths_half_up(numerator: int, denominator: int) -> int:
    """numerator ÷ denominator in tenths, rounded half up (both never negative)."""
    return (numerator * 20 + denominator) // (2 * denominator)


# --- Quarterly targets -----------------------------------------------------------------------


def even_targets(unit: str, target: int, quarters: int) -> list[int]:
    """A count spread in whole units, the remainder in the last quarter; a percent applies to
    every quarter as it is."""
    if unit == PERCENT:
        return [target] * quarters
    each = target // quarters
    return [each] * (quarters - 1) + [target - each * (quarters - 1)]


def check_quarter_targets(unit: str, target: int, targets: Sequence[int], quarters: int) -> None:
    """Refuse quarterly targets that do not fit the grant or, for a count, do not total the
    annual target (naming both numbers)."""
    if len(targets) != quarters:
        raise OutcomeError(
            f"targets has {len(targets)} value{'s' if len(targets) != 1 else ''}, one a quarter: "
            f"the grant has {quarters} quarters"
        )
    if unit == COUNT and sum(targets) != target:
        raise OutcomeError(
            f"the quarterly targets total {sum(targets)} but the annual target is {target}"
        )


def stored_targets(targets: Sequence[int] | None) -> str:
    return "" if not targets else ",".join(str(t) for t in targets)


def listed_targets(stored: str) -> list[int] | None:
    return [int(t) for t in stored.split(",")] if stored else None


def quarter_targets(measure: OutcomeMeasure, quarters: int) -> list[int]:
    """The measure's target in each quarter of the grant (index 0 = its first). Quarterly
    targets that no longer fit the grant (its dates changed since) give way to the spread."""
    listed = listed_targets(measure.quarter_targets)
    if listed is not None and len(listed) == quarters:
        return listed
    return even_targets(measure.unit, measure.target, quarters)


# --- Figures to a period's end ---------------------------------------------------------------


@dataclass(frozen=True)
class QuarterActual:
    actual: int
    out_of: int | None
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"actual": self.actual, "of": self.out_of, "note": self.note}

    @property
    def shown(self) -> int | str:
        """As the workbook's quarter cell holds it: 41, or "41 of 50"."""
        return self.actual if self.out_of is None else f"{self.actual} of {self.out_of}"


@dataclass(frozen=True)
class OutcomeFigures:
    """One measure as at a period's end. Targets and actuals are in stored units (tenths of a
    percent for a percent measure); ``None`` where the figure cannot be worked out."""

    code: str
    title: str
    unit: str
    priority: str | None
    target: int
    target_to_date: int
    actual_to_date: int | None
    percent_of_target: int | None  # tenths of a percent
    # By quarter of the period's financial year (Q1..Q4): target, and the actual if entered.
    quarter_targets: Mapping[str, int | None]
    quarters: Mapping[str, QuarterActual | None]
    missing: tuple[str, ...]  # quarters ended by the period end with no actual entered

    def to_json(self) -> dict[str, Any]:
        def shown(value: int | None) -> int | str | None:
            return None if value is None else shown_target(self.unit, value)

        return {
            "code": self.code,
            "title": self.title,
            "unit": self.unit,
            "priority": self.priority,
            "target": shown_target(self.unit, self.target),
            "target_to_date": shown_target(self.unit, self.target_to_date),
            "actual_to_date": shown(self.actual_to_date),
            "percent_of_target": (
                None if self.percent_of_target is None else tenths_text(self.percent_of_target)
            ),
            "quarter_targets": {k: shown(v) for k, v in self.quarter_targets.items()},
            "quarters": {k: None if v is None else v.to_json() for k, v in self.quarters.items()},
            "missing": list(self.missing),
        }


def measure_figures(
    measure: OutcomeMeasure,
    grant_quarters: Sequence[Period],
    actuals: Sequence[OutcomeActual],
    period: Period,
) -> OutcomeFigures:
    """``measure`` as at the end of ``period``; ``grant_quarters`` are the grant's quarters."""
    targets = dict(
        zip(map(str, grant_quarters), quarter_targets(measure, len(grant_quarters)), strict=True)
    )
    by_quarter = {a.quarter: a for a in actuals}
    ended = [str(q) for q in grant_quarters if q.end <= period.end]
    entered = [by_quarter[q] for q in ended if q in by_quarter]
    if measure.unit == COUNT:
        target_to_date = sum(targets[q] for q in ended)
        actual: int | None = sum(a.actual for a in entered)
        percent = _percent_of(actual, target_to_date)
    else:
        target_to_date = targets[ended[-1]] if ended else measure.target
        numerators = sum(a.actual for a in entered if a.out_of)
        denominators = sum(a.out_of or 0 for a in entered)
        actual = tenths_half_up(100 * numerators, denominators) if denominators else None
        percent = _percent_of(actual, target_to_date)
    year = [str(q) for q in period.year.quarters()]
    return OutcomeFigures(
        code=measure.code,
        title=measure.title,
        unit=measure.unit,
        priority=measure.priority,
        target=measure.target,
        target_to_date=target_to_date,
        actual_to_date=actual,
        percent_of_target=percent,
        quarter_targets={_label(q): targets.get(q) for q in year},
        # A return shows only what it reports: quarters after the period end stay empty.
        quarters={
            _label(q): _quarter_actual(by_quarter.get(q) if q in ended else None) for q in year
        },
        missing=tuple(q for q in ended if q not in by_quarter),
    )


def _percent_of(actual: int | None, target_to_date: int) -> int | None:
    """Actual ÷ target × 100 in tenths (both in the same units); None when it cannot be."""
    if actual is None or target_to_date == 0:
        return None
    return tenths_half_up(100 * actual, target_to_date)


def _label(quarter: str) -> str:
    return quarter.rsplit("-", 1)[1]  # "2025/26-Q2" -> "Q2"


def _quarter_actual(row: OutcomeActual | None) -> QuarterActual | None:
    return None if row is None else QuarterActual(row.actual, row.out_of, row.note)
