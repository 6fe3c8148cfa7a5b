"""The funder's own return template, filled in from the return document (issue 15).

A *map* (TOML, docs/RETURNS.md) says where each figure goes: ``[cells]`` maps a cell
(``"Return!C5"``) or a defined name to a dotted path of the report JSON, and each
``[[tables]]`` entry writes one row per project, outcome, transaction or priority from a first
row down. The template is filled in place (template_package.py), so everything it had — styles,
formulas, names, validation, protection, images, charts, macros — is kept.

Every problem is found before anything is written and listed with its place: a map that does
not parse, a sheet or name that does not exist, a mapped cell holding a formula, a path that
is not a figure, a table that needs more rows than the template prepared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from fundtracker.errors import FieldError, ValidationError
from fundtracker.files import write_with
from fundtracker.ledger.reading import UnreadableFileError
from fundtracker.returns import reader, snapshot_sheet
from fundtracker.returns.template_package import MAX_ROW, CellContent, Package, Sheet, split_ref
from fundtracker.returns.template_rows import Growth, grow
from fundtracker.returns.workbook import YEAR_END_ROWS
from fundtracker.setup_files import load_toml

ROW_KINDS = ("allocations", "outcomes", "transactions")
PRIORITIES = "priorities:"
TABLE_KEYS = {"sheet", "first_row", "rows", "columns", "grow"}
# Scalars a cell may show besides the report's own (the return block of our workbook).
RETURN_KEYS = ("status", "version", "prepared_by", "prepared_on", "checksum")
# Paths that are figures of some returns only: blank in the others (the final return alone
# has a year-end statement).
OPTIONAL_PATHS = frozenset(f"year_end.{key}" for key, _ in YEAR_END_ROWS)

# What each value is, by the last key of its path: amounts and outcome figures are numbers,
# dates are dates, everything else is text.
MONEY_KEYS = frozenset(
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
        "original_allocated",
        "virements",
        "budget",
        "profile_to_date",
        "profile_remaining",
        "variance",
        "original_budget",
        "net",
        "vat",
        "claimable",
        "amount",
        "spend",
        "underspend",
        "to_return",
        "due_from_funder",
        "Q1",
        "Q2",
        "Q3",
        "Q4",
    ]
)
OUTCOME_NUMBERS = frozenset({"target", "target_to_date", "actual_to_date", "percent_of_target"})
DATE_KEYS = frozenset(
    {"period_start", "period_end", "prepared_on", "start", "end", "date", "effective"}
)
WHOLE_NUMBER_KEYS = frozenset({"id", "lines", "actual", "of"})

# The fields of each kind of row, so a map is checked even for a period with no such rows;
# fields found in the rows themselves are accepted too.
KNOWN_FIELDS = {
    "allocations": [
        "code",
        "name",
        "lead",
        "budget",
        "quarters.Q1",
        "quarters.Q2",
        "quarters.Q3",
        "quarters.Q4",
        "spend_this_period",
        "spend_to_date",
        "committed",
        "profile_to_date",
        "profile_remaining",
        "forecast_outturn",
        "forecast_entered",
        "forecast_entered_in",
        "variance",
        "projected_underspend",
        "projected_overspend",
        "overspent",
        "original_budget",
        "virements",
        "lines",
        "pcc_priorities",
        "local_priorities",
        "rag",
        "rag_computed",
        "rag_override",
        "outputs",
        "variance_explanation",
    ],
    "outcomes": [
        "allocation",
        "project",
        "code",
        "title",
        "unit",
        "priority",
        "target",
        "target_to_date",
        "actual_to_date",
        "percent_of_target",
    ],
    "transactions": [
        "id",
        "date",
        "reference",
        "supplier",
        "description",
        "project",
        "net",
        "vat",
        "claimable",
        "status",
        "quarter",
        "counted_in",
    ],
    "priorities": ["plan", "code", "title", "budget", "spend_to_date"],
}


@dataclass(frozen=True)
class TableMap:
    number: int  # 1 for the map's first [[tables]] entry
    sheet: str
    first_row: int
    rows: str  # allocations, outcomes, transactions or priorities:PLAN-KEY
    columns: dict[str, str]  # column letter -> field
    grow: bool

    @property
    def kind(self) -> str:
        return "priorities" if self.rows.startswith(PRIORITIES) else self.rows

    @property
    def place(self) -> str:
        return f"[[tables]] {self.number} ({self.rows} on {self.sheet})"

    def column_numbers(self) -> list[int]:
        return [column_index_from_string(letter) for letter in self.columns]


@dataclass(frozen=True)
class ReturnMap:
    cells: dict[str, str]  # "Sheet!C5" or a defined name -> dotted path
    tables: tuple[TableMap, ...]


# --- The map ---------------------------------------------------------------------------------


def read_map(path: Path) -> ReturnMap:
    """The map in ``path``; every problem is listed, named by its place in the file."""
    data = load_toml(Path(path))
    problems: list[FieldError] = []
    for key in sorted(set(data) - {"cells", "tables"}):
        problems.append(FieldError(key, "unknown key (a map has [cells] and [[tables]])"))
    cells = data.get("cells", {})
    if not isinstance(cells, dict):
        problems.append(FieldError("cells", "must be a table of cell = path"))
        cells = {}
    for key, value in cells.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(FieldError(f'[cells] "{key}"', "must be a path such as summary.award"))
    raw_tables = data.get("tables", [])
    if not isinstance(raw_tables, list) or not all(isinstance(t, dict) for t in raw_tables):
        problems.append(FieldError("tables", "must be [[tables]] entries"))
        raw_tables = []
    tables = [_table(number, raw, problems) for number, raw in enumerate(raw_tables, 1)]
    if problems:
        raise ValidationError(
            [FieldError(f"{Path(path).name} {p.field}", p.message) for p in problems]
        )
    return ReturnMap(
        {k: v.strip() for k, v in cells.items()}, tuple(t for t in tables if t is not None)
    )


def _table(number: int, raw: dict[str, Any], problems: list[FieldError]) -> TableMap | None:
    place = f"[[tables]] {number}"
    before = len(problems)
    for key in sorted(set(raw) - TABLE_KEYS):
        problems.append(FieldError(place, f"unknown key {key!r}"))
    sheet, rows, first_row = raw.get("sheet"), raw.get("rows"), raw.get("first_row")
    columns, grow = raw.get("columns", {}), raw.get("grow", False)
    if not isinstance(sheet, str) or not sheet:
        problems.append(FieldError(place, "sheet is required (the sheet's name)"))
    if (
        not isinstance(first_row, int)
        or isinstance(first_row, bool)
        or not 1 <= first_row <= MAX_ROW
    ):
        problems.append(FieldError(place, "first_row must be a row number such as 12"))
    if not isinstance(rows, str) or not (
        rows in ROW_KINDS or (rows.startswith(PRIORITIES) and len(rows) > len(PRIORITIES))
    ):
        problems.append(
            FieldError(
                place,
                f"rows {rows!r} must be allocations, outcomes, transactions or priorities:PLAN-KEY",
            )
        )
    if not isinstance(grow, bool):
        problems.append(FieldError(place, "grow must be true or false"))
    if not isinstance(columns, dict) or not columns:
        problems.append(FieldError(place, "[tables.columns] must map column letters to fields"))
        columns = {}
    for letter, name in columns.items():
        try:
            column_index_from_string(letter)
        except ValueError:
            problems.append(FieldError(place, f"{letter!r} is not a column letter such as C"))
        if not isinstance(name, str) or not name:
            problems.append(FieldError(place, f"column {letter}: the field must be a name"))
    if len(problems) > before:
        return None
    return TableMap(number, str(sheet), int(str(first_row)), str(rows), dict(columns), grow)


# --- The template --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    place: str  # the map's key, as the officer wrote it
    sheet: str
    row: int
    column: int

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{get_column_letter(self.column)}{self.row}"


class ReturnTemplate:
    """A template and its map, checked against each other (``load``); ``write`` fills a copy
    from a return document and ``read`` reads a filled one back."""

    def __init__(self, template: Path, return_map: ReturnMap, package: Package):
        self.template = template
        self.map = return_map
        self.package = package
        self.targets: dict[str, Target] = {}

    @classmethod
    def load(cls, template: Path, map_path: Path) -> ReturnTemplate:
        """Refuses, listing every problem, a map that does not fit the template."""
        return_map = read_map(map_path)
        template = Path(template)
        if template.suffix.lower() not in (".xlsx", ".xlsm"):
            raise ValidationError(f"{template.name} is not an Excel template (.xlsx or .xlsm)")
        try:
            loaded = cls(template, return_map, Package(template))
            problems = loaded._template_problems()  # parses the sheets mapped
        except UnreadableFileError as exc:
            raise ValidationError(str(exc)) from exc
        except (KeyError, ValueError, SyntaxError) as exc:  # lxml's errors are SyntaxErrors
            raise ValidationError(
                f"{template.name} is not a workbook that can be filled: {exc}"
            ) from exc
        if problems:
            raise ValidationError(problems)
        return loaded

    def _template_problems(self) -> list[FieldError]:
        problems: list[FieldError] = []
        for key in self.map.cells:
            target = self._resolve(key, problems)
            if target is None:
                continue
            sheet = self.package.sheet(target.sheet)
            content = sheet.content(target.row, target.column)
            merge = sheet.merge_holding(target.row, target.column)
            if content.formula is not None:
                problems.append(
                    FieldError(
                        f'[cells] "{key}"',
                        f"{target.ref} holds a formula (={content.formula}): the template "
                        "works it out; map a cell it reads instead",
                    )
                )
            elif merge is not None:
                first = f"{get_column_letter(merge[0])}{merge[1]}"
                problems.append(
                    FieldError(
                        f'[cells] "{key}"',
                        f"{target.ref} is inside merged cells: map their first cell, {first}",
                    )
                )
            else:
                self.targets[key] = target
        for table in self.map.tables:
            if table.sheet not in self.package.sheet_names:
                problems.append(FieldError(table.place, self._no_sheet(table.sheet)))
        return problems

    def _no_sheet(self, name: str) -> str:
        sheets = ", ".join(self.package.sheet_names)
        return f"the template has no sheet {name!r} (its sheets: {sheets})"

    def _resolve(self, key: str, problems: list[FieldError]) -> Target | None:
        place = f'[cells] "{key}"'
        if "!" in key:
            sheet, ref = key.rsplit("!", 1)
            return self._cell(place, key, sheet.strip("'").replace("''", "'"), ref, problems)
        matches = [n for n in self.package.names if n.name.casefold() == key.casefold()]
        named = next((n for n in matches if n.sheet_index is None), None)
        if named is None and len(matches) == 1:
            named = matches[0]
        if named is None:
            names = ", ".join(n.name for n in self.package.names) or "none"
            problems.append(
                FieldError(
                    place,
                    f"the template has no defined name {key!r} (a cell is written Sheet!C5; "
                    f"its names: {names})",
                )
            )
            return None
        sheet, _, ref = named.text.rpartition("!")
        first, _, last = ref.partition(":")
        if not sheet or (last and last != first):
            problems.append(
                FieldError(place, f"the name {key} refers to {named.text}, not one cell")
            )
            return None
        return self._cell(place, key, sheet.strip("'").replace("''", "'"), first, problems)

    def _cell(
        self, place: str, key: str, sheet: str, ref: str, problems: list[FieldError]
    ) -> Target | None:
        if sheet not in self.package.sheet_names:
            problems.append(FieldError(place, self._no_sheet(sheet)))
            return None
        try:
            row, column = split_ref(ref.replace("$", "").strip())
        except ValueError:
            problems.append(FieldError(place, f"{ref!r} is not a cell such as C5"))
            return None
        return Target(key, sheet, row, column)

    # --- Filling -------------------------------------------------------------------------

    def write(
        self,
        target: Path,
        document: dict[str, Any],
        status: str,
        checksum: str = "",
        version: int | None = None,
    ) -> None:
        """Fill a copy of the template from ``document`` into ``target`` (atomically); the
        signature is the workbook writer's, so a submission can use either."""
        package = Package(self.template)  # a fresh copy: the loaded one stays as it was
        writes = self._writes(package, document, status, checksum, version)
        for (sheet, row, column), (value, style) in writes.items():
            package.sheet(sheet).write(row, column, value, style)
        if checksum:  # a submitted return carries what its checksum covers, as ours does
            if snapshot_sheet.SHEET in package.sheet_names:
                raise ValidationError(
                    f"{self.template.name} has a sheet named {snapshot_sheet.SHEET!r}, the name "
                    "of the hidden sheet a submitted return carries: rename it in the template"
                )
            rows = snapshot_sheet.template_snapshot_rows(document, version, checksum)
            package.add_hidden_sheet(snapshot_sheet.SHEET, rows)
        write_with(target, package.save)

    def _writes(
        self,
        package: Package,
        document: dict[str, Any],
        status: str,
        checksum: str,
        version: int | None,
    ) -> dict[tuple[str, int, int], tuple[Any, int]]:
        """Every cell to write, with its value typed and its style; refuses listing every
        problem. A table's cells the template lacks (a table running on below its prepared
        rows) take the style of the table's first row, so every row looks the same."""
        problems: list[FieldError] = []
        writes: dict[tuple[str, int, int], tuple[Any, int]] = {}
        mapped_by: dict[tuple[str, int, int], str] = {}

        def put(
            place: str, at: tuple[str, int, int], key: str, value: Any, like: int | None = None
        ) -> None:
            sheet, row, column = at
            if at in mapped_by:
                ref = f"{sheet}!{get_column_letter(column)}{row}"
                problems.append(FieldError(place, f"{ref} is also written by {mapped_by[at]}"))
                return
            mapped_by[at] = place
            style = package.sheet(sheet).style_for(row, column, like)
            writes[at] = (_typed(key, value, package.is_date_style(style), package), style)

        source = cell_source(document, status, checksum, version)
        figures = []
        for key, path in self.map.cells.items():
            found = _figure(source, path)
            if isinstance(found, str):
                problems.append(FieldError(f'[cells] "{key}"', found))
            elif key in self.targets:
                figures.append((self.targets[key], path, found[0]))
        tables, growths = [], []
        for table in self.map.tables:
            rows = self._table_rows(table, document, problems)
            if rows is None:
                continue
            fits, growth = self._fits(table, package.sheet(table.sheet), len(rows), problems)
            if fits:
                tables.append((table, rows))
                growths.extend([growth] if growth else [])
        # rows inserted lowest first, so each insertion's rows are still the template's
        for growth in sorted(growths, key=lambda g: g.at, reverse=True):
            for problem in grow(package, growth):
                problems.append(FieldError(f"grow = true on {growth.sheet}", problem))
        for target, path, value in figures:
            at = (target.sheet, _moved(growths, target.sheet, target.row), target.column)
            put(f'[cells] "{target.place}"', at, path, value)
        for table, rows in tables:
            first_row = _moved(growths, table.sheet, table.first_row)
            for offset, row in enumerate(rows):
                for letter, name in table.columns.items():
                    column = column_index_from_string(letter)
                    at = (table.sheet, first_row + offset, column)
                    put(table.place, at, name, _lookup(row, name), like=first_row)
        if problems:
            raise ValidationError(problems)
        return writes

    def _table_rows(
        self, table: TableMap, document: dict[str, Any], problems: list[FieldError]
    ) -> list[dict[str, Any]] | None:
        if table.sheet not in self.package.sheet_names:
            return None  # named by load already
        report = document["report"]
        if table.kind == "priorities":
            plan = table.rows[len(PRIORITIES) :]
            plans = [p["key"] for p in _plans(report)]
            if plan not in plans:
                problems.append(
                    FieldError(
                        table.place,
                        f"the grant has no plan {plan!r} (its plans: {', '.join(plans)})",
                    )
                )
                return None
        rows = table_rows(document, table.rows)
        fields = set(KNOWN_FIELDS[table.kind])
        for row in rows:
            fields.update(_scalars(row))
        unknown = [f"{k} = {v!r}" for k, v in table.columns.items() if v not in fields]
        if unknown:
            problems.append(
                FieldError(
                    table.place,
                    f"not a field of the {table.kind} rows: {', '.join(unknown)} (their fields: "
                    f"{', '.join(sorted(fields))})",
                )
            )
            return None
        return rows

    def _fits(
        self, table: TableMap, sheet: Sheet, needed: int, problems: list[FieldError]
    ) -> tuple[bool, Growth | None]:
        """Whether the table's rows fit, and the rows to insert for them (grow = true)."""
        prepared, blocker = prepared_rows(sheet, table)
        if needed <= prepared or blocker is None:
            return True, None
        row, column, content = blocker
        if table.grow:
            if prepared == 0:
                problems.append(
                    FieldError(
                        table.place,
                        f"grow = true copies the table's last prepared row, and row {row}, its "
                        "first, already holds the template's own content",
                    )
                )
                return False, None
            return True, Growth(table.sheet, table.first_row, row, needed - prepared)
        holding = f"{get_column_letter(column)}{row} holds {_describe(self.package, content)}"
        problems.append(
            FieldError(
                table.place,
                f"the return has {needed} {table.kind} rows but the template prepared "
                f"{prepared} (rows {table.first_row} to {row - 1}; {holding}): add rows "
                "to the template's table",
            )
        )
        return False, None

    # --- Reading back --------------------------------------------------------------------

    def read(self, filled: Path) -> dict[str, Any]:
        """A filled template read back into the JSON of ``read-return`` (reader.py): what
        the map places is read from where it placed it; what it does not is null."""
        workbook = reader._open(Path(filled))
        try:
            inserted = self._inserted(Path(filled))
            values = _SheetValues(workbook)
            result = _empty_report()
            for key, path in self.map.cells.items():
                target = self.targets[key]
                row = _moved(inserted, target.sheet, target.row)
                where = f"{target.sheet}!{get_column_letter(target.column)}{row}"
                value = _read_value(path, values.get(target.sheet, row, target.column), where)
                if path in RETURN_KEYS:
                    result["return"][path] = value
                else:
                    _put_path(result, path, value)
            # outcomes last: they go under the projects read before them
            for table in sorted(self.map.tables, key=lambda t: t.kind == "outcomes"):
                _place_rows(result, table, self._read_table(values, table, inserted))
        finally:
            workbook.close()
        details = result["grant_details"]
        result["grant"] = result["grant"] or details["reference"]
        details["reference"] = details["reference"] or result["grant"]
        return result

    def _inserted(self, filled: Path) -> list[Growth]:
        """The rows a filled template had inserted (grow = true): found by where the content
        below each growing table (its Total row) now is."""
        growths: list[Growth] = []
        package: Package | None = None
        for table in self.map.tables:
            if not table.grow:
                continue
            _, blocker = prepared_rows(self.package.sheet(table.sheet), table)
            if blocker is None:
                continue
            package = package or Package(filled)
            if table.sheet not in package.sheet_names:
                continue  # named when the sheet is read
            row, column, content = blocker
            wanted = _describe(self.package, content)
            sheet = package.sheet(table.sheet)
            below = sorted(r for r, c in sheet.cells if c == column and r >= row)
            found = (r for r in below if _describe(package, sheet.content(r, column)) == wanted)
            moved_to = next(found, row)
            if moved_to > row:
                growths.append(Growth(table.sheet, table.first_row, row, moved_to - row))
        return growths

    def _read_table(
        self, values: _SheetValues, table: TableMap, inserted: list[Growth]
    ) -> list[dict[str, Any]]:
        prepared, _ = prepared_rows(self.package.sheet(table.sheet), table)
        first_row = _moved(inserted, table.sheet, table.first_row)
        prepared += sum(
            g.count for g in inserted if (g.sheet, g.first_row) == (table.sheet, table.first_row)
        )
        last = min(first_row + prepared, values.last_row(table.sheet) + 1)
        rows = []
        for number in range(first_row, last):
            cells = {
                name: values.get(table.sheet, number, column_index_from_string(letter))
                for letter, name in table.columns.items()
            }
            if all(v is None or v == "" for v in cells.values()):
                break
            row: dict[str, Any] = {}
            for letter, name in table.columns.items():
                where = f"{table.sheet}!{letter}{number}"
                _put_path(row, name, _read_value(name, cells[name], where))
            rows.append(_outcome_numbers(row) if table.kind == "outcomes" else row)
        return rows


