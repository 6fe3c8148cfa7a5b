"""Projects: the grant's allocations (budget, lead, cost centre, profile per quarter) and a
priority weights editor with a running total (the core refuses weights that do not total 100),
and the project's outcome measures and targets (ui/outcomes.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.figures import default_period, profile_pence
from fundtracker.models import Allocation, Grant, Plan
from fundtracker.money import format_money, from_pence, money_str, parse_money
from fundtracker.operations import Operation, Together
from fundtracker.operations.allocations import (
    AddProject,
    RemoveProject,
    SetProfile,
    SetWeights,
    UpdateProject,
)
from fundtracker.periods import quarters_between
from fundtracker.presenters.outcomes import OutcomesView, outcomes_view
from fundtracker.presenters.projects import (
    profile_after_edit,
    profile_for_budget,
    weights_total,
)
from fundtracker.services.grants import load_grant
from fundtracker.services.virements import list_virements
from fundtracker.setup_files import format_percentage
from ui import dialogs
from ui.errors import error_text, show_error
from ui.models.table import LEFT, RIGHT, negative_brush
from ui.naming import named
from ui.outcomes import MeasuresPanel
from ui.pages.base import Page
from ui.workspace import GRANT, PLANS, PROJECTS, RETURNS, SPEND, WEIGHTS, Workspace
from ui.year_dialogs import VirementDialog

Index = QModelIndex | QPersistentModelIndex
# (header, setup-file key, money?) for the fixed columns; quarter columns follow.
FIELDS = (
    ("Code", "code", False),
    ("Project", "name", False),
    ("Lead partner", "lead", False),
    ("Cost centre", "cost_centre", False),
    ("Status", "status", False),
    ("Budget", "budget", True),
)
# Shown after Budget once the grant has a virement: what moved, and the budget now.
VIREMENT_COLUMNS = ("Virements", "Budget after virements")


class AllocationsModel(QAbstractTableModel):
    """One row per allocation; edits become changes to the grant's setup document."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.allocations: list[Allocation] = []
        self.quarters: list[str] = []
        self.moved: dict[str, Decimal] = {}  # net virements per project code, when any
        self.editor: Any = None  # editor(allocation, key, quarter_index | None, text) -> bool
        self.read_only = False

    def show(self, grant: Grant | None, moved: dict[str, Decimal] | None = None) -> None:
        self.beginResetModel()
        self.allocations = list(grant.allocations) if grant else []
        self.moved = moved or {}
        self.quarters = (
            [f"{q.short} {str(q)[2:7]}" for q in quarters_between(grant.start_date, grant.end_date)]
            if grant
            else []
        )
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.allocations)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.first_quarter + len(self.quarters)

    @property
    def first_quarter(self) -> int:
        """The fixed columns, then (once the grant has a virement) the virement columns right
        after Budget, then the quarters."""
        return len(FIELDS) + (len(VIREMENT_COLUMNS) if self.moved else 0)

    def quarter_of(self, column: int) -> int | None:
        quarter = column - self.first_quarter
        return quarter if 0 <= quarter < len(self.quarters) else None

    def _cell(self, allocation: Allocation, column: int) -> tuple[str, bool, bool]:
        """(text, is money, is an even-spread placeholder)."""
        if column < len(FIELDS):
            _header, key, money = FIELDS[column]
            value = getattr(allocation, key)
            return (format_money(value) if money else (value or "")), money, False
        quarter = self.quarter_of(column)
        if quarter is None:  # a virement column: what moved, or the budget after it
            moved = self.moved.get(allocation.code, Decimal("0.00"))
            shown = moved if column == len(FIELDS) else allocation.budget + moved
            return format_money(shown), True, False
        if allocation.profile:
            return format_money(allocation.profile[quarter].amount), True, False
        return "even", True, True

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.allocations):
            return None
        allocation = self.allocations[index.row()]
        text, money, placeholder = self._cell(allocation, index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.EditRole:
            if index.column() < len(FIELDS) and FIELDS[index.column()][2]:
                return money_str(allocation.budget)
            quarter = self.quarter_of(index.column())
            if quarter is not None:
                return "" if placeholder else money_str(allocation.profile[quarter].amount)
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if money else LEFT)
        if role == Qt.ItemDataRole.ForegroundRole:
            if placeholder:
                return QBrush(Qt.GlobalColor.gray)
            return negative_brush() if text.startswith("-") else None
        if role == Qt.ItemDataRole.ToolTipRole and placeholder:
            return "No profile: the budget is spread evenly over the grant's quarters"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if 0 <= section < len(FIELDS):
            original = bool(self.moved) and FIELDS[section][1] == "budget"
            return "Original budget" if original else FIELDS[section][0]
        quarter = self.quarter_of(section)
        if quarter is not None:
            return self.quarters[quarter]
        if len(FIELDS) <= section < self.first_quarter:
            return VIREMENT_COLUMNS[section - len(FIELDS)]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        column = index.column()
        editable = 0 < column < len(FIELDS) or self.quarter_of(column) is not None
        if index.isValid() and editable and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.editor is None:
            return False
        if str(value) == self.data(index, Qt.ItemDataRole.EditRole):
            return False
        allocation = self.allocations[index.row()]
        column = index.column()
        if column < len(FIELDS):
            return bool(self.editor(allocation, FIELDS[column][1], None, str(value)))
        quarter = self.quarter_of(column)
        if quarter is None:  # the virement columns are worked out, not typed
            return False
        return bool(self.editor(allocation, "profile", quarter, str(value)))


