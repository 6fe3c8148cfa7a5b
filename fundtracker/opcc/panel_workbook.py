"""The Police and Crime Panel's workbook of the county figures (issue 16).

It renders ``county.county_figures`` and computes nothing but its totals, which are ``SUM``
formulas over the rows above them. Four sheets: Summary, Partnerships (each row traceable to
the return it came from: version, file SHA-256 and checksum), Priorities (with a bar chart)
and Missing and late. The house style is the monitoring return's: its named styles, money
format, title blocks and print set-up (fundtracker/returns/workbook.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter

from fundtracker.files import write_with
from fundtracker.returns.workbook import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    _add_styles,
    _Cells,
    _sheet,
    _title_block,
)

SHEETS = ("Summary", "Partnerships", "Priorities", "Outcomes", "Missing and late")
SUMMARY_MONEY = (
    ("Award", "award"),
    ("Received to date", "received"),
    ("Allocated", "allocated"),
    ("Spend to date", "spend_to_date"),
    ("Committed", "committed"),
    ("Forecast outturn", "forecast_outturn"),
    ("Projected underspend", "projected_underspend"),
    ("Projected overspend", "projected_overspend"),
    ("Unassigned spend", "unassigned"),
)
PARTNERSHIP_HEADERS = (
    "Recipient",
    "Grant reference",
    "Return period",
    "Version",
    "Plan",
    *(label for label, _ in SUMMARY_MONEY),
    "Checks with errors",
    "File SHA-256",
    "Checksum",
)
FIRST_MONEY_COLUMN = 6  # Award, 1-based
ERRORS_COLUMN = FIRST_MONEY_COLUMN + len(SUMMARY_MONEY)
PRIORITY_HEADERS = ("Code", "Priority", "Budget", "Spend to date")
OUTCOME_HEADERS = (
    "Code",
    "Measure",
    "Unit",
    "Partnerships",
    "Grant references",
    "Target",
    "Target to date",
    "Actual to date",
    "% of target",
)
MISSING_HEADERS = ("Status", "Recipient", "Grant reference", "Period", "Due", "Received on")


def write_panel_workbook(target: Path, figures: dict[str, Any]) -> None:
    """Write the Panel's workbook of ``figures`` to ``target`` atomically."""
    write_with(target, lambda path: _render(figures).save(path))


def _render(figures: dict[str, Any]) -> Workbook:
    workbook = Workbook(write_only=True)
    _add_styles(workbook)
    workbook.properties.title = f"County figures {figures['period']}"
    workbook.properties.creator = "Fundtracker"
    _summary(workbook, figures)
    _partnerships(workbook, figures)
    _priorities(workbook, figures)
    _outcomes(workbook, figures)
    _missing_and_late(workbook, figures)
    return workbook


def _plan_name(figures: dict[str, Any]) -> str:
    plan = figures["plan"]
    return f"{plan['name']} ({plan['key']})" if plan else "no plan"


def _summary(workbook: Workbook, figures: dict[str, Any]) -> None:
    widths = (30, 60)
    sheet = _sheet(workbook, "Summary", widths, header_row=None)
    cells = _Cells(sheet, widths)
    _title_block(cells, "County figures", f"Period {figures['period']}: {_plan_name(figures)}")
    totals = figures["totals"]
    rows: list[tuple[str, Any]] = [
        ("Period", cells.text(figures["period"], "ft text")),
        ("Plan", cells.text(_plan_name(figures), "ft text")),
        ("Returns received", cells.styled(totals["partnerships"], "ft text")),
        ("Returns missing", cells.styled(len(figures["missing"]), "ft text")),
        ("Returns late", cells.styled(len(figures["late"]), "ft text")),
    ]
    rows += [(label, cells.money(totals[key], "ft money left")) for label, key in SUMMARY_MONEY]
    rows.append(("Checks with errors", cells.styled(totals["errors"], "ft text")))
    for label, value in rows:
        cells.append([cells.styled(label, "ft label"), value])
    cells.append([])
    cells.append([cells.styled("Needs attention", "ft label")])
    for item in figures["attention"]:
        cells.append(
            [
                cells.text(f"{item['recipient']} ({item['grant_reference']})", "ft text"),
                cells.text(
                    f"projected {item['kind']} £{item['amount']} "
                    f"({item['percent_of_award']}% of the award)",
                    "ft text",
                ),
            ]
        )


