"""Help ▸ About and ``fundtracker --version``: the version and the database in use, the first
two things anyone supporting the app asks for."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

import fundtracker
from ui.app import parse_args


def test_app_version_flag_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"fundtracker {fundtracker.__version__}\n"


def test_about_box_shows_version_and_database(
    window: object, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str]] = []

    def record(_parent: QWidget, title: str, text: str) -> None:
        shown.append((title, text))

    monkeypatch.setattr(QMessageBox, "about", staticmethod(record))
    about = next(
        action
        for menu in window.menuBar().findChildren(QMenu)  # type: ignore[attr-defined]
        for action in menu.actions()
        if action.text() == "&About Fundtracker"
    )
    about.trigger()
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "About Fundtracker"
    assert f"Fundtracker {fundtracker.__version__}" in text
    assert str(window.db.sqlite_path) in text  # type: ignore[attr-defined]
    assert text.endswith(f"Database: {window.db.display_name}")  # type: ignore[attr-defined]
