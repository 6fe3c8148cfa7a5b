"""read-return: our workbook, and one an officer edited in Excel, back to the report JSON;
anything else refused clearly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from fundtracker.figures import build_report
from fundtracker.returns import submission
from fundtracker.returns.reader import NotAReturnError, read_return
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.returns_support import GRANT, Q2, add_hostile_lines

Capsys = pytest.CaptureFixture[str]
ALLOCATION_KEYS = (
    "code",
    "name",
    "lead",
    "budget",
    "quarters",
    "spend_to_date",
    "committed",
    "forecast_outturn",
    "variance",
)


def contract(report: dict[str, Any]) -> dict[str, Any]:
    """The report JSON keys issue 4 fixes (the engine and the reader may add more)."""
    return {
        "grant": report["grant"],
        "period": report["period"],
        "period_start": report["period_start"],
        "period_end": report["period_end"],
        "summary": report["summary"],
        "allocations": [{k: a[k] for k in ALLOCATION_KEYS} for a in report["allocations"]],
        "unassigned": {k: report["unassigned"][k] for k in ("spend_to_date", "committed")},
        "priorities": report["priorities"],
    }


@pytest.fixture
def exported(demo_db: Database, tmp_path: Path) -> Path:
    add_hostile_lines(demo_db)
    path = tmp_path / "q2.xlsx"
    submission.export_return(demo_db, GRANT, Q2, path, today=date(2025, 10, 20))
    return path


def test_round_trip_equals_the_report_json(
    demo_db: Database, database_url: str, exported: Path, capsys: Capsys
) -> None:
    expected = contract(build_report(demo_db, GRANT, Q2).to_json())
    assert expected["unassigned"]["spend_to_date"] != "0.00"  # the Unassigned row is read too
    assert contract(read_return(exported)) == expected
    result = run_cli(capsys, database_url, "read-return", str(exported), "--format", "json")
    assert result.code == 0, result.err
    assert contract(result.json()) == expected
    assert result.json()["return"]["status"] == "Draft"
    text = run_cli(capsys, database_url, "read-return", str(exported))
    assert text.code == 0 and "CRG-2025-26 2025/26-Q2 (Draft)" in text.out


def test_a_workbook_edited_in_excel_reads_the_same(demo_db: Database, exported: Path) -> None:
    """Excel saves numbers as floats, may leave arithmetic noise, and an officer may add a
    row above a table or type a date as text."""
    expected = contract(build_report(demo_db, GRANT, Q2).to_json())
    book = load_workbook(exported)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "n" and cell.value is not None:
                    cell.value = float(cell.value)
    summary = book["Summary"]
    for row in summary.iter_rows():
        if row[0].value == "Period end":
            row[1].value = "30/09/2025"
        if row[0].value == "Committed":
            row[1].value = float(row[1].value) + 0.1 + 0.2 - 0.30000000000000004
    book["Projects"].insert_rows(1)
    book["Projects"]["A1"] = "Edited by the OPCC"
    edited = exported.with_name("edited.xlsx")
    book.save(edited)
    assert contract(read_return(edited)) == expected


def test_an_amount_finer_than_a_penny_is_refused_naming_the_cell(exported: Path) -> None:
    book = load_workbook(exported)
    book["Projects"]["F4"] = 12.345
    broken = exported.with_name("broken.xlsx")
    book.save(broken)
    with pytest.raises(NotAReturnError, match=r"Projects!F4: '12.345' has fractions of a penny"):
        read_return(broken)


def test_files_that_are_not_returns_are_refused_clearly(
    db: Database, database_url: str, tmp_path: Path, exported: Path, capsys: Capsys
) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("just some notes")
    unreadable = run_cli(capsys, database_url, "read-return", str(text))
    assert unreadable.code == 2 and "cannot be read as an Excel workbook" in unreadable.err

    other = tmp_path / "budget.xlsx"
    book = Workbook()
    book.active["A1"] = "Budget"
    book.save(other)
    wrong = run_cli(capsys, database_url, "read-return", str(other))
    assert wrong.code == 1
    assert "not a monitoring return" in wrong.err and "'Summary'" in wrong.err
    assert "Traceback" not in wrong.err

    book = load_workbook(exported)
    for row in book["Summary"].iter_rows():
        if row[0].value == "Award":
            row[0].value = "Grant total"
    no_award = tmp_path / "no-award.xlsx"
    book.save(no_award)
    missing = run_cli(capsys, database_url, "read-return", str(no_award))
    assert missing.code == 1 and "Award" in missing.err

    absent = run_cli(capsys, database_url, "read-return", str(tmp_path / "nowhere.xlsx"))
    assert absent.code == 2

    ledger = tmp_path / "ledger.csv"
    ledger.write_text("Date,Net\n01/05/2025,10.00\n")
    csv_file = run_cli(capsys, database_url, "read-return", str(ledger))
    assert csv_file.code == 2
    assert "ledger.csv is not an Excel workbook (.xlsx)" in csv_file.err
    assert "openpyxl" not in csv_file.err
