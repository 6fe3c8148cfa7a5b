"""Issue 17: Excel's float noise in an .xlsx ledger is the penny it stands for (real fractions
are still refused)."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fundtracker.errors import MoneyError
from fundtracker.money import parse_spreadsheet_money
from fundtracker.storage import Database
from tests.ledger_support import HEADER, import_json, lines, set_up_grant

Capsys = pytest.CaptureFixture[str]

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
