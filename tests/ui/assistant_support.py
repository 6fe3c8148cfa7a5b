"""Driving the new-grant assistant as a person does: fields found by their visible labels (their
accessible names), typed into with the keyboard, buttons clicked."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

# Set FUNDTRACKER_DIALOG_SCREENSHOTS=DIR to keep the dialogs' pictures (docs/screenshots is
# refreshed so); otherwise they go to a temporary folder and a test run leaves the tree clean.
SHOTS = Path(
    os.environ.get("FUNDTRACKER_DIALOG_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "fundtracker-test-screenshots"
)


def find(root: QWidget, name: str, kind: type[QWidget] = QWidget) -> QWidget:
    """The one visible widget of ``kind`` under ``root`` whose accessible name is ``name``."""
    found = [
        w for w in root.findChildren(kind) if w.accessibleName() == name and w.isVisibleTo(root)
    ]
    found = [w for w in found if not any(w.isAncestorOf(o) for o in found if o is not w)]
    assert len(found) == 1, f"{len(found)} fields named {name!r}"
    return found[0]


def type_in(qtbot: QtBot, root: QWidget, name: str, text: str) -> None:
    widget = find(root, name)
    if not isinstance(widget, QLineEdit | QPlainTextEdit | QComboBox):
        widget = find(widget, name, QLineEdit)
    if isinstance(widget, QLineEdit):
        widget.selectAll()
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    if isinstance(widget, QPlainTextEdit):
        widget.clear()
        for number, line in enumerate(text.split("\n")):
            if number:
                qtbot.keyClick(widget, Qt.Key.Key_Return)
            qtbot.keyClicks(widget, line)
        return
    qtbot.keyClicks(widget, text)


def click(qtbot: QtBot, root: QWidget, name: str) -> None:
    button = find(root, name, QAbstractButton)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.wait(1)  # a row added to a shown layout is shown by the next event loop pass


def choose(qtbot: QtBot, root: QWidget, name: str, text: str) -> None:
    """Pick an entry of a drop-down by typing its first letters, as the keyboard allows."""
    combo = find(root, name, QComboBox)
    assert isinstance(combo, QComboBox)
    combo.setFocus()
    qtbot.keyClicks(combo, text.split(" ")[0])  # a space would open the list instead
    assert combo.currentText().startswith(text), combo.currentText()
    qtbot.wait(1)


def next_page(qtbot: QtBot, wizard: QWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)


def finish(qtbot: QtBot, wizard: QWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)


def shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


OFFER = {
    "Reference": "CSF-2026-27",
    "Grant name": "Community Safety Fund 2026/27",
    "Funder": "Kent PCC",
    "Recipient": "Tonbridge and Malling CSP",
    "Award": "£60,000.00",
    "Start": "01/04/2026",
    "End": "31/03/2027",
}
LOCAL_PLAN = {
    "Plan name": "Safer Tonbridge",
    "Owner": "TMBC CSP",
    "In effect from": "01/04/2026",
    "In effect to": "31/03/2029",
}
LOCAL_PRIORITIES = (
    "Violence against women and girls\n"
    "Anti-social behaviour\n"
    "- Town centre evenings\n"
    "Shop theft\n"
    "Young people"
)
# code, name, lead, cost centre, budget, PCC weights, local weights.
# Budgets 15,000 + 12,000 + 10,000 + 9,000 + 8,000 + 6,000 = 60,000.00, the whole award.
PROJECTS = [
    ("A01", "Youth diversion", "TMBC", "CS101", "15000", {"P1": "60", "P2": "40"}, {"C4": "100"}),
    ("A02", "Shopwatch radios", "Town Team", "CS102", "12000", {"P3": "100"}, {"C3": "100"}),
    ("A03", "DA one-stop shop", "DA Forum", "CS103", "10000", {"P1": "100"}, {"C1": "100"}),
    ("A04", "ASB patrols", "Kent Police", "CS104", "9000", {"P2": "100"}, {"C2": "100"}),
    (
        "A05",
        "Night safety",
        "TMBC",
        "CS105",
        "8000",
        {"P1": "33.33", "P2": "66.67"},
        {"C2.1": "100"},
    ),
    ("A06", "Partnership analyst", "CSP", "CS106", "6000", {"P4": "100"}, {"C2": "50", "C1": "50"}),
]
A01_QUARTERS = ["3000", "4000", "4000", "4000"]  # 3,000 + 4,000 × 3 = 15,000.00, A01's budget
PAYMENTS = [("15/05/2026", "30000", "Received"), ("16/11/2026", "30000", "Expected")]
START = date(2026, 4, 1)
