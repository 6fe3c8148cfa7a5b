"""Reading a monitoring return workbook back into the report's JSON shape (issue 4's).

It reads our own workbooks and ones an officer has opened and saved in Excel: sheets and
columns are found by their names and header texts, not their positions, numbers may come
back as floats, and dates as dates or text. Anything that is not such a return is refused
with a message naming what is missing and where.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from fundtracker.dates import parse_date
from fundtracker.errors import FundtrackerError
from fundtracker.money import money_str, parse_spreadsheet_money
from fundtracker.returns.workbook import OUTCOME_HEADERS, PRIORITY_HEADERS, PROJECT_HEADERS

REQUIRED_SHEETS = ("Summary", "Projects", "Priorities")

HEADER_SEARCH_ROWS = 20  # a header row may sit below a title block
SUMMARY_MONEY = {
    "award": "Award",
    "received": "Received to date",
    "spend_this_period": "Spend this period",
    "spend_to_date": "Spend to date",
    "committed": "Committed",
    "forecast_outturn": "Forecast outturn",
    "projected_underspend": "Projected underspend",
    "projected_overspend": "Projected overspend",
    "unallocated": "Unallocated",
}
SUMMARY_OPTIONAL_MONEY = {"original_allocated": "Original allocation", "virements": "Virements"}
# Excel's own arithmetic leaves binary noise on results (0.30000000000000004); a percentage
# within this of one decimal place is that figure (amounts: money.parse_spreadsheet_money).
FLOAT_NOISE = Decimal("0.000001")


class UnreadableReturnError(FundtrackerError):
    """The file cannot be opened as an Excel workbook at all."""


class NotAReturnError(FundtrackerError):
    """The workbook opens but is not a monitoring return in this format."""


def read_return(path: Path) -> dict[str, Any]:
    """The return in ``path`` as the report JSON (amounts as two-decimal strings)."""
    workbook = _open(Path(path))
    try:
        missing = [name for name in REQUIRED_SHEETS if name not in workbook.sheetnames]
        if missing:
            raise NotAReturnError(
                f"{Path(path).name} is not a monitoring return: it has no "
                f"{', '.join(repr(m) for m in missing)} sheet (its sheets: "
                f"{', '.join(workbook.sheetnames)})"
            )
        summary = _summary(workbook["Summary"])
        allocations, unassigned = _projects(workbook["Projects"])
        priorities = _priorities(workbook["Priorities"])
        # Returns before issue 15 have no Outcomes sheet: their projects had no measures.
        if "Outcomes" in workbook.sheetnames:
            _add_outcomes(workbook["Outcomes"], allocations)
    finally:
        workbook.close()
    return _report(summary, allocations, unassigned, priorities)


def _open(path: Path) -> Any:
    if not path.is_file():
        raise UnreadableReturnError(f"{path} is not a file")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UnreadableReturnError(
            f"{path.name} is not an Excel workbook (.xlsx); a monitoring return is one"
        )
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableReturnError(
            f"{path.name} cannot be read as an Excel workbook (.xlsx): {exc}"
        ) from exc


# --- Cells -----------------------------------------------------------------------------------


def _where(sheet: Any, row: int, column: int) -> str:
    return f"{sheet.title}!{get_column_letter(column)}{row}"


def _money(value: Any, where: str, blank: str | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if blank is None:
            raise NotAReturnError(f"{where}: an amount is required")
        return blank
    try:
        return money_str(parse_spreadsheet_money(value))
    except FundtrackerError as exc:
        raise NotAReturnError(f"{where}: {exc}") from exc


def _date(value: Any, where: str) -> str:
    try:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return parse_date(str(value or "")).isoformat()
    except FundtrackerError as exc:
        raise NotAReturnError(f"{where}: {exc}") from exc


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


# --- Sheets ----------------------------------------------------------------------------------


def _summary(sheet: Any) -> dict[str, tuple[Any, str]]:
    """Label -> (value, cell) for every label in column A."""
    found: dict[str, tuple[Any, str]] = {}
    for number, row in enumerate(_rows(sheet), 1):
        if row and isinstance(row[0], str) and row[0].strip():
            value = row[1] if len(row) > 1 else None
            found.setdefault(row[0].strip(), (value, _where(sheet, number, 2)))
    required = [
        "Grant reference",
        "Period",
        "Period start",
        "Period end",
        *SUMMARY_MONEY.values(),
    ]
    missing = [label for label in required if label not in found]
    if missing:
        raise NotAReturnError(
            f"not a monitoring return: the Summary sheet has no {', '.join(missing)} row"
        )
    return found


def _header(
    sheet: Any, rows: list[tuple[Any, ...]], headers: tuple[str, ...]
) -> tuple[int, dict[str, int]]:
    """(index of the header row, header text -> column index) for a sheet's table."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [_text(cell) for cell in row]
        if all(h in texts for h in headers):
            return index, {h: texts.index(h) for h in headers}
    raise NotAReturnError(
        f"not a monitoring return: the {sheet.title} sheet has no header row with "
        f"{', '.join(headers)}"
    )


