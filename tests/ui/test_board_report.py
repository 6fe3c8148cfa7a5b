"""The board report as a PDF (issue 18): the demo year's Q3 drawn by the command and by the
Returns page, its text read back with pdftotext: every headline figure exactly as the report
JSON gives it, two to four A4 pages, the footer's checksum; fonts embedded, title and creator
set."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from fundtracker.demo import GRANT_REFERENCE
from fundtracker.figures import build_report
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.returns.narratives import set_narrative
from fundtracker.returns.submission import export_return
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.ui.test_returns import _choose_period

Q3 = Period.parse("2025/26-Q3")
HEADLINE_KEYS = (
    "award",
    "received",
    "spend_to_date",
    "committed",
    "forecast_outturn",
    "projected_underspend",  # the demo's Q3 projects an underspend, no overspend
    "spend_this_period",
)


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed: the PDF cannot be read back")
    return found


def _read(tool: str, pdf: Path, *options: str) -> str:
    command = [_poppler(tool), *options, str(pdf)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_demo_q3_board_report_shows_the_reports_figures(
    capsys: pytest.CaptureFixture[str], demo_ui_db: Database, tmp_path: Path
) -> None:
    set_narrative(
        demo_ui_db, GRANT_REFERENCE, Q3, "A01", {"outputs": "Forty-one young people attended"}
    )
    submitted = export_return(demo_ui_db, GRANT_REFERENCE, Q3, tmp_path / "q3.xlsx", submit=True)
    out = tmp_path / "board.pdf"
    database = str(demo_ui_db.engine.url.database)
    result = run_cli(
        capsys, database, "board-report", "--grant", GRANT_REFERENCE, "--period", "2025/26-Q3",
        "--out", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert f"checksum (SHA-256) {submitted.checksum}" in result.out

    text = _read("pdftotext", out)
    pages = text.rstrip("\f").split("\f")  # pdftotext ends each page with a form feed
    assert 2 <= len(pages) <= 4
    summary = build_report(demo_ui_db, GRANT_REFERENCE, Q3).to_json()["summary"]
    for key in HEADLINE_KEYS:  # e.g. "27744.59" in the JSON is "£27,744.59" on paper
        assert format_money(Decimal(summary[key])) in pages[0], key
    assert summary["projected_overspend"] == "0.00"
    assert "Days left" in pages[0] and "\n90\n" in pages[0]  # 31/12/2025 to 31/03/2026
    for n, page in enumerate(pages, start=1):
        assert "CRG-2025-26 · 2025/26-Q3 · Return submitted, version 1" in page
        assert f"Return checksum (SHA-256): {submitted.checksum}" in page
        assert f"Page {n} of {len(pages)}" in page
    for heading in (
        "Spend by project against budget",
        "Spend by PCC priority: Cut Crime, Support Victims, Build Trust",
        "Spend by local priority: Tonbridge and Malling CSP Plan 2025/26",
        "Outcomes against targets",
        "Checks that need attention",
        "The officer's narratives",
    ):
        assert heading in text
    words = " ".join(text.split())  # a wrapped cell's lines joined again
    # Colour is not the only carrier: the overspend is written beside A02's bar.
    assert "£5,034.34 of £4,500.00 (112%); £534.34 over" in words
    report = build_report(demo_ui_db, GRANT_REFERENCE, Q3).to_json()
    outcomes = [o for item in report["allocations"] for o in item.get("outcomes", [])]
    for outcome in outcomes:  # each measure of the report, with its % of target
        assert f"{outcome['code']} {outcome['title']}" in words
        reached = outcome["percent_of_target"]  # None while nothing was due
        assert (f"{reached}%" if reached is not None else "—") in words
    if not outcomes:
        assert "No outcome measures recorded." in text
    assert "Outputs and outcomes: Forty-one young people attended" in text

    info = _read("pdfinfo", out)
    assert "Title:           Board report: Crime Reduction Grant 2025/26 (CRG-2025-26), " in info
    assert "Creator:         Fundtracker" in info
    assert "Page size:       595 x 842 pts (A4)" in info
    fonts = _read("pdffonts", out).splitlines()[2:]  # under the two header lines
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # the "emb" column


def test_board_report_button_saves_where_asked_and_says_so(
    qtbot: QtBot, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    page = window.show_page("returns")
    _choose_period(page, "2025/26-Q3")
    out = tmp_path / "for the board.pdf"
    offered: list[str] = []

    def ask(_parent: object, _title: str, name: str, _filter: str) -> tuple[str, str]:
        offered.append(name)
        return str(out), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    page.board_button.click()
    qtbot.waitUntil(lambda: "Board report" in window.statusBar().currentMessage(), timeout=15_000)
    assert offered == ["board-report-CRG-2025-26-2025-26-Q3.pdf"]
    assert window.statusBar().currentMessage().endswith(f"pages) written to {out}")
    assert out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        assert "Draft return, not yet submitted" in _read("pdftotext", out)
