"""The funder's own template filled in (issue 15): the shipped example and three more — one
with a logo, a shape, a chart and a comment, one macro-enabled .xlsm, one protected with data
validation — filled from the demo year's Q2 return. Every mapped cell must equal the report,
every other part of the file must be as it was, and a map that does not fit is refused before
anything is written, every problem named with its place."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import zipfile
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openpyxl import load_workbook
from openpyxl.workbook.defined_name import DefinedName
from sqlalchemy import func, select

from fundtracker.errors import ValidationError
from fundtracker.models import Submission
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import AddOutcome, SetOutcomeActual
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.returns.reader import read_return
from fundtracker.returns.snapshot import checksum
from fundtracker.returns.template import ReturnTemplate, table_rows
from fundtracker.returns.template_package import Package
from fundtracker.storage import Database
from tests import template_support
from tests.helpers import run_cli
from tests.returns_support import GRANT, HOSTILE, Q2, money, set_hostile_narrative

Q1 = Period.parse("2025/26-Q1")

EXAMPLES = Path(str(files("resources") / "examples"))
EXAMPLE = EXAMPLES / "grant-return-template.xlsx"
EXAMPLE_MAP = EXAMPLES / "grant-return-template.toml"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PROJECT_COLUMNS = {  # the example map's project table (row 13 on)
    "A": "code",
    "B": "name",
    "C": "lead",
    "D": "budget",
    "E": "quarters.Q1",
    "F": "quarters.Q2",
    "G": "quarters.Q3",
    "H": "quarters.Q4",
    "J": "committed",
    "K": "forecast_outturn",
    "N": "outputs",
}
# What the variants' maps add to the example's.
PRIORITY_TABLE = """
[[tables]]
sheet = "Priorities"
first_row = 4
rows = "priorities:kent-pcc-2025"
[tables.columns]
A = "code"
B = "title"
C = "budget"
D = "spend_to_date"
"""
LINES_AND_RAG = """
[[tables]]
sheet = "Lines"
first_row = 2
rows = "transactions"
[tables.columns]
A = "date"
B = "supplier"
C = "project"
D = "net"
E = "vat"
"""


def _map_with(tmp_path: Path, extra: str, name: str) -> Path:
    text = EXAMPLE_MAP.read_text(encoding="utf-8")
    if "Lines" in extra:  # the protected form's RAG column joins the project table
        text = text.replace('N = "outputs"\n', 'N = "outputs"\nO = "rag"\n')
    path = tmp_path / f"{name}.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def _templates(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    """name -> (template, map) for the four templates."""
    image = tmp_path / "with-image.xlsx"
    template_support.build_with_image_and_chart(image)
    macro = tmp_path / "with-macro.xlsm"
    template_support.build_macro_enabled(macro)
    protected = tmp_path / "protected.xlsx"
    template_support.build_protected(protected)
    return {
        "example": (EXAMPLE, EXAMPLE_MAP),
        "image": (image, _map_with(tmp_path, PRIORITY_TABLE, "image")),
        "macro": (macro, EXAMPLE_MAP),
        "protected": (protected, _map_with(tmp_path, LINES_AND_RAG, "protected")),
    }


Filled = dict[str, tuple[Path, Path, Path]]  # name -> (template, map, filled file)


def _fill(db: Database, tmp_path: Path, **export: Any) -> tuple[Filled, dict[str, Any]]:
    """Each template filled from Q2's return, and the return document: the example through
    export_return, the others by the same writer from the same document (building the
    document is the slow part)."""
    filled: Filled = {}
    result = None
    for name, (template, the_map) in _templates(tmp_path).items():
        out = tmp_path / "filled" / f"{name}-filled{template.suffix}"
        loaded = ReturnTemplate.load(template, the_map)
        if result is None:
            result = submission.export_return(db, GRANT, Q2, out, writer=loaded.write, **export)
        else:
            loaded.write(out, result.document, result.status, result.checksum, result.version)
        filled[name] = (template, the_map, out)
    assert result is not None
    return filled, result.document


def _lookup(row: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        row = row[part]
    return row


def _expected_cell(value: Any) -> Any:
    """A report value as openpyxl reads the filled cell back."""
    if value in (None, ""):
        return None
    return value


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without(xml: bytes, *tags: str) -> bytes:
    """The part's XML with the named elements (and their children) taken out."""
    root = etree.fromstring(xml)
    for element in list(root.iter(*tags)):
        element.getparent().remove(element)
    return bytes(etree.tostring(root))


