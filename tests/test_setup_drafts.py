"""What the assistant and the grant editor make of typed text (no Qt)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fundtracker.setup_drafts import (
    Problems,
    against,
    amount,
    day,
    money_total,
    plan_key,
    plan_templates,
    priorities_from_lines,
    weight,
    weights_total,
    within,
)


def test_amounts_are_exact_and_never_negative() -> None:
    problems = Problems()
    assert amount(problems, "Award", "£1,234.50") == Decimal("1234.50")
    assert amount(problems, "Budget", "12.345") is None
    assert amount(problems, "Award", "0", positive=True) is None
    assert amount(problems, "Budget", "-1") is None
    assert "fractions of a penny" in problems.about("Budget")
    assert "must be at least £0.00" in problems.about("Budget")
    assert problems.about("Award") == "must be more than £0.00"


def test_dates_uk_style_and_within_the_grant() -> None:
    problems = Problems()
    assert day(problems, "Start", "01/05/2026") == date(2026, 5, 1)
    assert day(problems, "Start", "1-May-26") == date(2026, 5, 1)
    assert day(problems, "End", "", required=False) is None
    assert day(problems, "Date", "31/02/2026") is None
    within(problems, "Instalment 1", date(2027, 4, 1), date(2026, 4, 1), date(2027, 3, 31))
    assert "is not a" in problems.about("Date")
    assert problems.about("Instalment 1") == (
        "01/04/2027 is outside the grant (01/04/2026 to 31/03/2027)"
    )


def test_weights_and_their_live_total() -> None:
    problems = Problems()
    assert weight(problems, "P1", "33.33") == 3333
    assert weight(problems, "P2", "") == 0
    assert weight(problems, "P3", "1e2") == 0 and problems.about("P3")
    assert weight(problems, "P4", "NaN") == 0 and problems.about("P4")
    # 33.33 + 66.67 = 100.00
    assert weights_total(["33.33", "66.67"]) == (10_000, "Total 100% ✓")
    # 60 + 30 = 90
    assert weights_total(["60", "30", ""]) == (9_000, "Total 90% — must total 100%")
    assert weights_total(["", ""]) == (0, "No weights (must total 100%)")
    assert weights_total(["60", "x"]) == (None, "A weight is not a percentage")


def test_money_totals_against_a_target() -> None:
    # 30,000.00 + 25,000.50 = 55,000.50; 60,000.00 − 55,000.50 = 4,999.50 short
    total = money_total(["30000", "£25,000.50", ""])
    assert total == Decimal("55000.50")
    assert against(total, Decimal("60000.00"), "award") == (
        "Total £55,000.50 of the £60,000.00 award — £4,999.50 short"
    )
    assert against(Decimal("61000.00"), Decimal("60000.00"), "award").endswith("£1,000.00 over")
    assert against(Decimal("60000.00"), Decimal("60000.00"), "award").endswith("✓")
    assert money_total(["12.345"]) is None


def test_priorities_one_a_line_with_sub_priorities() -> None:
    typed = "Violence\n\n Night-time economy\n- Pubs\nShops\n  \n* not a sub of nothing"
    got = [(p.code, p.title, p.parent) for p in priorities_from_lines(typed, "C")]
    assert got == [
        ("C1", "Violence", None),
        ("C1.1", "Night-time economy", "C1"),
        ("C1.2", "Pubs", "C1"),
        ("C2", "Shops", None),
        ("C2.1", "not a sub of nothing", "C2"),
    ]
    assert priorities_from_lines("- first line has no parent", "C")[0].code == "C1"


def test_plan_keys_are_unique() -> None:
    assert plan_key("Safer Tonbridge!", date(2026, 4, 1), set()) == "safer-tonbridge-2026"
    taken = {"safer-tonbridge-2026", "safer-tonbridge-2026-2"}
    assert plan_key("Safer Tonbridge", date(2026, 4, 1), taken) == "safer-tonbridge-2026-3"


def test_the_kent_pcc_template_ships() -> None:
    kent = {spec.key: spec for spec in plan_templates()}["kent-pcc-2025"]
    assert kent.name == "Cut Crime, Support Victims, Build Trust"
    assert (kent.effective_from, kent.effective_to) == (date(2025, 4, 1), date(2029, 3, 31))
    assert [p.title for p in kent.priorities] == [
        "Protecting People",
        "Protecting Places",
        "Protecting Property",
        "Productive Partnerships",
    ]
