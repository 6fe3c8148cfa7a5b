"""The return workbook, opened again: sheets, headers, every figure, formats, formulas,
defined names, the chart, print set-up and text that must never become a formula."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart

from fundtracker.checks import run_checks
from fundtracker.figures import Report, build_report
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.returns.workbook import (
    DATE_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    PRIORITY_HEADERS,
    PROJECT_HEADERS,
    write_return,
)
from fundtracker.services import spend
from fundtracker.storage import Database
from tests.returns_support import (
    GRANT,
    HOSTILE,
    Q2,
    add_hostile_lines,
    money,
    set_hostile_narrative,
)

ISSUE_PROJECT_HEADERS = [
    "Code",
    "Project",
    "Lead partner",
    "PCC priorities",
    "Local priorities",
    "Budget",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Spend to date",
    "Committed",
    "Forecast outturn",
    "Variance",
    "RAG",
    "Outputs and outcomes",
    "Variance explanation",
]
SUMMARY_LABELS = [
    "Recipient",
    "Funder",
    "Grant reference",
    "Grant name",
    "Financial year",
    "Period",
    "Period start",
    "Period end",
    "Award",
    "Received to date",
    "Spend this period",
    "Spend to date",
    "Committed",
    "Forecast outturn",
    "Projected underspend",
    "Projected overspend",
    "Unallocated",
    "Status",
    "Prepared by",
    "Prepared on",
    "Checksum",
]
NAMES = {
    "Award": "award",
    "SpendThisPeriod": "spend_this_period",
    "SpendToDate": "spend_to_date",
    "Committed": "committed",
    "ForecastOutturn": "forecast_outturn",
    "ProjectedUnderspend": "projected_underspend",
}


@dataclass
class Exported:
    db: Database
    report: Report
    path: Path
    book: Workbook
    result: submission.ExportResult

    def rows(self, sheet: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.book[sheet].iter_rows(values_only=True)]

    def summary(self) -> dict[str, Any]:
        return {r[0]: r[1] for r in self.rows("Summary")[2:]}


@pytest.fixture
def exported(demo_db: Database, tmp_path: Path) -> Iterator[Exported]:
    add_hostile_lines(demo_db)
    set_hostile_narrative(demo_db)
    path = tmp_path / "return.xlsx"
    result = submission.export_return(
        demo_db, GRANT, Q2, path, prepared_by="Jo Bloggs", today=date(2025, 10, 20)
    )
    book = load_workbook(path)
    yield Exported(demo_db, build_report(demo_db, GRANT, Q2), path, book, result)
    book.close()


def test_sheets_in_order_with_exact_headers(exported: Exported) -> None:
    assert exported.book.sheetnames == [
        "Summary",
        "Projects",
        "Outcomes",  # issue 15
        "Priorities",
        "Transactions",
        "Virements",  # issue 13
        "Checks",
    ]
    # Issue 13 adds "Forecast entered in" after the seventeen the first issue named.
    projects_header = list(exported.rows("Projects")[2])
    assert projects_header[:17] == ISSUE_PROJECT_HEADERS == list(PROJECT_HEADERS)
    assert projects_header[17:] == ["Forecast entered in"]
    assert list(exported.rows("Virements")[2]) == [
        "Date approved",
        "Reference",
        "From",
        "To",
        "Amount",
        "Effective",
        "Note",
    ]
    assert (
        list(exported.rows("Priorities")[2])
        == [
            "Plan",
            "Code",
            "Priority",
            "Budget",
            "Spend to date",
            "Share of spend",
        ]
        == list(PRIORITY_HEADERS)
    )
    assert list(exported.rows("Transactions")[2])[:10] == [
        "Date",
        "Reference",
        "Supplier",
        "Description",
        "Project",
        "Net",
        "VAT",
        "Claimable",
        "Status",
        "Quarter",
    ]
    assert list(exported.rows("Checks")[2]) == ["Severity", "Code", "Message", "Subject"]


def test_summary_labels_values_and_defined_names(exported: Exported) -> None:
    summary = exported.summary()
    labels = [label for label in summary if label in SUMMARY_LABELS]
    assert labels == SUMMARY_LABELS  # every label, in the issue's order
    figures = exported.report.summary
    assert summary["Recipient"] == "Tonbridge and Malling CSP"
    assert summary["Funder"] == "Kent PCC"
    assert summary["Grant reference"] == GRANT
    assert summary["Grant name"] == "Crime Reduction Grant 2025/26"
    assert summary["Financial year"] == "2025/26"
    assert summary["Period"] == "2025/26-Q2"
    assert summary["Period start"] == datetime(2025, 7, 1)
    assert summary["Period end"] == datetime(2025, 9, 30)
    for label, value in [
        ("Award", figures.award),
        ("Received to date", figures.received),
        ("Spend this period", figures.spend_this_period),
        ("Spend to date", figures.spend_to_date),
        ("Committed", figures.committed),
        ("Forecast outturn", figures.forecast_outturn),
        ("Projected underspend", figures.projected_underspend),
        ("Projected overspend", figures.projected_overspend),
        ("Allocated", figures.allocated),
        ("Unallocated", figures.unallocated),
    ]:
        assert money(summary[label]) == value, label
    assert summary["Status"] == "Draft"
    assert summary["Prepared by"] == "Jo Bloggs"
    assert summary["Prepared on"] == datetime(2025, 10, 20)
    assert summary["Checksum"] in (None, "")

    sheet = exported.book["Summary"]
    for name, field in NAMES.items():
        defined = exported.book.defined_names[name]
        assert defined.localSheetId is None  # workbook scope
        ((title, coordinate),) = list(defined.destinations)
        assert title == "Summary"
        cell = sheet[coordinate.replace("$", "")]
        assert cell.data_type == "n"  # a value, not a formula
        assert money(cell.value) == getattr(figures, field)
        assert cell.number_format == MONEY_FORMAT
    assert sheet["B9"].number_format == DATE_FORMAT  # Period start


def test_every_project_figure_and_the_unassigned_row(exported: Exported) -> None:
    rows = exported.rows("Projects")[3:]
    report = exported.report
    by_code = {row[0]: row for row in rows}
    for figures in report.allocations:
        row = by_code[figures.code]
        assert row[1] == figures.name and row[2] == figures.lead
        amounts = [money(v) for v in row[5:14]]
        assert amounts == [
            figures.budget,
            *figures.quarters.values(),
            figures.spend_to_date,
            figures.committed,
            figures.forecast_outturn,
            figures.variance,
        ]
    a01 = by_code["A01"]
    assert a01[3] == "P1 Protecting People (60%); P2 Protecting Places (40%)"
    assert a01[4] == "C2 Anti-Social Behaviour (50%); C3 Exploitation (50%)"
    assert a01[14] == "A"  # set by the officer
    assert by_code["A02"][12] == 4400  # the narrative's forecast replaces the computed one
    assert by_code["A06"][3] == (
        "P1 Protecting People (33.33%); P3 Protecting Property (33.33%); "
        "P4 Productive Partnerships (33.34%)"
    )
    codes = [row[0] for row in rows if row[0]]
    assert codes[-2:] == ["Unassigned", "Total"]
    unassigned = by_code["Unassigned"]
    assert money(unassigned[10]) == report.unassigned.spend_to_date == Decimal("123.45")
    assert money(unassigned[11]) == report.unassigned.committed == Decimal("50.00")
    sheet = exported.book["Projects"]
    for column in "FGHIJKLMN":
        assert sheet[f"{column}5"].number_format == MONEY_FORMAT


def test_total_row_formulas_add_up_to_the_summary(exported: Exported) -> None:
    sheet = exported.book["Projects"]
    rows = exported.rows("Projects")
    total_row = next(n for n, row in enumerate(rows, 1) if row[0] == "Total")
    first, last = 4, total_row - 1
    for column in "FGHIJKLMN":
        cell = sheet[f"{column}{total_row}"]
        assert cell.value == f"=SUM({column}{first}:{column}{last})"
        assert cell.number_format == MONEY_FORMAT

    def summed(column: str) -> Decimal:  # what the formula gives
        return sum(
            (money(sheet[f"{column}{r}"].value or 0) for r in range(first, last + 1)), Decimal(0)
        )

    figures = exported.report.summary
    assert summed("F") == figures.allocated
    assert summed("K") == figures.spend_to_date
    assert summed("L") == figures.committed
    assert summed("M") == figures.forecast_outturn


def test_priorities_rows_share_and_chart(exported: Exported) -> None:
    rows = exported.rows("Priorities")[3:]
    rows = [row for row in rows if row[0]]
    report = exported.report
    assert len(rows) == len(report.priorities)
    for row, figures in zip(rows, report.priorities, strict=True):
        assert (row[0], row[1], row[2]) == (figures.plan, figures.code, figures.title)
        assert (money(row[3]), money(row[4])) == (figures.budget, figures.spend_to_date)
    for plan in report.plans:
        shares = [Decimal(str(r[5])) for r in rows if r[0] == plan.key]
        assert abs(sum(shares) - 1) <= Decimal("0.0001") * len(shares)
    sheet = exported.book["Priorities"]
    assert sheet["F4"].number_format == PERCENT_FORMAT
    charts = sheet._charts
    assert len(charts) == 2 and all(isinstance(c, BarChart) for c in charts)
    refs = [c.series[0].val.numRef.f for c in charts]
    assert refs == ["'Priorities'!$E$4:$E$8", "'Priorities'!$E$9:$E$13"]


def test_transactions_every_line_with_real_dates_and_money(exported: Exported) -> None:
    rows = exported.rows("Transactions")[3:]
    lines = exported.result.document["transactions"]
    h1 = spend.list_spend(exported.db, GRANT, Period.parse("2025/26-H1"))  # grant start..Q2
    assert len(rows) == len(lines) == len(h1) == 101
    assert [r[10] for r in rows] == [line.id for line in h1]
    assert all(row[0] <= datetime(2025, 9, 30) for row in rows)
    claimable = sum((money(r[7]) for r in rows if r[8] in ("paid", "accrued")), Decimal(0))
    assert claimable == exported.report.summary.spend_to_date
    sheet = exported.book["Transactions"]
    assert sheet["A4"].number_format == DATE_FORMAT and sheet["A4"].is_date
    for column in "FGH":
        assert sheet[f"{column}4"].number_format == MONEY_FORMAT


def test_checks_sheet_lists_the_checks_at_export(exported: Exported) -> None:
    rows = exported.rows("Checks")[3:]
    findings = run_checks(exported.db, GRANT, Q2)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (f.severity, f.code, f.message, f.subject) for f in findings
    ]
    assert ("error", "SPEND_UNASSIGNED") in {(r[0], r[1]) for r in rows}


def test_hostile_text_is_stored_as_text_exactly(exported: Exported) -> None:
    book = exported.book
    texts = []
    for sheet in ("Transactions", "Projects"):
        for row in book[sheet].iter_rows():
            for cell in row:
                ours = str(cell.value).startswith("=SUM(")  # the Total row's formulas
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r" and not ours:
                    assert cell.data_type == "s", (sheet, cell.coordinate, cell.value)
                    texts.append(cell.value)
    for text in HOSTILE[:4]:
        assert texts.count(text) >= 3  # supplier, description and reference
    assert HOSTILE[0] in texts  # the A01 outputs
    assert "\rCarriage\tand tab" in texts and "\tTabbed" in texts
    # and in the file itself: no <f> element holds user text
    with zipfile.ZipFile(exported.path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        formulas = [re.findall(r"<f>([^<]*)</f>", archive.read(n).decode()) for n in sheets]
    assert [f for found in formulas for f in found if not f.startswith("SUM(")] == []


def test_print_setup_freeze_and_properties(exported: Exported) -> None:
    book = exported.book
    assert book.properties.title == "Monitoring return CRG-2025-26 2025/26-Q2"
    assert book.properties.creator == "Jo Bloggs"
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.column_dimensions["B"].customWidth and sheet.column_dimensions["B"].width >= 8
        # A4, but the seventeen-column Projects sheet on A3 so it prints legibly.
        assert str(sheet.page_setup.paperSize) == ("8" if sheet.title == "Projects" else "9")
    for name in ("Projects", "Priorities", "Transactions", "Checks"):
        assert book[name].freeze_panes == "A4"
        assert book[name].print_title_rows == "$3:$3"


def test_a_return_without_projects_still_has_a_total_row(tmp_path: Path) -> None:
    document = {
        "report": {
            "grant": "G1",
            "period": "2025/26",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
            "summary": dict.fromkeys(
                [
                    "award",
                    "allocated",
                    "unallocated",
                    "received",
                    "spend_this_period",
                    "spend_to_date",
                    "committed",
                    "forecast_outturn",
                    "projected_underspend",
                    "projected_overspend",
                ],
                "0.00",
            ),
            "allocations": [],
            "unassigned": {"spend_to_date": "0.00", "committed": "0.00"},
            "priorities": [],
        },
        "financial_year": "2025/26",
        "projects": [],
        "transactions": [],
        "checks": [],
        "prepared_by": "=me",
        "prepared_on": "2026-04-30",
    }
    path = tmp_path / "empty.xlsx"
    write_return(path, document, "Draft")
    book = load_workbook(path)
    rows = [r for r in book["Projects"].iter_rows(values_only=True) if r[0]]
    assert rows[-1][0] == "Total" and rows[-1][5] == 0
    summary = {r[0]: (r[1]) for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["Prepared by"] == "=me"
    assert book["Summary"]["B23"].data_type == "s"
