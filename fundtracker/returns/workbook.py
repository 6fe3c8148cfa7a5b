"""The monitoring return workbook: six sheets rendered from a return document (snapshot.py).

The writer only formats; every figure comes from the document. The whole workbook is written
in openpyxl's write-only mode (one mode per workbook), so a return with a hundred thousand
transaction lines streams to disk; the small sheets style their cells one by one.

Sheet names, header texts and Summary labels are a contract (the OPCC and reader.py rely on
them); docs/RETURNS.md describes the layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from fundtracker.files import write_with
from fundtracker.returns.snapshot_sheet import write_snapshot_sheet
from fundtracker.safe_text import clean_text

MONEY_FORMAT = "£#,##0.00;[Red]-£#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"
PERCENT_FORMAT = "0.0%"
PAPER_A4 = "9"  # the paperSize code of A4 in SpreadsheetML
PAPER_A3 = "8"  # and of A3
SHEETS = ("Summary", "Projects", "Outcomes", "Priorities", "Transactions", "Virements", "Checks")
HEADER_ROW = 3  # rows 1-2 are the title block on every sheet but Summary
HEADER_HEIGHT = 30  # points: two lines of header text
LINE_HEIGHT = 15  # points per line of wrapped text
MAX_LINES = 12  # a row never grows taller than this many lines
FIRST_DATA_ROW = HEADER_ROW + 1

PROJECT_HEADERS = (
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
)
# Columns after the contract's seventeen (a reader of older returns does not need them).
PROJECT_EXTRA_HEADERS = ("Forecast entered in",)
PROJECT_MONEY_COLUMNS = range(6, 15)  # Budget .. Variance (1-based)
PROJECT_WRAPPED = (1, 2, 3, 4, 15, 16)  # 0-based columns whose text wraps
OUTCOME_HEADERS = (
    "Code",
    "Project",
    "Outcome",
    "Unit",
    "PCC priority",
    "Annual target",
    "Target to date",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Actual to date",
    "% of target to date",
    "Note",
)
OUTCOME_PERCENT_FORMAT = '0.0"%"'  # a percent measure's figures: 82.5 shows as 82.5%
PRIORITY_HEADERS = ("Plan", "Code", "Priority", "Budget", "Spend to date", "Share of spend")
TRANSACTION_HEADERS = (
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
    "Line id",
    "Counted in",
)
VIREMENT_HEADERS = ("Date approved", "Reference", "From", "To", "Amount", "Effective", "Note")
CHECK_HEADERS = ("Severity", "Code", "Message", "Subject")

# Summary: (label, where the value comes from, kind, defined name).
SUMMARY_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("Recipient", "grant.recipient", "text", None),
    ("Funder", "grant.funder", "text", None),
    ("Grant reference", "grant.reference", "text", None),
    ("Grant name", "grant.name", "text", None),
    ("Financial year", "financial_year", "text", None),
    ("Period", "period", "text", None),
    ("Period start", "period_start", "date", None),
    ("Period end", "period_end", "date", None),
    ("Award", "summary.award", "money", "Award"),
    ("Received to date", "summary.received", "money", None),
    ("Spend this period", "summary.spend_this_period", "money", "SpendThisPeriod"),
    ("Spend to date", "summary.spend_to_date", "money", "SpendToDate"),
    ("Committed", "summary.committed", "money", "Committed"),
    ("Forecast outturn", "summary.forecast_outturn", "money", "ForecastOutturn"),
    ("Projected underspend", "summary.projected_underspend", "money", "ProjectedUnderspend"),
    ("Projected overspend", "summary.projected_overspend", "money", "ProjectedOverspend"),
    ("Original allocation", "summary.original_allocated", "money", None),
    ("Virements", "summary.virements", "money", None),
    ("Allocated", "summary.allocated", "money", None),
    ("Unallocated", "summary.unallocated", "money", None),
    ("Status", "status", "text", None),
    ("Version", "version", "text", None),
    ("Prepared by", "prepared_by", "text", None),
    ("Prepared on", "prepared_on", "date", None),
    ("Checksum", "checksum", "text", None),
)
SUMMARY_FIRST_ROW = 3
# The final return's Year end section: (key of the report's year_end block, label).
YEAR_END_ROWS = (
    ("award", "Year end: award"),
    ("received", "Year end: received"),
    ("spend", "Year end: claimable spend"),
    ("underspend", "Year end: underspend"),
    ("to_return", "Year end: to return to the funder"),
    ("due_from_funder", "Year end: still due from the funder"),
)

# Characters XML cannot carry at all; shown as U+FFFD rather than failing the export.


def write_return(
    target: Path,
    document: dict[str, Any],
    status: str,
    checksum: str = "",
    version: int | None = None,
) -> None:
    """Write the workbook of ``document`` to ``target`` atomically."""
    write_with(target, lambda path: _render(document, status, checksum, version).save(path))


def _render(document: dict[str, Any], status: str, checksum: str, version: int | None) -> Workbook:
    workbook = Workbook(write_only=True)
    _add_styles(workbook)
    report = document["report"]
    details = report.get("grant_details", {})
    workbook.properties.title = f"Monitoring return {report['grant']} {report['period']}"
    workbook.properties.creator = document.get("prepared_by") or "Fundtracker"
    workbook.properties.subject = details.get("name", "")
    values = _summary_values(document, status, checksum, version)
    _summary_sheet(workbook, values)
    _projects_sheet(workbook, document)
    _outcomes_sheet(workbook, document)
    _priorities_sheet(workbook, document)
    _transactions_sheet(workbook, document)
    _virements_sheet(workbook, document)
    _checks_sheet(workbook, document)
    if checksum:  # a submitted return carries what its checksum covers (issue 16)
        write_snapshot_sheet(workbook, document)
    return workbook


# --- Styles and cells ------------------------------------------------------------------------


def _add_styles(workbook: Workbook) -> None:
    thin = Side(style="thin", color="808080")
    styles = [
        NamedStyle("ft title", font=Font(bold=True, size=14)),
        NamedStyle("ft subtitle", font=Font(italic=True, color="404040")),
        NamedStyle(
            "ft header",
            font=Font(bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor="1F4E78"),
            alignment=Alignment(wrap_text=True, vertical="center"),
        ),
        NamedStyle("ft label", font=Font(bold=True)),
        NamedStyle("ft text", alignment=Alignment(wrap_text=True, vertical="top")),
        NamedStyle(
            "ft header number",
            font=Font(bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor="1F4E78"),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="right"),
        ),
        NamedStyle("ft money", number_format=MONEY_FORMAT, alignment=Alignment(vertical="top")),
        NamedStyle(
            "ft money left", number_format=MONEY_FORMAT, alignment=Alignment(horizontal="left")
        ),
        NamedStyle("ft date", number_format=DATE_FORMAT, alignment=Alignment(horizontal="left")),
        NamedStyle("ft percent", number_format=PERCENT_FORMAT),
        NamedStyle(
            "ft outcome percent",
            number_format=OUTCOME_PERCENT_FORMAT,
            alignment=Alignment(vertical="top"),
        ),
        NamedStyle("ft count", number_format="#,##0", alignment=Alignment(vertical="top")),
        NamedStyle("ft text right", alignment=Alignment(horizontal="right", vertical="top")),
        NamedStyle("ft total", font=Font(bold=True), border=Border(top=thin, bottom=thin)),
        NamedStyle(
            "ft total money",
            number_format=MONEY_FORMAT,
            font=Font(bold=True),
            border=Border(top=thin, bottom=thin),
        ),
    ]
    for style in styles:
        workbook.add_named_style(style)


class _Cells:
    """Makes cells for one sheet. Styled cells are copies of one template per style, which
    is much cheaper than naming the style on each of a million cells."""

    def __init__(self, sheet: Any, widths: Sequence[float] = ()):
        self.sheet = sheet
        self.widths = widths
        self.next_row = 1
        self._templates: dict[str, WriteOnlyCell] = {}

    def append(self, row: list[Any], wrapped: Sequence[int] = ()) -> None:
        """Append a row; ``wrapped`` names the (0-based) columns whose text wraps, so the row
        is made tall enough to show it (write-only rows must be sized before writing)."""
        height = _wrapped_height(row, wrapped, self.widths)
        if height is not None:
            self.sheet.row_dimensions[self.next_row].height = height
        self.sheet.append(row)
        self.next_row += 1

    def styled(self, value: Any, style: str) -> WriteOnlyCell:
        template = self._templates.get(style)
        if template is None:
            template = WriteOnlyCell(self.sheet)
            template.style = style
            self._templates[style] = template
        if isinstance(value, str):
            value = clean_text(value)  # before the cell is built: openpyxl checks on creation
        cell = WriteOnlyCell(self.sheet, value)
        cell._style = copy(template._style)  # openpyxl's own style array; see class docstring
        if isinstance(value, str):
            _keep_as_text(cell, value)
        return cell

    def reused(self, style: str) -> WriteOnlyCell:
        """A styled cell to append again and again with a new value each time. Safe only in
        a write-only sheet, where ``append`` writes the row out before it returns."""
        cell = _RowCell(self.sheet)
        cell._style = copy(self.styled(None, style)._style)
        return cell

    def formula(self, formula: str, style: str) -> WriteOnlyCell:
        """Our own formula (never user text)."""
        cell = self.styled(0, style)
        cell.value = formula
        return cell

    def text(self, value: str | None, style: str | None = None) -> Any:
        """User text as a text cell with exactly the user's text, never a formula."""
        value = clean_text(value or "")
        if style is not None:
            return self.styled(value, style)
        if value[:1] != "=":
            return value  # openpyxl keeps any other text as a string as it is
        cell = WriteOnlyCell(self.sheet, value)
        cell.data_type = "s"
        return cell

    def money(self, amount: str | None, style: str = "ft money") -> Any:
        return None if amount is None else self.styled(Decimal(amount), style)

    def day(self, iso: str | None) -> Any:
        return None if not iso else self.styled(date.fromisoformat(iso), "ft date")

    def headers(self, names: Sequence[str], numeric: Iterable[str] = ()) -> None:
        """The header row, two lines tall; numeric columns' headers align right."""
        right = set(numeric)
        self.sheet.row_dimensions[self.next_row].height = HEADER_HEIGHT
        self.append(
            [self.styled(n, "ft header number" if n in right else "ft header") for n in names]
        )