def _cells(xml: bytes) -> dict[str, bytes]:
    root = etree.fromstring(xml)
    return {c.get("r"): bytes(etree.tostring(c)) for c in root.iter(f"{MAIN}c")}


# --- Every figure in its place ---------------------------------------------------------------


def test_every_mapped_cell_equals_the_report_in_each_template(
    demo_db: Database, tmp_path: Path
) -> None:
    set_hostile_narrative(demo_db)  # A01's outputs are a =HYPERLINK(...) formula's text
    filled, document = _fill(demo_db, tmp_path, prepared_by="Jo Bloggs")
    report = document["report"]
    projects = table_rows(document, "allocations")
    assert len(projects) == 8  # the demo's A01..A08 fit the ten prepared rows 13-22
    for name, (_, _, out) in filled.items():
        book = load_workbook(out)  # formulas as written, not values
        sheet = book["Return"]
        assert sheet["C4"].value == "Tonbridge and Malling CSP"
        assert sheet["C5"].value == GRANT  # through the defined name GrantReference
        assert sheet["C7"].value == "2025/26-Q2"
        assert sheet["C8"].value.date().isoformat() == "2025-09-30"  # a date in a date cell
        assert sheet["C8"].number_format == "dd/mm/yyyy"
        assert money(sheet["C9"].value) == Decimal(report["summary"]["award"])  # 42,000.00
        assert sheet["C9"].number_format == template_support.MONEY  # the template's format
        assert sheet["C32"].value == "Jo Bloggs"
        assert sheet["C36"].value == "Draft" and sheet["C37"].value is None
        for offset, project in enumerate(projects):
            row = 13 + offset
            for letter, field in PROJECT_COLUMNS.items():
                value, cell = _lookup(project, field), sheet[f"{letter}{row}"]
                if letter in "DEFGHJK":
                    assert money(cell.value) == Decimal(value), (name, cell.coordinate)
                    assert cell.number_format == template_support.MONEY
                else:
                    assert cell.value == _expected_cell(value), (name, cell.coordinate)
            # the template's own formulas in the row are untouched
            assert sheet[f"I{row}"].value == f"=SUM(E{row}:H{row})"
            assert sheet[f"L{row}"].value == f"=D{row}-K{row}"
        assert sheet["A21"].value is None and sheet["A23"].value == "Total"
        # user text that looks like a formula went in as text
        assert sheet["N13"].value == HOSTILE[0] and sheet["N13"].data_type == "s"
        book.close()
    _assert_the_variants_own_tables(filled, document)


def _assert_the_variants_own_tables(filled: Filled, document: dict[str, Any]) -> None:
    book = load_workbook(filled["image"][2])
    priorities = table_rows(document, "priorities:kent-pcc-2025")
    shown = [
        (r[0], r[1], money(r[2]), money(r[3]))
        for r in book["Priorities"].iter_rows(
            min_row=4, max_row=3 + len(priorities), values_only=True
        )
    ]
    assert shown == [
        (p["code"], p["title"], Decimal(p["budget"]), Decimal(p["spend_to_date"]))
        for p in priorities
    ]
    assert priorities[-1]["code"] is None  # the Unaligned row: its code cell stays empty
    book = load_workbook(filled["protected"][2])
    lines = book["Lines"]
    transactions = document["transactions"]
    assert lines.max_row == 1 + len(transactions)  # the table ran on below its styled rows
    first, last = transactions[0], transactions[-1]
    assert lines["A2"].value.date().isoformat() == first["date"]
    assert lines["B2"].value == first["supplier"]
    assert money(lines["D2"].value) == Decimal(first["net"])
    assert money(lines[f"E{lines.max_row}"].value) == Decimal(last["vat"])
    # the rows run on below the two styled ones take the first row's formats
    assert lines[f"A{lines.max_row}"].value.date().isoformat() == last["date"]
    assert lines[f"D{lines.max_row}"].number_format == template_support.MONEY
    rag = [book["Return"][f"O{r}"].value for r in range(13, 21)]
    assert rag == [p["rag"] for p in table_rows(document, "allocations")]


# --- Everything else as it was ---------------------------------------------------------------