# --- The document's values -------------------------------------------------------------------


def cell_source(
    document: dict[str, Any], status: str, checksum: str, version: int | None
) -> dict[str, Any]:
    """What ``[cells]`` paths are looked up in: the report JSON and the return's own lines."""
    return {
        **document["report"],
        "financial_year": document["financial_year"],
        "prepared_by": document["prepared_by"],
        "prepared_on": document["prepared_on"],
        "status": status,
        "checksum": checksum,
        "version": "" if version is None else str(version),
    }


def table_rows(document: dict[str, Any], rows: str) -> list[dict[str, Any]]:
    """The rows of one table: each project with its narrative, each project's outcome
    measures, each transaction, or one plan's priorities (the Unaligned row last)."""
    report = document["report"]
    if rows == "allocations":
        narratives = {p["code"]: p for p in document["projects"]}
        return [{**narratives.get(a["code"], {}), **a} for a in report["allocations"]]
    if rows == "outcomes":
        return [
            {**outcome, "allocation": a["code"], "project": a["name"]}
            for a in report["allocations"]
            for outcome in a.get("outcomes", [])
        ]
    if rows == "transactions":
        return list(document["transactions"])
    plan = rows[len(PRIORITIES) :]
    return [p for p in report["priorities"] if p["plan"] == plan]