def _cell(row: tuple[Any, ...], column: int) -> Any:
    return row[column] if column < len(row) else None


def _projects(sheet: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = _rows(sheet)
    header, columns = _header(sheet, rows, PROJECT_HEADERS)
    allocations: list[dict[str, Any]] = []
    unassigned = {"spend_to_date": "0.00", "committed": "0.00"}
    for offset, row in enumerate(rows[header + 1 :], header + 2):
        code = _text(_cell(row, columns["Code"]))
        if code == "Total" or not any(c is not None and c != "" for c in row):
            break

        def money(
            name: str, blank: str | None = None, row: tuple[Any, ...] = row, offset: int = offset
        ) -> str:
            column = columns[name]
            return _money(_cell(row, column), _where(sheet, offset, column + 1), blank)

        if code == "Unassigned":
            unassigned = {
                "spend_to_date": money("Spend to date", "0.00"),
                "committed": money("Committed", "0.00"),
            }
            continue
        allocations.append(
            {
                "code": code,
                "name": _text(_cell(row, columns["Project"])),
                "lead": _text(_cell(row, columns["Lead partner"])),
                "budget": money("Budget"),
                "quarters": {q: money(q, "0.00") for q in ("Q1", "Q2", "Q3", "Q4")},
                "spend_to_date": money("Spend to date"),
                "committed": money("Committed"),
                "forecast_outturn": money("Forecast outturn"),
                "variance": money("Variance"),
                "rag": _text(_cell(row, columns["RAG"])),
                "outputs": _text(_cell(row, columns["Outputs and outcomes"])),
                "variance_explanation": _text(_cell(row, columns["Variance explanation"])),
            }
        )
    return allocations, unassigned


def _priorities(sheet: Any) -> list[dict[str, Any]]:
    rows = _rows(sheet)
    header, columns = _header(sheet, rows, PRIORITY_HEADERS[:5])
    found = []
    for offset, row in enumerate(rows[header + 1 :], header + 2):
        plan = _text(_cell(row, columns["Plan"]))
        if not plan:
            break
        code = _text(_cell(row, columns["Code"]))
        found.append(
            {
                "plan": plan,
                "code": code or None,
                "title": _text(_cell(row, columns["Priority"])),
                "budget": _money(
                    _cell(row, columns["Budget"]), _where(sheet, offset, columns["Budget"] + 1)
                ),
                "spend_to_date": _money(
                    _cell(row, columns["Spend to date"]),
                    _where(sheet, offset, columns["Spend to date"] + 1),
                ),
            }
        )
    return found


def _add_outcomes(sheet: Any, allocations: list[dict[str, Any]]) -> None:
    """Each project's ``outcomes`` as the report gives them, read from the Outcomes sheet."""
    rows = _rows(sheet)
    header, columns = _header(sheet, rows, OUTCOME_HEADERS)
    by_code = {a["code"]: a for a in allocations}
    for allocation in allocations:
        allocation["outcomes"] = []
    for offset, row in enumerate(rows[header + 1 :], header + 2):
        code = _text(_cell(row, columns["Code"]))
        if not code:
            break
        project = _text(_cell(row, columns["Project"]))
        if project not in by_code:
            raise NotAReturnError(
                f"{_where(sheet, offset, columns['Project'] + 1)}: {project!r} is not a project "
                "on the Projects sheet"
            )
        by_code[project]["outcomes"].append(_outcome(sheet, row, offset, columns))


def _outcome(
    sheet: Any, row: tuple[Any, ...], offset: int, columns: dict[str, int]
) -> dict[str, Any]:
    unit = _text(_cell(row, columns["Unit"]))
    if unit not in ("count", "percent"):
        where = _where(sheet, offset, columns["Unit"] + 1)
        raise NotAReturnError(f"{where}: the unit must be count or percent (got {unit!r})")

    def figure(name: str) -> int | str | None:
        value = _cell(row, columns[name])
        where = _where(sheet, offset, columns[name] + 1)
        return _outcome_figure(
            value, where, as_count=unit == "count" and name != "% of target to date"
        )

    return {
        "code": _text(_cell(row, columns["Code"])),
        "title": _text(_cell(row, columns["Outcome"])),
        "unit": unit,
        "priority": _text(_cell(row, columns["PCC priority"])) or None,
        "target": figure("Annual target"),
        "target_to_date": figure("Target to date"),
        "actual_to_date": figure("Actual to date"),
        "percent_of_target": figure("% of target to date"),
        "quarters": {
            q: _quarter_actual(_cell(row, columns[q]), _where(sheet, offset, columns[q] + 1))
            for q in ("Q1", "Q2", "Q3", "Q4")
        },
        "note": _text(_cell(row, columns["Note"])),
    }


def _outcome_figure(value: Any, where: str, as_count: bool) -> int | str | None:
    """A count as an integer, a percentage as a string with one decimal ("82.5"); blank is
    None. Numbers saved by Excel may come back as floats."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = (
            Decimal(repr(value))
            if isinstance(value, float)
            else Decimal(str(value).strip().rstrip("%"))
        )
    except ArithmeticError as exc:
        raise NotAReturnError(f"{where}: {value!r} is not a number") from exc
    if as_count:
        if number != number.to_integral_value():
            raise NotAReturnError(f"{where}: {value!r} is not a whole number")
        return int(number)
    rounded = number.quantize(Decimal("0.1"))
    if abs(number - rounded) > FLOAT_NOISE:
        raise NotAReturnError(f"{where}: {value!r} has more than one decimal")
    return f"{rounded:f}"


def _quarter_actual(value: Any, where: str) -> dict[str, Any] | None:
    """A quarter's cell: 41 for a count, "41 of 50" for a percent, blank for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = (
        str(int(value)) if isinstance(value, int | float) and value == int(value) else _text(value)
    )
    actual, _, out_of = text.partition(" of ")
    if not actual.isdigit() or (out_of and not out_of.isdigit()):
        raise NotAReturnError(f"{where}: {value!r} is not a count or a figure like 41 of 50")
    return {"actual": int(actual), "of": int(out_of) if out_of else None}


