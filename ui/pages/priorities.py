"""Priorities: the plans (PCC and CSP, versioned with dates) and their priorities; import a
plan file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
)

from fundtracker.errors import FundtrackerError
from fundtracker.models import Plan, Priority
from fundtracker.services.plans import import_plan, list_plans
from fundtracker.setup_files import load_toml, read_plan
from ui.errors import show_error
from ui.models.table import Column, RowsModel
from ui.naming import named
from ui.pages.base import Page
from ui.workspace import GRANTS, PLANS, Workspace

PLAN_COLUMNS: list[Column[Plan]] = [
    Column("Plan", lambda p: p.name),
    Column("Key", lambda p: p.key),
    Column("Kind", lambda p: p.kind.upper() if p.kind in ("pcc", "csp") else p.kind),
    Column("Owner", lambda p: p.owner),
    Column("From", lambda p: f"{p.effective_from:%d/%m/%Y}"),
    Column("To", lambda p: f"{p.effective_to:%d/%m/%Y}" if p.effective_to else "open"),
    Column("Priorities", lambda p: str(len(p.priorities)), numeric=True),
]
PRIORITY_COLUMNS: list[Column[Priority]] = [
    Column("Code", lambda p: p.code),
    Column("Priority", lambda p: p.title),
    Column("Under", lambda p: p.parent_code or ""),
    Column("Description", lambda p: p.description, tooltip=lambda p: p.description),
]


class PrioritiesPage(Page):
    name = "priorities"
    title = "Priorities"
    kinds = frozenset({PLANS, GRANTS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        layout = QVBoxLayout(self)
        button = QPushButton("Import plan file…")
        button.clicked.connect(self.import_file)
        button.setEnabled(not workspace.read_only)
        layout.addLayout(self.heading("Plans and priorities", button))
        self.plans = RowsModel(PLAN_COLUMNS, self)
        self.priorities = RowsModel(PRIORITY_COLUMNS, self)
        self.plan_table = _table(self.plans, "Plans")
        self.priority_table = _table(self.priorities, "Priorities of the selected plan")
        self.plan_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._show_priorities(current.row())
        )
        splitter = named(QSplitter(Qt.Orientation.Vertical), "prioritiesSplitter")
        splitter.addWidget(self.plan_table)
        splitter.addWidget(self.priority_table)
        splitter.setSizes([220, 480])
        layout.addWidget(splitter, 1)

    def reload(self) -> None:
        self.plans.set_rows(list_plans(self.db))
        for column, width in enumerate((300, 140, 50, 220, 85, 85)):
            self.plan_table.setColumnWidth(column, width)
        for column, width in enumerate((60, 330, 60)):
            self.priority_table.setColumnWidth(column, width)
        if self.plans.rows:
            self.plan_table.selectRow(0)
            self._show_priorities(0)
        else:
            self.priorities.set_rows([])

    def _show_priorities(self, row: int) -> None:
        rows = self.plans.rows[row].priorities if 0 <= row < len(self.plans.rows) else []
        self.priorities.set_rows(rows)

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a plan file", "", "Plan files (*.toml);;All files (*)"
        )
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> bool:
        try:
            import_plan(self.db, read_plan(load_toml(path)), reason=f"imported {path.name}")
        except FundtrackerError as error:
            show_error(self, error)
            return False
        self.workspace.notify(PLANS)
        return True


def _table(model: QAbstractItemModel, name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table
