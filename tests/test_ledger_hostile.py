"""Hostile and broken files: a clear message, exit 2 (or 1 for a bad row), no traceback, and
nothing changed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import defusedxml.ElementTree
import openpyxl
import openpyxl.xml
import pytest

from fundtracker.ledger import reading
from fundtracker.ledger.reading import UnreadableFileError
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.ledger_support import GRANT, HEADER, import_json, ledger, set_up_grant, table_counts

SHEET_USING_ENTITY = (
    b"<worksheet><sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>&lol2;</t></is></c>"
    b"</row></sheetData></worksheet>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    set_up_grant(capsys, database_url)
    return database_url


def _refused(
    capsys: pytest.CaptureFixture[str], url: str, db: Database, file: Path, words: str
) -> None:
    before = table_counts(db)
    result = run_cli(capsys, url, "import-ledger", str(file), "--grant", GRANT)
    assert result.code == 2, (result.out, result.err)
    assert words in result.err and "Traceback" not in result.err
    assert table_counts(db) == before


def _workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["03/07/2025", "Acme", "", "R1", "1.00", ""])
    workbook.save(path)
    workbook.close()
    return path


def _rewrite(source: Path, target: Path, part: str, content: bytes) -> Path:
    """A copy of a workbook with one part replaced."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for member in old.infolist():
            new.writestr(member.filename, content if member.filename == part else old.read(member))
    return target


def test_empty_file(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refused(capsys, url, db, empty, "empty.csv is empty")
    blank = tmp_path / "blank.csv"
    blank.write_text("\r\n\r\n,,,\r\n")
    _refused(capsys, url, db, blank, "has no rows")


def test_binary_and_old_excel_files(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    _refused(capsys, url, db, binary, "binary data")
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)
    _refused(capsys, url, db, xls, "save it as .xlsx or CSV")
    _refused(capsys, url, db, tmp_path / "missing.csv", "no such file")


def test_truncated_xlsx(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _workbook(tmp_path / "whole.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    _refused(capsys, url, db, cut, "damaged or truncated")


def test_a_zip_that_is_not_a_workbook(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "files.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "hello")
    _refused(capsys, url, db, archive, "not an Excel workbook")


def test_zip_bomb_is_refused_by_its_declared_sizes(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 50 MB of zeros compresses about a thousandfold: far beyond any real workbook part.
    padding = b"<x/>" + b" " * (50 * 1024 * 1024)
    bomb = _rewrite(
        _workbook(tmp_path / "ok.xlsx"), tmp_path / "bomb.xlsx", "docProps/app.xml", padding
    )
    assert bomb.stat().st_size < 1024 * 1024
    _refused(capsys, url, db, bomb, "zip bomb")


def test_zip_bomb_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = _workbook(tmp_path / "ok.xlsx")
    reading.check_workbook_archive(workbook)  # a normal workbook passes
    monkeypatch.setattr(reading, "MAX_XLSX_UNCOMPRESSED", 1000)
    with pytest.raises(UnreadableFileError, match="would expand to"):
        reading.check_workbook_archive(workbook)


def test_xml_entity_tricks_are_refused(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = BILLION_LAUGHS + SHEET_USING_ENTITY
    evil = _rewrite(
        _workbook(tmp_path / "ok.xlsx"), tmp_path / "evil.xlsx", "xl/worksheets/sheet1.xml", sheet
    )
    _refused(capsys, url, db, evil, "declares a DTD or XML entities")


def test_openpyxl_parses_with_defusedxml_even_without_our_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: openpyxl itself uses defusedxml (it is installed), so an entity in a
    sheet is refused by the parser too, not expanded."""
    assert openpyxl.xml.DEFUSEDXML is True
    sheet = BILLION_LAUGHS + SHEET_USING_ENTITY
    evil = _rewrite(
        _workbook(tmp_path / "ok.xlsx"), tmp_path / "evil.xlsx", "xl/worksheets/sheet1.xml", sheet
    )
    monkeypatch.setattr(reading, "_refuse_dtd", lambda *args: None)
    with (
        pytest.raises(UnreadableFileError, match="cannot be read") as caught,
        reading.Table(reading.examine(evil)) as table,
    ):
        list(table.rows())
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert "EntitiesForbidden" in causes  # raised by defusedxml inside openpyxl
    with pytest.raises(defusedxml.EntitiesForbidden):
        defusedxml.ElementTree.fromstring(BILLION_LAUGHS + b"<a>&lol2;</a>")


def test_a_cell_too_long_to_read_names_its_row(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "long.csv",
        ["03/07/2025", "Acme", "", "R1", "1.00", ""],
        ["03/07/2025", "Acme", "x" * 200_000, "R2", "1.00", ""],
    )
    _refused(capsys, url, db, file, "long.csv, row 3: cannot read the CSV")


def test_a_long_text_value_is_a_bad_row(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "long.csv", ["03/07/2025", "S" * 5000, "", "R1", "1.00", ""])
    result, report = import_json(capsys, url, file)
    assert result.code == 1
    assert report["errors"] == [
        {
            "row": 2,
            "column": "Supplier Name",
            "message": "is 5,000 characters long; at most 300 are kept",
        }
    ]


def test_a_file_with_no_header_is_refused_clearly(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "notes.csv"
    file.write_text("Dear officer,\nplease find the figures attached.\n")
    result = run_cli(capsys, url, "import-ledger", str(file), "--grant", GRANT)
    assert result.code == 1 and "cannot find the header row" in result.err
