"""Rows inserted into a funder's template for a table that needs more than it prepared
(``grow = true``, issue 15), in the package's own XML.

Rows from the one below the table down move by the number inserted; every reference to a moved
row moves with it: cell formulas on every sheet, defined names (the print area among them),
merged cells, data validation, conditional formats and hyperlinks. A range that runs down to
the table's last prepared row (``SUM(D13:D22)`` in the Total row) grows to take the new rows,
as Excel does when rows are inserted inside a range. Each new row copies the last prepared row:
its styles, and its formulas with their relative references moved to the new row.

What cannot be moved safely is refused, named with its place, and nothing is written: charts
plotting rows that would move, tables (ListObjects), pivot tables, shared and array formulas
that move or refer to moved rows, external and multi-sheet references on the sheet, comments
and drawings (pictures, shapes) on moved rows.
"""

from __future__ import annotations

import copy
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token, TokenizerError
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import get_column_letter

from fundtracker.returns.template_package import PACKAGE_RELS, Package, Sheet, _parse, _q

# One end of a reference: $A$1, A1, A (a whole column), 1 (a whole row).
_END = re.compile(r"^(\$?)([A-Za-z]{1,3})?(\$?)([0-9]+)?$")
CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
DRAWING_ML = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
SPECIAL_FORMULAS = ("shared", "array", "dataTable")


@dataclass(frozen=True)
class Growth:
    sheet: str
    first_row: int  # the table's first row
    at: int  # the first row that moves: the one below the last prepared row
    count: int  # rows inserted

    def moved(self, row: int) -> int:
        return row + self.count if row >= self.at else row


class _Shifter:
    """References moved for one insertion; what cannot be moved is listed in ``problems``."""

    def __init__(self, growth: Growth):
        self.growth = growth
        self.problems: list[str] = []

    def formula(self, text: str, here: str | None, place: str, extend: bool = True) -> str:
        """``text`` (a formula without its ``=``) written ``here`` with its references to
        moved rows moved; ``extend``: a range ending at the table's last row grows."""
        try:
            tokens = Tokenizer("=" + text).items
        except TokenizerError:
            self.problems.append(f"{place}: the formula ={text} cannot be read to move it")
            return text
        changed = False
        for token in tokens:
            if token.type == Token.OPERAND and token.subtype == Token.RANGE:
                moved = self.reference(token.value, here, place, extend)
                changed |= moved != token.value
                token.value = moved
        return "".join(t.value for t in tokens) if changed else text

    def reference(self, value: str, here: str | None, place: str, extend: bool) -> str:
        prefix, bang, ref = value.rpartition("!")
        sheet = here
        if bang:
            if "[" in prefix:  # another workbook's cells: never ours, but not readable here
                if here == self.growth.sheet:
                    self.problems.append(f"{place}: the external reference {value} cannot move")
                return value
            sheet = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
            if ":" in sheet:
                self.problems.append(f"{place}: the reference {value} spans several sheets")
                return value
        if sheet is None or sheet.casefold() != self.growth.sheet.casefold():
            return value
        moved = self.area(ref, extend)
        return f"{prefix}{bang}{moved}" if moved is not None else value

    def area(self, ref: str, extend: bool) -> str | None:
        """``A1``, ``A1:B5``, ``A:A`` or ``3:5`` moved; None for a name or #REF!."""
        ends = [_END.match(end) for end in ref.split(":")]
        if not 1 <= len(ends) <= 2 or not all(e and (e[2] or e[4]) for e in ends):
            return None
        rows = [int(e[4]) if e and e[4] else None for e in ends]
        moved = [self.growth.moved(r) if r is not None else None for r in rows]
        numbered = [r for r in rows if r is not None]
        if extend and len(numbered) == 2 and min(numbered) < max(numbered) == self.growth.at - 1:
            # a range running down to the table's last row grows with the table
            moved[rows.index(max(numbered))] = max(numbered) + self.growth.count
        parts = []
        for end, row in zip(ends, moved, strict=True):
            assert end is not None
            parts.append(f"{end[1]}{end[2] or ''}{end[3]}{'' if row is None else row}")
        return ":".join(parts)

    def sqref(self, text: str) -> str:
        return " ".join(self.area(ref, True) or ref for ref in text.split())


