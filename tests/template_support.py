"""Funder's templates for the template tests, and the script that builds the shipped example.

``python -m tests.template_support`` rebuilds resources/examples/grant-return-template.xlsx
(its map, grant-return-template.toml, is written by hand beside it). The example is a grant
budget return form in the usual layout: a header block, a project table with budget, spend by
quarter, spend to date and variance formulas and a totals row, formulas below that read the
cells Fundtracker fills, a declaration block with signature cells, and an Outcomes sheet.

The variants the tests need are built from it: one with a logo, a shape, a chart, a comment
and a hidden sheet; one macro-enabled (.xlsm, a stand-in vbaProject.bin and a calculation
chain, as Excel leaves one); one with protected sheets and data validation.
"""

from __future__ import annotations

import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

MONEY = "£#,##0.00;[Red]-£#,##0.00"
INPUT = PatternFill("solid", fgColor="FFF2CC")  # the form's yellow "complete this" cells
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FIRST_ROW, LAST_ROW, TOTAL_ROW = 13, 22, 23  # ten prepared project rows, then the totals
TABLE_HEADERS = (
    "Ref",
    "Project",
    "Lead organisation",
    "Approved budget",
    "Q1 spend",
    "Q2 spend",
    "Q3 spend",
    "Q4 spend",
    "Spend to date",
    "Committed",
    "Forecast outturn",
    "Variance",
    "Variance %",
    "Progress and outputs",
)
MONEY_COLUMNS = "DEFGHIJKL"
EXAMPLE = Path(__file__).resolve().parent.parent / "resources" / "examples"
MACRO_STAND_IN = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1stand-in vbaProject (not real VBA)" + bytes(
    range(256)
)


