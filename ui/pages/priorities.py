"""Priorities: the plans (PCC and CSP, versioned with dates) and their priorities, each with
the projects that weigh on it and the budget that is; plans and priorities edited in place
(ui/plan_editor.py), a new plan typed or from a template, a new version from a date; import a
plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError
from fundtracker.presenters.plans import PlanRow, PriorityRow, plan_rows
from fundtracker.services.plans import import_plan
from fundtracker.setup_drafts import plan_templates
from fundtracker.setup_files import load_toml, read_plan
from ui.errors import show_error
from ui.models.table import Column, Index, RowsModel
from ui.naming import named
from ui.pages.base import Page
from ui.plan_editor import NewPlanDialog, PlanEditor
from ui.workspace import GRANTS, PLANS, PROJECTS, WEIGHTS, Workspace

PLAN_COLUMNS: list[Column[PlanRow]] = [
    Column("Plan", lambda p: p.name),
    Column("Key", lambda p: p.key),
    Column("Kind", lambda p: p.kind_text),
    Column("Owner", lambda p: p.owner),
    Column("From", lambda p: p.from_text),
    Column("To", lambda p: p.to_text),
    Column("Version", lambda p: p.version_text, tooltip=lambda p: p.version_tooltip),
    Column("Priorities", lambda p: str(len(p.priorities)), numeric=True),
    Column("Projects", lambda p: str(p.weighted_projects), numeric=True),
]
PRIORITY_COLUMNS: list[Column[PriorityRow]] = [
    Column("Code", lambda p: p.code),
    Column("Priority", lambda p: p.shown_title, tooltip=lambda p: p.title),
    Column("Under", lambda p: p.parent or ""),
    Column("Status", lambda p: p.status),
    Column("Budget", lambda p: p.budget_text, numeric=True, tooltip=lambda p: p.explained),
    Column("Projects weighing on it", lambda p: p.projects_text, tooltip=lambda p: p.explained),
]


class PriorityModel(RowsModel[PriorityRow]):
    """The priorities of the selected plan; a retired one is shown grey (and says so)."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.row() < len(self.rows)
            and self.rows[index.row()].retired
        ):
            return QBrush(QApplication.palette().color(QPalette.ColorRole.PlaceholderText))
        return super().data(index, role)


class PrioritiesPage(Page):
    name = "priorities"
    title = "Priorities"
    kinds = frozenset({PLANS, GRANTS, PROJECTS, WEIGHTS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        layout = QVBoxLayout(self)
        self.new_button = QPushButton("New plan…")
        self.new_button.setAccessibleName("New plan")
        self.new_button.clicked.connect(self.new_plan)
        import_button = QPushButton("Import plan file…")
        import_button.setAccessibleName("Import plan file")
        import_button.clicked.connect(self.import_file)
        for button in (self.new_button, import_button):
            button.setEnabled(not workspace.read_only)
        layout.addLayout(self.heading("Plans and priorities", self.new_button, import_button))
        self.plans: RowsModel[PlanRow] = RowsModel(PLAN_COLUMNS, self)
        self.priorities = PriorityModel(PRIORITY_COLUMNS, self)
        self.plan_table = _table(self.plans, "Plans")
        self.priority_table = _table(self.priorities, "Priorities of the selected plan")
        self.plan_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._plan_picked(current.row())
        )
        self.priority_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._priority_picked(current.row())
        )
        self.note = named(QLabel(), "planNote")
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About this version")
        self.editor = PlanEditor(workspace)
        self.editor.setFixedWidth(max(370, self.editor.minimumSizeHint().width()))  # any font
        splitter = named(QSplitter(Qt.Orientation.Vertical), "prioritiesSplitter")
        splitter.addWidget(self.plan_table)
        splitter.addWidget(self._lower())
        splitter.setSizes([150, 570])
        layout.addWidget(splitter, 1)
        self.dialogs: list[NewPlanDialog] = []
        self._reloading = False
        self.chosen_plan = ""  # kept across a reload, so an edit leaves the plan shown
        self.chosen_priority = ""

    def _lower(self) -> QWidget:
        lower = QWidget()
        row = QHBoxLayout(lower)
        row.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout()
        column.addWidget(self.priority_table, 1)
        column.addWidget(self.note)
        row.addLayout(column, 1)
        row.addWidget(self.editor)
        return lower

    # --- showing ------------------------------------------------------------------------

    def reload(self) -> None:
        plan_key, priority_code = self.chosen_plan, self.chosen_priority
        self._reloading = True  # the tables' selection signals wait until both are filled
        self.plans.set_rows(plan_rows(self.db))
        for column, width in enumerate((250, 190, 50, 170, 80, 80, 90, 70)):
            self.plan_table.setColumnWidth(column, width)
        for column, width in enumerate((50, 200, 50, 60, 90)):
            self.priority_table.setColumnWidth(column, width)
        keys = [plan.key for plan in self.plans.rows]
        if plan_key not in keys:
            plan_key, priority_code = (keys[0] if keys else ""), ""
        self.select(plan_key, priority_code)
        self._reloading = False

    def select(self, plan_key: str, priority_code: str = "") -> None:
        """Show this plan and (when given) select this priority of it."""
        self._reloading = True
        keys = [plan.key for plan in self.plans.rows]
        plan = self.plans.rows[keys.index(plan_key)] if plan_key in keys else None
        if plan is not None:
            self.plan_table.selectRow(keys.index(plan_key))
        self.priorities.set_rows(plan.priorities if plan else [])
        codes = [priority.code for priority in self.priorities.rows]
        priority = (
            self.priorities.rows[codes.index(priority_code)] if priority_code in codes else None
        )
        if priority is not None:
            self.priority_table.selectRow(codes.index(priority_code))
        self._reloading = False
        self.chosen_plan = plan.key if plan else ""
        self.chosen_priority = priority.code if priority else ""
        self.note.setText(plan.note if plan else "No plans yet: New plan… or Import plan file…")
        self.editor.load(plan, priority)

    def plan(self) -> PlanRow | None:
        return next((p for p in self.plans.rows if p.key == self.chosen_plan), None)

    def _plan_picked(self, row: int) -> None:
        if not self._reloading and 0 <= row < len(self.plans.rows):
            self.select(self.plans.rows[row].key)

    def _priority_picked(self, row: int) -> None:
        if not self._reloading:
            rows = self.priorities.rows
            self.select(self.chosen_plan, rows[row].code if 0 <= row < len(rows) else "")

    # --- new plans ----------------------------------------------------------------------

    def new_plan(self) -> NewPlanDialog:
        """Opened window-modal without blocking, so the window (and a test) carries on."""
        taken = {plan.key for plan in self.plans.rows}
        dialog = NewPlanDialog(self.workspace, plan_templates(), taken, self)
        dialog.created.connect(self._created)
        self.dialogs = [dialog]
        dialog.open()
        return dialog

    def _created(self, key: str) -> None:
        self.chosen_plan, self.chosen_priority = key, ""

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
