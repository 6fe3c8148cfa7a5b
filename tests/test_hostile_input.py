"""Hostile and broken input through the command line: a corpus built here plus hypothesis-made
files. Every one gives a clear error (exit 1 or 2, a message, no traceback, nothing changed)
or a correct import. Exported CSV and workbooks never turn user text into a formula, and
evidence never lands outside the folder chosen for it."""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from fundtracker.models import Base
from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli

DATA = Path(__file__).parent / "data"
GRANT_TOML = (DATA / "grant.toml").read_text(encoding="utf-8")
GRANT = "CRG-2025-26"
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
FORMULAS = ["=1+2", "+SUM(A1:A9)", "-2+3", "@cmd", "\tpadded", '=HYPERLINK("http://x","y")']
fuzz = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused file changed nothing."""
    with db.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run_cli(capsys, database_url, "plan", "import", str(DATA / "plan.toml")).code == 0
    return database_url


def _refused_cleanly(result: CliResult) -> None:
    assert result.code in (1, 2), result.out
    assert result.err.startswith("fundtracker-cli: ") and len(result.err.strip()) > 20
    assert "Traceback" not in result.err


def _import_then_check(
    db: Database, capsys: pytest.CaptureFixture[str], url: str, kind: str, path: Path
) -> CliResult:
    """Import; a refusal must change nothing; an acceptance must be complete and stable
    (importing the same file again changes nothing)."""
    before = _state(db)
    result = run_cli(capsys, url, kind, "import", str(path))  # an exception here fails too
    if result.code != 0:
        _refused_cleanly(result)
        assert _state(db) == before
        return result
    after = _state(db)
    assert run_cli(capsys, url, kind, "import", str(path)).code == 0
    assert _state(db) == after
    return result


# --- Setup files -------------------------------------------------------------------------


def _grant_with(old: str, new: str) -> bytes:
    assert old in GRANT_TOML
    return GRANT_TOML.replace(old, new, 1).encode("utf-8")


AWARD = 'award = "42000.00"'
SETUP_CORPUS: dict[str, bytes] = {
    "empty": b"",
    "random-bytes": bytes(range(256)) * 8,
    "utf-16": GRANT_TOML.encode("utf-16"),
    "cp1252-pound": GRANT_TOML.replace("Kent PCC", "Kent PCC £").encode("cp1252"),
    "truncated-middle": GRANT_TOML.encode()[: len(GRANT_TOML) // 2],
    "truncated-in-a-string": GRANT_TOML.encode()[: GRANT_TOML.index("Youth") + 3],
    "nul-bytes": GRANT_TOML.encode().replace(b"\n", b"\x00\n", 3),
    "award-1e9-text": _grant_with(AWARD, 'award = "1e9"'),
    "award-NaN": _grant_with(AWARD, 'award = "NaN"'),
    "award-nan-float": _grant_with(AWARD, "award = nan"),
    "award-inf-float": _grant_with(AWARD, "award = inf"),
    "award-bad-grouping": _grant_with(AWARD, 'award = "£1,23,4"'),
    "award-sub-penny": _grant_with(AWARD, 'award = "42000.001"'),
    "award-huge": _grant_with(AWARD, 'award = "99999999999999999999999.00"'),
    "award-bool": _grant_with(AWARD, "award = true"),
    "date-31-feb-text": _grant_with("start = 2025-04-01", 'start = "31/02/2025"'),
    "date-31-feb-toml": _grant_with("start = 2025-04-01", "start = 2025-02-31"),
    "date-far-future": _grant_with("end = 2026-03-31", "end = 9999-12-31"),
    "name-a-megabyte": _grant_with('"Crime Reduction Grant 2025/26"', '"' + "x" * 1_000_000 + '"'),
    "reference-too-long": _grant_with('"CRG-2025-26"', '"' + "R" * 101 + '"'),
    "code-too-long": _grant_with('code = "A01"', 'code = "' + "C" * 41 + '"'),
    "nested-deep": b"a = " + b"[" * 50_000 + b"]" * 50_000,
    "weights-1e2": _grant_with("P1 = 60, P2 = 40", "P1 = 1e2, P2 = 0"),
    "weights-nan": _grant_with("P1 = 60, P2 = 40", "P1 = nan, P2 = 40"),
    "too-large": b"# " + b"x" * 6_000_000,
}


@pytest.mark.parametrize("name", sorted(SETUP_CORPUS))
def test_broken_grant_files_are_refused_clearly_and_change_nothing(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_bytes(SETUP_CORPUS[name])
    result = _import_then_check(db, capsys, url, "grant", path)
    assert result.code != 0, f"{name} was accepted: {result.out}"


@pytest.mark.parametrize(
    ("name", "content", "award"),
    [
        ("utf-8-bom", b"\xef\xbb\xbf" + GRANT_TOML.encode(), "42000.00"),
        # A float in exponent form; 9e8, as 1e9 is over the largest amount, £999,999,999.99.
        ("award-9e8-float", _grant_with(AWARD, "award = 9e8"), "900000000.00"),
        ("award-pounds-int", _grant_with(AWARD, "award = 42000"), "42000.00"),
        ("award-symbol", _grant_with(AWARD, 'award = "£42,000.00"'), "42000.00"),
    ],
)
def test_unusual_but_valid_grant_files_import_correctly(
    db: Database,
    url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    award: str,
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_bytes(content)
    assert _import_then_check(db, capsys, url, "grant", path).code == 0
    shown = run_cli(capsys, url, "grant", "show", GRANT, "--format", "json").json()
    assert shown["grant"]["award"] == award
    assert [a["code"] for a in shown["allocations"]] == ["A01", "A02"]


NASTY = [
    "",
    "\x00",
    "nan",
    "1e9",
    "£1,23,4",
    "31/02/2025",
    "2025-02-31",
    '"',
    "[[",
    "]",
    "=1+2",
    "\ufeff",
    "\udcff",
    "-" * 50,
    "9" * 40,
    '"\\u0000"',
    "[allocations.priorities]",
]


@st.composite
def mutated_grant(draw: st.DrawFn) -> bytes:
    """The valid grant file with a few spans replaced by nasty tokens or random text."""
    text = GRANT_TOML
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        insert = draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=12)))
        text = text[:start] + insert + text[end:]
    return text.encode("utf-8", errors="surrogateescape")


@fuzz
@given(content=mutated_grant())
def test_generated_grant_files_are_imported_correctly_or_refused_cleanly(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "generated.toml"
    path.write_bytes(content)
    _import_then_check(db, capsys, url, "grant", path)


@fuzz
@given(content=st.binary(max_size=3000))
def test_generated_bytes_as_a_plan_file_are_refused_cleanly(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "generated-plan.toml"
    path.write_bytes(content)
    _import_then_check(db, capsys, url, "plan", path)


def test_a_failing_import_names_the_problem_and_changes_nothing_on_this_database(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The PostgreSQL portability case: text longer than its column is refused by the
    importer itself, never by a driver error (SQLite would have kept it silently)."""
    path = tmp_path / "long-name.toml"
    path.write_bytes(SETUP_CORPUS["name-a-megabyte"])
    result = _import_then_check(db, capsys, url, "grant", path)
    assert "name is 1000000 characters long; at most 300" in result.err


# --- Ledger files ------------------------------------------------------------------------


@pytest.fixture
def grant_url(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    pytest.importorskip("fundtracker.ledger.importer")
    assert run_cli(capsys, url, "grant", "import", str(DATA / "grant.toml")).code == 0
    return url


HEADER = "Date,Reference,Supplier,Description,Net,VAT"


def _csv_bytes(*rows: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join([HEADER, *rows]).encode(encoding)


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [HEADER.split(","), *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet_xml(xml: bytes, level: int = 9) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx_bytes([["01/07/2025", "R1", "S", "D", 1, 0]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for item in source.infolist():
            data = xml if item.filename.endswith("sheet1.xml") else source.read(item)
            target.writestr(item.filename, data)
    return buffer.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode()
        for n in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    + b"</sheetData></worksheet>"
)

LEDGER_CORPUS: dict[str, Callable[[], tuple[str, bytes]]] = {
    "empty": lambda: ("csv", b""),
    "random-bytes-csv": lambda: ("csv", os.urandom(4000)),
    "random-bytes-xlsx": lambda: ("xlsx", os.urandom(4000)),
    "truncated-xlsx": lambda: ("xlsx", _xlsx_bytes([["01/07/2025", "R", "S", "D", 1, 0]])[:900]),
    "zip-bomb": lambda: ("xlsx", _with_sheet_xml(b"<x>" + b" " * 60_000_000 + b"</x>", 1)),
    "entity-expansion": lambda: ("xlsx", _with_sheet_xml(BILLION_LAUGHS)),
    "date-31-feb": lambda: ("csv", _csv_bytes("31/02/2025,R1,S,D,1.00,0.00")),
    "amount-1e9": lambda: ("csv", _csv_bytes("01/07/2025,R1,S,D,1e9,0.00")),
    "amount-NaN": lambda: ("csv", _csv_bytes("01/07/2025,R1,S,D,NaN,0.00")),
    "amount-grouping": lambda: ("csv", _csv_bytes('01/07/2025,R1,S,D,"£1,23,4",0.00')),
    "amount-huge": lambda: ("csv", _csv_bytes("01/07/2025,R1,S,D,99999999999999999999,0.00")),
    "cell-huge": lambda: ("csv", _csv_bytes("01/07/2025,R1,S," + "d" * 2_000_000 + ",1.00,0")),
    "one-good-one-bad": lambda: (
        "csv",
        _csv_bytes("01/07/2025,R1,S,D,1.00,0.00", "31/02/2025,R2,S,D,2.00,0.00"),
    ),
}


def _spend_and_batches(db: Database) -> tuple[int, int]:
    state = _state(db)
    return len(state["spend_lines"]), len(state["import_batches"])


@pytest.mark.parametrize("name", sorted(LEDGER_CORPUS))
def test_broken_ledger_files_are_refused_clearly_and_write_nothing(
    db: Database, grant_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    suffix, content = LEDGER_CORPUS[name]()
    path = tmp_path / f"{name}.{suffix}"
    path.write_bytes(content)
    before = _state(db)
    result = run_cli(capsys, grant_url, "import-ledger", str(path), "--grant", GRANT)
    _refused_cleanly(result)
    assert _state(db) == before


def _return_with_a_formula_and_a_bomb_of_text() -> tuple[str, bytes]:
    """A workbook shaped like a return whose cells hold formulas and a huge text."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Summary"
    book.active.append(["Award", "=1/0"])
    book.active.append(["Grant reference", "x" * 40_000])
    buffer = io.BytesIO()
    book.save(buffer)
    return "xlsx", buffer.getvalue()


RETURN_CORPUS = {
    **{name: LEDGER_CORPUS[name] for name in ("empty", "random-bytes-xlsx", "truncated-xlsx")},
    "zip-bomb": LEDGER_CORPUS["zip-bomb"],
    "entity-expansion": LEDGER_CORPUS["entity-expansion"],
    "a-ledger-not-a-return": lambda: ("xlsx", _xlsx_bytes([["01/07/2025", "R", "S", "D", 1, 0]])),
    "formulas-and-huge-text": _return_with_a_formula_and_a_bomb_of_text,
}


@pytest.mark.parametrize("name", sorted(RETURN_CORPUS))
def test_broken_return_workbooks_are_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    suffix, content = RETURN_CORPUS[name]()
    path = tmp_path / f"{name}.{suffix}"
    path.write_bytes(content)
    result = run_cli(capsys, str(tmp_path / "unused.sqlite3"), "read-return", str(path))
    _refused_cleanly(result)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-16"])
def test_ledgers_in_windows_encodings_import_exactly(
    grant_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    path = tmp_path / "windows.csv"
    path.write_bytes(
        _csv_bytes('03/07/2025,INV1,Café Ltd,Hire,"£1,234.50",£246.90', encoding=encoding)
    )
    result = run_cli(capsys, grant_url, "import-ledger", str(path), "--grant", GRANT)
    assert result.code == 0, result.err
    lines = run_cli(capsys, grant_url, "spend", "list", "--grant", GRANT, "--format", "json")
    [line] = lines.json()
    assert (line["supplier"], line["net"], line["vat"]) == ("Café Ltd", "1234.50", "246.90")


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20
)


@fuzz
@given(rows=st.lists(st.tuples(cell_text, cell_text, cell_text), min_size=1, max_size=4))
def test_generated_ledger_csvs_import_whole_or_not_at_all(
    db: Database,
    grant_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[tuple[str, str, str]],
) -> None:
    """Random dates, amounts and suppliers: the file is refused (nothing written) or every
    row is there exactly once."""
    path = tmp_path / "generated.csv"
    unique = uuid.uuid4().hex[:8]  # hypothesis may replay an example: never a duplicate
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        for n, (day, amount, supplier) in enumerate(rows):
            writer.writerow([day, f"G{n}-{unique}", supplier, "x", amount, "0.00"])
    lines_before, batches_before = _spend_and_batches(db)
    result = run_cli(
        capsys, grant_url, "import-ledger", str(path), "--grant", GRANT, "--format", "json"
    )
    lines_after, batches_after = _spend_and_batches(db)
    if result.code == 0:
        summary = result.json()
        assert lines_after - lines_before == summary["imported"]
        assert summary["imported"] + summary["skipped"] == len(rows)
        assert batches_after == batches_before + (1 if summary["imported"] else 0)
    else:
        _refused_cleanly(result)
        assert (lines_after, batches_after) == (lines_before, batches_before)


# --- Formulas never leave as formulas ----------------------------------------------------


@pytest.fixture
def formula_lines(db: Database, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run_cli(capsys, url, "grant", "import", str(DATA / "grant.toml")).code == 0
    for n, text in enumerate(FORMULAS):
        result = run_cli(
            capsys, url, "spend", "add", "--grant", GRANT, "--date", "2025-05-01",
            "--net", f"{n + 1}.00", f"--supplier={text}", f"--description={text}",
            f"--reference=R{n}", f"--notes={text}", "--allocation", "A01",
        )  # fmt: skip
        assert result.code == 0, result.err
    return url


def test_csv_output_never_holds_a_formula(
    formula_lines: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, formula_lines, "spend", "list", "--grant", GRANT, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == len(FORMULAS)
    for row, text in zip(rows, FORMULAS, strict=True):
        stored = text.strip()  # fields are trimmed on the way in
        for column in ("supplier", "description", "notes"):
            expected = "'" + stored if stored[0] in "=+-@" else stored
            assert row[column] == expected, (column, row[column])
    assert [r["net"] for r in rows] == [f"{n + 1}.00" for n in range(len(FORMULAS))]


def _formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run: starting with = + - @ tab or CR, and not a number."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    return [
        cell
        for row in rows
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not PLAIN_NUMBER.fullmatch(cell)
    ]


def test_evidence_pack_and_error_report_csvs_never_hold_a_formula(
    formula_lines: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "invoice.pdf"
    evidence.write_bytes(b"%PDF-1.4 invoice")
    assert run_cli(capsys, formula_lines, "attach", "1", str(evidence)).code == 0
    pack = tmp_path / "pack.zip"
    result = run_cli(
        capsys, formula_lines, "evidence-pack", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(pack),
    )  # fmt: skip
    assert result.code == 0, result.err
    with zipfile.ZipFile(pack) as archive:
        transactions = archive.read("transactions.csv").decode("utf-8")
        index = archive.read("index.csv").decode("utf-8")
    assert _formula_cells(transactions) == _formula_cells(index) == []
    assert "'=1+2" in transactions  # the user's text is there, made inert

    ledger = tmp_path / "bad-rows.csv"
    ledger.write_bytes(
        _csv_bytes('31/02/2025,=HYPERLINK("http://x"),@evil,+cmd,-2+3,0', "01/07/2025,R,S,D,1,0")
    )
    report = tmp_path / "errors.csv"
    result = run_cli(
        capsys, formula_lines, "import-ledger", str(ledger), "--grant", GRANT,
        "--skip-errors", "--errors-out", str(report),
    )  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err
    written = report.read_text(encoding="utf-8-sig")
    assert "@evil" in written and _formula_cells(written) == []


@fuzz
@given(supplier=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=15))
def test_generated_supplier_names_never_start_a_csv_cell_with_a_formula_sign(
    db: Database, url: str, capsys: pytest.CaptureFixture[str], supplier: str
) -> None:
    if not _state(db)["grants"]:
        assert run_cli(capsys, url, "grant", "import", str(DATA / "grant.toml")).code == 0
    added = run_cli(
        capsys, url, "spend", "add", "--grant", GRANT, "--date", "2025-05-01", "--net", "1.00",
        f"--supplier={supplier}", "--format", "json",
    )  # fmt: skip
    assert added.code == 0, added.err
    line_id = added.json()["id"]
    listing = run_cli(capsys, url, "spend", "list", "--grant", GRANT, "--format", "csv")
    [row] = [r for r in csv.DictReader(io.StringIO(listing.out)) if r["id"] == str(line_id)]
    stored = supplier.strip()
    if stored[:1] in ("=", "+", "-", "@") and not PLAIN_NUMBER.fullmatch(stored):
        assert row["supplier"] == "'" + stored
    else:  # ordinary text, or a plain signed number such as -12.50, which is data
        assert row["supplier"] == stored


def test_return_workbooks_hold_user_text_as_text_and_no_hyperlinks(
    formula_lines: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    narrative = run_cli(
        capsys, formula_lines, "narrative", "set", "--grant", GRANT, "--period", "2025/26-Q1",
        "--allocation", "A01", "--outputs==cmd|' /C calc'!A0",
        '--variance-explanation=@SUM(1)',
    )  # fmt: skip
    assert narrative.code == 0, narrative.err
    out = tmp_path / "return.xlsx"
    result = run_cli(
        capsys, formula_lines, "export-return", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    book = load_workbook(out)
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.hyperlink is None
                if cell.data_type == "f":  # only our own totals are formulas
                    assert str(cell.value).startswith("=SUM("), (sheet.title, cell.value)
                elif isinstance(cell.value, str):
                    texts.add(cell.value)
    assert {text.strip() for text in FORMULAS} <= texts  # the user's text, exactly, as text
    assert "=cmd|' /C calc'!A0" in texts and "@SUM(1)" in texts


# --- Paths -------------------------------------------------------------------------------


def test_attachments_with_hostile_names_stay_inside_the_evidence_folder_and_the_pack(
    formula_lines: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    nasty_names = ["...", "..pdf", "a\\..\\..\\b.pdf", "%2e%2e%2fx.pdf", "CON", " .pdf"]
    for n, name in enumerate(nasty_names):
        source = tmp_path / f"src{n}" / name
        source.parent.mkdir()
        source.write_bytes(f"evidence {n}".encode())
        result = run_cli(capsys, formula_lines, "attach", "1", str(source))
        assert result.code == 0, result.err
    (tmp_path / "src-dots" / "x").mkdir(parents=True)
    (tmp_path / "src-dots" / "y.pdf").write_bytes(b"dots")
    traversal = tmp_path / "src-dots" / "x" / ".." / "y.pdf"
    assert run_cli(capsys, formula_lines, "attach", "1", str(traversal)).code == 0
    assert list(outside.iterdir()) == []

    pack = tmp_path / "chosen" / "pack.zip"
    result = run_cli(
        capsys, formula_lines, "evidence-pack", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(pack),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert sorted(p.name for p in pack.parent.iterdir()) == ["pack.zip"]
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
    assert len([n for n in names if n.startswith("evidence/")]) == len(nasty_names) + 1
    for name in names:
        parts = name.split("/")
        assert not name.startswith(("/", "\\")) and ":" not in parts[0]
        assert ".." not in parts and "\\" not in name, name


def test_a_value_too_long_for_its_column_is_a_clear_error_on_postgresql(
    db: Database, url: str
) -> None:
    """The safety net under every service: PostgreSQL's own length check (SQLite has none)
    comes back as a clear error, and nothing is changed."""
    if db.sqlite_path is not None:
        pytest.skip("SQLite does not enforce column lengths")
    from fundtracker.errors import ValidationError
    from fundtracker.models import Plan

    before = _state(db)
    too_long = pytest.raises(ValidationError, match="does not fit the database")
    with too_long, db.unit_of_work() as session:
        session.scalars(select(Plan)).one().name = "n" * 400
    assert _state(db) == before