def build_example(path: Path, *, protect: bool = False, chart: bool = False) -> None:
    """The example template; ``protect`` and ``chart`` add what two variants need."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Return"
    _return_sheet(book, sheet)
    _outcomes_sheet(book)
    if chart:
        _chart_comment_and_hidden_sheet(book, sheet)
    if protect:
        _protect_with_validation(book, sheet)
    book.properties.creator = "OPCC (illustrative template)"
    book.save(path)


def _return_sheet(book: Workbook, sheet: object) -> None:
    ws: Any = sheet
    ws["A1"] = "Community Safety Partnership Grant: Budget Return"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:N1")
    ws["A2"] = "Complete the yellow cells and return to the OPCC within 15 working days."
    ws.merge_cells("A2:N2")
    header = (
        (4, "Organisation", None),
        (5, "Grant reference", None),
        (6, "Grant name", None),
        (7, "Reporting period", None),
        (8, "Period end", "dd/mm/yyyy"),
        (9, "Total grant awarded", MONEY),
        (10, "Received to date", MONEY),
    )
    for row, label, number_format in header:
        ws.cell(row, 1, label).font = Font(bold=True)
        cell = ws.cell(row, 3)
        cell.fill, cell.border = INPUT, BOX
        cell.protection = Protection(locked=False)
        if number_format:
            cell.number_format = number_format
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    book.defined_names["GrantReference"] = DefinedName("GrantReference", attr_text="Return!$C$5")
    ws.row_dimensions[12].height = 30  # two lines of header text
    for column, title in enumerate(TABLE_HEADERS, 1):
        cell = ws.cell(12, column, title)
        cell.font, cell.border = Font(bold=True), BOX
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in range(FIRST_ROW, TOTAL_ROW):
        for column in range(1, 15):
            cell = ws.cell(row, column)
            cell.border = BOX
            if column in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14):
                cell.fill = INPUT
                cell.protection = Protection(locked=False)
        for letter in MONEY_COLUMNS:
            ws[f"{letter}{row}"].number_format = MONEY
        ws[f"I{row}"] = f"=SUM(E{row}:H{row})"
        ws[f"L{row}"] = f"=D{row}-K{row}"
        ws[f"M{row}"] = f'=IF(D{row}=0,"",L{row}/D{row})'
        ws[f"M{row}"].number_format = "0.0%"
    ws.cell(TOTAL_ROW, 1, "Total").font = Font(bold=True)
    for letter in MONEY_COLUMNS:
        cell = ws[f"{letter}{TOTAL_ROW}"]
        cell.value = f"=SUM({letter}{FIRST_ROW}:{letter}{LAST_ROW})"
        cell.number_format, cell.font, cell.border = MONEY, Font(bold=True), BOX
    ws[f"M{TOTAL_ROW}"] = f'=IF(D{TOTAL_ROW}=0,"",L{TOTAL_ROW}/D{TOTAL_ROW})'
    ws[f"M{TOTAL_ROW}"].number_format = "0.0%"
    # Formulas of the form's own that read what Fundtracker fills in.
    ws["A25"], ws["C25"] = "Grant not yet allocated", f"=C9-D{TOTAL_ROW}"
    ws["A26"], ws["C26"] = "Forecast underspend of the award", f"=C9-K{TOTAL_ROW}"
    for ref in ("C25", "C26"):
        ws[ref].number_format = MONEY
    ws.conditional_formatting.add(
        f"L{FIRST_ROW}:L{TOTAL_ROW}",
        CellIsRule(operator="lessThan", formula=["0"], fill=PatternFill("solid", fgColor="F4CCCC")),
    )
    _declaration(ws)
    for letter, width in zip("ABCDEFGHIJKLMN", (8, 30, 22, *([13] * 10), 40), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A13"
    ws.print_area = "A1:N37"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = "OPCC Community Safety Grant return"
    ws.oddFooter.right.text = "Page &P of &N"


def _declaration(ws: Any) -> None:
    ws["A28"] = "Declaration"
    ws["A28"].font = Font(bold=True)
    ws["A29"] = (
        "I certify that the expenditure shown has been incurred on the approved projects in "
        "accordance with the conditions of the grant."
    )
    ws.merge_cells("A29:N30")
    ws["A29"].alignment = Alignment(wrap_text=True, vertical="top")
    rows = ((31, "Signed"), (32, "Name"), (33, "Position"), (34, "Date"))
    for row, label in rows:
        ws.cell(row, 1, label).font = Font(bold=True)
        cell = ws.cell(row, 3)
        cell.border = Border(bottom=Side(style="medium"))
        cell.protection = Protection(locked=False)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    ws.row_dimensions[31].height = 36  # room to sign
    ws["C34"].number_format = "dd/mm/yyyy"
    ws["A36"], ws["A37"] = "Return status", "Fundtracker checksum"
    for ref in ("C36", "C37"):
        ws[ref].protection = Protection(locked=False)


def _outcomes_sheet(book: Workbook) -> None:
    ws = book.create_sheet("Outcomes")
    ws["A1"] = "Outcomes against targets"
    ws["A1"].font = Font(bold=True, size=14)
    headers = (
        "Project",
        "Measure",
        "Outcome",
        "Unit",
        "Annual target",
        "Target to date",
        "Actual to date",
        "% of target",
    )
    for column, title in enumerate(headers, 1):
        ws.cell(3, column, title).font = Font(bold=True)
    for row in range(4, 24):
        for column in range(1, 9):
            ws.cell(row, column).border = BOX
    for letter, width in zip("ABCDEFGH", (10, 10, 40, 9, 13, 13, 13, 12), strict=True):
        ws.column_dimensions[letter].width = width


def _chart_comment_and_hidden_sheet(book: Workbook, sheet: object) -> None:
    ws: Any = sheet
    chart = BarChart()
    chart.title = "Budget and spend to date by project"
    data = Reference(ws, min_col=4, max_col=4, min_row=12, max_row=LAST_ROW)
    spend = Reference(ws, min_col=9, max_col=9, min_row=12, max_row=LAST_ROW)
    chart.add_data(data, titles_from_data=True)
    chart.add_data(spend, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=FIRST_ROW, max_row=LAST_ROW))
    ws.add_chart(chart, "P12")
    ws["C9"].comment = Comment("As in the grant agreement", "OPCC")
    lists = book.create_sheet("Lists")
    lists.sheet_state = "hidden"
    for row, value in enumerate(("G", "A", "R"), 1):
        lists.cell(row, 1, value)
    priorities = book.create_sheet("Priorities")
    priorities["A1"] = "Spend by Police and Crime Plan priority"
    for column, title in enumerate(("Code", "Priority", "Budget", "Spend to date"), 1):
        priorities.cell(3, column, title).font = Font(bold=True)
    for row in range(4, 10):
        for letter in "CD":
            priorities[f"{letter}{row}"].number_format = MONEY
    priorities["A10"], priorities["C10"] = "Total", "=SUM(C4:C9)"
    priorities["D10"] = "=SUM(D4:D9)"


def _protect_with_validation(book: Workbook, sheet: object) -> None:
    ws: Any = sheet
    ws["O12"] = "RAG"
    rag = DataValidation(type="list", formula1='"G,A,R"', allow_blank=True)
    rag.add(f"O{FIRST_ROW}:O{LAST_ROW}")
    budget = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    budget.error = "A budget cannot be negative"
    budget.add(f"D{FIRST_ROW}:D{LAST_ROW}")
    ws.add_data_validation(rag)
    ws.add_data_validation(budget)
    for row in range(FIRST_ROW, TOTAL_ROW):
        ws[f"O{row}"].protection = Protection(locked=False)
    ws.protection.sheet = True
    ws.protection.password = "opcc"
    lines = book.create_sheet("Lines")
    for column, title in enumerate(("Date", "Supplier", "Project", "Net", "VAT"), 1):
        lines.cell(1, column, title).font = Font(bold=True)
    for row in range(2, 4):  # a few styled rows; the table may run on below them
        lines[f"A{row}"].number_format = "dd/mm/yyyy"
        lines[f"D{row}"].number_format = MONEY
    lines.protection.sheet = True


# --- Parts openpyxl cannot make: added to the zip afterwards ---------------------------------

XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWING_ML = "http://schemas.openxmlformats.org/drawingml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
LOGO_AND_SHAPE = f"""<xdr:group xmlns:xdr="{XDR}" xmlns:a="{DRAWING_ML}" xmlns:r="{RELS}">
<xdr:oneCellAnchor><xdr:from><xdr:col>11</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>
<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="952500" cy="476250"/><xdr:pic><xdr:nvPicPr>
<xdr:cNvPr id="100" name="OPCC logo" descr="OPCC logo"/><xdr:cNvPicPr/></xdr:nvPicPr>
<xdr:blipFill><a:blip r:embed="rIdLogo"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>
<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="952500" cy="476250"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>
</xdr:oneCellAnchor>
<xdr:twoCellAnchor><xdr:from><xdr:col>7</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>30</xdr:row>
<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>10</xdr:col><xdr:colOff>0</xdr:colOff>
<xdr:row>34</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink="">
<xdr:nvSpPr><xdr:cNvPr id="101" name="Office use box"/><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/>
<a:p><a:r><a:t>OPCC use only</a:t></a:r></a:p></xdr:txBody></xdr:sp><xdr:clientData/>
</xdr:twoCellAnchor></xdr:group>"""


def png(width: int = 40, height: int = 20) -> bytes:
    """A small solid navy PNG (the stand-in logo)."""
    raw = b"".join(b"\x00" + b"\x1f\x3a\x6e" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    parts = (chunk(b"IHDR", header), chunk(b"IDAT", zlib.compress(raw)), chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(parts)


def _rewrite(path: Path, change: dict[str, bytes], add: dict[str, bytes]) -> None:
    """Replace some parts of the zip at ``path`` and add others."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts.update(change)
    parts.update(add)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _relation(rels: bytes, rel_id: str, kind: str, target: str) -> bytes:
    root = _xml(rels)
    etree.SubElement(root, f"{{{PACKAGE_RELS}}}Relationship", Id=rel_id, Type=kind, Target=target)
    return _bytes(root)


