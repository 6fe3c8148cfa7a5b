"""The return opened by a real spreadsheet program: LibreOffice recalculates the Total row's
formulas, and they must equal the Summary's figures. Skipped where LibreOffice is absent."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fundtracker.figures import build_report
from fundtracker.returns import submission
from fundtracker.storage import Database
from tests.returns_support import GRANT, HOSTILE, Q2, add_hostile_lines, money

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed"),
]


def _convert(source: Path, target_format: str, out_dir: Path, profile: Path) -> Path:
    """Let LibreOffice open ``source`` (recalculating it) and save it as ``target_format``."""
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",  # its own profile: runs never collide
            "--headless",
            "--convert-to",
            target_format,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    converted = out_dir / f"{source.stem}.{target_format}"
    assert converted.is_file()
    return converted


def test_recalculated_totals_equal_the_summary(demo_db: Database, tmp_path: Path) -> None:
    add_hostile_lines(demo_db)  # unassigned spend and commitment: the Unassigned row
    source = tmp_path / "return.xlsx"
    submission.export_return(demo_db, GRANT, Q2, source, submit=True)
    recalculated = _convert(source, "xlsx", tmp_path / "out", tmp_path / "profile")

    book = load_workbook(recalculated, data_only=True)
    rows = [r for r in book["Projects"].iter_rows(values_only=True) if r and r[0]]
    total = next(r for r in rows if r[0] == "Total")
    assert "Unassigned" in [r[0] for r in rows]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    figures = build_report(demo_db, GRANT, Q2).summary
    assert money(total[5]) == money(summary["Allocated"]) == figures.allocated
    assert money(total[10]) == money(summary["Spend to date"]) == figures.spend_to_date
    assert money(total[11]) == money(summary["Committed"]) == figures.committed
    assert money(total[12]) == money(summary["Forecast outturn"]) == figures.forecast_outturn
    assert money(total[13]) == figures.allocated - figures.forecast_outturn
    assert figures.committed > Decimal(0)
    # the defined names still lead to the Summary's values
    for name, expected in (("SpendToDate", figures.spend_to_date), ("Award", figures.award)):
        ((title, coordinate),) = list(book.defined_names[name].destinations)
        assert money(book[title][coordinate.replace("$", "")].value) == expected
    # user text came through as text, not as formulas LibreOffice would run
    suppliers = {r[2] for r in book["Transactions"].iter_rows(min_row=4, values_only=True)}
    assert set(HOSTILE[:4]) <= suppliers


def test_it_renders_to_pdf(demo_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "return.xlsx"
    submission.export_return(demo_db, GRANT, Q2, source)
    pdf = _convert(source, "pdf", tmp_path / "out", tmp_path / "profile")
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?!s)", data)
    assert data.startswith(b"%PDF") and len(pages) >= 5  # at least a page per sheet
