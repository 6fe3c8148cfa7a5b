"""Grants: the current grant's details, payments (tranches) and conditions; import and export
grant setup files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from fundtracker.errors import FundtrackerError
from fundtracker.models import Grant, Payment
from fundtracker.money import ZERO, format_money
from fundtracker.operations.grant_files import ImportGrantFile
from fundtracker.services.grants import grant_spec, load_grant
from fundtracker.setup_files import grant_to_toml, load_toml, read_grant
from ui.errors import show_error
from ui.grant_editor import GrantEditor
from ui.models.table import Column, RowsModel
from ui.naming import named
from ui.pages.base import Page, notice
from ui.workspace import GRANT, GRANTS, PROJECTS, Workspace

PAYMENT_COLUMNS: list[Column[Payment]] = [
    Column("Date", lambda p: f"{p.date:%d/%m/%Y}"),
    Column("Amount", lambda p: format_money(p.amount), numeric=True),
    Column("Received", lambda p: "Received" if p.received else "Expected"),
]


class GrantsPage(Page):
    name = "grants"
    title = "Grants"
    kinds = frozenset({GRANTS, GRANT, PROJECTS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        layout = QVBoxLayout(self)
        self.import_button = QPushButton("Import grant file…")
        self.import_button.clicked.connect(self.import_file)
        self.import_button.setEnabled(not workspace.read_only)
        self.export_button = QPushButton("Export grant file…")
        self.export_button.clicked.connect(self.export_file)
        self.edit_button = QPushButton("Edit grant")
        self.edit_button.setAccessibleName("Edit grant")
        self.edit_button.setCheckable(True)
        self.edit_button.setEnabled(not workspace.read_only)
        self.edit_button.toggled.connect(self.show_editor)
        layout.addLayout(
            self.heading("Grant", self.edit_button, self.import_button, self.export_button)
        )
        self.empty = notice(
            "No grant yet. Import the plan files (Priorities page), then a grant file here."
        )
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        details = QGroupBox("Details")
        self.form = QFormLayout(details)
        self.fields: dict[str, QLabel] = {}
        for key, label in [
            ("reference", "Reference"),
            ("name", "Name"),
            ("funder", "Funder"),
            ("recipient", "Recipient"),
            ("award", "Award"),
            ("dates", "Runs"),
            ("frequency", "Returns"),
            ("aligned", "Aligned to (PCC plan)"),
            ("local", "Local plan"),
            ("allocated", "Allocated to projects"),
        ]:
            value = QLabel()
            value.setWordWrap(True)
            value.setObjectName(f"grant-{key}")
            self.fields[key] = value
            self.form.addRow(label, value)
        row.addWidget(details, 3)
        payments = QGroupBox("Payments (tranches)")
        payments_layout = QVBoxLayout(payments)
        self.payments = RowsModel(PAYMENT_COLUMNS, self)
        table = named(QTableView(), "paymentsTable")
        table.setAccessibleName("Payments")
        table.setModel(self.payments)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setColumnWidth(1, 120)
        payments_layout.addWidget(table)
        row.addWidget(payments, 2)
        layout.addLayout(row, 2)
        conditions = QGroupBox("Conditions")
        conditions_layout = QVBoxLayout(conditions)
        self.conditions = QPlainTextEdit(readOnly=True)
        self.conditions.setAccessibleName("Conditions of the grant")
        conditions_layout.addWidget(self.conditions)
        layout.addWidget(conditions, 1)
        self.editor = GrantEditor(workspace)  # details and payments, edited in place
        self.editor.setVisible(False)
        layout.addWidget(self.editor, 2)

    def reload(self) -> None:
        reference = self.workspace.grant
        self.empty.setVisible(not reference)
        self.export_button.setEnabled(bool(reference))
        if not reference:
            self.payments.set_rows([])
            return
        grant = load_grant(self.db, reference)
        self._show(grant)
        self.editor.load(grant)

    def show_editor(self, shown: bool) -> None:
        self.editor.setVisible(shown and bool(self.workspace.grant))

    def _show(self, grant: Grant) -> None:
        allocated = sum((a.budget for a in grant.allocations), ZERO)
        values = {
            "reference": grant.reference,
            "name": grant.name,
            "funder": grant.funder,
            "recipient": grant.recipient,
            "award": format_money(grant.award),
            "dates": f"{grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}",
            "frequency": grant.return_frequency,
            "aligned": f"{grant.aligned_plan.name} ({grant.aligned_plan.key})",
            "local": f"{grant.local_plan.name} ({grant.local_plan.key})"
            if grant.local_plan
            else "—",
            "allocated": f"{format_money(allocated)} across {len(grant.allocations)} projects",
        }
        for key, text in values.items():
            self.fields[key].setText(text)
        self.payments.set_rows(grant.payments)
        self.conditions.setPlainText(grant.conditions)

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a grant file", "", "Grant files (*.toml);;All files (*)"
        )
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> bool:
        """Create or update a grant from its setup file, as one undoable step; the grant it
        names becomes the current one."""
        try:
            spec = read_grant(load_toml(path))
        except FundtrackerError as error:
            show_error(self, error)
            return False
        return self.workspace.run(ImportGrantFile(spec, path.name), self) is not None

    def export_file(self) -> None:
        reference = self.workspace.grant
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the grant file", f"{reference}.toml", "Grant files (*.toml)"
        )
        if path:
            self.export_path(Path(path))

    def export_path(self, path: Path) -> None:
        spec = grant_spec(load_grant(self.db, self.workspace.grant))
        path.write_text(grant_to_toml(spec), encoding="utf-8")
        self.show_status(f"Grant file written to {path}", 8000)
