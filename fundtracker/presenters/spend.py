"""The split dialog: the parts it proposes and the running total under them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from fundtracker.errors import MoneyError
from fundtracker.money import ZERO, format_money, money_str, parse_money

PENNY = Decimal("0.01")


def proposed_parts(net: Decimal, code: str | None) -> list[tuple[str, str]]:
    """Two halves to start from: the first keeps the line's project, the second has none;
    an odd penny goes to the second, so the parts always make the line.

    >>> proposed_parts(Decimal("86.41"), "A05")
    [('A05', '43.20'), ('', '43.21')]
    """
    half = (net / 2).quantize(PENNY, rounding="ROUND_DOWN")
    return [(code or "", money_str(half)), ("", money_str(net - half))]


def split_total(net: Decimal, typed: Sequence[str]) -> str:
    """What the parts typed so far add up to, against the line's net."""
    try:
        total = sum((parse_money(text) for text in typed), ZERO)
    except MoneyError:
        return "Parts: (an amount is not valid)"
    left = net - total
    if not left:
        return f"Parts total {format_money(total)}; matches the line."
    return f"Parts total {format_money(total)}; {format_money(left)} left to split."
