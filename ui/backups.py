"""File menu: Back up now…, Restore…, Save a copy for a colleague…, Open a copy…; the daily
backup into the person's backup folder; the last backup time in the status bar.

The work is the core's (``fundtracker.backup``); this module asks the questions. The file
and folder questions are module functions (``ask_save_path``, ``ask_open_path``,
``ask_folder``) so tests can answer them for the officer.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from fundtracker import backup, ftbackup
from fundtracker.errors import DatabaseError, FundtrackerError
from fundtracker.storage import Database
from ui import dialogs
from ui.errors import show_error
from ui.operations import Progress, run_in_background
from ui.preferences import backup_folder, last_backup_place, remember_backup_place

if TYPE_CHECKING:
    from ui.main_window import MainWindow

BACKUP_FILTER = "Fundtracker backups (*.ftbackup)"
OPEN_FILTER = "Fundtracker backups (*.ftbackup *.sqlite3);;All files (*)"
DEMO_FOLDER_PREFIX = "fundtracker-demo-"  # ui.app's throwaway demo databases


# --- Questions (tests replace these) -----------------------------------------------------


def ask_save_path(parent: QWidget, title: str, suggested: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), BACKUP_FILTER)
    return Path(path) if path else None


def ask_open_path(parent: QWidget, title: str, start: Path) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start), OPEN_FILTER)
    return Path(path) if path else None


def ask_folder(parent: QWidget, title: str, start: Path) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, title, str(start))
    return Path(folder) if folder else None


# --- The status bar ----------------------------------------------------------------------


def last_backup_text(db: Database, in_backup_folder: datetime | None = None) -> str:
    """The backups beside the database (a local look, never the network drive from the GUI
    thread), and the newest in the backup folder once the daily backup's thread has looked."""
    if db.sqlite_path is None:
        return "Backups: by the database server"
    when = backup.last_backup_time(db.sqlite_path)
    text = f"Last backup: {when.astimezone():%d/%m/%Y %H:%M}" if when else "No backup yet"
    if in_backup_folder is not None:
        text += f" · in your backup folder: {in_backup_folder.astimezone():%d/%m/%Y %H:%M}"
    return text


def _sqlite_or_explain(window: MainWindow, title: str) -> Path | None:
    path = window.db.sqlite_path
    if path is None:
        QMessageBox.information(window, title, "The database server keeps the backups.")
    return path


def _with_suffix(path: Path) -> Path:
    """A name typed without an extension gets ``.ftbackup``; ``.sqlite3`` is kept (a plain
    database copy, as earlier versions wrote)."""
    if path.suffix.lower() in (ftbackup.SUFFIX, backup.DATABASE_SUFFIX):
        return path
    return path.with_name(path.name + ftbackup.SUFFIX)


def _start_folder(database: Path) -> Path:
    return last_backup_place() or backup_folder() or database.parent


# --- Back up now… and Save a copy for a colleague… -----------------------------------------


def backup_now(window: MainWindow) -> None:
    """Ask where (starting in the last place used), then write the backup there."""
    _save_single_file(window, "Back up now", "manual", "Backup")


def save_copy(window: MainWindow) -> None:
    """The hand-over: the same single file, database and evidence, for a colleague to open."""
    _save_single_file(window, "Save a copy for a colleague", "copy", "Copy for a colleague")


def _save_single_file(window: MainWindow, title: str, kind: str, what: str) -> None:
    database = _sqlite_or_explain(window, title)
    if database is None:
        return
    suggested = _start_folder(database) / backup.suggested_name(database, kind)
    chosen = ask_save_path(window, title, suggested)
    if chosen is None:
        return
    out = _with_suffix(chosen)
    remember_backup_place(out.parent)

    def work(_progress: Progress) -> Any:
        return backup.backup_now(database, out)

    def done(result: Any) -> None:
        window.show_last_backup()
        window.statusBar().showMessage(f"{what} written to {result}", 10000)

    run_in_background(window, f"Writing {out.name}…", work, done, cancellable=False)


# --- Restore… and Open a copy… -------------------------------------------------------------


