"""One ledger row → the values of a spend line, or the reasons it cannot be one.

Cells arrive as text (CSV) or typed values (XLSX: int, float, datetime, text). Every problem
is reported against the file's row number and the column's header text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from fundtracker.dates import DateError, from_excel_serial, parse_date
from fundtracker.errors import MoneyError
from fundtracker.ledger.mapping import TEXT_FIELDS, ColumnMapping, normalise_header
from fundtracker.money import PENNY, ZERO, parse_spreadsheet_money
from fundtracker.services.spend import TEXT_LIMITS

TOTAL_WORDS = frozenset(
    {"total", "totals", "grand total", "sub total", "subtotal", "report total", "net total"}
)
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
# Most ledger amounts are plain numbers; read those directly and leave the rest to parse_money.
_PLAIN_AMOUNT = re.compile(r"-?\d{1,12}(\.\d{1,2})?")
_STATUS_WORDS = {
    "paid": "paid",
    "posted": "paid",
    "invoiced": "paid",
    "actual": "paid",
    "accrued": "accrued",
    "accrual": "accrued",
    "committed": "committed",
    "commitment": "committed",
    "order": "committed",
    "ordered": "committed",
    "po": "committed",
}
_DATE_TOKENS = (("yyyy", "%Y"), ("mmm", "%b"), ("yy", "%y"), ("mm", "%m"), ("dd", "%d"))
Fail = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class CellError:
    """A problem with one cell: the file's own row number, the column's header and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class LineValues:
    """A parsed row, as it will be stored (allocation is the code written in the file)."""

    date: date
    net: Decimal
    vat: Decimal
    reference: str = ""
    supplier: str = ""
    description: str = ""
    cost_centre: str = ""
    account_code: str = ""
    status: str = "paid"
    allocation: str = ""


def date_format_pattern(text: str | None) -> str | None:
    """A strftime pattern from ``--date-format``: ``%m/%d/%Y`` as is, or ``mm/dd/yyyy``."""
    if not text or "%" in text:
        return text or None
    pattern = text.lower()
    for token, directive in _DATE_TOKENS:
        pattern = pattern.replace(token, directive)
    return pattern


def is_blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


