"""What the new-grant assistant and the grant editor mean by what the officer typed (no Qt).

Each function takes the text of one field and returns its value, or records a ``FieldError``
named after the field's visible label in a ``Problems`` list, so the window shows every
refusal beside its own field and nothing is written until all of them are put right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import TypeVar

from fundtracker.dates import parse_date
from fundtracker.errors import FieldError, FundtrackerError
from fundtracker.money import ZERO, format_money, parse_money
from fundtracker.setup_files import (
    PlanSpec,
    PrioritySpec,
    format_percentage,
    load_toml,
    parse_percentage,
    read_plan,
)

T = TypeVar("T")
FULL = 10_000  # 100% in basis points


@dataclass
class Problems:
    """Refusals collected while reading a page, each under the field (its label) it is about."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, label: str, message: str) -> None:
        self.errors.append(FieldError(label, message))

    def about(self, label: str) -> str:
        return "; ".join(e.message for e in self.errors if e.field == label)

    def __bool__(self) -> bool:
        return bool(self.errors)


def _parsed(problems: Problems, label: str, parse: Callable[[str], T], text: str) -> T | None:
    try:
        return parse(text)
    except FundtrackerError as error:
        problems.add(label, str(error))
        return None


def amount(problems: Problems, label: str, text: str, positive: bool = False) -> Decimal | None:
    """An exact amount (``12.345`` is refused, never rounded); never negative."""
    value = _parsed(problems, label, parse_money, text)
    if not isinstance(value, Decimal):
        return None
    if value < 0 or (positive and value == 0):
        problems.add(label, f"must be {'more than' if positive else 'at least'} £0.00")
        return None
    return value


def day(problems: Problems, label: str, text: str, required: bool = True) -> date | None:
    """A date typed UK-style (01/05/2026, 1-May-26) or ISO."""
    if not text.strip() and not required:
        return None
    value = _parsed(problems, label, parse_date, text)
    return value if isinstance(value, date) else None


def text(problems: Problems, label: str, value: str, limit: int = 300) -> str:
    """Required text, trimmed, no longer than its column."""
    value = value.strip()
    if not value:
        problems.add(label, "is required")
    elif len(value) > limit:
        problems.add(label, f"is {len(value)} characters long; at most {limit}")
    return value


def within(problems: Problems, label: str, value: date | None, start: date, end: date) -> None:
    if value is not None and not start <= value <= end:
        problems.add(
            label, f"{value:%d/%m/%Y} is outside the grant ({start:%d/%m/%Y} to {end:%d/%m/%Y})"
        )


def weight(problems: Problems, label: str, value: str) -> int:
    """A percentage with at most two decimals, as basis points (the core's parser, so ``NaN``
    and ``1e2`` are refused); blank is 0 (no weight)."""
    if not value.strip():
        return 0
    points = _parsed(problems, label, lambda text: parse_percentage(text, allow_zero=True), value)
    return points or 0


def weights_total(values: list[str]) -> tuple[int | None, str]:
    """The running total of a plan's weights and what to say beside them: None while one is
    not a percentage. "Total 100% ✓" when right, else how far off it is."""
    problems = Problems()
    points = [weight(problems, "weight", v) for v in values]
    if problems:
        return None, "A weight is not a percentage"
    total = sum(points)
    if total == 0:
        return 0, "No weights (must total 100%)"
    if total == FULL:
        return total, "Total 100% ✓"
    return total, f"Total {format_percentage(total)}% — must total 100%"


def money_total(values: list[str]) -> Decimal | None:
    """The sum of amounts typed so far (blank counts as nothing); None while one is bad."""
    total = ZERO
    for value in values:
        if value.strip():
            try:
                total += parse_money(value)
            except FundtrackerError:
                return None
    return total


def against(total: Decimal | None, target: Decimal | None, what: str) -> str:
    """ "£40,000.00 of the £40,000.00 award" and how far off it is."""
    if total is None:
        return "An amount is not understood"
    if target is None:
        return f"Total {format_money(total)}"
    gap = target - total
    said = f"Total {format_money(total)} of the {format_money(target)} {what}"
    if gap == 0:
        return said + " ✓"
    return said + (f" — {format_money(gap)} short" if gap > 0 else f" — {format_money(-gap)} over")


# A line may start with its own code: ``P1 Protecting people``, ``P1.2: Night-time economy``.
_CODED = re.compile(r"([A-Za-z]{1,4}\d+(?:\.\d+)*)(?:\s*[-:\u2013\u2014]\s*|\s+)(\S.*)")


def priorities_from_lines(lines: str, prefix: str) -> list[PrioritySpec]:
    """Priorities typed or pasted one a line; a line starting with a space, ``-`` or ``*``
    is a sub-priority of the priority above it. Codes are ``C1``, ``C2``… and ``C1.1``…,
    unless a line starts with its own code (``P2 Places``); a code written ``CODE.SUB``
    (``P2.1 Town centres``) makes a sub-priority of ``CODE``, indented or not."""
    result: list[PrioritySpec] = []
    parent: PrioritySpec | None = None
    for raw in lines.splitlines():
        title = raw.strip().lstrip("-*•").strip()
        if not title:
            continue
        coded = _CODED.fullmatch(title)
        code, title = (coded.group(1), coded.group(2).strip()) if coded else (None, title)
        used = {p.code for p in result}
        if code and "." in code:  # CODE.SUB names its own parent
            result.append(PrioritySpec(code, title, parent=code.rsplit(".", 1)[0]))
        elif parent is not None and (raw[:1].isspace() or raw.lstrip()[:1] in "-*•"):
            code = code or _next_free(f"{parent.code}.", used)
            result.append(PrioritySpec(code, title, parent=parent.code))
        else:
            parent = PrioritySpec(code or _next_free(prefix, used), title)
            result.append(parent)
    return result


def _next_free(start: str, used: set[str]) -> str:
    """``start`` followed by the first number from 1 that no code uses yet."""
    number = 1
    while f"{start}{number}" in used:
        number += 1
    return f"{start}{number}"


def plan_key(name: str, start: date, taken: set[str]) -> str:
    """A key for a new plan, from its name and first year, unused in ``taken``."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "plan"
    key, number = f"{words}-{start.year}", 2
    while key in taken:
        key, number = f"{words}-{start.year}-{number}", number + 1
    return key


def plan_templates() -> list[PlanSpec]:
    """The plan templates shipped in ``fundtracker/plan_templates/*.toml``, by name."""
    folder = resources.files("fundtracker").joinpath("plan_templates")
    if not folder.is_dir():
        return []
    specs = []
    for item in folder.iterdir():
        if item.name.endswith(".toml"):
            with resources.as_file(item) as path:
                specs.append(read_plan(load_toml(path)))
    return sorted(specs, key=lambda spec: spec.name)
