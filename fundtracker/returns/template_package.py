"""A workbook package (.xlsx or .xlsm) filled in place: cell values are written straight into
the sheet XML and every other part of the zip is copied byte for byte.

openpyxl rebuilds a workbook it saves and drops what it does not model (images, charts,
shapes, macros, some validations and conditional formats), so a funder's template is never
loaded and saved by it. Only three kinds of part change: the sheets written, the workbook
part (``fullCalcOnLoad``, so Excel and LibreOffice recalculate the template's formulas) and,
when the template has a calculation chain, the chain is dropped with its relationship and
content type (a stale chain can make Excel report the file damaged). A submitted return's
hidden Snapshot sheet is the one part added, with its relationship and content type.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)
from openpyxl.utils.exceptions import CellCoordinatesException

from fundtracker.ledger.reading import UnreadableFileError, check_workbook_archive
from fundtracker.safe_text import clean_text

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CALC_CHAIN = OFFICE_RELS + "/calcChain"
WORKSHEET = OFFICE_RELS + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
# Elements of <workbook> that come before <calcPr>, in the schema's order.
BEFORE_CALC_PR = ("definedNames", "externalReferences", "functionGroups", "sheets")
MAX_ROW = 1_048_576
# A template is a form, not a data file: it is read whole into memory, so it is kept small.
MAX_TEMPLATE_BYTES = 100 * 1024**2
# Entities are never expanded, nothing is fetched: a template is a file from outside.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _q(name: str) -> str:
    return f"{{{MAIN}}}{name}"


def _parse(data: bytes) -> Any:
    return etree.fromstring(data, _PARSER)


def _serialise(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def split_ref(ref: str) -> tuple[int, int]:
    """``"C5"`` -> (row 5, column 3); ValueError for anything that is not one cell."""
    try:
        letters, row = coordinate_from_string(ref)
    except CellCoordinatesException as exc:
        raise ValueError(str(exc)) from exc
    return row, column_index_from_string(letters)


@dataclass(frozen=True)
class CellContent:
    formula: str | None  # the formula's text ("" for a cell of a shared formula)
    value: str | None  # the stored value as text (a shared string's index is not resolved)
    style: int
    kind: str = "n"  # the cell's t attribute: s for a shared string, inlineStr, b, n ...

    @property
    def empty(self) -> bool:
        return self.formula is None and self.value is None


@dataclass
class Sheet:
    """One worksheet's XML, with its rows and cells indexed for writing."""

    name: str
    part: str
    root: Any
    rows: dict[int, Any] = field(default_factory=dict)
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # col, row, col, row
    column_styles: list[tuple[int, int, int]] = field(default_factory=list)  # min, max, style
    changed: bool = False
    bottom: int = 0  # the last row number the sheet has

    @classmethod
    def parse(cls, name: str, part: str, data: bytes) -> Sheet:
        sheet = cls(name, part, _parse(data))
        sheet.index()
        return sheet

    def index(self) -> None:
        """Index the XML's rows, cells, merges and column styles (again, after rows moved)."""
        self.rows, self.cells, self.merged, self.column_styles = {}, {}, [], []
        number = 0
        for row in self._data().iter(_q("row")):  # a row without r follows the one before
            number = int(row.get("r") or number + 1)
            self.rows[number] = row
            column = 0
            for cell in row.iter(_q("c")):  # a cell without r follows the one before it
                ref = cell.get("r")
                column = split_ref(ref)[1] if ref else column + 1
                self.cells[(number, column)] = cell
        self.bottom = max(self.rows, default=0)
        for merge in self.root.iter(_q("mergeCell")):
            self.merged.append(range_boundaries(merge.get("ref")))
        for col in self.root.iter(_q("col")):
            if col.get("style"):
                self.column_styles.append(
                    (int(col.get("min")), int(col.get("max")), int(col.get("style")))
                )

    def _data(self) -> Any:
        data = self.root.find(_q("sheetData"))
        if data is None:
            raise ValueError(f"sheet {self.name} has no cell data")
        return data

    def content(self, row: int, column: int) -> CellContent:
        cell = self.cells.get((row, column))
        style = self.style_at(row, column)
        if cell is None:
            return CellContent(None, None, style)
        formula = cell.find(_q("f"))
        value = cell.find(_q("v"))
        inline = cell.find(_q("is"))
        text = value.text if value is not None else None
        if inline is not None:
            text = "".join(inline.itertext())
        return CellContent(
            None if formula is None else (formula.text or ""), text, style, cell.get("t", "n")
        )

    def style_at(self, row: int, column: int) -> int:
        """The style a cell shows: its own, else its row's, else its column's (as Excel)."""
        cell = self.cells.get((row, column))
        if cell is not None:
            return int(cell.get("s", "0"))
        element = self.rows.get(row)
        if element is not None and element.get("customFormat") in ("1", "true"):
            return int(element.get("s", "0"))
        for low, high, style in self.column_styles:
            if low <= column <= high:
                return style
        return 0

    def merge_holding(self, row: int, column: int) -> tuple[int, int, int, int] | None:
        """The merged range ``row, column`` lies in without being its top-left cell."""
        for bounds in self.merged:
            low_col, low_row, high_col, high_row = bounds
            inside = low_row <= row <= high_row and low_col <= column <= high_col
            if inside and (row, column) != (low_row, low_col):
                return bounds
        return None

    def last_row(self) -> int:
        return self.bottom

    # --- Writing ---------------------------------------------------------------------------

    def style_for(self, row: int, column: int, like_row: int | None = None) -> int:
        """The style a value written here shows: the cell's own when the template has the
        cell, else that of the cell in ``like_row`` (a table's first row), else as Excel."""
        if (row, column) in self.cells or like_row is None:
            return self.style_at(row, column)
        return self.style_at(like_row, column)

    def write(self, row: int, column: int, value: Any, style: int) -> None:
        """Put ``value`` in the cell (``style`` for a cell the template lacks): a ``str`` as
        an inline string (never a formula), ``bool`` as a boolean, ``int``/``Decimal`` as a
        number; None empties it."""
        cell = self._cell(row, column, style)
        for child in list(cell):
            cell.remove(child)
        for attribute in ("t", "cm", "vm"):
            cell.attrib.pop(attribute, None)
        if value is None:
            pass
        elif isinstance(value, str):
            cell.set("t", "inlineStr")
            text = etree.SubElement(etree.SubElement(cell, _q("is")), _q("t"))
            text.text = clean_text(value)
            if text.text != text.text.strip() or "\n" in text.text:
                text.set(XML_SPACE, "preserve")
        elif isinstance(value, bool):
            cell.set("t", "b")
            etree.SubElement(cell, _q("v")).text = "1" if value else "0"
        else:
            etree.SubElement(cell, _q("v")).text = str(value)
        self.changed = True

    def _cell(self, row: int, column: int, style: int) -> Any:
        existing = self.cells.get((row, column))
        if existing is not None:
            return existing
        row_element = self._row(row)
        cell = etree.Element(_q("c"), r=f"{get_column_letter(column)}{row}")
        if style:
            cell.set("s", str(style))
        cells = row_element.findall(_q("c"))
        if cells and split_ref(cells[-1].get("r"))[1] > column:  # not simply the next one
            next(c for c in cells if split_ref(c.get("r"))[1] > column).addprevious(cell)
        else:
            row_element.append(cell)
        row_element.attrib.pop("spans", None)  # an optional hint the new cell may fall outside
        self.cells[(row, column)] = cell
        return cell

    def _row(self, number: int) -> Any:
        existing = self.rows.get(number)
        if existing is not None:
            return existing
        element = etree.Element(_q("row"), r=str(number))
        if number > self.bottom:  # a table running on below the sheet: the usual case
            self._data().append(element)
            self.bottom = number
        else:
            following = min(n for n in self.rows if n > number)
            self.rows[following].addprevious(element)
        self.rows[number] = element
        return element

    def to_bytes(self) -> bytes:
        self._widen_dimension()
        return _serialise(self.root)

    def _widen_dimension(self) -> None:
        dimension = self.root.find(_q("dimension"))
        if dimension is None or not self.cells:
            return
        rows = [r for r, _ in self.cells]
        columns = [c for _, c in self.cells]
        low = f"{get_column_letter(min(columns))}{min(rows)}"
        high = f"{get_column_letter(max(columns))}{max(rows)}"
        dimension.set("ref", low if low == high else f"{low}:{high}")


