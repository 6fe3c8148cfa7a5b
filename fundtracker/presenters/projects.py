"""The Projects page: the weights editor's running totals and the profile a quarter edit makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fundtracker.errors import FieldError, FundtrackerError, ValidationError
from fundtracker.figures import even_spread
from fundtracker.money import (
    format_money,
    from_pence,
    parse_money,
    split_largest_remainder,
    to_pence,
)
from fundtracker.setup_files import format_percentage, parse_percentage


@dataclass(frozen=True)
class WeightsTotal:
    """The line under a plan's weights: what they add up to, and whether Save would take them."""

    text: str
    ok: bool


def weights_total(texts: Sequence[str]) -> WeightsTotal:
    """The running total of typed percentages, parsed as the core parses them (so ``NaN``,
    ``1e2`` and ``12.345`` are named, not added up)."""
    typed = [text.strip() for text in texts if text.strip()]
    if not typed:
        return WeightsTotal("no weights (this project is unaligned to this plan)", True)
    points = 0
    for text in typed:
        try:
            points += parse_percentage(text, allow_zero=True)
        except FundtrackerError as error:
            return WeightsTotal(str(error), False)
    if points == 10_000:
        return WeightsTotal("100%", True)
    return WeightsTotal(f"{format_percentage(points)}% — must be 100%", False)


def profile_after_edit(
    profile: Sequence[Decimal], budget: Decimal, quarter: int, text: str
) -> list[Decimal]:
    """The whole profile once quarter ``quarter`` (0 = the grant's first) is set to ``text``:
    the later quarters share what is left of the budget evenly (whole pence, the odd pence in
    the last), so the profile always totals the budget. The last quarter is what is left, so
    it is changed through an earlier quarter or the budget; nothing left to share is refused.

    >>> profile_after_edit([Decimal("25.00")] * 4, Decimal("100.00"), 0, "40")
    [Decimal('40.00'), Decimal('20.00'), Decimal('20.00'), Decimal('20.00')]
    """
    place = f"quarter {quarter + 1}"
    if quarter >= len(profile) - 1:
        raise ValidationError(
            FieldError(
                place,
                "the last quarter is what is left of the budget: change an earlier quarter, "
                "the budget, or reset the profile to even",
            )
        )
    try:
        amount = parse_money(text)
    except FundtrackerError as error:
        raise ValidationError(FieldError(place, str(error))) from error
    kept = [*profile[:quarter], amount]
    left = to_pence(budget) - sum(to_pence(a) for a in kept)
    if amount < 0 or left < 0:
        raise ValidationError(
            FieldError(
                place,
                f"{format_money(amount)} leaves {format_money(from_pence(left))} of the "
                f"{format_money(budget)} budget for the later quarters; it must not be negative",
            )
        )
    return kept + [from_pence(p) for p in even_spread(left, len(profile) - quarter - 1)]


def profile_for_budget(profile: Sequence[Decimal], budget: Decimal) -> list[Decimal]:
    """A stored profile scaled to a new budget, keeping its shape: the new budget split in
    proportion to the quarters by largest remainder, so it totals the budget to the penny (a
    profile of nothing but zeros becomes even).

    >>> profile_for_budget([Decimal("1500"), Decimal("2000"), Decimal("2000"), Decimal("2000")],
    ...                    Decimal("8000"))
    [Decimal('1600.00'), Decimal('2133.34'), Decimal('2133.33'), Decimal('2133.33')]
    """
    shape = [to_pence(amount) for amount in profile]
    if not any(shape):
        return [from_pence(p) for p in even_spread(to_pence(budget), len(profile))]
    return [from_pence(p) for p in split_largest_remainder(to_pence(budget), shape)]