def _wrapped_height(
    row: list[Any], wrapped: Sequence[int], widths: Sequence[float]
) -> float | None:
    """Points needed to show the longest wrapped text of a row (None: the default height)."""
    lines = 1
    for index in wrapped:
        value = row[index] if index < len(row) else None
        text = getattr(value, "value", value)  # a styled cell or a plain value
        if isinstance(text, str) and text:
            per_line = max(1, int(widths[index] * 1.1))
            needed = sum(max(1, -(-len(part) // per_line)) for part in text.splitlines() or [""])
            lines = max(lines, needed)
    return None if lines == 1 else LINE_HEIGHT * min(lines, MAX_LINES)


class _RowCell(Cell):  # type: ignore[misc]
    """A cell appended on every row of a bulk sheet, with only its value changing. Two costs
    openpyxl pays per cell are paid once here: it looks the cell's style up by hashing it, and
    its write-only ``append`` takes a cell by failing to store it as a value, with an error
    message that spells the cell out."""

    __slots__ = ("_style_id",)
    _style_id: int

    @property
    def style_id(self) -> int:
        try:
            return int(self._style_id)
        except AttributeError:
            self._style_id = super().style_id
            return int(self._style_id)

    def __repr__(self) -> str:
        return "<cell>"


def _keep_as_text(cell: WriteOnlyCell, value: str) -> None:
    cell.value = clean_text(value)
    cell.data_type = "s"  # assigned after the value: a leading "=" would make it a formula


def _sheet(
    workbook: Workbook,
    title: str,
    widths: Sequence[float],
    header_row: int | None = HEADER_ROW,
) -> Any:
    """A sheet set up to print landscape, fit to width, with its header row frozen and
    repeated on every page. Widths must be set before the first row is written."""
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header_row is not None:
        sheet.freeze_panes = f"A{header_row + 1}"
        sheet.print_title_rows = f"{header_row}:{header_row}"
    return sheet


def _title_block(cells: _Cells, title: str, subtitle: str) -> None:
    cells.append([cells.styled(title, "ft title")])
    cells.append([cells.styled(subtitle, "ft subtitle")])


def _subtitle(document: dict[str, Any]) -> str:
    report = document["report"]
    details = report.get("grant_details", {})
    return f"{details.get('name', report['grant'])} ({report['grant']}), period {report['period']}"


# --- Summary ---------------------------------------------------------------------------------


def _lookup(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _summary_values(
    document: dict[str, Any], status: str, checksum: str, version: int | None
) -> dict[str, Any]:
    report = document["report"]
    source = {
        "grant": report.get("grant_details", {}) | {"reference": report["grant"]},
        "financial_year": document["financial_year"],
        "period": report["period"],
        "period_start": report["period_start"],
        "period_end": report["period_end"],
        "summary": report["summary"],
        "status": status,
        "version": "" if version is None else str(version),
        "prepared_by": document["prepared_by"],
        "prepared_on": document["prepared_on"],
        "checksum": checksum,
    }
    values = {label: _lookup(source, path) for label, path, _, _ in SUMMARY_ROWS}
    return values | {"year_end": report.get("year_end")}


def _summary_sheet(workbook: Workbook, values: dict[str, Any]) -> None:
    sheet = _sheet(workbook, "Summary", (26, 68), header_row=None)
    sheet.freeze_panes = f"A{SUMMARY_FIRST_ROW}"
    sheet.print_title_rows = "1:1"
    cells = _Cells(sheet, (26, 68))
    _title_block(cells, "Monitoring return", f"{values['Grant name']} — {values['Period']}")
    for row, (label, _, kind, name) in enumerate(SUMMARY_ROWS, SUMMARY_FIRST_ROW):
        value = values[label]
        if kind == "money":
            shown = cells.money(value, "ft money left")
        elif kind == "date":
            shown = cells.day(value)
        else:
            shown = cells.text(value, "ft text")
        cells.append([cells.styled(label, "ft label"), shown])
        if name is not None:
            workbook.defined_names[name] = DefinedName(name, attr_text=f"Summary!$B${row}")
    _year_end_section(cells, values.get("year_end"))


def _year_end_section(cells: _Cells, year_end: dict[str, str] | None) -> None:
    """The final return's *Year end* section, below the summary rows (docs/FIGURES.md)."""
    if not year_end:
        return
    cells.append([])
    cells.append([cells.styled("Year end", "ft label")])
    for key, label in YEAR_END_ROWS:
        cells.append([cells.styled(label, "ft label"), cells.money(year_end[key], "ft money left")])


# --- Projects --------------------------------------------------------------------------------


def _projects_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    widths = (11, 28, 20, 30, 30, *([12.5] * 9), 6, 36, 36, 13)
    sheet = _sheet(workbook, "Projects", widths)
    # Seventeen columns fitted to one A4 width print too small to read: this sheet is A3.
    sheet.page_setup.paperSize = PAPER_A3
    cells = _Cells(sheet, widths)
    _title_block(cells, "Projects", _subtitle(document))
    cells.headers(PROJECT_HEADERS + PROJECT_EXTRA_HEADERS, numeric=PROJECT_HEADERS[5:14])
    report = document["report"]
    narrative = {p["code"]: p for p in document["projects"]}
    rows = 0
    for figures in report["allocations"]:
        row = _project_row(cells, figures, narrative.get(figures["code"], {}))
        cells.append(row, wrapped=PROJECT_WRAPPED)
        rows += 1
    if _has_unassigned(report["unassigned"]):
        cells.append(_unassigned_row(cells, report["unassigned"]), wrapped=PROJECT_WRAPPED)
        rows += 1
    cells.append(_total_row(cells, rows))


def _project_row(cells: _Cells, figures: dict[str, Any], narrative: dict[str, Any]) -> list[Any]:
    quarters = figures["quarters"]
    return [
        cells.text(figures["code"], "ft text"),
        cells.text(figures["name"], "ft text"),
        cells.text(figures.get("lead", ""), "ft text"),
        cells.text(narrative.get("pcc_priorities", ""), "ft text"),
        cells.text(narrative.get("local_priorities", ""), "ft text"),
        cells.money(figures["budget"]),
        *(cells.money(quarters[q]) for q in ("Q1", "Q2", "Q3", "Q4")),
        cells.money(figures["spend_to_date"]),
        cells.money(figures["committed"]),
        cells.money(figures["forecast_outturn"]),
        cells.money(figures["variance"]),
        cells.text(narrative.get("rag", ""), "ft text"),
        cells.text(narrative.get("outputs", ""), "ft text"),
        cells.text(narrative.get("variance_explanation", ""), "ft text"),
        cells.text(figures.get("forecast_entered_in") or "", "ft text"),
    ]


def _has_unassigned(unassigned: dict[str, Any]) -> bool:
    return any(Decimal(unassigned[key]) != 0 for key in ("spend_to_date", "committed"))


def _unassigned_row(cells: _Cells, unassigned: dict[str, Any]) -> list[Any]:
    """Spend on no project: it has no budget; its forecast outturn is what it has spent and
    committed (the grant's forecast counts it so), and its variance the negative of that."""
    spent, committed = Decimal(unassigned["spend_to_date"]), Decimal(unassigned["committed"])
    quarters = unassigned.get("quarters", {})
    return [
        cells.text("Unassigned", "ft text"),
        cells.text("Spend not yet assigned to a project", "ft text"),
        None,
        None,
        None,
        None,
        *(cells.money(quarters.get(q)) for q in ("Q1", "Q2", "Q3", "Q4")),
        cells.money(unassigned["spend_to_date"]),
        cells.money(unassigned["committed"]),
        cells.styled(spent + committed, "ft money"),
        cells.styled(-(spent + committed), "ft money"),
    ]


def _total_row(cells: _Cells, rows: int) -> list[Any]:
    first, last = FIRST_DATA_ROW, FIRST_DATA_ROW + rows - 1
    row: list[Any] = [cells.styled("Total", "ft total"), None, None, None, None]
    for column in PROJECT_MONEY_COLUMNS:
        letter = get_column_letter(column)
        if rows:
            row.append(cells.formula(f"=SUM({letter}{first}:{letter}{last})", "ft total money"))
        else:
            row.append(cells.styled(Decimal("0.00"), "ft total money"))
    return row


# --- Outcomes --------------------------------------------------------------------------------


def _outcomes_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    """Each project's outcome measures as at the period end (docs/RETURNS.md, Outcomes): a
    count's figures as whole numbers, a percent's as numbers shown with a % sign (82.5%), a
    percent's quarters as "41 of 50"; % of target to date for both."""
    widths = (9, 10, 44, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 44)
    sheet = _sheet(workbook, "Outcomes", widths)
    cells = _Cells(sheet, widths)
    _title_block(cells, "Outcomes", _subtitle(document))
    cells.headers(OUTCOME_HEADERS, numeric=OUTCOME_HEADERS[5:13])
    for figures in document["report"]["allocations"]:
        for outcome in figures.get("outcomes", []):
            cells.append(_outcome_row(cells, figures["code"], outcome), wrapped=(2, 13))


def _outcome_row(cells: _Cells, project: str, outcome: dict[str, Any]) -> list[Any]:
    def figure(value: int | str | None) -> Any:
        if value is None:
            return None
        if isinstance(value, int):
            return cells.styled(value, "ft count")
        return cells.styled(Decimal(value), "ft outcome percent")

    quarters = outcome.get("quarters", {})
    return [
        cells.text(outcome["code"], "ft text"),
        cells.text(project, "ft text"),
        cells.text(outcome["title"], "ft text"),
        cells.text(outcome["unit"], "ft text"),
        cells.text(outcome["priority"] or "", "ft text"),
        figure(outcome["target"]),
        figure(outcome["target_to_date"]),
        *(_quarter_cell(cells, quarters.get(q)) for q in ("Q1", "Q2", "Q3", "Q4")),
        figure(outcome["actual_to_date"]),
        None
        if outcome["percent_of_target"] is None
        else cells.styled(Decimal(outcome["percent_of_target"]), "ft outcome percent"),
        cells.text(outcome_note(quarters), "ft text"),
    ]


def _quarter_cell(cells: _Cells, actual: dict[str, Any] | None) -> Any:
    if actual is None:
        return None
    if actual.get("of") is None:
        return cells.styled(actual["actual"], "ft count")
    return cells.text(f"{actual['actual']} of {actual['of']}", "ft text right")


def outcome_note(quarters: dict[str, Any]) -> str:
    """The notes of the quarters reported, each labelled: "Q1: term-time only; Q2: ..."."""
    return "; ".join(
        f"{label}: {actual['note']}"
        for label, actual in quarters.items()
        if actual is not None and actual.get("note")
    )


# --- Priorities ------------------------------------------------------------------------------


def _priorities_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    widths = (20, 8, 36, 14, 14, 11)
    sheet = _sheet(workbook, "Priorities", widths)
    cells = _Cells(sheet, widths)
    report = document["report"]
    _title_block(cells, "Spend by priority", _plans_line(report))
    cells.headers(PRIORITY_HEADERS, numeric=PRIORITY_HEADERS[3:])
    rows = report["priorities"]
    plan_spend: dict[str, Decimal] = {}
    for item in rows:
        plan_spend[item["plan"]] = plan_spend.get(item["plan"], Decimal(0)) + Decimal(
            item["spend_to_date"]
        )
    for item in rows:
        total = plan_spend[item["plan"]]
        share = Decimal(item["spend_to_date"]) / total if total else Decimal(0)
        cells.append(
            [
                cells.text(item["plan"]),
                cells.text(item["code"] or ""),
                cells.text(item["title"], "ft text"),
                cells.money(item["budget"]),
                cells.money(item["spend_to_date"]),
                cells.styled(share.quantize(Decimal("0.0001")), "ft percent"),
            ],
            wrapped=(2,),
        )
    _priority_charts(sheet, rows)


def _plans_line(report: dict[str, Any]) -> str:
    details = report.get("grant_details", {})
    parts = []
    for label, key in (("PCC plan", "aligned_plan"), ("Local plan", "local_plan")):
        plan = details.get(key)
        if plan:
            parts.append(f"{label}: {plan['name']} ({plan['key']})")
    return "; ".join(parts) or _subtitle({"report": report})


def _priority_charts(sheet: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One bar chart of spend to date by priority for each plan, right of the table."""
    anchor_row = HEADER_ROW
    for plan, first, last in _plan_blocks(rows):
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"Spend to date by priority: {plan}"
        chart.y_axis.title = "Spend to date (£)"
        chart.y_axis.numFmt = "£#,##0"
        chart.legend = None
        chart.x_axis.scaling.orientation = "maxMin"  # the plan's first priority at the top
        data = Reference(sheet, min_col=5, min_row=first, max_row=last)
        labels = Reference(sheet, min_col=3, min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=False)
        chart.set_categories(labels)
        chart.height, chart.width = 7.5, 16
        sheet.add_chart(chart, f"H{anchor_row}")
        anchor_row += 16


def _plan_blocks(rows: Sequence[dict[str, Any]]) -> Iterable[tuple[str, int, int]]:
    """(plan, first row, last row) of each plan's rows in the Priorities sheet."""
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index]["plan"] != rows[start]["plan"]:
            yield rows[start]["plan"], FIRST_DATA_ROW + start, FIRST_DATA_ROW + index - 1
            start = index


# --- Transactions ----------------------------------------------------------------------------


def _transactions_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    widths = (11, 16, 30, 40, 9, 13, 12, 13, 10, 11, 9, 11)
    sheet = _sheet(workbook, "Transactions", widths)
    cells = _Cells(sheet, widths)
    lines = document["transactions"]
    _title_block(cells, "Transactions", f"{_subtitle(document)}: {len(lines)} lines")
    cells.headers(TRANSACTION_HEADERS, numeric=("Net", "VAT", "Claimable", "Line id"))
    # A write-only row is written out as soon as it is appended, so one styled cell per
    # column serves every row: only its value changes (see _Cells.reused).
    day, net, vat, claimable = (
        cells.reused(s) for s in ("ft date", "ft money", "ft money", "ft money")
    )
    text = cells.text
    for line in lines:
        day.value = date.fromisoformat(line["date"])
        net.value = Decimal(line["net"])
        vat.value = Decimal(line["vat"])
        claimable.value = Decimal(line["claimable"])
        sheet.append(
            [
                day,
                text(line["reference"]),
                text(line["supplier"]),
                text(line["description"]),
                text(line["project"]),
                net,
                vat,
                claimable,
                line["status"],
                line["quarter"],
                line["id"],
                line.get("counted_in", line["quarter"]),
            ]
        )


# --- Virements -------------------------------------------------------------------------------


def _virements_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    """Budget moved between projects with the funder's approval, in effect by the period end."""
    widths = (13, 22, 10, 10, 13, 12, 50)
    sheet = _sheet(workbook, "Virements", widths)
    cells = _Cells(sheet, widths)
    virements = document["report"].get("virements", [])
    _title_block(cells, "Virements", f"{_subtitle(document)}: {len(virements)} virements")
    cells.headers(VIREMENT_HEADERS, numeric=("Amount",))
    for item in virements:
        cells.append(
            [
                cells.day(item["approved_on"]),
                cells.text(item["approval"], "ft text"),
                cells.text(item["from"], "ft text"),
                cells.text(item["to"], "ft text"),
                cells.money(item["amount"]),
                cells.day(item["effective"]),
                cells.text(item["note"], "ft text"),
            ],
            wrapped=(1, 6),
        )


# --- Checks ----------------------------------------------------------------------------------


def _checks_sheet(workbook: Workbook, document: dict[str, Any]) -> None:
    widths = (10, 22, 90, 14)
    sheet = _sheet(workbook, "Checks", widths)
    cells = _Cells(sheet, widths)
    findings = document["checks"]
    errors = sum(1 for f in findings if f["severity"] == "error")
    summary = f"{errors} errors, {len(findings) - errors} warnings at export"
    _title_block(cells, "Checks", f"{_subtitle(document)}: {summary}")
    cells.headers(CHECK_HEADERS)
    for finding in findings:
        cells.append(
            [
                cells.text(finding["severity"], "ft text"),
                cells.text(finding["code"], "ft text"),
                cells.text(finding["message"], "ft text"),
                cells.text(str(finding["subject"]), "ft text"),
            ],
            wrapped=(2,),
        )
