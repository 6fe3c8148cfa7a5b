"""The Received returns page's *Receive from this database* (issue 16), the twin of
``received add --from-database``: on a database where partnerships submit their returns, the
OPCC receives them with one click, as one undo step. The partnerships and their returns are
tests/test_opcc_from_database.py's: CRG-01's Q2 v1 (reopened) and v2, CRG-02's Q1 and Q2,
CRG-03's and CRG-04's Q2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fundtracker.opcc.receiving import IN_THIS_DATABASE
from fundtracker.storage import Database, open_database
from tests.test_opcc_from_database import Partnerships, partnerships, received
from tests.ui.test_opcc_pages import column

__all__ = ["partnerships"]  # the fixture, shared with the core tests


@pytest.fixture
def shared_window(qtbot: QtBot, db: Database, partnerships: Partnerships) -> Iterator[Any]:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    main = MainWindow(Workspace(db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main


def test_receive_from_this_database_takes_every_standing_return_as_one_step(
    qtbot: QtBot, shared_window: Any, db: Database
) -> None:
    window = shared_window
    window.opcc_action.trigger()  # View > The OPCC's pages
    page = window.show_page("received")
    button = page.database_button
    assert not button.isHidden() and button.accessibleName() == (
        "Receive submitted returns from this database"
    )
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.receiving and len(page.outcomes.rows) == 5, timeout=20_000)
    # Every standing submission, by grant and period; CRG-01's reopened v1 is not one.
    assert column(page.outcomes, "Return") == [
        "CSP 01 CRG-01 2025/26-Q2 v2",
        "CSP 02 CRG-02 2025/26-Q1 v1",
        "CSP 02 CRG-02 2025/26-Q2 v1",
        "CSP 03 CRG-03 2025/26-Q2 v1",
        "CSP 04 CRG-04 2025/26-Q2 v1",
    ]
    assert set(column(page.outcomes, "Outcome")) == {"Added"}
    assert set(column(page.outcomes, "File")) == {IN_THIS_DATABASE}
    assert page.summary.text() == "5 returns: 5 added"
    qtbot.waitUntil(lambda: len(page.received.rows) == 5)
    # Again: nothing new, so no undo step; the one undo removes the first batch whole.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.summary.text() == "5 returns: 5 already received")
    window.workspace.undo_stack.undo()
    assert received(db) == []
    qtbot.waitUntil(lambda: len(page.received.rows) == 0)


def test_the_button_is_not_shown_where_no_partnership_submits(qtbot: QtBot, tmp_path: Path) -> None:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    opcc = open_database(str(tmp_path / "opcc.sqlite3"))  # the OPCC's own database
    main = MainWindow(Workspace(opcc))
    qtbot.addWidget(main)
    main.opcc_action.trigger()
    page = main.show_page("received")
    assert page.database_button.isHidden() and not page.receive_button.isHidden()
    main.close()
    opcc.dispose()