def grow(package: Package, growth: Growth) -> list[str]:
    """Insert ``growth.count`` rows in the package; what cannot be moved, named. On problems
    the package is left part-changed: the caller refuses and writes nothing."""
    shifter = _Shifter(growth)
    sheet = package.sheet(growth.sheet)
    _refuse_what_cannot_move(package, sheet, shifter)
    _shift_cells(sheet, shifter)
    _insert_copies(sheet, growth)
    sheet.index()
    _shift_sheet_ranges(sheet, shifter)
    for name in package.sheet_names:
        other = package.sheet(name)
        if other is not sheet:
            _shift_formulas_elsewhere(other, shifter)
    for element in package.workbook.iter(_q("definedName")):
        local = element.get("localSheetId")
        here = package.sheet_names[int(local)] if local and local.isdigit() else None
        name = element.get("name")
        element.text = shifter.formula(element.text or "", here, f"the defined name {name}")
    sheet.changed = True
    return shifter.problems


def _shift_cells(sheet: Sheet, shifter: _Shifter) -> None:
    """The sheet's formulas' references moved, then its rows and cells renumbered."""
    growth = shifter.growth
    for (row, column), cell in sheet.cells.items():
        formula = cell.find(_q("f"))
        if formula is None:
            continue
        place = f"{sheet.name}!{get_column_letter(column)}{row}"
        in_table = growth.first_row <= row < growth.at
        kind = formula.get("t")
        if kind in SPECIAL_FORMULAS:
            text = formula.text or ""
            if row >= growth.at - 1 or shifter.formula(text, sheet.name, place) != text:
                shifter.problems.append(
                    f"{place}: a {kind} formula in a row that would move or be copied, or "
                    "referring to rows that would move, cannot be moved (make it an ordinary "
                    "formula)"
                )
            continue
        formula.text = shifter.formula(formula.text or "", sheet.name, place, not in_table)
    for number, row_element in sorted(sheet.rows.items(), reverse=True):
        row_element.set("r", str(growth.moved(number)))
    for (number, column), cell in sheet.cells.items():
        cell.set("r", f"{get_column_letter(column)}{growth.moved(number)}")


def _insert_copies(sheet: Sheet, growth: Growth) -> None:
    """New rows below the last prepared row, each a copy of it: styles, and formulas with
    their relative references moved to the new row (D15 -> D16); values left empty."""
    last = sheet.rows.get(growth.at - 1)
    if last is None:
        return  # nothing to copy: the rows are made as cells are written
    origin = growth.at - 1
    for offset in range(growth.count, 0, -1):
        new = copy.deepcopy(last)
        number = origin + offset
        new.set("r", str(number))
        for cell in new.iter(_q("c")):
            letters = "".join(ch for ch in cell.get("r", "") if ch.isalpha())
            cell.set("r", f"{letters}{number}")
            formula = cell.find(_q("f"))
            for child in list(cell):
                if child is not formula:
                    cell.remove(child)
            for attribute in ("t", "cm", "vm"):
                cell.attrib.pop(attribute, None)
            if formula is not None and formula.text:
                moved = Translator("=" + formula.text, origin=f"{letters}{origin}")
                formula.text = moved.translate_formula(f"{letters}{number}")[1:]
        last.addnext(new)


def _shift_sheet_ranges(sheet: Sheet, shifter: _Shifter) -> None:
    root = sheet.root
    for element, attribute in (
        *((e, "ref") for e in root.iter(_q("mergeCell"), _q("autoFilter"))),
        *((e, "sqref") for e in root.iter(_q("conditionalFormatting"), _q("dataValidation"))),
        *((e, "sqref") for e in root.iter(_q("protectedRange"), _q("ignoredError"))),
        *((e, "sqref") for e in root.iter(_q("selection"))),
        *((e, "activeCell") for e in root.iter(_q("selection"))),
        *((e, "ref") for e in root.iter(_q("hyperlink"))),
    ):
        if element.get(attribute):
            element.set(attribute, shifter.sqref(element.get(attribute)))
    for brk in root.iter(_q("brk")):
        if brk.getparent().tag == _q("rowBreaks") and brk.get("id", "").isdigit():
            # a page break after row id: it stays with the row above it
            brk.set("id", str(shifter.growth.moved(int(brk.get("id")) + 1) - 1))
    sheet.index()  # the merges as they now are
    _shift_formulas_elsewhere(sheet, shifter, cells=False)


