"""Issue 17: Excel's float noise in an .xlsx ledger is the penny it stands for (real fractions
are still refused), and read-return recomputes a submitted workbook's checksum from what it
shows, saying when its figures were changed after export."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl import load_workbook

from fundtracker.errors import MoneyError
from fundtracker.money import parse_spreadsheet_money
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import main_grant
from tests.helpers import run_cli
from tests.ledger_support import HEADER, import_json, lines, set_up_grant

Capsys = pytest.CaptureFixture[str]
Q2 = Period.parse("2025/26-Q2")

# --- Excel's float noise in a ledger -------------------------------------------------------


def test_a_spreadsheet_number_within_a_millionth_of_a_penny_is_that_penny() -> None:
    # 22.250000000000004 is 2,225.0000000000004 pence: 4e-13 of a penny from 2,225.
    assert parse_spreadsheet_money(22.250000000000004) == Decimal("22.25")
    assert parse_spreadsheet_money(0.1 + 0.2) == Decimal("0.30")  # 0.30000000000000004
    assert parse_spreadsheet_money(-1234.4999999999998) == Decimal("-1234.50")
    # 22.250000001 is 2,225.0000001 pence: 1e-7 of a penny off, under the millionth.
    assert parse_spreadsheet_money(22.250000001) == Decimal("22.25")
    # 22.25000001 is 2,225.000001 pence: exactly a millionth off, not under it: refused.
    for fraction in (22.255, 22.2501, 22.25000001):
        with pytest.raises(MoneyError, match="fractions of a penny"):
            parse_spreadsheet_money(fraction)
    # Text is what a person typed: it is never rounded.
    with pytest.raises(MoneyError, match="fractions of a penny"):
        parse_spreadsheet_money("22.250000000000004")


def _xlsx_ledger(path: Path, *rows: list[object], stored: dict[str, str]) -> Path:
    """A one-sheet ledger whose number cells hold ``stored``'s values as Excel writes them:
    every digit of the float (openpyxl would write 22.250000000000004 as 22.25)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for written, excel in stored.items():
        assert f"<v>{written}</v>" in xml
        xml = xml.replace(f"<v>{written}</v>", f"<v>{excel}</v>")
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_an_xlsx_ledger_with_excels_float_noise_imports_to_the_penny(
    db: Database, database_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    set_up_grant(capsys, database_url)
    day = date(2025, 7, 3)
    file = _xlsx_ledger(
        tmp_path / "noisy.xlsx",
        [day, "Acme", "Posters", "INV-1", 22.25, 4.45],
        [day, "Bee", "Hall hire", "INV-2", 100.0, 0.3],
        stored={"22.25": "22.250000000000004", "0.3": "0.30000000000000004"},
    )
    result, report = import_json(capsys, database_url, file)
    assert result.code == 0, result.err
    assert (report["rows_read"], report["imported"]) == (2, 2)
    assert [(ln.reference, ln.net, ln.vat) for ln in lines(db)] == [
        ("INV-1", Decimal("22.25"), Decimal("4.45")),
        ("INV-2", Decimal("100.00"), Decimal("0.30")),
    ]


def test_a_real_fraction_of_a_penny_in_an_xlsx_ledger_is_still_refused_naming_its_cell(
    db: Database, database_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    set_up_grant(capsys, database_url)
    day = date(2025, 7, 3)
    file = _xlsx_ledger(
        tmp_path / "fraction.xlsx",
        [day, "Acme", "Posters", "INV-1", 22.25, 0],
        [day, "Bee", "Hall hire", "INV-2", 22.255, 0],  # row 3: half a penny
        stored={"22.25": "22.250000000000004"},
    )
    result, report = import_json(capsys, database_url, file)
    assert result.code == 1
    [error] = report["errors"]
    assert (error["row"], error["column"]) == (3, "Net Amount")
    assert "'22.255' has fractions of a penny" in error["message"]
    assert lines(db) == []  # a file with a bad row imports nothing


# --- read-return recomputes the checksum ---------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    path: Path
    checksum: str


@pytest.fixture(scope="module")
def submitted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Submitted]:
    folder = tmp_path_factory.mktemp("partnership")
    partnership = open_database(str(folder / "csp.sqlite3"))
    main_grant(partnership)
    done = submission.export_return(
        partnership, "T-1", Q2, folder / "q2.xlsx", prepared_by="Jo", submit=True
    )
    partnership.dispose()
    yield Submitted(folder / "q2.xlsx", done.checksum)


def _read(capsys: Capsys, url: str, path: Path, *args: str) -> tuple[int, str]:
    result = run_cli(capsys, url, "read-return", str(path), *args)
    assert "Traceback" not in result.err
    return result.code, result.out


def test_an_untouched_submitted_workbook_reads_as_matching_its_checksum(
    database_url: str, submitted: Submitted, capsys: Capsys
) -> None:
    code, out = _read(capsys, database_url, submitted.path, "--format", "json")
    assert code == 0
    stated = _json(out)["return"]
    assert isinstance(stated, dict)
    assert stated["status"] == "Submitted" and stated["checksum"] == submitted.checksum
    assert stated["checksum_matches"] is True
    assert stated["computed_checksum"] == submitted.checksum
    code, text = _read(capsys, database_url, submitted.path)
    assert code == 0 and "T-1 2025/26-Q2 (Submitted)" in text
    assert "checksum verified" in text and "changed after" not in text


def _json(out: str) -> dict[str, object]:
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def test_a_summary_figure_changed_after_export_is_said_and_exits_1(
    database_url: str, submitted: Submitted, tmp_path: Path, capsys: Capsys
) -> None:
    book = load_workbook(submitted.path)
    for label, value in book["Summary"].iter_rows(min_col=1, max_col=2):
        if label.value == "Spend to date":  # £958.00 (tests/test_figures.py) made £968.00
            value.value = float(Decimal(str(value.value)) + 10)
    book.save(tmp_path / "altered.xlsx")
    code, out = _read(capsys, database_url, tmp_path / "altered.xlsx", "--format", "json")
    assert code == 1
    report = _json(out)
    stated = report["return"]
    assert isinstance(stated, dict)
    assert stated["checksum"] == submitted.checksum  # what the Summary still claims
    assert stated["checksum_matches"] is False
    computed = str(stated["computed_checksum"])
    assert len(computed) == 64 and computed != submitted.checksum
    assert stated["checksum_difference"] == (
        "Summary Spend to date reads £968.00 but the return as exported says £958.00"
    )
    code, text = _read(capsys, database_url, tmp_path / "altered.xlsx")
    assert code == 1
    assert (
        "WARNING: this workbook's figures were changed after it was exported: Summary Spend "
        "to date reads £968.00 but the return as exported says £958.00" in text
    )
    assert f"its checksum {submitted.checksum[:12]}" in text


def test_a_transaction_changed_after_export_changes_the_computed_checksum(
    database_url: str, submitted: Submitted, tmp_path: Path, capsys: Capsys
) -> None:
    book = load_workbook(submitted.path)
    sheet = book["Transactions"]
    header_row = next(r for r in sheet.iter_rows() if any(c.value == "Line id" for c in r))
    net = next(c.column for c in header_row if c.value == "Net")
    first = sheet.cell(header_row[0].row + 1, net)
    first.value = float(first.value) + 1  # line 1's £500.00 made £501.00
    book.save(tmp_path / "line.xlsx")
    code, out = _read(capsys, database_url, tmp_path / "line.xlsx", "--format", "json")
    assert code == 1
    stated = _json(out)["return"]
    assert isinstance(stated, dict)
    assert stated["checksum_matches"] is False
    assert stated["computed_checksum"] != submitted.checksum
    assert stated["checksum_difference"] == (
        "Transactions line 1 Net reads £501.00 but the return as exported says £500.00"
    )


def test_a_workbook_without_its_snapshot_cannot_be_verified_and_says_so(
    database_url: str, submitted: Submitted, tmp_path: Path, capsys: Capsys
) -> None:
    # As exported before submitted returns carried their snapshot: the checksum covers the
    # whole return (checks, computed RAGs, ...), more than the sheets show, so it cannot be
    # recomputed from them.
    book = load_workbook(submitted.path)
    del book["Snapshot"]
    book.save(tmp_path / "old.xlsx")
    code, out = _read(capsys, database_url, tmp_path / "old.xlsx", "--format", "json")
    assert code == 0
    stated = _json(out)["return"]
    assert isinstance(stated, dict)
    assert stated["checksum_matches"] is None and stated["computed_checksum"] is None
    code, text = _read(capsys, database_url, tmp_path / "old.xlsx")
    assert code == 0
    assert "its checksum cannot be verified" in text
