"""report and check from the command line, and the demo year's figures verified independently."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundtracker.demo import demo_lines
from fundtracker.figures import build_report
from fundtracker.periods import Period
from fundtracker.storage import Database
from tests.figure_scenarios import main_grant
from tests.helpers import run_cli

D = Decimal
DEMO = ("--grant", "CRG-2025-26")


@pytest.fixture
def main_url(db: Database, database_url: str) -> str:
    main_grant(db)
    return database_url


def test_report_json(main_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(
        capsys, main_url, "report", "--grant", "T-1", "--period", "2025/26-Q2", "--format", "json"
    )
    assert result.code == 0, result.err
    data = result.json()
    # The same figures as tests/test_figures.py works out by hand.
    assert (data["grant"], data["period"], data["period_end"]) == (
        "T-1",
        "2025/26-Q2",
        "2025-09-30",
    )
    assert data["summary"]["spend_to_date"] == "958.00"
    assert data["summary"]["forecast_outturn"] == "4718.03"
    assert [a["code"] for a in data["allocations"]] == ["A", "B", "C"]
    assert set(data["allocations"][0]) >= {
        "code",
        "name",
        "budget",
        "quarters",
        "spend_to_date",
        "committed",
        "forecast_outturn",
        "variance",
    }
    assert [(p["plan"], p["code"]) for p in data["priorities"]] == [
        ("pcc", "P1"),
        ("pcc", "P2"),
        ("pcc", "P3"),
        ("pcc", None),
        ("csp", "C1"),
        ("csp", "C2"),
        ("csp", None),
    ]


def test_report_text_is_a_readable_table(main_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, main_url, "report", "--grant", "T-1", "--period", "2025/26-Q2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "Period 2025/26-Q2: 01/07/2025 to 30/09/2025" in lines
    assert any(line.startswith("Spend to date") and line.endswith("£958.00") for line in lines)
    # The project table's A row: budget, Q1..Q4, to date, committed, forecast, variance.
    row = next(line for line in lines if line.startswith("A  "))
    assert row.split()[-9:] == [
        "£6,000.00",
        "£500.00",
        "£309.99",
        "£0.00",
        "£0.00",
        "£809.99",
        "£200.00",
        "£4,009.99",
        "£1,990.01",
    ]
    assert any(line.startswith("Unassigned") or "Unassigned" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grant", "NOPE", "--period", "2025/26-Q2"), "no grant with reference 'NOPE'"),
        (("--grant", "T-1", "--period", "2025/26-Q5"), "is not a period"),
        (("--grant", "T-1", "--period", "2030/31"), "outside grant T-1"),
    ],
)
def test_bad_input_is_a_clear_refusal(
    main_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    for command in ("report", "check"):
        result = run_cli(capsys, main_url, command, *args)
        assert result.code == 1 and message in result.err and "Traceback" not in result.err


def test_check_exits_1_on_errors_and_lists_them_as_json(
    main_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, main_url, "check", "--grant", "T-1", "--period", "2025/26-Q2", "--format", "json"
    )
    assert result.code == 1
    found = {(f["code"], f["severity"], f["subject"]) for f in result.json()}
    # C has no pcc weights; lines 8 and 9 have no project; lines 10 and 11 are outside the grant.
    assert {
        ("ALLOC_UNMAPPED", "error", "C"),
        ("SPEND_UNASSIGNED", "error", "8"),
        ("SPEND_UNASSIGNED", "error", "9"),
        ("SPEND_OUTSIDE_GRANT", "error", "10"),
        ("SPEND_OUTSIDE_GRANT", "error", "11"),
        ("GRANT_UNALLOCATED", "warning", "T-1"),
    } <= found
    text = run_cli(capsys, main_url, "check", "--grant", "T-1", "--period", "2025/26-Q2")
    assert text.code == 1 and text.out.splitlines()[0].startswith("ERROR")


def test_demo_report_for_q2_matches_the_lines(
    demo_db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = build_report(demo_db, "CRG-2025-26", Period.parse("2025/26-Q2"))
    end = date(2025, 9, 30)

    def claimable(line: dict[str, object]) -> Decimal:
        net, vat = D(str(line["net"])), D(str(line.get("vat", "0.00")))
        return net if line.get("vat_recoverable", True) else net + vat

    actual = [v for v in demo_lines() if v["date"] <= end and v.get("status") != "committed"]  # type: ignore[operator]
    # Worked out again from the demo's own line list rather than the database.
    assert report.summary.spend_to_date == sum(claimable(v) for v in actual)
    for code in ("A02", "A07"):  # A02 has a -216.00 credit note dated 18/06/2025
        expected = sum(claimable(v) for v in actual if v["allocation"] == code)
        assert report.allocation(code).spend_to_date == expected
    assert report.summary.received == D("28000.00")  # the 15/05/2025 tranche only
    assert report.summary.unallocated == D("500.00")  # 42,000.00 - 41,500.00 of budgets
    # P1 Protecting People: A01 60% of 8,000 + A03 7,500 + A04 30% of 6,000 + A05 50% of
    # 3,000 + A06 33.33% of 2,500 = 4,800 + 7,500 + 1,800 + 1,500 + 833.25 = 16,433.25.
    assert report.priorities_for("kent-pcc-2025")[0].budget == D("16433.25")
    # The CSP plan: A08 has no local weights, so its 4,000.00 budget is Unaligned.
    assert report.priorities_for("tmbc-csp-2025-26")[-1].budget == D("4000.00")

    # As at Q2 the demo's only unassigned line (18/12/2025) does not exist yet: no errors.
    result = run_cli(capsys, database_url, "check", *DEMO, "--period", "2025/26-Q2")
    assert result.code == 0, result.out
    q3 = run_cli(capsys, database_url, "check", *DEMO, "--period", "2025/26-Q3", "--format", "json")
    assert q3.code == 1
    assert [f["code"] for f in q3.json() if f["severity"] == "error"] == ["SPEND_UNASSIGNED"]


def test_settings_command(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "checks.behind_profile_percent"
    assert run_cli(capsys, database_url, "settings", key, "60").code == 0
    shown = run_cli(capsys, database_url, "settings", "--format", "json")
    assert {"checks.underspend_risk_percent": "2", key: "60"}.items() <= shown.json().items()
    assert run_cli(capsys, database_url, "settings", key, "default").code == 0
    assert run_cli(capsys, database_url, "settings", key, "--format", "json").json() == {key: "75"}
    refused = run_cli(capsys, database_url, "settings", key, "120")
    assert refused.code == 1 and "not a percentage from 0 to 100" in refused.err
