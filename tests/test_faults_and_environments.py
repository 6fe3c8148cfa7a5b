"""Issue 17's bad input, environments and faults: text a spreadsheet cannot hold, output in a
narrow encoding, argument values that used to raise tracebacks, foreign locales, accented
capitals, local dates, amounts that could overflow a sum, huge CSV rows, a sound file on a
read-only or full disk, and output that fails after a change was committed. Each test failed
on the code before its fix."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fundtracker.models import Base
from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli

DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"


def _state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refusal changed nothing."""
    with db.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def _refused_cleanly(result: CliResult) -> None:
    assert result.code in (1, 2), result.out
    assert "Traceback" not in result.err
    assert result.err.startswith("fundtracker-cli: ") and len(result.err.strip()) > 20


@pytest.fixture
def grant_url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run_cli(capsys, database_url, "plan", "import", str(DATA / "plan.toml")).code == 0
    assert run_cli(capsys, database_url, "grant", "import", str(DATA / "grant.toml")).code == 0
    return database_url


def _add(capsys: pytest.CaptureFixture[str], url: str, *fields: str) -> int:
    result = run_cli(
        capsys, url, "spend", "add", "--grant", GRANT, "--date", "2025-05-01",
        "--allocation", "A01", "--format", "json", *fields,
    )  # fmt: skip
    assert result.code == 0, result.err
    return int(result.json()["id"])


# --- Text a spreadsheet cannot hold -------------------------------------------------------

WORD_LINE_BREAK = "Line one\x0bline two"  # Word's Shift+Enter, pasted into a field


def test_a_word_line_break_and_control_characters_export_and_submit(
    grant_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(capsys, grant_url, "--net", "10.00", "--supplier=Acme\x0bLtd\x01", "--reference=R1")
    narrative = run_cli(
        capsys, grant_url, "narrative", "set", "--grant", GRANT, "--period", "2025/26-Q1",
        "--allocation", "A01", f"--outputs={WORD_LINE_BREAK}",
    )  # fmt: skip
    assert narrative.code == 0, narrative.err
    out = tmp_path / "return.xlsx"
    result = run_cli(
        capsys, grant_url, "export-return", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(out), "--submit",
    )  # fmt: skip
    assert result.code == 0, result.err
    texts = {
        cell.value
        for sheet in load_workbook(out).worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    # The line break stays a line break; a control character with no meaning goes.
    assert "Line one\nline two" in texts
    assert "Acme\nLtd" in texts

    pack = tmp_path / "pack.zip"
    result = run_cli(
        capsys, grant_url, "evidence-pack", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(pack),
    )  # fmt: skip
    assert result.code == 0, result.err
    with zipfile.ZipFile(pack) as archive:
        transactions = archive.read("transactions.csv").decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(transactions)))
    assert row["supplier"] == "Acme\nLtd"


def test_clean_text_keeps_tabs_and_newlines_and_drops_what_xml_cannot_hold() -> None:
    from fundtracker.safe_text import clean_text

    assert clean_text("a\x0bb\x0cc") == "a\nb\nc"  # vertical tab and form feed: line breaks
    assert clean_text("a\x00b\x1fc\ufffed\ud800e") == "abcde"
    assert clean_text("tab\there\r\nnext £ Łódź") == "tab\there\r\nnext £ Łódź"
