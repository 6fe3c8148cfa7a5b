"""Close the year from the Returns page: enabled on the submitted last return, refused while
commitments are open (the message names them), then closed; reopened with a reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import Grant, SpendLine
from fundtracker.storage import Database
from tests.ui.conftest import message_boxes


def _choose_period(page: Any, period: str) -> None:
    for row in range(page.periods.count()):
        if page.periods.item(row).data(Qt.ItemDataRole.UserRole) == period:
            page.periods.setCurrentRow(row)
            return
    raise AssertionError(period)


def _closed(db: Database) -> bool:
    with db.read() as session:
        return any(g.closed_at is not None for g in session.scalars(select(Grant)))


def test_close_the_year_button(
    qtbot: QtBot,
    window: Any,
    demo_ui_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui import dialogs

    page = window.show_page("returns")
    _choose_period(page, "2025/26-Q3")
    assert not page.year_button.isEnabled()  # not the last period
    _choose_period(page, "2025/26-Q4")
    assert not page.year_button.isEnabled()  # not submitted yet
    asked: list[str] = []

    def confirm(_parent: Any, _title: str, text: str, _action: str = "") -> bool:
        asked.append(text)
        return True

    monkeypatch.setattr(dialogs, "confirm", confirm)
    out = tmp_path / "q4.xlsx"
    monkeypatch.setattr(page, "_ask_path", lambda *a: out)
    page.submit()
    qtbot.waitUntil(out.exists, timeout=15_000)
    qtbot.waitUntil(lambda: "Submitted v1" in page.status.text())
    _choose_period(page, "2025/26-Q4")
    assert page.year_button.isEnabled() and page.year_button.text() == "Close the year…"

    with demo_ui_db.read() as session:
        open_commitments = session.scalars(
            select(SpendLine.id).where(
                SpendLine.status == "committed", SpendLine.released_on.is_(None)
            )
        ).all()
    if open_commitments:
        page.close_or_reopen_year()
        assert not _closed(demo_ui_db)
        assert any("still open" in b.text() for b in message_boxes(window))
        with demo_ui_db.unit_of_work() as session:
            for line in session.scalars(select(SpendLine).where(SpendLine.status == "committed")):
                line.released_on = date(2026, 3, 31)

    asked.clear()
    page.close_or_reopen_year()
    assert "To return to the funder" in asked[0]  # the statement is shown before closing
    assert _closed(demo_ui_db)
    qtbot.waitUntil(lambda: page.year_button.text() == "Reopen the year…")

    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "late invoice")
    page.close_or_reopen_year()
    assert not _closed(demo_ui_db)
    qtbot.waitUntil(lambda: page.year_button.text() == "Close the year…")
