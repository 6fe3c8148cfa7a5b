"""Setup files accept UK dates (01/05/2026) as well as ISO, a payment's received_on, and
weights only as plain percentages (the core's parse_percentage, shared with the window)."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest

from fundtracker.errors import ValidationError
from fundtracker.services.grants import import_grant, load_grant
from fundtracker.services.plans import import_plan
from fundtracker.setup_files import (
    PercentageError,
    parse_percentage,
    read_grant,
    read_plan,
)
from fundtracker.storage import Database

PLAN = """
[plan]
key = "p"
name = "Plan"
kind = "pcc"
effective_from = "01/04/2025"
effective_to = "31/03/2029"

[[priorities]]
code = "P1"
title = "People"

[[priorities]]
code = "P2"
title = "Places"
"""

GRANT = """
[grant]
reference = "G"
name = "Grant"
award = "1000"
start = "01/04/2025"
end = "2026-03-31"
aligned_plan = "p"

[[grant.payments]]
date = "15/05/2025"
amount = "600"
received = true
received_on = "20/05/2025"

[[grant.payments]]
date = 2026-01-15
amount = "400"

[[allocations]]
code = "A1"
name = "Project"
budget = "1000"
[allocations.priorities]
p = { P1 = WEIGHT_1, P2 = WEIGHT_2 }
"""


def _grant_text(first: str = "33.33", second: str = "66.67") -> str:
    return GRANT.replace("WEIGHT_1", first).replace("WEIGHT_2", second)


def test_uk_dates_and_received_on_are_read_and_stored(db: Database) -> None:
    import_plan(db, read_plan(tomllib.loads(PLAN)))
    _grant, created = import_grant(db, read_grant(tomllib.loads(_grant_text())))
    assert created
    stored = load_grant(db, "G")
    assert (stored.start_date, stored.end_date) == (date(2025, 4, 1), date(2026, 3, 31))
    assert [(p.date, p.amount, p.received, p.received_on) for p in stored.payments] == [
        (date(2025, 5, 15), Decimal("600.00"), True, date(2025, 5, 20)),
        (date(2026, 1, 15), Decimal("400.00"), False, None),
    ]
    # 33.33 + 66.67 = 100.00: 3333 + 6667 = 10000 basis points.
    assert sorted(w.basis_points for w in stored.allocations[0].weights) == [3333, 6667]
    assert stored.aligned_plan.effective_from == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('start = "01/04/2025"', 'start = "31/02/2025"', "grant: start must be a date like"),
        ('date = "15/05/2025"', 'date = "15/13/2025"', "grant.payments[1]: date must be a date"),
        ("received = true\n", "received = false\n", "received_on is given but received is not"),
    ],
)
def test_bad_dates_are_refused_naming_the_place(old: str, new: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_grant(tomllib.loads(_grant_text().replace(old, new)))


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ('"1e2"', "0.001", "weight '1e2' is not a percentage"),
        ('"NaN"', '"50"', "weight 'NaN' is not a percentage"),
        ('"33.333"', '"66.667"', "weight '33.333' is not a percentage"),
        ("60", "30", "weights for p total 90, must be 100"),
    ],
)
def test_weights_in_a_file_are_plain_percentages(first: str, second: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        read_grant(tomllib.loads(_grant_text(first, second)))


@pytest.mark.parametrize(
    ("value", "points"),
    [("60", 6000), ("33.33", 3333), ("12.5", 1250), (12.5, 1250), (100, 10000),
     (Decimal("50"), 5000), (" 40 ", 4000), ("25%", 2500)],
)  # fmt: skip
def test_parse_percentage_reads_basis_points(value: object, points: int) -> None:
    assert parse_percentage(value) == points


@pytest.mark.parametrize(
    "value",
    ["NaN", "nan", "1e2", "Infinity", "33.333", "-5", "+5", "101", "0", "", "sixty", True, None,
     float("nan"), Decimal("1E+2")],
)  # fmt: skip
def test_parse_percentage_refuses_what_is_not_a_plain_percentage(value: object) -> None:
    with pytest.raises(PercentageError):
        parse_percentage(value)


def test_zero_is_allowed_only_when_asked_for_an_empty_cell() -> None:
    assert parse_percentage("0", allow_zero=True) == 0
    assert parse_percentage("0.00", allow_zero=True) == 0