def _plans(report: dict[str, Any]) -> list[dict[str, Any]]:
    details = report["grant_details"]
    return [p for p in (details.get("aligned_plan"), details.get("local_plan")) if p]


_MISSING = object()


def _lookup(source: Any, path: str) -> Any:
    value = source
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _figure(source: dict[str, Any], path: str) -> tuple[Any] | str:
    """(value,) for a scalar of the return; otherwise why ``path`` is not a figure."""
    value = _lookup(source, path)
    if value is _MISSING:
        if path in OPTIONAL_PATHS:
            return (None,)
        parent, _, _ = path.rpartition(".")
        under = _lookup(source, parent) if parent else source
        if isinstance(under, dict):
            keys = ", ".join(sorted(_scalars(under)))
            return f"{path!r} is not a figure of the return (under {parent or 'the top'}: {keys})"
        return f"{path!r} is not a figure of the return"
    if isinstance(value, dict):
        names = ", ".join(sorted(_scalars(value)))
        return f"{path!r} is a group of figures, not one: name one of {names}"
    if isinstance(value, list):
        return f"{path!r} is a list of {len(value)} rows, not one figure: use a [[tables]] entry"
    return (value,)


def _scalars(value: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, item in value.items():
        if isinstance(item, dict):
            yield from _scalars(item, f"{prefix}{key}.")
        elif not isinstance(item, list):
            yield f"{prefix}{key}"


def _typed(path: str, value: Any, is_date_cell: bool, package: Package) -> Any:
    """The value as the cell is to hold it: amounts and counts as numbers, dates as dates in
    a date-formatted cell (else as dd/mm/yyyy text), anything else as text."""
    key = path.rsplit(".", 1)[-1]
    if value is None or isinstance(value, bool | int):
        return value
    text = str(value)
    if not text:
        return None  # an empty cell, not an empty string
    if key in MONEY_KEYS or key in OUTCOME_NUMBERS:
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if key in DATE_KEYS:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text
        return package.serial(day) if is_date_cell else day.strftime("%d/%m/%Y")
    return text


def prepared_rows(sheet: Sheet, table: TableMap) -> tuple[int, tuple[int, int, CellContent] | None]:
    """How many rows the template prepared for ``table``: from its first row down to the
    first row holding something in a mapped column, or a value (not a formula) anywhere
    between the first and last mapped columns — typically the Total row — with that cell.
    With nothing below, the table may run to the end of the sheet."""
    mapped = set(table.column_numbers())
    low, high = min(mapped), max(mapped)
    for number in sorted(r for r in sheet.rows if r >= table.first_row):
        for column in range(low, high + 1):
            content = sheet.content(number, column)
            if content.empty or (column not in mapped and content.formula is not None):
                continue
            return number - table.first_row, (number, column, content)
    return MAX_ROW - table.first_row + 1, None


def _moved(growths: list[Growth], sheet: str, row: int) -> int:
    """A template row where it is once ``growths`` were inserted."""
    return row + sum(g.count for g in growths if g.sheet == sheet and row >= g.at)


def _describe(package: Package, content: CellContent) -> str:
    if content.formula is not None:
        return f"the formula ={content.formula}" if content.formula else "a shared formula"
    if content.kind == "s" and content.value is not None:
        return f"the value {package.shared_string(content.value)!r}"
    return f"the value {content.value!r}"


# --- Reading back --------------------------------------------------------------------------


class _SheetValues:
    """Cell values of a filled workbook's sheets, read once per sheet."""

    def __init__(self, workbook: Any):
        self.workbook = workbook
        self.sheets: dict[str, dict[tuple[int, int], Any]] = {}

    def _load(self, name: str) -> dict[tuple[int, int], Any]:
        if name not in self.sheets:
            if name not in self.workbook.sheetnames:
                raise reader.NotAReturnError(
                    f"the workbook has no sheet {name!r}: it is not this template filled in"
                )
            found = {}
            for number, row in enumerate(self.workbook[name].iter_rows(values_only=True), 1):
                for column, value in enumerate(row, 1):
                    if value is not None:
                        found[(number, column)] = value
            self.sheets[name] = found
        return self.sheets[name]

    def get(self, sheet: str, row: int, column: int) -> Any:
        return self._load(sheet).get((row, column))

    def last_row(self, sheet: str) -> int:
        return max((r for r, _ in self._load(sheet)), default=0)


def _empty_report() -> dict[str, Any]:
    return {
        "grant": None,
        "period": None,
        "period_start": None,
        "period_end": None,
        "grant_details": dict.fromkeys(("reference", "name", "funder", "recipient", "award")),
        "summary": {},
        "allocations": [],
        "unassigned": {},
        "priorities": [],
        "return": dict.fromkeys(RETURN_KEYS),
    }


def _put_path(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _read_value(path: str, value: Any, where: str) -> Any:
    """A cell read back as the report JSON has it: amounts as two-decimal strings, dates ISO."""
    key = path.rsplit(".", 1)[-1]
    if value is None or value == "":
        numeric = key in MONEY_KEYS | DATE_KEYS | WHOLE_NUMBER_KEYS | OUTCOME_NUMBERS
        return None if numeric else ""
    if key in MONEY_KEYS:
        return reader._money(value, where)
    if key in DATE_KEYS:
        return reader._date(value, where)
    if key in WHOLE_NUMBER_KEYS and isinstance(value, int | float):
        return int(value)
    if key in OUTCOME_NUMBERS or isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return reader._text(value)


def _outcome_numbers(row: dict[str, Any]) -> dict[str, Any]:
    """Outcome figures as the report gives them: a count measure's as integers, a percent
    measure's (and every percent of target) as one-decimal strings."""
    for key in OUTCOME_NUMBERS & set(row):
        value = row[key]
        if value is None or isinstance(value, str):
            continue
        if row.get("unit") == "count" and key != "percent_of_target":
            row[key] = int(value)
        else:
            row[key] = f"{Decimal(str(value)).quantize(Decimal('0.1'))}"
    return row


def _place_rows(result: dict[str, Any], table: TableMap, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if table.kind == "allocations":
        result["allocations"].extend(rows)
    elif table.kind == "priorities":
        plan = table.rows[len(PRIORITIES) :]
        result["priorities"].extend({"plan": plan, **row} for row in rows)
    elif table.kind == "transactions":
        result.setdefault("transactions", []).extend(rows)
    else:  # outcomes go under their project when the map names it, as the report has them
        projects = {a.get("code"): a for a in result["allocations"]}
        for row in rows:
            project = projects.get(row.get("allocation"))
            if project is None:
                result.setdefault("outcomes", []).append(row)
            else:
                project.setdefault("outcomes", []).append(
                    {k: v for k, v in row.items() if k not in ("allocation", "project")}
                )
