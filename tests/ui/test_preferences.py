"""Preferences: the checks' thresholds (in the database, undoable) and the prepared-by name (in
QSettings, the person's own)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from fundtracker.settings import (
    BEHIND_PROFILE_PERCENT,
    EVIDENCE_THRESHOLD,
    UNDERSPEND_RISK_PERCENT,
    all_settings,
)
from fundtracker.storage import Database
from tests.ui.assistant_support import find, shot, type_in
from ui.main_window import MainWindow
from ui.preferences import PreferencesDialog, prepared_by

UNDERSPEND = "Underspend risk above (% of the award)"
EVIDENCE = "Evidence needed from (£ claimable)"
DEFAULTS = {
    UNDERSPEND_RISK_PERCENT: Decimal("2"),
    BEHIND_PROFILE_PERCENT: Decimal("75"),
    EVIDENCE_THRESHOLD: Decimal("500.00"),
}


def thresholds(db: Database) -> dict[str, Decimal]:
    return {key: value for key, value in all_settings(db).items() if key in DEFAULTS}


@pytest.fixture
def dialog(qtbot: QtBot, window: MainWindow) -> PreferencesDialog:
    dialog = PreferencesDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_thresholds_show_their_meaning_and_default(dialog: PreferencesDialog) -> None:
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any(t.startswith("UNDERSPEND_RISK fires when") and "Default: 2;" in t for t in texts)
    assert any("Default: 500.00;" in t for t in texts)
    shot(dialog, "preferences")


def test_save_thresholds_and_name_then_undo(
    qtbot: QtBot, window: MainWindow, dialog: PreferencesDialog, demo_ui_db: Database
) -> None:
    type_in(qtbot, dialog, UNDERSPEND, "5")
    type_in(qtbot, dialog, EVIDENCE, "£750")
    type_in(qtbot, dialog, "Your name, as written on returns", "Sam Officer")
    dialog.save()
    assert thresholds(demo_ui_db) == {
        **DEFAULTS,
        UNDERSPEND_RISK_PERCENT: Decimal("5"),
        EVIDENCE_THRESHOLD: Decimal("750.00"),
    }
    assert prepared_by() == "Sam Officer"
    window.undo_action.trigger()  # the thresholds are one undo step
    assert thresholds(demo_ui_db) == DEFAULTS


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        (UNDERSPEND, "150", "is not a percentage from 0 to 100"),
        (UNDERSPEND, "NaN", "is not a percentage from 0 to 100"),
        (EVIDENCE, "12.345", "fractions of a penny"),
    ],
)
def test_a_bad_threshold_is_refused_beside_it_and_nothing_is_saved(
    qtbot: QtBot,
    dialog: PreferencesDialog,
    demo_ui_db: Database,
    label: str,
    value: str,
    message: str,
) -> None:
    type_in(qtbot, dialog, label, value)
    type_in(qtbot, dialog, "Your name, as written on returns", "Not Saved")
    dialog.save()
    problem = find(dialog, f"{label} problem", QLabel)
    assert isinstance(problem, QLabel) and message in problem.text()
    assert thresholds(demo_ui_db) == DEFAULTS
    assert prepared_by() != "Not Saved"
    assert dialog.isVisible()