class RowParser:
    """Parses rows of one file laid out as ``mapping`` says."""

    def __init__(
        self,
        mapping: ColumnMapping,
        date_format: str | None = None,
        check_allocation: Callable[[str], str | None] | None = None,
    ):
        """``check_allocation`` returns why an allocation code is not acceptable, or None."""
        self.mapping = mapping
        self.check_allocation = check_allocation
        self.columns = mapping.columns
        self.date_format = date_format_pattern(date_format)
        # (field, column, longest kept) for the text fields present: the hot loop's plan.
        self.text_columns = [
            (name, mapping.columns[name], TEXT_LIMITS[name])
            for name in TEXT_FIELDS
            if name in mapping.columns
        ]
        self.amount_fields = [
            name for name in ("net", "vat", "gross", "debit", "credit") if name in mapping.columns
        ]

    def cell(self, cells: Sequence[object], name: str) -> object:
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def is_total(self, cells: Sequence[object]) -> bool:
        """A totals row: no date, and a cell that reads Total, Grand total and the like."""
        if not _empty(self.cell(cells, "date")):
            return False
        for value in cells:
            if isinstance(value, str) and value.strip():
                words = normalise_header(value)
                if words in TOTAL_WORDS or words.startswith("total for "):
                    return True
        return False

    def total_amounts(self, cells: Sequence[object]) -> tuple[Decimal, Decimal] | None:
        """Net and VAT of a totals row, read like a line's (a debit/credit totals row may hold
        both: net = debit − credit); None when its amounts cannot be read."""
        found: dict[str, Decimal] = {}
        for name in self.amount_fields:
            value = self.cell(cells, name)
            try:
                found[name] = ZERO if _empty(value) else cell_money(value)
            except MoneyError:
                return None
        vat = found.get("vat", ZERO)
        layout = self.mapping.amount_layout
        if layout == "debit_credit":
            return found.get("debit", ZERO) - found.get("credit", ZERO), vat
        if layout == "gross":
            return found.get("gross", ZERO) - vat, vat
        return found.get("net", ZERO), vat

    def parse(
        self, number: int, cells: Sequence[object]
    ) -> tuple[LineValues | None, list[CellError]]:
        """The row's values, or None and every problem found in it."""
        errors: list[CellError] = []

        def fail(name: str, message: str) -> None:
            errors.append(CellError(number, self.mapping.label(name), message))

        day = self._date(cells, fail)
        net, vat = self._amounts(cells, fail)
        texts = self._texts(cells, fail)
        status = self._status(cells, fail)
        allocation = self._allocation(cells, fail)
        if errors or day is None or net is None or vat is None:
            return None, errors
        return LineValues(day, net, vat, status=status, allocation=allocation, **texts), []

    # Fields -------------------------------------------------------------------------------

    def _date(self, cells: Sequence[object], fail: Fail) -> date | None:
        value = self.cell(cells, "date")
        if _empty(value):
            fail("date", "a date is required")
            return None
        try:
            return cell_date(value, self.date_format)
        except DateError as exc:
            fail("date", str(exc))
            return None

    def _amounts(
        self, cells: Sequence[object], fail: Fail
    ) -> tuple[Decimal | None, Decimal | None]:
        found: dict[str, Decimal | None] = {}
        readable = True
        for name in self.amount_fields:
            value = self.cell(cells, name)
            try:
                found[name] = None if _empty(value) else cell_money(value)
            except MoneyError as exc:
                fail(name, str(exc))
                readable = False
        if not readable:
            return None, None
        vat = found.get("vat") or ZERO
        layout = self.mapping.amount_layout
        if layout == "debit_credit":
            net = self._debit_credit(found.get("debit"), found.get("credit"), fail)
        else:
            net = self._net_or_gross(layout, found, vat, fail)
        if net is not None and vat and net and (net < 0) != (vat < 0):
            fail("vat", f"VAT {vat} has the opposite sign to the net amount {net}")
            return None, None
        return net, vat

    def _net_or_gross(
        self, layout: str, found: dict[str, Decimal | None], vat: Decimal, fail: Fail
    ) -> Decimal | None:
        gross = found.get("gross")
        if layout == "gross":
            if gross is None:
                fail("gross", "an amount is required")
                return None
            return gross - vat
        net = found.get("net")
        if net is None:
            fail("net", "an amount is required")
            return None
        if gross is not None and gross != net + vat:
            fail("gross", f"gross {gross} is not net {net} plus VAT {vat}")
            return None
        return net

    def _debit_credit(
        self, debit: Decimal | None, credit: Decimal | None, fail: Fail
    ) -> Decimal | None:
        for name, value in (("debit", debit), ("credit", credit)):
            if value is not None and value < 0:
                fail(name, f"{value} is negative; debit and credit columns hold positive amounts")
                return None
        if debit and credit:
            fail("credit", "both debit and credit hold an amount; a line is one or the other")
            return None
        if debit is None and credit is None:
            fail("debit" if "debit" in self.columns else "credit", "an amount is required")
            return None
        return (debit or ZERO) - (credit or ZERO)

    def _texts(self, cells: Sequence[object], fail: Fail) -> dict[str, str]:
        texts: dict[str, str] = {}
        width = len(cells)
        for name, index, limit in self.text_columns:
            value = cells[index] if index < width else None
            text = value.strip() if isinstance(value, str) else cell_text(value)
            if len(text) > limit:
                fail(name, f"is {len(text):,} characters long; at most {limit} are kept")
            texts[name] = text
        return texts

    def _text(self, cells: Sequence[object], name: str, fail: Fail) -> str:
        text = cell_text(self.cell(cells, name))
        limit = TEXT_LIMITS.get(name, 40)
        if len(text) > limit:
            fail(name, f"is {len(text):,} characters long; at most {limit} are kept")
        return text

    def _allocation(self, cells: Sequence[object], fail: Fail) -> str:
        if "allocation" not in self.columns:
            return ""
        code = self._text(cells, "allocation", fail)
        problem = self.check_allocation(code) if code and self.check_allocation else None
        if problem:
            fail("allocation", problem)
        return code

    def _status(self, cells: Sequence[object], fail: Fail) -> str:
        if "status" not in self.columns:
            return "paid"
        text = cell_text(self.cell(cells, "status")).lower()
        if not text:
            return "paid"
        status = _STATUS_WORDS.get(text)
        if status is None:
            fail("status", f"'{text}' is not a status (paid, accrued or committed)")
            return "paid"
        return status


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_money(value: object) -> Decimal:
    """An amount from a cell, exact to the penny (Excel's float noise is the penny it
    stands for: money.parse_spreadsheet_money)."""
    if isinstance(value, str) and _PLAIN_AMOUNT.fullmatch(value):
        return Decimal(value).quantize(PENNY)
    return parse_spreadsheet_money(value)


def cell_text(value: object) -> str:
    """A text field from a cell: trimmed; whole-number cells without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def cell_date(value: object, date_format: str | None = None) -> date:
    """A date from a cell: a date cell, an Excel serial number, or text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise DateError(f"'{value}' is not a date")
    if isinstance(value, int | float):
        return from_excel_serial(value)
    return _text_date(str(value).strip(), date_format)


@lru_cache(maxsize=4096)
def _text_date(text: str, date_format: str | None) -> date:
    # Ledgers repeat the same few dates thousands of times; parse each once.
    if date_format is None and _SERIAL.match(text):
        return from_excel_serial(int(text.split(".")[0]))
    return parse_date(text, date_format)