def restore(window: MainWindow) -> None:
    """Any backup file (``.ftbackup`` or ``.sqlite3``) replaces the database, after a check."""
    database = _sqlite_or_explain(window, "Restore")
    if database is None:
        return
    start = _restore_start(database)
    source = ask_open_path(window, "Restore from a backup", start)
    if source is None:
        return

    def confirm(lost: list[backup.LostSubmission]) -> bool:
        question = (
            f"Replace {database.name} with the backup {source.name}?\n\n"
            + _taken_away(lost)
            + "A copy of the database as it is now is kept in the backups folder first."
            + ("\nThe evidence files in the backup are put back too." if _is_zip(source) else "")
        )
        action = "Restore and un-submit" if lost else "Restore"
        return dialogs.confirm(window, "Restore from a backup", question, action)

    finish_daily_backups()  # its reading connection would keep the database open
    window.db.dispose()  # it reconnects if the restore is refused or declined
    try:
        backup.restore(database, source, confirm)
    except backup.RestoreDeclined:
        return
    except DatabaseError as error:
        show_error(window, error)
        return
    window.open_requested.emit(str(database))


def _taken_away(lost: list[backup.LostSubmission]) -> str:
    if not lost:
        return ""
    names = "\n".join(f"• {item}" for item in lost)
    return (
        "The backup does not have these returns as submitted (it was taken before they were, "
        f"or while they were reopened): restoring it un-submits them.\n{names}\n"
        "The restore and these returns are recorded in the audit log.\n\n"
    )


def _restore_start(database: Path) -> Path:
    """The person's backup folder (this database's subfolder there) if it has backups, else
    the backups folder beside the database."""
    chosen = backup_folder()
    if chosen is not None and backup.list_offsite_backups(database, chosen):
        return backup.offsite_folder(database, chosen)
    beside = backup.backups_folder(database)
    return beside if beside.is_dir() else database.parent


def _is_zip(path: Path) -> bool:
    try:
        return ftbackup.is_ftbackup(path)
    except OSError:
        return False


def open_copy(window: MainWindow) -> None:
    """Open a colleague's copy as a new database in a folder the person picks."""
    here = window.db.sqlite_path.parent if window.db.sqlite_path else Path.home()
    source = ask_open_path(window, "Open a copy", last_backup_place() or here)
    if source is None:
        return
    folder = ask_folder(window, "Choose an empty folder for the copy", here.parent)
    if folder is None:
        return

    def work(_progress: Progress) -> Any:
        return backup.open_copy(source, folder)

    def done(result: Any) -> None:
        window.open_requested.emit(str(result))

    run_in_background(window, f"Opening {source.name}…", work, done, cancellable=False)


# --- The daily backup into the person's backup folder -------------------------------------


class DailyBackup(QThread):
    """Today's backup into the backup folder, quietly off the GUI thread: a network drive
    can be slow, and the window must not wait for it (nor show a progress dialog)."""

    def __init__(self, database: Path, folder: Path) -> None:
        super().__init__()
        self.database = database
        self.folder = folder
        self.message = ""
        self.failed = False
        self.newest: datetime | None = None  # the newest backup in the folder, once looked

    def run(self) -> None:
        try:
            taken = backup.daily_offsite_backup(self.database, self.folder)
        except (FundtrackerError, OSError) as error:
            self.message, self.failed = f"Backup folder: {error}", True
            return
        self.message = f"Daily backup saved to {taken}" if taken else ""
        found = backup.list_offsite_backups(self.database, self.folder)
        self.newest = found[0].taken_at if found else None


class _Reporter(QObject):
    """Lives on the GUI thread, so the finished thread's news reaches the window there."""

    def __init__(self, window: MainWindow, job: DailyBackup) -> None:
        super().__init__(window)
        self.window = window
        self.job = job
        job.finished.connect(self.report)

    def report(self) -> None:
        _running.discard(self.job)
        if self.job.message:
            self.window.statusBar().showMessage(
                self.job.message, 30000 if self.job.failed else 10000
            )
        self.window.backup_label.setText(last_backup_text(self.window.db, self.job.newest))
        self.deleteLater()


_running: set[DailyBackup] = set()


def start_daily_backup(window: MainWindow) -> DailyBackup | None:
    """Start today's backup into the person's backup folder, if they chose one. Not for the
    throwaway demo database, nor a read-only or screenshot window."""
    database = window.db.sqlite_path
    folder = backup_folder()
    if (
        database is None
        or folder is None
        or window.workspace.read_only
        or not window.remember_state
        or database.parent.name.startswith(DEMO_FOLDER_PREFIX)
    ):
        return None
    job = DailyBackup(database, folder)
    _Reporter(window, job)
    _running.add(job)
    job.start()
    return job


def finish_daily_backups() -> None:
    """Before the window closes: let a daily backup in progress finish (it is one file,
    written atomically, so waiting is the only safe way)."""
    for job in list(_running):
        job.wait()
