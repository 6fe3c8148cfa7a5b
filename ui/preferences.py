"""Preferences kept in QSettings: the name written as "Prepared by" on returns."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from fundtracker.audit import os_user
from ui.settings import settings


def prepared_by() -> str:
    return str(settings().value("prepared_by", "") or os_user())


class PreferencesDialog(QDialog):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.name = QLineEdit(prepared_by())
        self.name.setAccessibleName("Your name, as written on returns")
        form.addRow("Your name (Prepared by)", self.name)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        settings().setValue("prepared_by", self.name.text().strip())
        self.accept()
