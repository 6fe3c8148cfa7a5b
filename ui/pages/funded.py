"""Funded partnerships (the OPCC's side, issue 16): the partnerships the OPCC funds — add and
edit —, the returns each owes with their due dates, and who has not sent what
(RETURN_MISSING, RETURN_LATE)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fundtracker.dates import local_date
from fundtracker.errors import FundtrackerError
from fundtracker.models import RETURN_FREQUENCIES
from fundtracker.opcc.funded import parse_funded
from fundtracker.opcc.operations import AddFunded, UpdateFunded
from fundtracker.presenters.opcc import (
    FIELD_LABELS,
    ExpectedRow,
    FundedRow,
    expected_rows,
    funded_refusal,
    funded_rows,
    return_findings,
)
from ui.fields import DateField, Form
from ui.models.table import Column, RowsModel
from ui.naming import labelled, named
from ui.pages.base import Page
from ui.pages.received import rows_table
from ui.workspace import GRANTS, RETURNS, SETTINGS, Workspace

FUNDED_COLUMNS: list[Column[FundedRow]] = [
    Column("Partnership", lambda r: r.fields["recipient"]),
    Column("Grant reference", lambda r: r.fields["grant_reference"]),
    Column("Award", lambda r: r.award, numeric=True),
    Column("Start", lambda r: r.start),
    Column("End", lambda r: r.end),
    Column("Returns", lambda r: r.returns),
]
EXPECTED_COLUMNS: list[Column[ExpectedRow]] = [
    Column("Partnership", lambda r: r.recipient),
    Column("Grant reference", lambda r: r.grant_reference),
    Column("Period", lambda r: r.period),
    Column("Due", lambda r: r.due),
    Column("Received on", lambda r: r.received_on),
    Column("State", lambda r: r.state),
]


class FundedDialog(QDialog):
    """Add a funded partnership, or edit one (``row``); a refusal shows beside its field and
    the dialog stays open."""

    def __init__(self, workspace: Workspace, parent: QWidget, row: FundedRow | None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.row = row
        self.setWindowTitle("Edit funded partnership" if row else "Add funded partnership")
        layout = QVBoxLayout(self)
        self.form = Form()
        layout.addLayout(self.form.layout)
        values = row.fields if row else {}
        self.edits: dict[str, Any] = {}
        for key in ("recipient", "grant_reference", "award"):
            self.edits[key] = self.form.add(FIELD_LABELS[key], QLineEdit(values.get(key, "")))
        for key in ("start", "end"):
            self.edits[key] = self.form.add(FIELD_LABELS[key], DateField(values.get(key, "")))
        returns = self.form.add(FIELD_LABELS["returns"], QComboBox())
        returns.addItems(list(RETURN_FREQUENCIES))
        returns.setCurrentText(values.get("returns", "quarterly"))
        self.returns = returns
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setAccessibleName("Save")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def raw(self) -> dict[str, str]:
        raw = {key: edit.text() for key, edit in self.edits.items()}
        raw["returns"] = self.returns.currentText()
        return raw

    def save(self) -> None:
        self.form.clear()
        try:
            values = tuple(parse_funded(self.raw()).items())
        except FundtrackerError as error:
            self.refuse(error)
            return
        operation = (
            UpdateFunded(self.row.id, self.row.version, values) if self.row else AddFunded(values)
        )
        if self.workspace.run(operation, self, on_error=self.refuse) is not None:
            self.accept()

    def refuse(self, error: FundtrackerError) -> None:
        field, message = funded_refusal(str(error))
        label = FIELD_LABELS.get(field, FIELD_LABELS["recipient"])
        self.form.refusals[label].say(message)


class FundedPage(Page):
    name = "funded"
    title = "Funded partnerships"
    kinds = frozenset({GRANTS, RETURNS, SETTINGS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        layout = QVBoxLayout(self)
        self.add_button = labelled(QPushButton("Add partnership…"), "Add funded partnership")
        self.edit_button = labelled(QPushButton("Edit…"), "Edit funded partnership")
        self.add_button.clicked.connect(lambda: self.open_dialog(None))
        self.edit_button.clicked.connect(self.edit_selected)
        for button in (self.add_button, self.edit_button):
            button.setEnabled(not workspace.read_only)
        layout.addLayout(self.heading("Funded partnerships", self.add_button, self.edit_button))
        self.funded = RowsModel(FUNDED_COLUMNS, self)
        self.funded_table = rows_table("fundedTable", "Funded partnerships", self.funded)
        self.funded_table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.findings = labelled(named(QListWidget(), "returnFindings"), "Returns missing or late")
        self.expected = RowsModel(EXPECTED_COLUMNS, self)
        self.expected_table = rows_table("expectedTable", "Returns expected", self.expected)
        splitter = named(QSplitter(Qt.Orientation.Vertical), "fundedSplitter")
        for widget in (self.funded_table, self.findings, self.expected_table):
            splitter.addWidget(widget)
        splitter.setSizes([220, 120, 300])
        layout.addWidget(splitter, 1)
        self.dialog: FundedDialog | None = None

    def reload(self) -> None:
        today = local_date()
        self.funded.set_rows(funded_rows(self.db))
        self.expected.set_rows(expected_rows(self.db, today))
        self.findings.clear()
        findings = return_findings(self.db, today)
        for finding in findings:
            self.findings.addItem(f"{finding.code}: {finding.message}")
        if not findings:
            self.findings.addItem("No return is missing or late.")
        for table in (self.funded_table, self.expected_table):
            table.resizeColumnsToContents()

    def edit_selected(self) -> None:
        rows = self.funded_table.selectionModel().selectedRows()
        if rows:
            self.open_dialog(self.funded.row(rows[0]))

    def open_dialog(self, row: FundedRow | None) -> FundedDialog:
        self.dialog = FundedDialog(self.workspace, self, row)
        self.dialog.open()
        return self.dialog
