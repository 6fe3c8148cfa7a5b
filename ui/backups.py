"""File menu: Back up now, Restore from backup, and the last backup time in the status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from fundtracker import backup
from fundtracker.errors import DatabaseError
from fundtracker.storage import Database
from ui import dialogs
from ui.errors import show_error
from ui.operations import Progress, run_in_background

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def last_backup_text(db: Database) -> str:
    if db.sqlite_path is None:
        return "Backups: by the database server"
    when = backup.last_backup_time(db.sqlite_path)
    return f"Last backup: {when.astimezone():%d/%m/%Y %H:%M}" if when else "No backup yet"


def backup_now(window: MainWindow) -> None:
    path = window.db.sqlite_path
    if path is None:
        QMessageBox.information(window, "Back up", "The database server keeps the backups.")
        return

    def work(progress: Progress) -> Any:
        return backup.backup_now(path)

    def done(result: Any) -> None:
        window.show_last_backup()
        window.statusBar().showMessage(f"Backup written to {result}", 10000)

    run_in_background(window, "Backing up the database…", work, done, cancellable=False)


def restore(window: MainWindow) -> None:
    path = window.db.sqlite_path
    if path is None:
        QMessageBox.information(window, "Restore", "Ask whoever runs the database server.")
        return
    backups = backup.list_backups(path)
    if not backups:
        QMessageBox.information(window, "Restore", "There is no backup of this database yet.")
        return
    labels = [f"{b.taken_label} — {b.kind} — {b.path.name}" for b in backups]
    chosen = dialogs.ask_choice(window, "Restore from backup", "Replace the database with:", labels)
    if chosen is None:
        return
    source = backups[labels.index(chosen)].path
    question = (
        f"Replace {path.name} with the backup taken {backups[labels.index(chosen)].taken_label}?"
        "\n\nA copy of the database as it is now is kept in the backups folder first."
    )
    if not dialogs.confirm(window, "Restore from backup", question, "Restore"):
        return
    window.db.dispose()
    try:
        backup.restore(path, source)
    except DatabaseError as error:
        show_error(window, error)
        return
    window.open_requested.emit(str(path))