def _shift_formulas_elsewhere(sheet: Sheet, shifter: _Shifter, cells: bool = True) -> None:
    """References to the moved rows from ``sheet``: its cells' formulas (another sheet's),
    its validation and conditional-format formulas and its hyperlinks' locations."""
    before = shifter.problems[:]
    changed = False
    if cells:
        for (row, column), cell in sheet.cells.items():
            formula = cell.find(_q("f"))
            if formula is None or not formula.text:
                continue
            place = f"{sheet.name}!{get_column_letter(column)}{row}"
            moved = shifter.formula(formula.text, sheet.name, place)
            if moved != formula.text and formula.get("t") in SPECIAL_FORMULAS:
                shifter.problems.append(
                    f"{place}: a {formula.get('t')} formula refers to rows that would move "
                    "(make it an ordinary formula)"
                )
            changed |= moved != formula.text
            formula.text = moved
    rules = sheet.root.iter(_q("formula"), _q("formula1"), _q("formula2"))
    for element in rules:
        if element.text:
            place = f"{sheet.name}'s {etree.QName(element.getparent()).localname}"
            moved = shifter.formula(element.text, sheet.name, place)
            changed |= moved != element.text
            element.text = moved
    for link in sheet.root.iter(_q("hyperlink")):
        if link.get("location"):
            place = f"{sheet.name}'s hyperlink {link.get('ref')}"
            moved = shifter.formula(link.get("location"), sheet.name, place)
            changed |= moved != link.get("location")
            link.set("location", moved)
    sheet.changed |= changed or shifter.problems != before


def _refuse_what_cannot_move(package: Package, sheet: Sheet, shifter: _Shifter) -> None:
    growth = shifter.growth
    for part, root in _parts(package, "xl/charts/chart"):
        for element in root.iter(f"{CHART}f"):
            text = element.text or ""
            if shifter.formula(text, None, part) != text:
                title = "".join(t.text or "" for t in root.iter(f"{DRAWING_ML}t"))
                named = f"the chart {title!r} ({part})" if title else f"the chart {part}"
                shifter.problems.append(
                    f"{named} plots {text}, rows that would move: a chart cannot be moved "
                    "with them; add rows to the template's table"
                )
                break
    for part, root in _parts(package, "xl/pivotCache/pivotCacheDefinition"):
        for source in root.iter("{*}worksheetSource"):
            if (source.get("sheet") or "") == growth.sheet:
                shifter.problems.append(
                    f"the pivot table's data ({part}) is on {growth.sheet}: pivot tables "
                    "cannot be moved with the rows"
                )
    for kind, part in _relations(package, sheet.part):
        if part not in package.parts:
            continue
        root = _parse(package.parts[part])
        if kind.endswith("/table"):
            shifter.problems.append(
                f"{sheet.name} has the table (ListObject) {root.get('displayName')} at "
                f"{root.get('ref')}: tables cannot be moved with the rows"
            )
        elif kind.endswith("/pivotTable"):
            shifter.problems.append(
                f"{sheet.name} has a pivot table ({part}): pivot tables cannot be moved"
            )
        elif kind.endswith("/comments") or kind.endswith("/threadedComment"):
            for comment in root.iter("{*}comment", "{*}threadedComment"):
                ref = comment.get("ref", "")
                if shifter.area(ref, False) != ref:
                    shifter.problems.append(
                        f"the comment on {sheet.name}!{ref} would have to move with its row: "
                        "comments cannot be moved"
                    )
        elif kind.endswith("/drawing"):
            for anchor in root.iter(f"{XDR}from"):
                row = int(anchor.findtext(f"{XDR}row") or "0") + 1  # counted from 0
                if row >= growth.at:
                    names = anchor.getparent().iter(f"{XDR}cNvPr")
                    name = next((n.get("name") for n in names), "a drawing")
                    shifter.problems.append(
                        f"the picture or shape {name!r} on {sheet.name} is anchored at row "
                        f"{row}, which would move: drawings cannot be moved with the rows"
                    )
    if sheet.root.find(_q("extLst")) is not None and any(
        etree.QName(e).localname in ("sqref", "f") for e in sheet.root.find(_q("extLst")).iter()
    ):
        shifter.problems.append(
            f"{sheet.name} has Excel 2010 validation or conditional formats (extLst), which "
            "cannot be moved with the rows"
        )


def _parts(package: Package, prefix: str) -> list[tuple[str, Any]]:
    return [
        (name, _parse(data))
        for name, data in sorted(package.parts.items())
        if name.startswith(prefix) and name.endswith(".xml")
    ]


def _relations(package: Package, part: str) -> list[tuple[str, str]]:
    """(type, part name) of each relationship of ``part``."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in package.parts:
        return []
    found = []
    for relation in _parse(package.parts[rels]).iter(f"{{{PACKAGE_RELS}}}Relationship"):
        if relation.get("TargetMode") == "External":
            continue
        target = relation.get("Target", "")
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        found.append((relation.get("Type", ""), path))
    return found
