"""Exact money: Decimal with two places in Python, integer pence in storage.

Never float. Sub-penny input is refused, never rounded away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from fundtracker.errors import MoneyError

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount one line, budget or award may hold: 99,999,999,999 pence, under 10^11.
# SQLite sums integers in 64 bits (up to 9.22 * 10^18) and stops with "integer overflow"
# beyond; at this limit it takes over 92 million lines (9.22 * 10^18 / 10^11) to get there.
MAX_AMOUNT = Decimal("999999999.99")

# Thousands separators must be in groups of three: "£1,23,4" is a typo, not £1,234.
_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$|^\d+(\.\d*)?$|^\.\d+$")
# Excel's binary arithmetic leaves noise on the numbers it stores (22.250000000000004 for
# 22.25): a number within a millionth of a penny of a whole number of pence is that penny.
SPREADSHEET_NOISE_PENCE = Decimal("0.000001")


def parse_money(value: object) -> Decimal:
    """Parse what an officer types or a ledger holds into an exact two-place Decimal.

    Accepts ``1234.5``, ``£1,234.50``, ``-12.00``, ``(12.00)``, ``12.00-``, ``1500``,
    ints and Decimals. Refuses floats finer than a penny, sub-penny text and garbage.
    """
    if isinstance(value, bool):
        raise MoneyError(f"{value!r} is not an amount")
    if isinstance(value, int):
        return _exact(Decimal(value), str(value))
    if isinstance(value, Decimal):
        return _exact(value, str(value))
    if isinstance(value, float):
        # A float typed as "8000.5" in TOML or read from an Excel cell: its shortest repr is
        # what the person wrote; refuse anything finer than a penny.
        return _exact(Decimal(repr(value)), repr(value))
    if not isinstance(value, str):
        raise MoneyError(f"{value!r} is not an amount")
    return _parse_text(value)


def parse_spreadsheet_money(value: object) -> Decimal:
    """An amount from a spreadsheet cell (an .xlsx ledger or a return workbook): as
    parse_money, except that a number Excel stored is rounded to the penny when it is within
    a millionth of a penny of one, reckoned exactly from the float's shortest repr. A real
    fraction (22.255) is refused, as is text: text is what a person typed."""
    if isinstance(value, float) and math.isfinite(value):
        pence = Decimal(repr(value)) * 100
        whole = pence.to_integral_value()
        if abs(pence - whole) < SPREADSHEET_NOISE_PENCE:
            return parse_money(whole / 100)
    return parse_money(value)


def _parse_text(text: str) -> Decimal:
    original = text
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        raise MoneyError("an amount is required")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    if s.endswith("-"):
        negative, s = not negative, s[:-1]
    if s.startswith(("-", "+")):
        if s[0] == "-":
            negative = not negative
        s = s[1:]
    if s.startswith("£"):
        s = s[1:]
    elif s.upper().startswith("GBP"):
        s = s[3:]
    if s.startswith("-") and not negative:
        negative, s = True, s[1:]
    if not _AMOUNT.match(s):
        raise MoneyError(f"'{original}' is not an amount (expected e.g. 1234.50 or £1,234.50)")
    amount = _exact(Decimal(s.replace(",", "")), original)
    return -amount if negative else amount


def _exact(amount: Decimal, shown: str) -> Decimal:
    try:
        if not amount.is_finite():
            raise MoneyError(f"'{shown}' is not an amount")
        quantized = amount.quantize(PENNY)
    except InvalidOperation as exc:
        raise MoneyError(f"'{shown}' is too large to be an amount") from exc
    if quantized != amount:
        raise MoneyError(f"'{shown}' has fractions of a penny; amounts are exact to the penny")
    if abs(quantized) > MAX_AMOUNT:
        raise MoneyError(
            f"'{shown}' is too large: an amount can be at most {format_money(MAX_AMOUNT)}"
        )
    return quantized


def to_pence(amount: Decimal) -> int:
    """Decimal pounds to integer pence; the amount must already be exact to the penny."""
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise MoneyError(f"{amount} has fractions of a penny")
    return int(pence)


def from_pence(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(PENNY)


def money_str(amount: Decimal) -> str:
    """The machine form used in JSON, CSV and TOML: ``-12.50``."""
    return f"{amount.quantize(PENNY):f}"


def format_money(amount: Decimal, symbol: bool = True) -> str:
    """The human form: ``£1,234.50``, negatives as ``-£12.00``."""
    q = amount.quantize(PENNY)
    body = f"{abs(q):,.2f}"
    sign = "-" if q < 0 else ""
    return f"{sign}{'£' if symbol else ''}{body}"


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` (whole pence) in proportion to ``weights`` so the parts sum to ``total``.

    Each part is floored, then the pence left over go one each to the largest remainders;
    ties go to the weight listed first. A negative total is split by its magnitude, then
    negated, so a credit note mirrors the charge it reverses.
    """
    if total < 0:
        return [-part for part in split_largest_remainder(-total, weights)]
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("weights must have a positive total")
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts
