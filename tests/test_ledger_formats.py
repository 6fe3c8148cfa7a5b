"""Ledger files as they really come: encodings, delimiters, title rows, totals rows, every date
and amount form, debit/credit and gross+VAT layouts, and XLSX with typed or text cells."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fundtracker.ledger import ImportOptions, commit_import, inspect_file, list_sheets, preview_rows
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.ledger_support import GRANT, HEADER, import_json, ledger, lines, set_up_grant, write_csv

JULY_3 = date(2025, 7, 3)


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    set_up_grant(capsys, database_url)
    return database_url


def test_utf8_bom_title_rows_blank_rows_and_a_totals_row(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ["Ledger transactions report"],
        ["Run date: 01/10/2025 09:14"],
        [],
        HEADER,
        ["03/07/2025", "Café Nero ", "Refreshments", "INV-1", "£1,234.50", "246.90"],
        [],
        ["04/07/2025", "  Acme Ltd", "Posters", "INV-2", "(120.00)", ""],
        ["", "", "Grand total", "", "1,114.50", "246.90"],
    ]
    file = write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig")
    assert file.read_bytes().startswith(b"\xef\xbb\xbf")
    result, report = import_json(capsys, url, file)
    assert result.code == 0, result.err
    # Rows 5, 7 and 8 are data (blank rows 6 and the title rows above row 4 are not counted);
    # row 8 is the totals row: skipped, not imported, not an error.
    assert (report["rows_read"], report["imported"], report["skipped"]) == (3, 2, 1)
    assert report["skipped_rows"] == [{"row": 8, "reason": "totals row"}]
    assert report["header_row"] == 4 and report["errors"] == []
    first, second = lines(db)
    assert (first.date, first.supplier, first.net, first.vat) == (
        JULY_3,
        "Café Nero",
        Decimal("1234.50"),
        Decimal("246.90"),
    )
    assert (first.source_row, second.source_row) == (5, 7)
    assert (second.supplier, second.net, second.vat) == ("Acme Ltd", Decimal("-120.00"), 0)


def test_cp1252_with_pound_signs(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [HEADER, ["03/07/2025", "Crème Café", "Hall – hire", "R1", "£2,000.01", "£400.00"]]
    file = write_csv(tmp_path / "windows.csv", rows, encoding="cp1252")
    assert b"\xa3" in file.read_bytes()  # the cp1252 pound sign, invalid as UTF-8
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == 1
    (line,) = lines(db)
    assert (line.supplier, line.description) == ("Crème Café", "Hall – hire")
    assert (line.net, line.vat) == (Decimal("2000.01"), Decimal("400.00"))


def test_utf16_tab_separated_as_excel_saves_unicode_text(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [HEADER, ["03/07/2025", "Café", "", "R1", "£5.00", ""]]
    file = write_csv(tmp_path / "unicode.txt", rows, encoding="utf-16", delimiter="\t")
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == 1
    assert [(ln.supplier, ln.net) for ln in lines(db)] == [("Café", Decimal("5.00"))]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], delimiter: str
) -> None:
    rows = [
        ["Spend report, all cost centres"],
        HEADER,
        ["03/07/2025", "Smith, Jones & Co", "Legal; advice", "R1", "1,500.00", "300.00"],
        ["05/07/2025", "Acme", "Posters", "R2", "10", "2"],
    ]
    file = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter)
    assert inspect_file(file, ImportOptions()).delimiter == delimiter
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == 2
    first, second = lines(db)
    assert (first.supplier, first.description) == ("Smith, Jones & Co", "Legal; advice")
    assert (first.net, second.net, second.vat) == (Decimal("1500.00"), Decimal("10.00"), 2)


def test_every_date_form_in_the_issue(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serial = (JULY_3 - date(1899, 12, 30)).days  # 45841: Excel's serial for 3 July 2025
    forms = ["03/07/2025", "3/7/25", "03-Jul-25", "03 Jul 2025", "2025-07-03", str(serial)]
    file = ledger(
        tmp_path / "dates.csv", *[[d, "S", "", f"R{i}", "1.00", ""] for i, d in enumerate(forms)]
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == len(forms)
    assert {line.date for line in lines(db)} == {JULY_3}


def test_date_format_option_reads_month_first(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "us.csv", ["07/03/2025", "S", "", "R", "1.00", ""])
    result, _ = import_json(capsys, url, file, "--date-format", "mm/dd/yyyy")
    assert result.code == 0
    assert lines(db)[0].date == JULY_3


def test_every_amount_form_in_the_issue(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    amounts = {
        "1234.5": "1234.50",
        "£1,234.50": "1234.50",
        "-45.00": "-45.00",
        "45.00-": "-45.00",
        "(120.00)": "-120.00",
        "1500": "1500.00",
    }
    file = ledger(
        tmp_path / "amounts.csv",
        *[["03/07/2025", "S", "", f"R{i}", text, ""] for i, text in enumerate(amounts)],
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == 6
    assert [line.net for line in lines(db)] == [Decimal(v) for v in amounts.values()]


def test_debit_and_credit_columns(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["Posting Date", "Payee", "Reference", "Debit", "Credit"]
    file = ledger(
        tmp_path / "dc.csv",
        ["03/07/2025", "Acme", "D1", "250.00", ""],
        ["04/07/2025", "Acme", "C1", "", "40.00"],
        header=header,
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["imported"] == 2
    assert [line.net for line in lines(db)] == [Decimal("250.00"), Decimal("-40.00")]


def test_debit_and_credit_sign_errors(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["Posting Date", "Payee", "Reference", "Debit", "Credit"]
    file = ledger(
        tmp_path / "dc.csv",
        ["03/07/2025", "Acme", "D1", "-250.00", ""],
        ["04/07/2025", "Acme", "C1", "10.00", "40.00"],
        ["05/07/2025", "Acme", "C2", "", ""],
        header=header,
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 1 and lines(db) == []
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (2, "Debit"),
        (3, "Credit"),
        (4, "Debit"),
    ]
    assert "negative" in report["errors"][0]["message"]


def test_gross_plus_vat_gives_net_and_a_mismatch_is_an_error(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["Date", "Supplier", "Ref", "Gross Amount", "VAT Amount"]
    file = ledger(
        tmp_path / "g.csv", ["03/07/2025", "Acme", "G1", "120.00", "20.00"], header=header
    )
    result, _ = import_json(capsys, url, file)
    assert result.code == 0
    (line,) = lines(db)
    assert (line.net, line.vat) == (Decimal("100.00"), Decimal("20.00"))  # 120 − 20

    header = ["Date", "Supplier", "Ref", "Net", "VAT", "Gross"]
    bad = ledger(
        tmp_path / "n.csv",
        ["04/07/2025", "Acme", "N1", "100.00", "20.00", "130.00"],
        ["05/07/2025", "Acme", "N2", "100.00", "-20.00", "80.00"],
        header=header,
    )
    result, report = import_json(capsys, url, bad)
    assert result.code == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "Gross"), (3, "VAT")]
    assert "opposite sign" in report["errors"][1]["message"]


def test_headers_match_ignoring_case_spaces_and_underscores(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = [" PAID_DATE ", "supplier_name", "Trans No", "AMOUNT "]
    file = ledger(tmp_path / "h.csv", ["03/07/2025", " Acme ", "T1", "5.00"], header=header)
    layout = inspect_file(file, ImportOptions())
    assert layout.mapping.names() == {
        "date": "PAID_DATE",
        "supplier": "supplier_name",
        "reference": "Trans No",
        "net": "AMOUNT",
    }
    result, _ = import_json(capsys, url, file)
    assert result.code == 0 and lines(db)[0].supplier == "Acme"


def test_explicit_map_wins_and_an_empty_column_unmaps(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["When", "Who", "Narrative", "Howmuch"]
    file = ledger(tmp_path / "m.csv", ["03/07/2025", "Acme", "Not wanted", "7.00"], header=header)
    result, report = import_json(
        capsys,
        url,
        file,
        "--map",
        "date=when",
        "supplier=WHO",
        "--map",
        "net=Howmuch",
        "--map",
        "description=",
    )
    assert result.code == 0, result.err
    assert report["mapping"] == {"date": "When", "supplier": "Who", "net": "Howmuch"}
    (line,) = lines(db)
    assert (line.supplier, line.description, line.net) == ("Acme", "", Decimal("7.00"))


def test_unmappable_file_is_refused_naming_what_is_missing(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "x.csv", ["03/07/2025", "Acme"], header=["Date", "Supplier"])
    result = run_cli(capsys, url, "import-ledger", str(file), "--grant", GRANT)
    assert result.code == 1
    assert "no column for the amount" in result.err
    assert "Headers found (row 1): 'Date', 'Supplier'" in result.err
    bad_map = run_cli(
        capsys, url, "import-ledger", str(file), "--grant", GRANT, "--map", "colour=x"
    )
    assert bad_map.code == 2 and "FIELD is one of" in bad_map.err
    assert lines(db) == []


def _workbook(path: Path, rows: list[list[object]], title: str = "Ledger") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Notes"
    sheet.append(["This sheet has no ledger"])
    data = workbook.create_sheet(title)
    for row in rows:
        data.append(row)
    data["A3"].number_format = "dd/mm/yyyy"
    workbook.save(path)
    workbook.close()
    return path


def test_xlsx_with_date_and_number_cells_text_cells_and_serials(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serial = (JULY_3 - date(1899, 12, 30)).days
    rows: list[list[object]] = [
        ["Ledger transactions report"],
        HEADER,
        [datetime(2025, 7, 3), "Acme", "Typed cells", 1001, 1234.5, 246.9],
        ["03/07/2025", "Bee", "Text cells", "R2", "£1,234.50", "1.00"],
        [serial, "Cee", "Serial date", "R3", 12, 0],
        [JULY_3, "Dee", "Sub-penny number", "R4", 12.345, None],
        [None, None, "Total", None, 2481.3, None],
    ]
    file = _workbook(tmp_path / "ledger.xlsx", rows)
    assert list_sheets(file) == ["Notes", "Ledger"]
    result, report = import_json(capsys, url, file, "--sheet", "Ledger", "--skip-errors")
    assert result.code == 1, result.err  # one bad row was skipped
    assert (report["rows_read"], report["imported"], report["skipped"]) == (5, 3, 1)
    assert report["errors"] == [
        {"row": 6, "column": "Net Amount", "message": report["errors"][0]["message"]}
    ]
    assert "fractions of a penny" in report["errors"][0]["message"]
    got = [(ln.date, ln.reference, ln.net, ln.vat) for ln in lines(db)]
    assert got == [
        (JULY_3, "1001", Decimal("1234.50"), Decimal("246.90")),
        (JULY_3, "R2", Decimal("1234.50"), Decimal("1.00")),
        (JULY_3, "R3", Decimal("12.00"), Decimal("0.00")),
    ]


def test_xlsx_unknown_sheet_is_refused_naming_the_sheets(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _workbook(tmp_path / "l.xlsx", [HEADER])
    result = run_cli(capsys, url, "import-ledger", str(file), "--grant", GRANT, "--sheet", "Nope")
    assert result.code == 1 and "its sheets: Notes, Ledger" in result.err


def test_inspect_describes_a_workbook_for_the_wizard(tmp_path: Path) -> None:
    file = _workbook(tmp_path / "l.xlsx", [["Spend report"], [], HEADER])
    layout = inspect_file(file, ImportOptions(sheet="Ledger"))
    assert (layout.kind, layout.sheets, layout.sheet, layout.header_row) == (
        "xlsx",
        ["Notes", "Ledger"],
        "Ledger",
        3,
    )
    assert layout.headers == tuple(HEADER)
    assert layout.mapping.names()["reference"] == "Invoice No"


def test_preview_shows_values_as_stored_and_cell_errors(tmp_path: Path) -> None:
    file = ledger(
        tmp_path / "p.csv",
        ["03-Jul-25", "Acme", "", "R1", "£1,234.50", "0.00"],
        ["31/02/2025", "Acme", "", "R2", "12.345", ""],
        ["", "", "Total", "", "1,234.50", ""],
    )
    first, second, total = preview_rows(file, ImportOptions(), limit=10)
    assert first.kind == "line" and first.values is not None
    assert (first.values.date, first.values.net) == (JULY_3, Decimal("1234.50"))
    assert second.kind == "error"
    assert [(e.row, e.column) for e in second.errors] == [
        (3, "Transaction Date"),
        (3, "Net Amount"),
    ]
    assert (total.row, total.kind) == (4, "total")


def test_preview_with_the_grant_checks_project_codes(
    db: Database, url: str, tmp_path: Path
) -> None:
    file = ledger(
        tmp_path / "p.csv",
        ["03/07/2025", "Acme", "R1", "1.00", "a01"],
        ["03/07/2025", "Acme", "R2", "1.00", "B99"],
        header=["Date", "Supplier", "Ref", "Net", "Project"],
    )
    good, bad = preview_rows(file, ImportOptions(), db=db, grant_reference=GRANT)
    assert good.kind == "line" and good.values is not None and good.values.allocation == "a01"
    assert [(e.column, e.message) for e in bad.errors] == [
        ("Project", "'B99' is not a project of grant CRG-2025-26 (its projects: A01, A02)")
    ]


def test_the_commit_reports_progress(db: Database, url: str, tmp_path: Path) -> None:
    file = ledger(
        tmp_path / "p.csv", *[["03/07/2025", "S", "", f"R{i}", "1.00", ""] for i in range(5000)]
    )
    seen: list[int] = []
    result = commit_import(
        db, GRANT, file, ImportOptions(), progress=lambda p: seen.append(p.rows_read)
    )
    assert result.imported == 5000
    assert seen[-1] == 5000 and seen == sorted(seen) and len(seen) >= 2
