"""The Projects page's presenter: weight totals as the core parses them, and quarter edits that
keep the profile totalling the budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundtracker.errors import ValidationError
from fundtracker.presenters.projects import (
    profile_after_edit,
    profile_for_budget,
    weights_total,
)

D = Decimal


def test_weights_total_adds_what_the_core_would_store() -> None:
    assert weights_total(["60", "33.33", "6.67"]) == weights_total(["100"])
    assert weights_total(["60", "33.33", "6.67"]).ok
    total = weights_total(["60", "30"])
    assert (total.text, total.ok) == ("90% — must be 100%", False)
    assert weights_total(["", "  "]).ok  # no weights: unaligned to this plan
    assert weights_total(["60", "", "30%"]).text == "90% — must be 100%"
    assert weights_total(["33.33", "33.33", "33.34"]).text == "100%"


@pytest.mark.parametrize("typed", ["NaN", "1e2", "12.345", "-5", "abc"])
def test_weights_total_names_what_is_not_a_percentage(typed: str) -> None:
    total = weights_total(["50", typed])
    assert not total.ok
    assert "percentage" in total.text or "above 0" in total.text


def test_a_quarter_edit_shares_what_is_left_over_the_later_quarters() -> None:
    # Budget £1,000.00, Q2 set to £400.00 after Q1's £250.00: £350.00 left for Q3 and Q4,
    # £175.00 each.
    profile = [D("250.00")] * 4
    assert profile_after_edit(profile, D("1000.00"), 1, "400") == [
        D("250.00"),
        D("400.00"),
        D("175.00"),
        D("175.00"),
    ]
    # £350.01 - £250.00 = £100.01 over three quarters: 10001 // 3 = 3333 pence each, and the
    # last takes what is left, 10001 - 2 * 3333 = 3335 pence.
    assert profile_after_edit(profile, D("350.01"), 0, "250.00") == [
        D("250.00"),
        D("33.33"),
        D("33.33"),
        D("33.35"),
    ]


def test_a_quarter_edit_that_overspends_the_budget_or_the_last_quarter_is_refused() -> None:
    profile = [D("25.00")] * 4
    with pytest.raises(ValidationError, match=r"quarter 1: £120\.00 leaves -£20\.00"):
        profile_after_edit(profile, D("100.00"), 0, "120")
    with pytest.raises(ValidationError, match="quarter 4: the last quarter is what is left"):
        profile_after_edit(profile, D("100.00"), 3, "10")
    with pytest.raises(ValidationError, match="quarter 2"):
        profile_after_edit(profile, D("100.00"), 1, "10.005")


def test_a_new_budget_keeps_the_profiles_shape() -> None:
    # £7,500 profiled 1,500 / 2,000 / 2,000 / 2,000, budget now £8,000: 800000 pence in
    # proportion is 160000 and 213333.33 three times; the floors leave one penny over, and it
    # goes to the first of the three tied remainders (Q2).
    profile = [D("1500.00"), D("2000.00"), D("2000.00"), D("2000.00")]
    assert profile_for_budget(profile, D("8000.00")) == [
        D("1600.00"),
        D("2133.34"),
        D("2133.33"),
        D("2133.33"),
    ]
    # A profile of zeros has no shape to keep: the budget is spread evenly, the odd penny last.
    assert profile_for_budget([D("0.00")] * 4, D("100.01")) == [
        D("25.00"),
        D("25.00"),
        D("25.00"),
        D("25.01"),
    ]