def _report(
    summary: dict[str, tuple[Any, str]],
    allocations: list[dict[str, Any]],
    unassigned: dict[str, Any],
    priorities: list[dict[str, Any]],
) -> dict[str, Any]:
    def money(label: str) -> str:
        value, where = summary[label]
        return _money(value, where)

    figures = {key: money(label) for key, label in SUMMARY_MONEY.items()}
    # Returns before issue 13 have no virement rows: none were possible, so none were made.
    for key, label in SUMMARY_OPTIONAL_MONEY.items():
        if label in summary:
            figures[key] = money(label)
    if "Allocated" in summary:
        figures["allocated"] = money("Allocated")
    else:  # by definition, unallocated = award - allocated
        figures["allocated"] = money_str(
            Decimal(figures["award"]) - Decimal(figures["unallocated"])
        )

    def text(label: str) -> str:
        return _text(summary.get(label, (None, ""))[0])

    return {
        "grant": text("Grant reference"),
        "period": text("Period"),
        "period_start": _date(*summary["Period start"]),
        "period_end": _date(*summary["Period end"]),
        "grant_details": {
            "reference": text("Grant reference"),
            "name": text("Grant name"),
            "funder": text("Funder"),
            "recipient": text("Recipient"),
            "award": figures["award"],
        },
        "summary": {key: figures[key] for key in sorted(figures)},
        "allocations": allocations,
        "unassigned": unassigned,
        "priorities": priorities,
        "return": {
            "status": text("Status"),
            "version": text("Version"),
            "prepared_by": text("Prepared by"),
            "prepared_on": _date(*summary["Prepared on"]) if text("Prepared on") else None,
            "checksum": text("Checksum"),
        },
    }
