"""Returns page: the funder's template and its map chosen once per grant and remembered, then
the period's return exported into it; a map that does not fit is refused, nothing kept."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import message_boxes
from ui import funders_template

EXAMPLES = Path(str(files("resources") / "examples"))
TEMPLATE = EXAMPLES / "grant-return-template.xlsx"
MAP = EXAMPLES / "grant-return-template.toml"
GRANT = "CRG-2025-26"


def _answer_open_dialogs(monkeypatch: pytest.MonkeyPatch, *answers: Path) -> None:
    """The file dialogs answer ``answers`` in turn (the template, then its map)."""
    queue = [str(a) for a in answers]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (queue.pop(0), ""))
    )


def _menu_action(page: Any, text: str) -> Any:
    return next(a for a in page.template_button.menu().actions() if a.text() == text)


def _show_q2(page: Any) -> None:
    for row in range(page.periods.count()):
        if page.periods.item(row).data(Qt.ItemDataRole.UserRole) == "2025/26-Q2":
            page.periods.setCurrentRow(row)


def test_choose_once_then_export_into_the_funders_template(
    qtbot: QtBot, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = window.show_page("returns")
    _show_q2(page)
    _answer_open_dialogs(monkeypatch, TEMPLATE, MAP)
    _menu_action(page, "Choose the template and its map…").trigger()
    assert funders_template.remembered(GRANT) == (TEMPLATE, MAP)
    window.grab().save(str(tmp_path / "returns-template.png"))

    out = tmp_path / "q2-funder.xlsx"
    # remembered: no open dialog is asked again, only where to save
    _answer_open_dialogs(monkeypatch)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(out), ""))
    )
    _menu_action(page, "Export to funder's template…").trigger()
    qtbot.waitUntil(out.exists, timeout=15_000)
    sheet = openpyxl.load_workbook(out)["Return"]
    assert sheet["C5"].value == GRANT and sheet["C36"].value == "Draft"
    assert sheet["A13"].value == "A01" and sheet["D13"].value == 8000  # A01's budget
    assert sheet["D23"].value == "=SUM(D13:D22)"  # the form's own total, kept


def test_a_map_that_does_not_fit_is_refused_and_not_remembered(
    window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = window.show_page("returns")
    bad = tmp_path / "bad.toml"
    bad.write_text('[cells]\n"Return!I13" = "summary.spend_to_date"\n', encoding="utf-8")
    _answer_open_dialogs(monkeypatch, TEMPLATE, bad)
    _menu_action(page, "Choose the template and its map…").trigger()
    (shown,) = {b.text() for b in message_boxes(window) if b.isVisible()}
    assert "Return!I13 holds a formula (=SUM(E13:H13))" in shown
    assert funders_template.remembered(GRANT) is None
