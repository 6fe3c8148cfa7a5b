"""Which column of a ledger file holds which field of a spend line.

Headers are compared after normalising: case, surrounding spaces, ``_``/space differences,
and decoration such as ``(£)``, ``.`` or ``:`` are ignored (``paid_date`` = ``Paid Date `` =
``PAID DATE``; ``Invoice No.`` = ``invoice no``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from fundtracker.errors import ValidationError

FIELDS = (
    "date",
    "reference",
    "supplier",
    "description",
    "net",
    "vat",
    "gross",
    "debit",
    "credit",
    "cost_centre",
    "account_code",
    "allocation",
    "status",
)
TEXT_FIELDS = ("reference", "supplier", "description", "cost_centre", "account_code")
AMOUNT_FIELDS = ("net", "vat", "gross", "debit", "credit")

# Header names recognised without a mapping, best first. Written normalised.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "transaction date",
        "posting date",
        "date",
        "paid date",
        "payment date",
        "date paid",
        "invoice date",
        "trans date",
        "posted date",
        "gl date",
        "accounting date",
        "effective date",
        "document date",
    ),
    "reference": (
        "invoice no",
        "invoice number",
        "invoice ref",
        "invoice reference",
        "transaction number",
        "transaction no",
        "transaction reference",
        "transaction id",
        "trans no",
        "reference",
        "ref",
        "document number",
        "document no",
        "doc no",
        "voucher no",
        "voucher number",
        "journal no",
        "journal number",
    ),
    "supplier": (
        "supplier name",
        "payee",
        "supplier",
        "payee name",
        "vendor",
        "vendor name",
        "creditor",
        "creditor name",
        "beneficiary",
        "merchant name",
    ),
    "description": (
        "narrative",
        "description",
        "details",
        "line description",
        "transaction description",
        "purpose of expenditure",
        "purpose",
        "expenditure category",
        "expense type",
    ),
    "net": (
        "net amount",
        "net",
        "amount",
        "net value",
        "value",
        "amount excl vat",
        "amount excluding vat",
        "net amount excl vat",
    ),
    "vat": ("vat amount", "vat", "tax", "tax amount", "vat value"),
    "gross": (
        "gross amount",
        "gross",
        "gross value",
        "total amount",
        "amount incl vat",
        "amount including vat",
    ),
    "debit": ("debit", "debit amount", "debits", "dr"),
    "credit": ("credit", "credit amount", "credits", "cr"),
    "cost_centre": (
        "cost centre",
        "cost center",
        "cost centre code",
        "cost center code",
        "costcentre",
        "cost code",
        "cc",
    ),
    "account_code": (
        "account",
        "account code",
        "expense code",
        "expenditure code",
        "subjective",
        "subjective code",
        "nominal",
        "nominal code",
        "gl code",
        "gl account",
        "ledger code",
        "account number",
    ),
    "allocation": ("project", "project code", "allocation", "allocation code", "project no"),
    "status": ("status", "transaction status", "payment status"),
}
_ALL_SYNONYMS = frozenset(name for names in SYNONYMS.values() for name in names)
_DECORATION = re.compile(r"[().:#£*\[\]]")
HEADER_SEARCH_ROWS = 50


def normalise_header(value: object) -> str:
    """The form headers are compared in."""
    text = "" if value is None else str(value)
    text = _DECORATION.sub(" ", text.replace("_", " ").replace("\ufeff", ""))
    return " ".join(text.split()).casefold()


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True)
class ColumnMapping:
    """The header row of a file and the column (0-based) that holds each mapped field."""

    headers: tuple[str, ...]
    columns: Mapping[str, int]
    header_row: int = 1
    unmapped: tuple[str, ...] = field(default=())

    def label(self, field_name: str) -> str:
        """The column's header text as the file writes it (or its letter when blank)."""
        return column_label(self.headers, self.columns[field_name])

    def names(self) -> dict[str, str]:
        """``{field: header text}``: what is stored with a batch or saved as a profile."""
        return {name: self.headers[index] for name, index in self.columns.items()}

    @property
    def amount_layout(self) -> str:
        """How a line's net amount is found: ``net``, ``gross`` or ``debit_credit``."""
        if "net" in self.columns:
            return "net"
        if "gross" in self.columns:
            return "gross"
        return "debit_credit"