class WeightsEditor(QGroupBox):
    """Percentages per priority of each plan the grant uses, with a running total per plan."""

    def __init__(self, page: ProjectsPage) -> None:
        super().__init__("Priority weights")
        self.setObjectName("weightsEditor")
        self.page = page
        self.allocation: Allocation | None = None
        self.inputs: dict[str, dict[str, QLineEdit]] = {}
        self.totals: dict[str, QLabel] = {}
        self.outer = QVBoxLayout(self)
        self.body = QWidget()
        self.outer.addWidget(self.body)
        self.error = named(QLabel(), "weightsError")
        self.error.setProperty("class", "fieldError")
        self.error.setWordWrap(True)
        self.save = QPushButton("Save weights")
        self.save.setObjectName("saveWeights")
        self.save.clicked.connect(self.save_weights)
        row = QHBoxLayout()
        row.addWidget(self.error, 1)
        row.addWidget(self.save)
        self.outer.addLayout(row)
        self.outer.addStretch(1)

    def show_allocation(self, grant: Grant | None, allocation: Allocation | None) -> None:
        self.allocation = allocation
        self.error.clear()
        self.inputs, self.totals = {}, {}
        self.outer.removeWidget(self.body)
        self.body.deleteLater()
        self.body = QWidget()
        self.outer.insertWidget(0, self.body)
        columns = QHBoxLayout(self.body)
        columns.setContentsMargins(0, 0, 0, 0)
        self.save.setEnabled(allocation is not None and not self.page.workspace.read_only)
        if grant is None or allocation is None:
            self.setTitle("Priority weights")
            return
        self.setTitle(f"Priority weights — {allocation.code} {allocation.name}")
        have = {(w.priority.plan.key, w.priority.code): w.basis_points for w in allocation.weights}
        plans: list[Plan] = [grant.aligned_plan, *([grant.local_plan] if grant.local_plan else [])]
        for plan in plans:
            columns.addWidget(self._plan_box(plan, have), 1)

    def _plan_box(self, plan: Plan, have: dict[tuple[str, str], int]) -> QGroupBox:
        box = QGroupBox(plan.name)
        form = QFormLayout(box)
        self.inputs[plan.key] = {}
        for priority in plan.priorities:
            points = have.get((plan.key, priority.code))
            edit = QLineEdit(format_percentage(points) if points else "")
            edit.setObjectName(f"weight-{plan.key}-{priority.code}")
            edit.setAccessibleName(f"Weight of {priority.code} {priority.title}")
            edit.setPlaceholderText("0")
            edit.setMaximumWidth(80)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.textChanged.connect(lambda _t, key=plan.key: self._show_total(key))
            edit.returnPressed.connect(self.save_weights)
            self.inputs[plan.key][priority.code] = edit
            form.addRow(f"{priority.code} {priority.title} (%)", edit)
        total = named(QLabel(), f"total-{plan.key}")
        self.totals[plan.key] = total
        form.addRow("Total", total)
        self._show_total(plan.key)
        return box

    def _show_total(self, plan_key: str) -> None:
        total = weights_total([edit.text() for edit in self.inputs[plan_key].values()])
        label = self.totals[plan_key]
        label.setText(total.text)
        label.setProperty("class", "" if total.ok else "fieldError")
        label.style().polish(label)

    def save_weights(self) -> None:
        """Every plan's weights of the project, as one step."""
        if self.allocation is None or self.page.grant is None:
            return
        code, reference = self.allocation.code, self.page.grant.reference
        seen = {
            plan: {
                w.priority.code: w.basis_points
                for w in self.allocation.weights
                if w.priority.plan.key == plan
            }
            for plan in self.inputs
        }
        parts = tuple(
            SetWeights(
                reference,
                code,
                plan,
                {p: e.text() for p, e in edits.items() if e.text().strip()},
                seen[plan],
            )
            for plan, edits in self.inputs.items()
        )
        self.error.clear()
        operation = Together(f"Set weights of project {code}", parts)
        self.page.workspace.run(operation, self, self._refused)

    def _refused(self, error: FundtrackerError) -> None:
        self.error.setText(error_text(error))


