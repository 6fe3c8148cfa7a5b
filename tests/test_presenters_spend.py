"""The split dialog's presenter: proposed parts that always make the line, and the running total."""

from __future__ import annotations

from decimal import Decimal

from fundtracker.presenters.spend import proposed_parts, split_total

D = Decimal


def test_proposed_parts_make_the_whole_line() -> None:
    # £86.41 halves to £43.205: the first part takes £43.20, the second the odd penny.
    assert proposed_parts(D("86.41"), "A05") == [("A05", "43.20"), ("", "43.21")]
    # A credit note mirrors it: -£43.20 and -£43.21.
    assert proposed_parts(D("-86.41"), None) == [("", "-43.20"), ("", "-43.21")]


def test_split_total_says_what_is_left() -> None:
    assert split_total(D("86.40"), ["50.00", "36.40"]) == "Parts total £86.40; matches the line."
    assert split_total(D("86.40"), ["50", "1"]) == "Parts total £51.00; £35.40 left to split."
    assert split_total(D("86.40"), ["50", "1.005"]) == "Parts: (an amount is not valid)"