def column_label(headers: Sequence[str], index: int) -> str:
    text = headers[index].strip() if index < len(headers) else ""
    return text or f"column {column_letter(index)}"


def parse_map_options(items: Iterable[str]) -> dict[str, str]:
    """``["date=Posting Date", "description="]`` → ``{"date": "Posting Date", ...}``.

    An empty column leaves the field unmapped even if a header would match it.
    """
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, column = item.partition("=")
        name = name.strip().lower().replace("-", "_")
        if not sep or name not in FIELDS:
            raise ValidationError(
                f"--map {item}: write FIELD=COLUMN where FIELD is one of {', '.join(FIELDS)}"
            )
        mapping[name] = column.strip()
    return mapping


def header_score(cells: Sequence[object], explicit: Mapping[str, str]) -> int:
    """How much a row looks like the header: known names, and the columns named by hand."""
    wanted = {normalise_header(c) for c in explicit.values() if c}
    names = {normalise_header(c) for c in cells if c is not None and str(c).strip()}
    if wanted and not wanted <= names:
        return 0
    return len(names & _ALL_SYNONYMS) + 10 * len(names & wanted)


def find_header(
    rows: Sequence[tuple[int, Sequence[object]]], explicit: Mapping[str, str]
) -> tuple[int, Sequence[object]] | None:
    """The row (number, cells) most like a header among the first rows, or None.

    Title rows and blank lines above it are passed over; at least two recognised names (or
    every column named with --map) are needed, and the first best row wins.
    """
    best: tuple[int, Sequence[object]] | None = None
    best_score = 1
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        score = header_score(cells, explicit)
        if score > best_score:
            best, best_score = (number, cells), score
    return best


def detect_mapping(
    headers: Sequence[object], explicit: Mapping[str, str], header_row: int = 1
) -> ColumnMapping:
    """Map fields to columns: explicit names first, then recognised header names.

    Refused, naming what is missing and the headers found, when the date or an amount
    cannot be mapped.
    """
    texts = tuple("" if h is None else str(h).strip() for h in headers)
    normalised = [normalise_header(h) for h in texts]
    columns: dict[str, int] = {}
    problems: list[str] = []
    for name, column in explicit.items():
        if not column:
            continue
        wanted = normalise_header(column)
        if wanted not in normalised:
            problems.append(f"--map {name}={column}: the file has no column '{column}'")
        else:
            columns[name] = normalised.index(wanted)
    taken = set(columns.values())
    for name in FIELDS:
        if name in columns or name in explicit:
            continue
        index = _first_match(normalised, SYNONYMS[name], taken)
        if index is not None:
            columns[name] = index
            taken.add(index)
    problems += _missing_required(columns)
    if problems:
        found = ", ".join(f"'{t}'" for t in texts if t) or "none"
        raise ValidationError(
            "cannot map the file's columns: "
            + "; ".join(problems)
            + f". Headers found (row {header_row}): {found}. "
            "Name the columns with --map FIELD=COLUMN (e.g. --map date='Paid Date')."
        )
    unmapped = tuple(t for i, t in enumerate(texts) if i not in columns.values() and t)
    return ColumnMapping(texts, columns, header_row, unmapped)


def _first_match(normalised: Sequence[str], names: Sequence[str], taken: set[int]) -> int | None:
    for name in names:
        for index, header in enumerate(normalised):
            if header == name and index not in taken:
                return index
    return None


def _missing_required(columns: Mapping[str, int]) -> list[str]:
    missing = []
    if "date" not in columns:
        missing.append("no column for the date (" + _examples("date") + ")")
    if not {"net", "gross", "debit", "credit"} & columns.keys():
        missing.append(
            "no column for the amount (net, gross, or debit and credit: "
            + _examples("net", "gross", "debit", "credit")
            + ")"
        )
    return missing


def _examples(*names: str) -> str:
    shown = [n.title() for name in names for n in SYNONYMS[name][:3]]
    return "looked for " + ", ".join(f"'{s}'" for s in shown)