@dataclass(frozen=True)
class DefinedName:
    name: str
    sheet_index: int | None  # localSheetId: the name belongs to one sheet
    text: str  # what it refers to, e.g. 'Return'!$C$4


class Package:
    """A workbook's zip package read into memory; ``save`` writes it back filled."""

    def __init__(self, path: Path):
        check_workbook_archive(path)  # damaged zips, zip bombs, DTDs: refused, named
        with zipfile.ZipFile(path) as archive:
            self.members = archive.infolist()
            size = sum(m.file_size for m in self.members)
            if size > MAX_TEMPLATE_BYTES:
                raise UnreadableFileError(
                    f"{Path(path).name} unpacks to {size:,} bytes: too large for a return "
                    f"template (at most {MAX_TEMPLATE_BYTES:,})"
                )
            self.parts = {m.filename: archive.read(m) for m in self.members if not m.is_dir()}
        self.workbook = _parse(self.parts["xl/workbook.xml"])
        self.relations = _parse(self.parts[WORKBOOK_RELS]) if WORKBOOK_RELS in self.parts else None
        self.sheet_parts = self._sheet_parts()
        self.names = [
            DefinedName(
                element.get("name"),
                int(element.get("localSheetId")) if element.get("localSheetId") else None,
                (element.text or "").strip(),
            )
            for element in self.workbook.iter(_q("definedName"))
        ]
        self.number_formats = self._number_formats()
        properties = self.workbook.find(_q("workbookPr"))
        self.date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        self._sheets: dict[str, Sheet] = {}
        self._date_styles: dict[int, bool] = {}
        self.added: list[str] = []  # parts added (add_hidden_sheet), written after the rest

    @property
    def sheet_names(self) -> list[str]:
        return list(self.sheet_parts)

    def _relation_targets(self) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, part name) of the workbook part's relationships."""
        if self.relations is None:
            return {}
        found = {}
        for relation in self.relations.iter(f"{{{PACKAGE_RELS}}}Relationship"):
            target = relation.get("Target", "")
            part = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join("xl", target))
            )
            found[relation.get("Id")] = (relation.get("Type", ""), part)
        return found

    def _sheet_parts(self) -> dict[str, str]:
        targets = self._relation_targets()
        parts = {}
        for sheet in self.workbook.iter(_q("sheet")):
            relation = targets.get(sheet.get(f"{{{OFFICE_RELS}}}id"))
            if relation is not None and relation[0].endswith("/worksheet"):
                parts[sheet.get("name")] = relation[1]
        return parts

    def _number_formats(self) -> list[str]:
        """The number format of each cell style (cellXfs), by style index."""
        if "xl/styles.xml" not in self.parts:
            return ["General"]
        styles = _parse(self.parts["xl/styles.xml"])
        custom = {
            int(f.get("numFmtId")): f.get("formatCode", "") for f in styles.iter(_q("numFmt"))
        }
        cell_styles = styles.find(_q("cellXfs"))
        if cell_styles is None:
            return ["General"]
        formats = []
        for xf in cell_styles.iter(_q("xf")):
            number = int(xf.get("numFmtId", "0"))
            formats.append(custom.get(number) or BUILTIN_FORMATS.get(number, "General"))
        return formats

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            part = self.sheet_parts[name]
            self._sheets[name] = Sheet.parse(name, part, self.parts[part])
        return self._sheets[name]

    def shared_string(self, index: str) -> str:
        """The text of a shared string (to name a cell's value in a message)."""
        if "xl/sharedStrings.xml" not in self.parts:
            return index
        strings = _parse(self.parts["xl/sharedStrings.xml"]).findall(_q("si"))
        try:
            return "".join(strings[int(index)].itertext())
        except (ValueError, IndexError):
            return index

    def is_date_style(self, style: int) -> bool:
        if style not in self._date_styles:
            formats = self.number_formats
            self._date_styles[style] = style < len(formats) and is_date_format(formats[style])
        return self._date_styles[style]

    def serial(self, day: date) -> int:
        """Excel's serial number of ``day`` in this workbook's date system."""
        epoch = date(1904, 1, 1) if self.date1904 else date(1899, 12, 30)
        return (day - epoch).days

    # --- Adding a sheet --------------------------------------------------------------------

    def add_hidden_sheet(self, name: str, rows: list[list[str | None]]) -> None:
        """Add a hidden sheet of inline strings (``rows`` from A1, None for no cell) after the
        others: its part,
        its entry in the workbook's <sheets>, its relationship and its content type."""
        assert name not in self.sheet_names and self.relations is not None
        number = next(n for n in count(1) if f"xl/worksheets/sheet{n}.xml" not in self.parts)
        part = f"xl/worksheets/sheet{number}.xml"
        ids = {r.get("Id") for r in self.relations.iter(f"{{{PACKAGE_RELS}}}Relationship")}
        relation_id = next(f"rId{n}" for n in count(1) if f"rId{n}" not in ids)
        etree.SubElement(
            self.relations,
            f"{{{PACKAGE_RELS}}}Relationship",
            Id=relation_id,
            Type=WORKSHEET,
            Target=f"worksheets/sheet{number}.xml",
        )
        sheets = self.workbook.find(_q("sheets"))
        sheet_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
        entry = etree.SubElement(sheets, _q("sheet"), name=name, sheetId=str(sheet_id))
        entry.set("state", "hidden")
        entry.set(f"{{{OFFICE_RELS}}}id", relation_id)
        types = _parse(self.parts["[Content_Types].xml"])
        etree.SubElement(
            types,
            f"{{{CONTENT_TYPES}}}Override",
            PartName=f"/{part}",
            ContentType=WORKSHEET_CONTENT,
        )
        self.parts["[Content_Types].xml"] = _serialise(types)
        self.parts[WORKBOOK_RELS] = _serialise(self.relations)
        self.parts[part] = _inline_sheet(rows)
        self.added.append(part)
        self.sheet_parts[name] = part

    # --- Saving ----------------------------------------------------------------------------

    def save(self, target: Path) -> None:
        """Write the package to ``target``: the sheets written and the workbook part anew,
        every other part exactly as it was."""
        replaced = {s.part: s.to_bytes() for s in self._sheets.values() if s.changed}
        replaced["xl/workbook.xml"] = self._workbook_recalculating()
        dropped = self._drop_calc_chain(replaced)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in self.members:
                if member.filename in dropped:
                    continue
                info = zipfile.ZipInfo(member.filename, member.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = member.external_attr
                data = b"" if member.is_dir() else self.parts[member.filename]
                archive.writestr(info, replaced.get(member.filename, data))
            for part in self.added:
                archive.writestr(part, self.parts[part], zipfile.ZIP_DEFLATED)

    def _workbook_recalculating(self) -> bytes:
        calc = self.workbook.find(_q("calcPr"))
        if calc is None:
            calc = etree.Element(_q("calcPr"))
            before = [self.workbook.find(_q(n)) for n in BEFORE_CALC_PR]
            anchor = next((e for e in before if e is not None), None)
            if anchor is None:
                self.workbook.append(calc)
            else:
                anchor.addnext(calc)
        calc.set("fullCalcOnLoad", "1")
        return _serialise(self.workbook)

    def _drop_calc_chain(self, replaced: dict[str, bytes]) -> set[str]:
        """Remove the calculation chain (its part, relationship and content type)."""
        if self.relations is None:
            return set()
        dropped = set()
        for relation in list(self.relations.iter(f"{{{PACKAGE_RELS}}}Relationship")):
            if relation.get("Type") == CALC_CHAIN:
                dropped.add(self._relation_targets()[relation.get("Id")][1])
                relation.getparent().remove(relation)
        if not dropped:
            return set()
        replaced[WORKBOOK_RELS] = _serialise(self.relations)
        types = _parse(self.parts["[Content_Types].xml"])
        for override in list(types.iter(f"{{{CONTENT_TYPES}}}Override")):
            if override.get("PartName", "").lstrip("/") in dropped:
                types.remove(override)
        replaced["[Content_Types].xml"] = _serialise(types)
        return dropped


def _inline_sheet(rows: list[list[str | None]]) -> bytes:
    """A worksheet part holding ``rows`` of text as inline strings (so no shared strings)."""
    root = etree.Element(_q("worksheet"), nsmap={None: MAIN})
    data = etree.SubElement(root, _q("sheetData"))
    for number, values in enumerate(rows, start=1):
        row = etree.SubElement(data, _q("row"), r=str(number))
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = etree.SubElement(
                row, _q("c"), r=f"{get_column_letter(column)}{number}", t="inlineStr"
            )
            text = etree.SubElement(etree.SubElement(cell, _q("is")), _q("t"))
            text.text = value
            text.set(XML_SPACE, "preserve")
    return _serialise(root)
