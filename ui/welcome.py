"""The first-run page: a database with no grant opens here, not on empty pages.

Three ways on: *Set up a grant* (the new-grant assistant), *Try the demo* (a separate demo
database in a temporary folder, never the officer's own), *Open a database…* (a file, or a
shared PostgreSQL database by its address; the password is asked for each time and kept in
memory only for the connection, never written to settings or the recent list).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fundtracker.database_urls import EXAMPLE, shared_database_url
from fundtracker.errors import ValidationError
from fundtracker.setup_drafts import Problems
from ui.fields import Form


def make_demo_database() -> str:
    """A fresh demo year in its own temporary folder; the path to open."""
    from fundtracker.demo import load_demo
    from fundtracker.storage import open_database

    path = Path(tempfile.mkdtemp(prefix="fundtracker-demo-")) / "demo.sqlite3"
    db = open_database(str(path))
    try:
        load_demo(db)
    finally:
        db.dispose()
    return str(path)


class WelcomePage(QWidget):
    setup_requested = Signal()
    demo_requested = Signal()
    open_requested = Signal(str)  # a database file or address to open instead

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.setObjectName("welcomePage")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        title = QLabel("Welcome to Fundtracker")
        title.setProperty("class", "pageTitle")
        column.addWidget(title)
        intro = QLabel(
            "This database has no grant yet. Set up your partnership's grant from its offer "
            "letter, look around the illustrative demo year first, or open the database "
            "you already use."
        )
        intro.setWordWrap(True)
        column.addWidget(intro)
        self.setup = self._choice(
            column,
            "Set up a grant",
            "Type in the offer letter, the payments, the plans and the projects. Nothing is "
            "written until you press Finish, and it can be undone.",
        )
        self.setup.setEnabled(not read_only)
        self.demo = self._choice(
            column,
            "Try the demo",
            "Opens a demo year (invented figures) in a separate file in a temporary folder. "
            "Your own database is not touched.",
        )
        self.open = self._choice(
            column,
            "Open a database…",
            "A Fundtracker file, or your team's shared PostgreSQL database.",
        )
        self.setup.clicked.connect(self.setup_requested)
        self.demo.clicked.connect(self.demo_requested)
        self.open.clicked.connect(self.ask_for_database)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(column, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.dialog: OpenDatabaseDialog | None = None

    def _choice(self, column: QVBoxLayout, text: str, explanation: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text)
        button.setMinimumHeight(44)
        button.setProperty("class", "welcomeChoice")
        column.addSpacing(14)
        column.addWidget(button)
        said = QLabel(explanation)
        said.setWordWrap(True)
        said.setProperty("class", "hint")
        said.setContentsMargins(10, 0, 0, 0)
        column.addWidget(said)
        return button

    def ask_for_database(self) -> None:
        self.dialog = OpenDatabaseDialog(self)
        self.dialog.chosen.connect(self.open_requested)
        self.dialog.open()


class OpenDatabaseDialog(QDialog):
    """A database file, or a shared database's address and a password asked for now."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a database")
        layout = QVBoxLayout(self)
        file_box = QGroupBox("A Fundtracker file")
        file_form = Form(file_box)
        picker = QWidget()
        picker_row = QHBoxLayout(picker)
        picker_row.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit()
        self.path.setPlaceholderText("…/fundtracker.sqlite3")
        browse = QPushButton("Browse…")
        browse.setAccessibleName("Browse for a database file")
        browse.clicked.connect(self.browse)
        picker_row.addWidget(self.path, 1)
        picker_row.addWidget(browse)
        file_form.add("Database file", picker)
        self.path.setAccessibleName("Database file")  # the field itself, not its row
        self.file_form = file_form
        layout.addWidget(file_box)
        shared_box = QGroupBox("Or a shared PostgreSQL database")
        self.shared_form = Form(shared_box)
        self.address = self.shared_form.add("Shared database address", QLineEdit())
        self.address.setPlaceholderText(EXAMPLE)
        self.password = self.shared_form.add("Password", QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        note = QLabel("The password is used for this connection only and is never saved.")
        note.setWordWrap(True)
        self.shared_form.layout.addRow(note)
        layout.addWidget(shared_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(680)
        for edit in (self.path, self.address, self.password):
            edit.textChanged.connect(self._typed)
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open database", "", "Fundtracker databases (*.sqlite3 *.db);;All files (*)"
        )
        if path:
            self.path.setText(path)

    def target(self) -> str | None:
        """What to open, or None with the refusal shown beside its field."""
        problems = Problems()
        path, address = self.path.text().strip(), self.address.text().strip()
        target: str | None = None
        if path and address:
            problems.add("Database file", "choose a file or a shared database, not both")
        elif path:
            if not Path(path).expanduser().is_file():
                problems.add("Database file", f"there is no file {path}")
            target = str(Path(path).expanduser())
        elif address:
            try:
                target = shared_database_url(address, self.password.text())
            except ValidationError as error:
                problems.errors.extend(error.errors)
        else:
            problems.add("Database file", "choose a file, or type a shared database's address")
        self.file_form.show(problems)
        self.shared_form.show(problems)
        self.adjustSize()  # room for a refusal that has just appeared
        return None if problems else target

    def _typed(self) -> None:
        """What was refused is out of date once the officer types again."""
        self.file_form.clear()
        self.shared_form.clear()

    def accept(self) -> None:
        target = self.target()
        if target is None:
            return
        self.password.clear()  # not kept in the dialog either
        super().accept()
        self.chosen.emit(target)