def _partnerships(workbook: Workbook, figures: dict[str, Any]) -> None:
    widths = (30, 16, 12, 8, 16, *([14] * len(SUMMARY_MONEY)), 10, 66, 66)
    sheet = _sheet(workbook, "Partnerships", widths)
    cells = _Cells(sheet, widths)
    _title_block(cells, "Partnerships", f"Each partnership's return for {figures['period']}")
    money_headers = [label for label, _ in SUMMARY_MONEY]
    cells.headers(PARTNERSHIP_HEADERS, numeric=(*money_headers, "Version", "Checks with errors"))
    rows = figures["partnerships"]
    for item in rows:
        cells.append(
            [
                cells.text(item["recipient"], "ft text"),
                cells.text(item["grant_reference"]),
                cells.text(item["return_period"]),
                item["version"],
                cells.text(item["plan"] or ""),
                *(cells.money(item[key]) for _, key in SUMMARY_MONEY),
                item["errors"],
                cells.text(item["file_sha256"]),
                cells.text(item["checksum"]),
            ]
        )
    total = [cells.styled("Total", "ft total"), None, None, None, None]
    for column in range(FIRST_MONEY_COLUMN, ERRORS_COLUMN + 1):
        style = "ft total" if column == ERRORS_COLUMN else "ft total money"
        total.append(cells.formula(_sum(column, len(rows)), style))
    cells.append(total)


def _sum(column: int, rows: int) -> str:
    letter = get_column_letter(column)
    if not rows:
        return "=0"
    return f"=SUM({letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + rows - 1})"


def _priorities(workbook: Workbook, figures: dict[str, Any]) -> None:
    widths = (8, 40, 16, 16)
    sheet = _sheet(workbook, "Priorities", widths)
    cells = _Cells(sheet, widths)
    _title_block(cells, "Spend by priority", _plan_name(figures))
    cells.headers(PRIORITY_HEADERS, numeric=PRIORITY_HEADERS[2:])
    rows = figures["priorities"]
    for item in rows:
        cells.append(
            [
                cells.text(item["code"] or ""),
                cells.text(item["title"], "ft text"),
                cells.money(item["budget"]),
                cells.money(item["spend_to_date"]),
            ]
        )
    cells.append(
        [
            cells.styled("Total", "ft total"),
            None,
            cells.formula(_sum(3, len(rows)), "ft total money"),
            cells.formula(_sum(4, len(rows)), "ft total money"),
        ]
    )
    if rows:
        _chart(sheet, _plan_name(figures), len(rows))


def _chart(sheet: Any, plan: str, rows: int) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = f"Spend to date by priority: {plan}"
    chart.y_axis.title = "Spend to date (£)"
    chart.y_axis.numFmt = "£#,##0"
    chart.legend = None
    chart.x_axis.scaling.orientation = "maxMin"  # the first priority at the top
    last = FIRST_DATA_ROW + rows - 1
    chart.add_data(Reference(sheet, min_col=4, min_row=FIRST_DATA_ROW, max_row=last))
    chart.set_categories(Reference(sheet, min_col=2, min_row=FIRST_DATA_ROW, max_row=last))
    chart.height, chart.width = 7.5, 16
    sheet.add_chart(chart, f"F{HEADER_ROW}")


def _outcomes(workbook: Workbook, figures: dict[str, Any]) -> None:
    """The outcome measures summed across the returns (county.county_outcomes): counts as
    whole numbers, percents as percentages."""
    widths = (10, 40, 10, 12, 30, 12, 14, 14, 12)
    sheet = _sheet(workbook, "Outcomes", widths)
    cells = _Cells(sheet, widths)
    _title_block(cells, "Outcomes", f"Measures shared by code and unit, {figures['period']}")
    cells.headers(OUTCOME_HEADERS, numeric=OUTCOME_HEADERS[5:])

    def figure(value: Any, unit: str) -> Any:
        if value is None:
            return None
        if unit == "count":
            return value
        return cells.styled(Decimal(value) / 100, "ft percent")

    for item in figures.get("outcomes", []):
        unit = item["unit"]
        cells.append(
            [
                cells.text(item["code"]),
                cells.text(item["title"], "ft text"),
                cells.text(unit),
                item["partnerships"],
                cells.text(", ".join(item["grant_references"]), "ft text"),
                *(figure(item[key], unit) for key in ("target", "target_to_date")),
                figure(item["actual_to_date"], unit),
                figure(item["percent_of_target"], "percent"),
            ],
            wrapped=(1, 4),
        )


def _missing_and_late(workbook: Workbook, figures: dict[str, Any]) -> None:
    widths = (10, 30, 16, 12, 12, 12)
    sheet = _sheet(workbook, "Missing and late", widths)
    cells = _Cells(sheet, widths)
    _title_block(cells, "Missing and late returns", f"Returns due for {figures['period']}")
    cells.headers(MISSING_HEADERS)
    entries: Sequence[tuple[str, dict[str, Any]]] = [
        *(("Missing", item) for item in figures["missing"]),
        *(("Late", item) for item in figures["late"]),
    ]
    for status, item in entries:
        cells.append(
            [
                cells.text(status),
                cells.text(item["recipient"], "ft text"),
                cells.text(item["grant_reference"]),
                cells.text(item["period"]),
                cells.day(item["due"]),
                cells.day(item["received_on"]),
            ]
        )