def test_every_other_part_and_cell_is_as_it_was(demo_db: Database, tmp_path: Path) -> None:
    filled, document = _fill(demo_db, tmp_path, submit=True)
    for name, (template, the_map, out) in filled.items():
        before, after = _parts(template), _parts(out)
        loaded = ReturnTemplate.load(template, the_map)
        sheets = Package(template).sheet_parts
        written = {t.sheet for t in loaded.targets.values()} | {t.sheet for t in loaded.map.tables}
        chain = "xl/calcChain.xml" in before
        assert chain == (name == "macro")
        # a submitted return adds one part, its hidden Snapshot sheet
        [snapshot] = set(after) - set(before)
        assert Package(out).sheet_parts["Snapshot"] == snapshot
        assert set(after) - {snapshot} == set(before) - {"xl/calcChain.xml"}, name
        changed = {sheets[s] for s in written} | {"xl/workbook.xml"}
        changed |= {"[Content_Types].xml", "xl/_rels/workbook.xml.rels"}  # its two entries
        for part in set(before) - changed - {"xl/calcChain.xml"}:
            assert after[part] == before[part], f"{name}: {part} changed"
        # the workbook part differs only in asking for a full recalculation on load and in
        # listing the Snapshot sheet, hidden, after the template's own
        assert b'fullCalcOnLoad="1"' in after["xl/workbook.xml"]
        calc, sheet_entry = f"{MAIN}calcPr", f"{MAIN}sheet"
        *kept_sheets, added = etree.fromstring(after["xl/workbook.xml"]).iter(sheet_entry)
        assert (added.get("name"), added.get("state")) == ("Snapshot", "hidden")
        assert len(kept_sheets) == len(Package(template).sheet_names)
        assert _without(after["xl/workbook.xml"], calc, sheet_entry) == _without(
            before["xl/workbook.xml"], calc, sheet_entry
        )
        # the relationships and content types gain exactly the new sheet's entry
        rels, types = "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
        gained = len(etree.fromstring(after[rels])) - len(etree.fromstring(before[rels]))
        assert gained == (0 if chain else 1), name  # the macro one also lost its chain's
        assert len(etree.fromstring(after[types])) == len(etree.fromstring(before[types])) + (
            0 if chain else 1
        )
        assert f'PartName="/{snapshot}"'.encode() in after[types]
        for title in written:
            part = sheets[title]
            mapped = _mapped_refs(loaded, document, title)
            old, new = _cells(before[part]), _cells(after[part])
            assert mapped <= set(new)
            for ref, cell in old.items():
                if ref not in mapped:
                    assert new.get(ref) == cell, f"{name}: {title}!{ref} changed"
            # everything around the cells (columns, merges, validation, protection, print
            # set-up, conditional formats, drawings, comments) is exactly as it was
            data, dimension = f"{MAIN}sheetData", f"{MAIN}dimension"
            kept = _without(before[part], data, dimension)
            assert _without(after[part], data, dimension) == kept, f"{name}: {title}"
        if name == "macro":  # the macros survive, and Excel still sees a macro workbook
            assert after["xl/vbaProject.bin"] == template_support.MACRO_STAND_IN
            types = after["[Content_Types].xml"]
            assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
            assert load_workbook(out, keep_vba=True).vba_archive is not None
        if chain:  # the chain went with its relationship and content type, nothing more
            rels = "xl/_rels/workbook.xml.rels"
            assert b"calcChain" not in after[rels] + after["[Content_Types].xml"]


def _mapped_refs(loaded: ReturnTemplate, document: dict[str, Any], title: str) -> set[str]:
    """The cells of sheet ``title`` the map writes: its [cells] and each table's rows."""
    refs = {t.ref.split("!")[1] for t in loaded.targets.values() if t.sheet == title}
    for table in loaded.map.tables:
        if table.sheet == title:
            rows = range(table.first_row, table.first_row + len(table_rows(document, table.rows)))
            refs |= {f"{letter}{row}" for letter in table.columns for row in rows}
    return refs