class ProjectsPage(Page):
    name = "projects"
    title = "Projects"
    kinds = frozenset({PROJECTS, WEIGHTS, PLANS, SPEND, RETURNS, GRANT})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.grant: Grant | None = None
        self.model = AllocationsModel(self)
        self.model.read_only = workspace.read_only
        self.model.editor = self._edit
        layout = QVBoxLayout(self)
        add = QPushButton("Add project…")
        add.clicked.connect(self.add_project)
        remove = QPushButton("Remove project…")
        remove.clicked.connect(self.remove_project)
        self.virement_button = named(QPushButton("Record a virement…"), "recordVirement")
        self.virement_button.setToolTip(
            "Move budget between projects with the OPCC's written approval (one undoable step)"
        )
        self.virement_button.clicked.connect(self.record_virement)
        self.even_button = named(QPushButton("Reset profile to even"), "resetProfile")
        self.even_button.setToolTip("The selected project's budget spread evenly over the quarters")
        self.even_button.clicked.connect(self.reset_profile)
        buttons = (add, remove, self.even_button, self.virement_button)
        for button in buttons:
            button.setEnabled(not workspace.read_only)
        layout.addLayout(self.heading("Projects", *buttons))
        # Once budget has moved, a row's quarters no longer add up to the budget beside them:
        # say what they are, so nobody reads the profile as set for the one the returns use.
        self.profile_note = named(
            QLabel(
                "The quarters are each project's profile as set, of its original budget. The "
                "returns add each virement to them, spread evenly over the quarters from its "
                "effective date."
            ),
            "profileNote",
        )
        self.profile_note.setWordWrap(True)
        self.profile_note.hide()
        layout.addWidget(self.profile_note)
        self.splitter = named(QSplitter(Qt.Orientation.Vertical), "projectsSplitter")
        self.table = named(QTableView(), "projectsTable")
        self.table.setAccessibleName("Projects")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_weights())
        self.weights = WeightsEditor(self)
        self.outcomes: OutcomesView | None = None
        self.measures = MeasuresPanel(workspace, self)
        # The selected project's priority weights, and its outcome measures and targets.
        self.details = named(QTabWidget(), "projectDetails")
        self.details.addTab(self.weights, "Priority weights")
        self.details.addTab(self.measures, "Outcomes")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setSizes([330, 370])
        layout.addWidget(self.splitter, 1)

    def reload(self) -> None:
        selected = self.current_code()
        self.grant = load_grant(self.db, self.workspace.grant) if self.workspace.grant else None
        self.outcomes = (
            outcomes_view(self.db, self.grant.reference, default_period(self.grant, date.today()))
            if self.grant
            else None
        )
        self.model.show(self.grant, self._moved())
        self.profile_note.setVisible(bool(self.model.moved))
        widths = (60, 230, 190, 90, 70, 100)
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)
        for column in range(len(FIELDS), self.model.columnCount()):
            self.table.setColumnWidth(column, 88)
        if self.model.moved:  # room for "Original budget" and "Budget after virements"
            for column in range(len(FIELDS) - 1, self.model.first_quarter):
                self.table.setColumnWidth(column, 170 if column == len(FIELDS) + 1 else 112)
        self.select(
            selected
            or (self.grant.allocations[0].code if self.grant and self.grant.allocations else "")
        )

    def _moved(self) -> dict[str, Decimal]:
        """Net budget moved to (+) or from (−) each project by the grant's virements."""
        moved: dict[str, Decimal] = {}
        if self.grant is None:
            return moved
        for virement in list_virements(self.db, self.grant.reference):
            amount = Decimal(virement["amount"])
            moved[virement["from"]] = moved.get(virement["from"], Decimal("0.00")) - amount
            moved[virement["to"]] = moved.get(virement["to"], Decimal("0.00")) + amount
        return moved

    def record_virement(self) -> VirementDialog | None:
        if self.grant is None or len(self.grant.allocations) < 2:
            need = "A virement needs two projects to move budget between."
            show_error(self, ValidationError(need))
            return None
        dialog = VirementDialog(self.workspace, self, self.grant)
        dialog.open()
        return dialog

    def current_code(self) -> str:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.allocations):
            return ""
        return self.model.allocations[index.row()].code

    def select(self, code: str) -> None:
        for row, allocation in enumerate(self.model.allocations):
            if allocation.code == code:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))
                break
        self._show_weights()

    def show_outcomes(self, code: str) -> None:
        """The project selected with its Outcomes tab in front."""
        self.select(code)
        self.details.setCurrentWidget(self.measures)

    def _show_weights(self) -> None:
        code = self.current_code()
        allocation = next((a for a in self.model.allocations if a.code == code), None)
        self.weights.show_allocation(self.grant, allocation)
        rows = self.outcomes.rows_of(code) if self.outcomes and code else ()
        self.measures.show_project(self.grant, code, rows)
        self.details.setTabText(1, f"Outcomes ({len(rows)})" if code else "Outcomes")

    def _edit(self, allocation: Allocation, key: str, quarter: int | None, text: str) -> bool:
        grant = self.grant
        assert grant is not None
        operation: Operation
        if key == "profile":
            seen = [p.amount for p in allocation.profile]
            try:
                amounts = profile_after_edit(
                    _shown_profile(grant, allocation), allocation.budget, quarter or 0, text
                )
            except FundtrackerError as error:
                show_error(self, error)
                return False
            operation = SetProfile(grant.reference, allocation.code, amounts, seen)
        else:
            values: dict[str, object] = {key: text}
            if key == "budget" and allocation.profile:
                # The profile keeps its shape and totals the new budget, in the same step.
                try:
                    budget = parse_money(text)
                except FundtrackerError as error:
                    show_error(self, error)
                    return False
                stored = [p.amount for p in allocation.profile]
                values["profile"] = profile_for_budget(stored, budget)
            operation = UpdateProject(grant.reference, allocation.code, values, allocation.version)
        return self.workspace.run(operation, self) is not None

    def reset_profile(self) -> None:
        """The selected project's profile back to the even spread, in one click."""
        code = self.current_code()
        allocation = next((a for a in self.model.allocations if a.code == code), None)
        if allocation is not None and allocation.profile:
            seen = [p.amount for p in allocation.profile]
            self.workspace.run(SetProfile(self.workspace.grant, code, None, seen), self)

    def add_project(self) -> None:
        code = dialogs.ask_text(self, "Add project", "Code of the new project (e.g. A09):")
        if not code:
            return
        name = dialogs.ask_text(self, "Add project", f"Name of project {code}:")
        if name is None:
            return
        operation = AddProject(self.workspace.grant, {"code": code, "name": name})
        if self.workspace.run(operation, self) is not None:
            self.select(code.strip())

    def remove_project(self) -> None:
        code = self.current_code()
        allocation = next((a for a in self.model.allocations if a.code == code), None)
        if allocation is None or not dialogs.confirm(
            self,
            "Remove project",
            f"Remove project {code} from the grant, with its weights, profile, narratives and "
            "assignment rules? You can undo this with Ctrl+Z.",
            "Remove",
        ):
            return
        self.workspace.run(RemoveProject(self.workspace.grant, code, allocation.version), self)


def _shown_profile(grant: Grant, allocation: Allocation) -> list[Decimal]:
    """The profile as the table shows it: the stored one, or the even spread the figures
    engine uses for a project without one."""
    quarters = len(quarters_between(grant.start_date, grant.end_date))
    return [from_pence(p) for p in profile_pence(allocation, quarters)]
