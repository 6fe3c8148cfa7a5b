from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtracker.errors import MoneyError
from fundtracker.money import (
    format_money,
    from_pence,
    money_str,
    parse_money,
    split_largest_remainder,
    to_pence,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("£1,234.50", "1234.50"),
        ("-12.00", "-12.00"),
        ("(12.00)", "-12.00"),
        ("45.00-", "-45.00"),
        ("1500", "1500.00"),
        ("0.37", "0.37"),
        (" £ 1,000,000.01 ", "1000000.01"),
        ("-£5.00", "-5.00"),
        ("(£1,234.50)", "-1234.50"),
        (".5", "0.50"),
    ],
)
def test_parse_money_accepts_what_officers_type(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12.345", "1e9", "NaN", "£1,23,4", "1,2", "--5", "12..5", "inf", "0x10", "£"],
)
def test_parse_money_refuses_garbage_and_sub_penny(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(text)


def test_parse_money_from_numbers() -> None:
    assert parse_money(8000) == Decimal("8000.00")
    assert parse_money(8000.5) == Decimal("8000.50")
    with pytest.raises(MoneyError):
        parse_money(0.001)
    with pytest.raises(MoneyError):
        parse_money(True)


def test_format_money() -> None:
    assert format_money(Decimal("1234.5")) == "£1,234.50"
    assert format_money(Decimal("-12")) == "-£12.00"
    assert format_money(Decimal("0"), symbol=False) == "0.00"


# Every amount Fundtracker holds: up to £999,999,999.99 (99,999,999,999 pence) either way.
pence = st.integers(min_value=-(10**11 - 1), max_value=10**11 - 1)


@given(pence)
def test_pence_round_trip_through_every_text_form(amount: int) -> None:
    value = from_pence(amount)
    assert to_pence(value) == amount
    assert parse_money(money_str(value)) == value
    assert parse_money(format_money(value)) == value


@given(st.lists(pence, max_size=200))
def test_sum_of_many_lines_is_exact(amounts: list[int]) -> None:
    total = sum((from_pence(a) for a in amounts), Decimal("0.00"))
    assert to_pence(total) == sum(amounts)


@given(pence, st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12))
def test_split_always_sums_to_the_whole(total: int, weights: list[int]) -> None:
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)


def test_split_worked_by_hand() -> None:
    # £100.00 at 33.33/33.33/33.34: 3333, 3333, 3334 pence exactly.
    assert split_largest_remainder(10000, [3333, 3333, 3334]) == [3333, 3333, 3334]
    # £1.00 three ways equally: 33.33... each, the leftover penny to the first.
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    # 10p at 60/40 → 6 and 4; -10p mirrors it.
    assert split_largest_remainder(10, [60, 40]) == [6, 4]
    assert split_largest_remainder(-10, [60, 40]) == [-6, -4]
    # 5p at 50/50: tie goes to the first.
    assert split_largest_remainder(5, [50, 50]) == [3, 2]