def test_outcomes_fill_the_outcomes_table_and_read_back(demo_db: Database, tmp_path: Path) -> None:
    add = [
        AddOutcome(
            GRANT, "A08", {"code": "YP", "title": "Young people", "unit": "count", "target": 40}
        ),
        AddOutcome(
            GRANT, "A08", {"code": "WB", "title": "Wellbeing", "unit": "percent", "target": "80%"}
        ),
        SetOutcomeActual(GRANT, Q1, "A08", "YP", 8),
        SetOutcomeActual(GRANT, Q2, "A08", "YP", 12),
        SetOutcomeActual(GRANT, Q1, "A08", "WB", 41, 50),
        SetOutcomeActual(GRANT, Q2, "A08", "WB", 34, 50),
    ]
    for operation in add:
        run_operation(demo_db, operation)
    loaded = ReturnTemplate.load(EXAMPLE, EXAMPLE_MAP)
    out = tmp_path / "q2.xlsx"
    submission.export_return(demo_db, GRANT, Q2, out, writer=loaded.write)
    sheet = load_workbook(out)["Outcomes"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] == "A08"}
    # YP: 40 a year spread evenly, 10 a quarter, so 20 by Q2's end; 8 + 12 = 20 done: 100.0%.
    assert rows["YP"][2:8] == ("Young people", "count", 40, 20, 20, 100)
    # WB: (41 + 34) of (50 + 50) = 75.0% against 80.0%: 75 / 80 = 93.75, 93.8% half up.
    assert rows["WB"][2:8] == ("Wellbeing", "percent", 80, 80, 75, 93.8)
    assert all(isinstance(v, int | float) for v in rows["WB"][4:8])  # numbers, not text
    read = loaded.read(out)
    (a08,) = [a for a in read["allocations"] if a["code"] == "A08"]
    report = submission.preview(demo_db, GRANT, Q2)["report"]
    (expected,) = [a for a in report["allocations"] if a["code"] == "A08"]
    fields = ("code", "title", "unit", "target", "target_to_date", "actual_to_date")
    keep = [{k: o[k] for k in (*fields, "percent_of_target")} for o in expected["outcomes"]]
    assert [{k: o[k] for k in (*fields, "percent_of_target")} for o in a08["outcomes"]] == keep
    assert a08["outcomes"][-1]["actual_to_date"] == "75.0"  # as the report has it


# --- Read back, submitted, refused -----------------------------------------------------------


def test_read_back_gives_what_read_return_gives(demo_db: Database, tmp_path: Path) -> None:
    ours = tmp_path / "ours.xlsx"
    submission.export_return(demo_db, GRANT, Q2, ours)
    expected = read_return(ours)
    loaded = ReturnTemplate.load(EXAMPLE, EXAMPLE_MAP)
    theirs = tmp_path / "theirs.xlsx"
    submission.export_return(demo_db, GRANT, Q2, theirs, writer=loaded.write)
    got = loaded.read(theirs)
    for key in ("grant", "period", "period_end"):
        assert got[key] == expected[key]
    assert got["period_start"] is None  # the example does not show it
    details = expected["grant_details"]
    assert got["grant_details"] == {**details, "funder": None, "award": None}
    assert got["summary"] == {k: expected["summary"][k] for k in ("award", "received")}
    fields = ("code", "name", "lead", "budget", "quarters", "committed", "forecast_outturn")
    assert [{k: a[k] for k in fields} for a in got["allocations"]] == [
        {k: a[k] for k in fields} for a in expected["allocations"]
    ]
    assert [a["outputs"] for a in got["allocations"]] == [
        a["outputs"] for a in expected["allocations"]
    ]
    assert got["return"] == {**expected["return"], "version": None}


