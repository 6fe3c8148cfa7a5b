"""Preferences kept in QSettings, per person: the name written as "Prepared by" on returns,
and the backup folder (a network drive, a synced folder) that receives the daily backup."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from fundtracker.audit import os_user
from ui.accessibility import Scrolling
from ui.naming import labelled, named
from ui.settings import settings
from ui.thresholds import ThresholdsEditor
from ui.workspace import Workspace

BACKUP_FOLDER_KEY = "backup_folder"
LAST_BACKUP_PLACE_KEY = "last_backup_place"


def prepared_by() -> str:
    return str(settings().value("prepared_by", "") or os_user())


def backup_folder() -> Path | None:
    """The person's chosen backup folder, or None when they have not chosen one."""
    value = str(settings().value(BACKUP_FOLDER_KEY, "") or "").strip()
    return Path(value) if value else None


def set_backup_folder(folder: Path | None) -> None:
    settings().setValue(BACKUP_FOLDER_KEY, str(folder) if folder else "")


def last_backup_place() -> Path | None:
    """The folder the person last saved a backup or copy in (Back up now… starts there)."""
    value = str(settings().value(LAST_BACKUP_PLACE_KEY, "") or "")
    return Path(value) if value else None


def remember_backup_place(folder: Path) -> None:
    settings().setValue(LAST_BACKUP_PLACE_KEY, str(folder))


class PreferencesDialog(QDialog):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.name = labelled(QLineEdit(prepared_by()), "Your name, as written on returns")
        form.addRow("Your name (Prepared by)", self.name)
        form.addRow("Backup folder", self._backup_folder_row())
        form.addRow(
            "",
            QLabel(
                "Each day's first backup is also saved here, with the evidence files:\n"
                "choose a network drive or a synced folder, so it survives the laptop."
            ),
        )
        # The checks' thresholds belong to the data, not the person: kept in the database.
        workspace = getattr(parent, "workspace", None)
        self.thresholds = ThresholdsEditor(workspace) if isinstance(workspace, Workspace) else None
        if self.thresholds is not None:  # in a large font they scroll, the buttons stay
            form.addRow(Scrolling(self.thresholds, "Thresholds of the checks"))
        self.problem = named(QLabel(""), "preferencesProblem")
        self.problem.setProperty("class", "fieldError")
        form.addRow("", self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _backup_folder_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        chosen = backup_folder()
        self.backup_folder = labelled(
            named(QLineEdit(str(chosen) if chosen else ""), "backupFolder"), "Backup folder"
        )
        self.backup_folder.setPlaceholderText("none: backups only beside the database")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_backup_folder)
        layout.addWidget(self.backup_folder, 1)
        layout.addWidget(choose)
        return row

    def choose_backup_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Backup folder", self.backup_folder.text() or str(Path.home())
        )
        if folder:
            self.backup_folder.setText(folder)

    def save(self) -> None:
        text = self.backup_folder.text().strip()
        folder = Path(text).expanduser() if text else None
        if folder is not None and not folder.is_dir():
            # Never created for the person: an unconnected drive's path would become a
            # local folder, and the backups would not leave the laptop after all.
            self.problem.setText(f"Backup folder: {folder} is not a folder that can be reached.")
            self.backup_folder.setFocus()
            return
        if self.thresholds is not None and not self.thresholds.save():
            return  # refused beside the threshold; nothing saved
        settings().setValue("prepared_by", self.name.text().strip())
        set_backup_folder(folder)
        self.accept()
