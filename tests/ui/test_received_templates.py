"""Receive funder's templates… on the Received returns page (issue 16): the template and its
map asked for once, then the filled templates; each verified against its snapshot as
received add --template --map does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from fundtracker.opcc.receiving import list_received
from fundtracker.storage import Database
from tests.test_opcc_template_receiving import EXAMPLE, EXAMPLE_MAP, Exported, alter_cell
from tests.test_opcc_template_receiving import exported as exported  # the module's fixture


@pytest.fixture
def received_page(qtbot: QtBot, db: Database) -> Iterator[Any]:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    main = MainWindow(Workspace(db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main.show_page("received")


def test_receive_funders_templates_asks_for_the_template_and_map_then_the_files(
    qtbot: QtBot,
    received_page: Any,
    db: Database,
    exported: Exported,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = received_page
    altered = tmp_path / "altered.xlsx"
    alter_cell(exported.template, altered, "Return", "C10", "99999")
    asked: list[str] = []

    def one_file(_parent: Any, title: str, *_a: Any) -> tuple[str, str]:
        asked.append(title)
        return (str(EXAMPLE) if "template" in title else str(EXAMPLE_MAP)), ""

    def the_files(_parent: Any, title: str, *_a: Any) -> tuple[list[str], str]:
        asked.append(title)
        return [str(exported.template), str(altered)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(one_file))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(the_files))
    page.template_button.click()
    qtbot.waitUntil(lambda: not page.receiving and len(page.outcomes.rows) == 2, timeout=20_000)
    assert asked == ["The funder's template", "Its map", "Receive filled templates"]
    assert page.summary.text() == "2 files: 1 added, 1 refused"
    [row] = list_received(db)
    assert row["file"] == "q2.xlsx" and row["checksum"] == exported.checksum
    assert len(page.received.rows) == 1