def build_with_image_and_chart(path: Path) -> None:
    """The example plus a chart, a comment, hidden and priorities sheets (openpyxl), then a
    logo picture and a shape in the chart's drawing (added to the zip)."""
    build_example(path, chart=True)
    with zipfile.ZipFile(path) as archive:
        drawing = archive.read("xl/drawings/drawing1.xml")
        rels = archive.read("xl/drawings/_rels/drawing1.xml.rels")
        types = archive.read("[Content_Types].xml")
    root = _xml(drawing)
    for anchor in list(_xml(LOGO_AND_SHAPE.encode())):
        root.append(anchor)
    content_types = _xml(types)
    content_types.insert(
        0, etree.Element(f"{{{TYPES}}}Default", Extension="png", ContentType="image/png")
    )
    _rewrite(
        path,
        {
            "xl/drawings/drawing1.xml": _bytes(root),
            "xl/drawings/_rels/drawing1.xml.rels": _relation(
                rels, "rIdLogo", f"{RELS}/image", "../media/logo.png"
            ),
            "[Content_Types].xml": _bytes(content_types),
        },
        {"xl/media/logo.png": png()},
    )


def build_macro_enabled(path: Path) -> None:
    """The example as a macro-enabled workbook: a stand-in vbaProject.bin, the macro-enabled
    content type, and a calculation chain as Excel saves one."""
    assert path.suffix == ".xlsm"
    build_example(path)
    with zipfile.ZipFile(path) as archive:
        rels = archive.read("xl/_rels/workbook.xml.rels")
        types = _xml(archive.read("[Content_Types].xml"))
    for override in types.iter(f"{{{TYPES}}}Override"):
        if override.get("PartName") == "/xl/workbook.xml":
            override.set("ContentType", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    etree.SubElement(
        types,
        f"{{{TYPES}}}Override",
        PartName="/xl/vbaProject.bin",
        ContentType="application/vnd.ms-office.vbaProject",
    )
    etree.SubElement(
        types,
        f"{{{TYPES}}}Override",
        PartName="/xl/calcChain.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
    )
    vba = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
    rels = _relation(rels, "rIdVba", vba, "vbaProject.bin")
    rels = _relation(rels, "rIdCalc", f"{RELS}/calcChain", "calcChain.xml")
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    chain = f'<calcChain xmlns="{main}"><c r="I13" i="1"/><c r="L13"/></calcChain>'.encode()
    _rewrite(
        path,
        {"[Content_Types].xml": _bytes(types), "xl/_rels/workbook.xml.rels": rels},
        {"xl/vbaProject.bin": MACRO_STAND_IN, "xl/calcChain.xml": chain},
    )


def build_protected(path: Path) -> None:
    build_example(path, protect=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLE / "grant-return-template.xlsx"
    build_example(target)
    print(f"wrote {target}")
