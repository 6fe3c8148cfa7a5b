"""GUI test fixtures: settings in a temporary folder, a demo database copied per test (loading
the demo once per run), and the main window over it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from fundtracker.storage import Database, open_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform says it cannot propagate size hints; that is not our warning.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A modal dialog waits for a click no test will make: offscreen, the test would hang
    until CI's time runs out. Any dialog a test did not stub fails the test at once, naming
    what it asked."""

    def refuse(*args: object, **_kwargs: object) -> None:
        texts = [a.text() if isinstance(a, QMessageBox) else a for a in args]
        raise AssertionError(f"a modal dialog opened during a GUI test: {texts}")

    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(refuse))
    monkeypatch.setattr(QMessageBox, "exec", refuse)
    monkeypatch.setattr(QDialog, "exec", refuse)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, qapp: QApplication) -> Iterator[Path]:
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fundtracker.demo import load_demo

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    db = open_database(str(path))
    load_demo(db)
    db.dispose()
    return path


@pytest.fixture
def demo_ui_db(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    db = open_database(str(path))
    yield db
    db.dispose()


@pytest.fixture
def window(qtbot: QtBot, demo_ui_db: Database) -> Iterator[object]:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    main = MainWindow(Workspace(demo_ui_db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main
    for box in main.findChildren(QMessageBox):
        box.close()


def message_boxes(widget: object) -> list[QMessageBox]:
    """Messages shown (non-blocking) over the window, newest last."""
    return [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox)] + list(
        widget.findChildren(QMessageBox)  # type: ignore[attr-defined]
    )