def test_a_submission_through_the_template_is_the_same_submission(
    demo_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q2.xlsx"
    result = run_cli(
        capsys,
        demo_db.url,
        "export-return",
        "--grant",
        GRANT,
        "--period",
        str(Q2),
        "--template",
        str(EXAMPLE),
        "--map",
        str(EXAMPLE_MAP),
        "--out",
        str(out),
        "--submit",
    )
    assert result.code == 0, result.err
    (recorded,) = submission.list_returns(demo_db, GRANT)
    assert recorded.version == 1 and recorded.period == str(Q2)
    snapshot = submission.snapshot_text(demo_db, GRANT, Q2)
    assert checksum(json.loads(snapshot)) == recorded.checksum
    sheet = load_workbook(out)["Return"]
    assert sheet["C36"].value == "Submitted" and sheet["C37"].value == recorded.checksum
    assert f"checksum (SHA-256) {recorded.checksum}" in result.out
    read = run_cli(
        capsys,
        demo_db.url,
        "read-return",
        str(out),
        "--template",
        str(EXAMPLE),
        "--map",
        str(EXAMPLE_MAP),
        "--format",
        "json",
    )
    assert read.code == 0, read.err
    assert read.json()["return"]["checksum"] == recorded.checksum
    assert read.json()["return"]["status"] == "Submitted"
    # exported again without --submit: the submitted snapshot, status and checksum
    again_out = tmp_path / "q2-again.xlsx"
    submission.export_return(
        demo_db, GRANT, Q2, again_out, writer=ReturnTemplate.load(EXAMPLE, EXAMPLE_MAP).write
    )
    again_sheet = load_workbook(again_out)["Return"]
    assert again_sheet["C36"].value == "Submitted"
    assert again_sheet["C37"].value == recorded.checksum
    # submitting again is refused (the period is locked), and nothing more is recorded
    again = run_cli(
        capsys,
        demo_db.url,
        "export-return",
        "--grant",
        GRANT,
        "--period",
        str(Q2),
        "--template",
        str(EXAMPLE),
        "--map",
        str(EXAMPLE_MAP),
        "--out",
        str(out),
        "--submit",
    )
    assert again.code == 1 and "already submitted" in again.err


def test_the_cli_wants_both_files_and_a_matching_name(
    demo_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("export-return", "--grant", GRANT, "--period", str(Q2))
    alone = run_cli(capsys, demo_db.url, *base, "--template", str(EXAMPLE), "--out", "x.xlsx")
    assert alone.code == 2 and "--template and --map go together" in alone.err
    macro = tmp_path / "m.xlsm"
    template_support.build_macro_enabled(macro)
    wrong = run_cli(
        capsys,
        demo_db.url,
        *base,
        "--template",
        str(macro),
        "--map",
        str(EXAMPLE_MAP),
        "--out",
        str(tmp_path / "out.xlsx"),
    )
    assert wrong.code == 2 and "must end .xlsm" in wrong.err
    assert not (tmp_path / "out.xlsx").exists()


BAD_CELLS = """
[cells]
"Return!C4" = "grant_details.recipient"
"Return!I13" = "summary.spend_to_date"
"Return!D4" = "grant"
"Return!C9x" = "summary.award"
"NoSuchName" = "grant"
"Nowhere!B2" = "grant"
"""
BAD_FIGURES = """
[cells]
"Return!C5" = "summary"
"Return!C6" = "allocations"
"Return!C7" = "summary.nope"
"Return!C8" = "year_end.to_return"

[[tables]]
sheet = "Return"
first_row = 13
rows = "allocations"
[tables.columns]
A = "code"
N = "outputz"

[[tables]]
sheet = "Outcomes"
first_row = 4
rows = "priorities:no-such-plan"
[tables.columns]
A = "code"
"""


def _problems(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(e) for e in exc.value.errors]


def test_a_map_that_does_not_fit_is_refused_naming_every_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CELLS, encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        ReturnTemplate.load(EXAMPLE, bad)
    assert _problems(refused) == [
        '[cells] "Return!I13": Return!I13 holds a formula (=SUM(E13:H13)): the template works '
        "it out; map a cell it reads instead",
        '[cells] "Return!D4": Return!D4 is inside merged cells: map their first cell, C4',
        "[cells] \"Return!C9x\": 'C9x' is not a cell such as C5",
        "[cells] \"NoSuchName\": the template has no defined name 'NoSuchName' (a cell is "
        "written Sheet!C5; its names: GrantReference, _xlnm.Print_Area)",
        "[cells] \"Nowhere!B2\": the template has no sheet 'Nowhere' (its sheets: Return, "
        "Outcomes)",
    ]
    bad.write_text('unknown = 1\n[[tables]]\nsheet = "Return"\nrows = "people"\n', "utf-8")
    with pytest.raises(ValidationError) as refused:
        ReturnTemplate.load(EXAMPLE, bad)
    assert _problems(refused) == [
        "bad.toml unknown: unknown key (a map has [cells] and [[tables]])",
        "bad.toml [[tables]] 1: first_row must be a row number such as 12",
        "bad.toml [[tables]] 1: rows 'people' must be allocations, outcomes, transactions or "
        "priorities:PLAN-KEY",
        "bad.toml [[tables]] 1: [tables.columns] must map column letters to fields",
    ]


def test_paths_that_are_not_figures_are_refused_and_nothing_is_submitted(
    demo_db: Database, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_FIGURES, encoding="utf-8")
    loaded = ReturnTemplate.load(EXAMPLE, bad)
    out = tmp_path / "q2.xlsx"
    with pytest.raises(ValidationError) as refused:
        submission.export_return(demo_db, GRANT, Q2, out, submit=True, writer=loaded.write)
    problems = _problems(refused)
    assert problems[0].startswith(
        "[cells] \"Return!C5\": 'summary' is a group of figures, not one: name one of allocated,"
    )
    assert problems[1] == (
        "[cells] \"Return!C6\": 'allocations' is a list of 8 rows, not one figure: use a "
        "[[tables]] entry"
    )
    assert problems[2].startswith(
        "[cells] \"Return!C7\": 'summary.nope' is not a figure of the return (under summary: "
    )
    # year_end.* is a figure of the final return only: blank in Q2, not refused
    assert problems[3].startswith(
        "[[tables]] 1 (allocations on Return): not a field of the allocations rows: "
        "N = 'outputz' (their fields: budget, code,"
    )
    assert problems[4] == (
        "[[tables]] 2 (priorities:no-such-plan on Outcomes): the grant has no plan "
        "'no-such-plan' (its plans: kent-pcc-2025, tmbc-csp-2025-26)"
    )
    assert len(problems) == 5
    assert not out.exists()
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


def _shifted_map(tmp_path: Path, first_row: int, grow: bool) -> Path:
    text = EXAMPLE_MAP.read_text(encoding="utf-8").replace(
        "first_row = 13", f"first_row = {first_row}"
    )
    if grow:
        text = text.replace('rows = "allocations"', 'rows = "allocations"\ngrow = true')
    path = tmp_path / f"shifted-{grow}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_table_needing_more_rows_than_prepared_is_refused(
    demo_db: Database, tmp_path: Path
) -> None:
    # From row 16, rows 16-22 are prepared: 7 rows for the demo's 8 projects.
    loaded = ReturnTemplate.load(EXAMPLE, _shifted_map(tmp_path, 16, grow=False))
    out = tmp_path / "q2.xlsx"
    with pytest.raises(ValidationError) as refused:
        submission.export_return(demo_db, GRANT, Q2, out, writer=loaded.write)
    (problem,) = _problems(refused)
    assert problem == (
        "[[tables]] 1 (allocations on Return): the return has 8 allocations rows but the "
        "template prepared 7 (rows 16 to 22; A23 holds the value 'Total'): add rows to the "
        "template's table"
    )
    assert not out.exists()


# --- grow = true: rows inserted, everything below moved ----------------------------------------


def _twelve_projects(document: dict[str, Any]) -> dict[str, Any]:
    """The return with four more projects, A09-A12: copies of A01-A04 (figures and
    narratives), so the table needs 12 rows."""
    twelve = copy.deepcopy(document)
    allocations, narratives = twelve["report"]["allocations"], twelve["projects"]
    by_code = {n["code"]: n for n in narratives}
    for number, project in enumerate(copy.deepcopy(allocations[:4]), 9):
        narratives.append({**by_code[project["code"]], "code": f"A{number:02d}"})
        allocations.append({**project, "code": f"A{number:02d}"})
    return twelve


def _growing_template(tmp_path: Path) -> tuple[Path, Path]:
    """The protected form (validation on D13:D22 and O13:O22) with a name for the Total
    row's spend and a formula on the Outcomes sheet reading its budget total, and the
    example's map with the project table from row 15 (rows 15-22: 8 prepared) and grow."""
    template = tmp_path / "growing.xlsx"
    template_support.build_protected(template)
    book = load_workbook(template)
    book.defined_names["TotalSpend"] = DefinedName("TotalSpend", attr_text="Return!$I$23")
    book["Outcomes"]["J1"] = "=Return!D23"
    book["Outcomes"]["J2"] = "=Return!I22"  # the last prepared row: it does not move
    book.save(template)
    return template, _shifted_map(tmp_path, 15, grow=True)


def _grow(document: dict[str, Any], tmp_path: Path) -> tuple[Path, ReturnTemplate]:
    template, the_map = _growing_template(tmp_path)
    loaded = ReturnTemplate.load(template, the_map)
    out = tmp_path / "filled" / "grown.xlsx"
    out.parent.mkdir(exist_ok=True)
    loaded.write(out, _twelve_projects(document), "Draft")
    return out, loaded


def test_grow_inserts_rows_and_moves_everything_below(demo_db: Database, tmp_path: Path) -> None:
    document = submission.preview(demo_db, GRANT, Q2)
    out, loaded = _grow(document, tmp_path)
    book = load_workbook(out)
    sheet = book["Return"]
    # 12 projects from row 15 need rows 15-26: 4 rows inserted below row 22, so everything
    # from the Total row (23) down moves by 4.
    assert [sheet[f"A{r}"].value for r in range(15, 27)] == [f"A{n:02d}" for n in range(1, 13)]
    assert sheet["A27"].value == "Total"
    # the totals cover all 12 (the SUM over the table grew with it), the row's own refs moved
    assert sheet["D27"].value == "=SUM(D13:D26)" and sheet["I27"].value == "=SUM(I13:I26)"
    assert sheet["M27"].value == '=IF(D27=0,"",L27/D27)'
    # inserted rows copy row 22: its formulas with their row moved, its styles
    assert sheet["I23"].value == "=SUM(E23:H23)" and sheet["L26"].value == "=D26-K26"
    assert sheet["I22"].value == "=SUM(E22:H22)"  # the prepared row itself is unchanged
    assert sheet["D26"].number_format == template_support.MONEY
    assert sheet["D26"].fill.fgColor.rgb == sheet["D22"].fill.fgColor.rgb
    # the formulas below and the declaration block moved down 4, with their merges
    assert sheet["C29"].value == "=C9-D27" and sheet["C30"].value == "=C9-K27"
    assert sheet["A32"].value == "Declaration" and sheet["A35"].value == "Signed"
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert {"A33:N34", "C35:F35", "C38:F38", "C4:F4"} <= merged and "A29:N30" not in merged
    # mapped cells below the table were written where they now are: Name (C32 -> C36), Status
    assert sheet["C36"].value == document["prepared_by"] and sheet["C40"].value == "Draft"
    validation = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert validation == {"O13:O26": '"G,A,R"', "D13:D26": "0"}
    assert [str(r.sqref) for r in sheet.conditional_formatting] == ["L13:L27"]
    assert book.defined_names["TotalSpend"].attr_text == "Return!$I$27"
    assert sheet.print_area == "'Return'!$A$1:$N$41"  # was A1:N37
    assert book["Outcomes"]["J1"].value == "=Return!D27"
    assert book["Outcomes"]["J2"].value == "=Return!I22"
    # read back, from where the rows now are
    read = loaded.read(out)
    assert [a["code"] for a in read["allocations"]] == [f"A{n:02d}" for n in range(1, 13)]
    assert read["return"]["status"] == "Draft"
    assert read["return"]["prepared_by"] == document["prepared_by"]


def test_grow_refuses_a_shared_formula_it_would_copy(demo_db: Database, tmp_path: Path) -> None:
    template, the_map = _growing_template(tmp_path)
    with zipfile.ZipFile(template) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    # Excel writes a column of like formulas as one shared formula; here row 22's spend to date
    shared = b'<f t="shared" ref="I22:I22" si="0">SUM(E22:H22)</f>'
    template_support._rewrite(
        template,
        {"xl/worksheets/sheet1.xml": sheet.replace(b"<f>SUM(E22:H22)</f>", shared)},
        {},
    )
    loaded = ReturnTemplate.load(template, the_map)
    out = tmp_path / "grown.xlsx"
    with pytest.raises(ValidationError) as refused:
        loaded.write(out, _twelve_projects(submission.preview(demo_db, GRANT, Q2)), "Draft")
    assert _problems(refused) == [
        "grow = true on Return: Return!I22: a shared formula in a row that would move or be "
        "copied, or referring to rows that would move, cannot be moved (make it an ordinary "
        "formula)"
    ]
    assert not out.exists()


def test_grow_refuses_a_chart_over_the_table(demo_db: Database, tmp_path: Path) -> None:
    template = tmp_path / "with-chart.xlsx"
    # its chart's categories are A13:A22, the table's codes; a shape sits at rows 31-35
    template_support.build_with_image_and_chart(template)
    the_map = tmp_path / "grow.toml"
    text = EXAMPLE_MAP.read_text(encoding="utf-8")
    the_map.write_text(text.replace('rows = "allocations"', 'rows = "allocations"\ngrow = true'))
    loaded = ReturnTemplate.load(template, the_map)
    out = tmp_path / "grown.xlsx"
    document = _twelve_projects(submission.preview(demo_db, GRANT, Q2))
    with pytest.raises(ValidationError) as refused:
        loaded.write(out, document, "Draft")
    assert _problems(refused) == [
        "grow = true on Return: the chart 'Budget and spend to date by project' "
        "(xl/charts/chart1.xml) plots 'Return'!$A$13:$A$22, rows that would move: a chart "
        "cannot be moved with them; add rows to the template's table",
        "grow = true on Return: the picture or shape 'Office use box' on Return is anchored "
        "at row 31, which would move: drawings cannot be moved with the rows",
    ]
    assert not out.exists()


def test_a_cell_written_twice_is_refused(demo_db: Database, tmp_path: Path) -> None:
    twice = tmp_path / "twice.toml"
    text = EXAMPLE_MAP.read_text(encoding="utf-8")
    twice.write_text(
        text.replace('"Return!C4" =', '"Return!B14" = "grant"\n"Return!C4" ='), "utf-8"
    )
    loaded = ReturnTemplate.load(EXAMPLE, twice)
    with pytest.raises(ValidationError) as refused:
        submission.export_return(demo_db, GRANT, Q2, tmp_path / "q2.xlsx", writer=loaded.write)
    assert _problems(refused) == [
        '[[tables]] 1 (allocations on Return): Return!B14 is also written by [cells] "Return!B14"'
    ]


def test_a_hostile_template_is_refused_not_opened(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(EXAMPLE) as source, zipfile.ZipFile(hostile, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":  # entities: a billion laughs
                data = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + data
            target.writestr(name, data)
    with pytest.raises(ValidationError) as refused:
        ReturnTemplate.load(hostile, EXAMPLE_MAP)
    assert "hostile.xlsx" in str(refused.value)
    assert "DTD" in str(refused.value) or "entit" in str(refused.value)
    not_zip = tmp_path / "not.xlsx"
    not_zip.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValidationError, match=r"not\.xlsx is a damaged or truncated"):
        ReturnTemplate.load(not_zip, EXAMPLE_MAP)


# --- Recalculated by LibreOffice ---------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_the_templates_own_formulas(
    demo_db: Database, tmp_path: Path
) -> None:
    filled, document = _fill(demo_db, tmp_path)
    grown, _ = _grow(document, tmp_path)
    out_dir = tmp_path / "recalculated"
    assert SOFFICE is not None
    subprocess.run(  # one LibreOffice run for all four: it takes seconds to start
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out_dir),
            *(str(out) for _, _, out in filled.values()),
            str(grown),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    summary = document["report"]["summary"]
    projects = table_rows(document, "allocations")
    award, allocated = Decimal(summary["award"]), Decimal(summary["allocated"])
    forecast = sum(Decimal(p["forecast_outturn"]) for p in projects)
    for name, (_, _, out) in filled.items():
        book = load_workbook(out_dir / f"{out.stem}.xlsx", data_only=True)
        sheet = book["Return"]
        # Demo Q2 by hand: budgets 8,000 + 4,500 + 7,500 + 6,000 + 3,000 + 2,500 + 6,000 +
        # 4,000 = 41,500.00 (the award is 42,000.00, so 500.00 is not yet allocated); spend
        # to date is each project's Q1 + Q2, 18,515.15 in all.
        assert money(sheet["D23"].value) == allocated == Decimal("41500.00"), name
        assert money(sheet["I23"].value) == Decimal(summary["spend_to_date"]), name
        assert money(sheet["C25"].value) == award - allocated == Decimal("500.00"), name
        assert money(sheet["K23"].value) == forecast
        assert money(sheet["L23"].value) == allocated - forecast  # the variance formula
        assert money(sheet["C26"].value) == award - forecast  # reads a cell we filled
        for offset, project in enumerate(projects):
            quarters = sum(Decimal(v) for v in project["quarters"].values())
            assert money(sheet[f"I{13 + offset}"].value) == quarters
        if name == "image":
            total = sum(
                Decimal(p["spend_to_date"])
                for p in table_rows(document, "priorities:kent-pcc-2025")
            )
            assert (
                money(book["Priorities"]["D10"].value) == total == Decimal(summary["spend_to_date"])
            )
    # Grown to 12 projects: the demo's eight and copies of A01-A04 (8,000 + 4,500 + 7,500 +
    # 6,000 = 26,000.00), so the budgets total 41,500.00 + 26,000.00 = 67,500.00, and the
    # grant not yet allocated is 42,000.00 - 67,500.00 = -25,500.00.
    grown_book = load_workbook(out_dir / "grown.xlsx", data_only=True)
    sheet = grown_book["Return"]
    assert money(sheet["D27"].value) == Decimal("67500.00")
    assert money(sheet["C29"].value) == Decimal("-25500.00")
    copies = sum(Decimal(p["budget"]) for p in projects[:4])
    assert copies == Decimal("26000.00")
    assert money(sheet["I26"].value) == sum(Decimal(v) for v in projects[3]["quarters"].values())
    assert money(grown_book["Outcomes"]["J1"].value) == Decimal("67500.00")  # =Return!D27
