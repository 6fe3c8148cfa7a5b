"""Outcomes in the window (issue 15): a project's measures and targets on the Projects page,
the actuals of the quarter being returned on the Returns page, and results beside spend on the
Dashboard. Every figure comes from the core presenter (fundtracker/presenters/outcomes.py) and
every change is one core operation (fundtracker/operations/outcomes.py) run through
``Workspace.run``: one undoable step, refused beside the field it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import LockedError, ValidationError
from fundtracker.models import Grant
from fundtracker.operations import Operation
from fundtracker.operations.outcomes import (
    AddOutcome,
    RemoveOutcome,
    SetOutcomeActual,
    UpdateOutcome,
)
from fundtracker.outcomes import COUNT, PERCENT
from fundtracker.periods import Period, quarters_between
from fundtracker.presenters.outcomes import (
    OutcomeQuarter,
    OutcomeRow,
    ProjectProgress,
    even_spread_shown,
)
from ui import dialogs
from ui.errors import show_error
from ui.models.table import Column, RowsModel
from ui.naming import labelled, named
from ui.workspace import Workspace
from ui.year_dialogs import OperationForm

UNITS = (
    (COUNT, "count (people, sessions, …)"),
    (PERCENT, "percent (entered as 41 of 50)"),
)


def _table(name: str, accessible: str, model: QAbstractItemModel) -> QTableView:
    table = labelled(named(QTableView(), name), accessible)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table


def _button(text: str, name: str, tip: str, action: Callable[[], object]) -> QPushButton:
    button = named(QPushButton(text), name)
    button.setToolTip(tip)
    button.clicked.connect(lambda _checked=False: action())
    return button


def _priority_text(grant: Grant | None, code: str | None) -> str:
    if not code:
        return ""
    titles = {p.code: p.title for p in grant.aligned_plan.priorities} if grant else {}
    return f"{code} {titles.get(code, '')}".strip()


def _selected(table: QTableView, rows: Sequence[object]) -> int | None:
    index = table.currentIndex()
    return index.row() if index.isValid() and index.row() < len(rows) else None


# --- Projects page: a project's measures and targets ------------------------------------------


class MeasuresPanel(QWidget):
    """The selected project's outcome measures with their targets by quarter (the even spread
    where none were given); Add, Edit and Remove each one undoable step."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outcomeMeasures")
        self.workspace = workspace
        self.grant: Grant | None = None
        self.project = ""
        self.model: RowsModel[OutcomeRow] = RowsModel([], self)
        layout = QVBoxLayout(self)
        self.heading = named(QLabel(), "outcomesHeading")
        self.heading.setWordWrap(True)
        self.add_button = _button(
            "Add outcome…", "addOutcome", "A result this project is funded for", self.add
        )
        self.edit_button = _button(
            "Edit outcome…", "editOutcome", "Change the selected outcome", self.edit
        )
        self.remove_button = _button(
            "Remove outcome…", "removeOutcome", "Remove the selected outcome", self.remove
        )
        row = QHBoxLayout()
        row.addWidget(self.heading, 1)
        for button in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.table = _table("outcomeMeasuresTable", "Outcome measures", self.model)
        self.table.activated.connect(lambda _index: self.edit())
        layout.addWidget(self.table, 1)

    def show_project(self, grant: Grant | None, project: str, rows: Sequence[OutcomeRow]) -> None:
        selected = self.current()
        kept = selected.code if selected and selected.project == project else ""
        self.grant, self.project = grant, project
        quarters = quarters_between(grant.start_date, grant.end_date) if grant else []
        self.model.columns = _measure_columns(grant, quarters)
        self.model.set_rows(rows)
        for column, width in enumerate((60, 220, 70, 170, 100)):
            self.table.setColumnWidth(column, width)
        for column in range(5, 5 + len(quarters)):
            self.table.setColumnWidth(column, 76)
        name = next((a.name for a in grant.allocations if a.code == project), "") if grant else ""
        if not project:
            self.heading.setText("Select a project to see its outcome measures.")
        elif rows:
            self.heading.setText(
                f"Outcomes of {project} {name}: targets by quarter (the even spread where none "
                "were given). Actuals are entered on the Returns page."
            )
        else:
            self.heading.setText(
                f"{project} {name} has no outcome measures yet: Add outcome… says what it is "
                "funded to achieve (80 individuals supported; 80% report improved wellbeing)."
            )
        writable = bool(project) and not self.workspace.read_only
        self.add_button.setEnabled(writable)
        self.edit_button.setEnabled(writable and bool(rows))
        self.remove_button.setEnabled(writable and bool(rows))
        codes = [r.code for r in rows]
        if codes:
            self.table.selectRow(codes.index(kept) if kept in codes else 0)

    def current(self) -> OutcomeRow | None:
        row = _selected(self.table, self.model.rows)
        return None if row is None else self.model.rows[row]

    def select(self, code: str) -> None:
        codes = [measure.code for measure in self.model.rows]
        if code in codes:
            self.table.selectRow(codes.index(code))

    def add(self) -> OutcomeDialog | None:
        if self.grant is None or not self.project:
            return None
        dialog = OutcomeDialog(self.workspace, self, self.grant, self.project, None)
        dialog.open()
        return dialog

    def edit(self) -> OutcomeDialog | None:
        measure = self.current()
        if self.grant is None or measure is None or self.workspace.read_only:
            return None
        dialog = OutcomeDialog(self.workspace, self, self.grant, self.project, measure)
        dialog.open()
        return dialog

    def remove(self) -> None:
        measure = self.current()
        if measure is None:
            return
        entered = sum(q.actual is not None for q in measure.quarters)
        actuals = f", with its {entered} quarterly actual(s)" if entered else ""
        if dialogs.confirm(
            self,
            "Remove outcome",
            f"Remove outcome {measure.code} {measure.title} from project {measure.project}"
            f"{actuals}? You can undo this with Ctrl+Z.",
            "Remove",
        ):
            operation = RemoveOutcome(
                self.workspace.grant, measure.project, measure.code, measure.version
            )
            self.workspace.run(operation, self)


def _measure_columns(grant: Grant | None, quarters: Sequence[Period]) -> list[Column[OutcomeRow]]:
    def quarter(number: int) -> Column[OutcomeRow]:
        return Column(
            f"{quarters[number].short} {str(quarters[number])[2:7]}",
            lambda r: r.quarters[number].target,
            numeric=True,
            tooltip=lambda r: (
                "Entered by quarter"
                if r.targets
                else "No quarterly targets: the annual target spread evenly (a percentage "
                "applies to every quarter)"
            ),
        )

    return [
        Column("Code", lambda r: r.code),
        Column("Outcome", lambda r: r.title, tooltip=lambda r: r.title),
        Column("Unit", lambda r: r.unit),
        Column("PCC priority", lambda r: _priority_text(grant, r.priority)),
        Column("Annual target", lambda r: str(r.target), numeric=True),
        *(quarter(n) for n in range(len(quarters))),
        Column("Quarterly targets", _spread),
    ]


def _spread(row: OutcomeRow) -> str:
    """Where the quarters' targets come from."""
    if row.targets:
        return "as entered"
    return "even spread" if row.unit == COUNT else "same each quarter"


class OutcomeDialog(OperationForm):
    """Add a measure to a project, or change one: code, title, unit, the PCC priority it
    serves, the annual target and, optionally, a target for each quarter of the grant."""

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None,
        grant: Grant,
        project: str,
        measure: OutcomeRow | None,
    ) -> None:
        super().__init__(workspace, parent)
        self.setWindowTitle("Edit outcome" if measure else "Add outcome")
        self.grant_reference, self.project, self.measure = grant.reference, project, measure
        self.quarters = quarters_between(grant.start_date, grant.end_date)
        self.intro.setText(
            f"An outcome of project {project}: a count (80 individuals supported) or a "
            "proportion (80% report improved wellbeing). Leave the quarters empty to spread a "
            "count's target evenly in whole units, the remainder in the last quarter."
        )
        self.line_edit("code", "Code", measure.code if measure else "", "e.g. O1")
        self.line_edit("title", "Outcome", measure.title if measure else "", "what is counted")
        unit = QComboBox()
        for value, label in UNITS:
            unit.addItem(label, value)
        unit.setCurrentIndex(max(unit.findData(measure.unit if measure else COUNT), 0))
        self.add_field("unit", "Unit", unit)
        priority = QComboBox()
        priority.addItem("none", "")
        for choice in grant.aligned_plan.priorities:
            if not choice.retired or (measure and measure.priority == choice.code):
                priority.addItem(f"{choice.code} {choice.title}", choice.code)
        priority.setCurrentIndex(max(priority.findData(measure.priority if measure else ""), 0))
        priority.setToolTip(f"The priority of {grant.aligned_plan.name} this outcome serves")
        self.add_field("priority", "PCC priority", priority)
        target = self.line_edit(
            "target", "Annual target", str(measure.target) if measure else "", "e.g. 80 or 80%"
        )
        self.quarter_edits = self._quarter_row(measure)
        target.textChanged.connect(self._show_spread)
        unit.currentIndexChanged.connect(self._show_spread)
        self._show_spread()

    def _quarter_row(self, measure: OutcomeRow | None) -> list[QLineEdit]:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        edits = []
        for number, quarter in enumerate(self.quarters):
            given = measure.targets[number] if measure and measure.targets else ""
            edit = labelled(
                named(QLineEdit(str(given)), f"target-{quarter}"), f"Target for {quarter}"
            )
            edit.setToolTip(f"Target for {quarter} (empty: the even spread shown)")
            edit.setMaximumWidth(80)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.textEdited.connect(self._clear_errors)
            layout.addWidget(QLabel(quarter.short))
            layout.addWidget(edit)
            edits.append(edit)
        layout.addStretch(1)
        self.add_field("targets", "Targets by quarter", row)
        return edits

    def _unit(self) -> str:
        combo = self.fields["unit"]
        assert isinstance(combo, QComboBox)
        return str(combo.currentData())

    def _show_spread(self) -> None:
        """The even spread of the typed target as each quarter's placeholder."""
        spread = even_spread_shown(self._unit(), self.text("target"), len(self.quarters))
        for edit, shown in zip(self.quarter_edits, spread, strict=True):
            edit.setPlaceholderText(shown)

    def operation(self) -> Operation:
        priority = self.fields["priority"]
        assert isinstance(priority, QComboBox)
        typed = [edit.text().strip() for edit in self.quarter_edits]
        values: dict[str, object] = {
            "code": self.text("code"),
            "title": self.text("title"),
            "unit": self._unit(),
            "priority": priority.currentData(),
            "target": self.text("target"),
            "targets": typed if any(typed) else [],
        }
        if self.measure is None:
            return AddOutcome(self.grant_reference, self.project, values)
        return UpdateOutcome(
            self.grant_reference, self.project, self.measure.code, values, self.measure.version
        )


# --- Returns page: the actuals of the quarter(s) being returned -------------------------------

Entry = tuple[OutcomeRow, OutcomeQuarter]


def period_entries(rows: Sequence[OutcomeRow], period: Period) -> list[Entry]:
    """Each measure's quarter(s) of the return period: one for a quarterly return."""
    return [
        (row, quarter)
        for row in rows
        for quarter in row.quarters
        if period.start <= quarter.quarter.start and quarter.quarter.end <= period.end
    ]


def _entry_columns() -> list[Column[Entry]]:
    return [
        Column(
            "Code",
            lambda e: f"{e[0].project}/{e[0].code}",
            tooltip=lambda e: f"Project {e[0].project} {e[0].project_name}",
        ),
        Column("Outcome", lambda e: e[0].title, tooltip=lambda e: e[0].title),
        Column("Quarter", lambda e: e[1].label),
        Column("Target", lambda e: e[1].target, numeric=True),
        Column("Actual", lambda e: e[1].shown or "not entered", numeric=True),
        Column("Note", lambda e: e[1].note, tooltip=lambda e: e[1].note or ""),
        Column("Target to date", lambda e: e[0].target_to_date, numeric=True),
        Column("Actual to date", lambda e: e[0].actual_to_date or "none yet", numeric=True),
        Column("% of target to date", lambda e: _percent_of_target(e[0]), numeric=True),
    ]


def _percent_of_target(row: OutcomeRow) -> str:
    """Never a misleading 0%: without an actual or a target to date, say which is missing."""
    if row.percent_of_target:
        return row.percent_of_target
    return "no target yet" if row.actual_to_date else "none yet"


class ActualsPanel(QWidget):
    """The period's actual for each measure, entered for the quarter being returned; read-only
    once the return is submitted."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outcomeActuals")
        self.workspace = workspace
        self.period: Period | None = None
        self.locked = False
        self.model: RowsModel[Entry] = RowsModel(_entry_columns(), self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = named(QLabel(), "actualsHeading")
        self.heading.setWordWrap(True)
        self.enter_button = _button(
            "Enter actual…",
            "enterActual",
            "What the selected outcome achieved in its quarter (one undoable step)",
            self.enter,
        )
        self.clear_button = _button(
            "Clear actual", "clearActual", "Remove the selected quarter's actual", self.clear
        )
        row = QHBoxLayout()
        row.addWidget(self.heading, 1)
        row.addWidget(self.enter_button)
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        self.table = _table("outcomeActualsTable", "Outcome actuals", self.model)
        self.table.activated.connect(lambda _index: self.enter())
        layout.addWidget(self.table, 1)
        for column, width in enumerate((70, 170, 55, 60, 115, 120, 95, 95)):
            self.table.setColumnWidth(column, width)

    def show_period(self, period: Period, rows: Sequence[OutcomeRow], submitted: bool) -> None:
        selected = self.current()
        self.period = period
        entries = period_entries(rows, period)
        self.locked = submitted or self.workspace.read_only
        self.model.set_rows(entries)
        missing = sum(q.actual is None for _row, q in entries)
        if not rows:
            self.heading.setText(
                "No outcome measures yet: add them to a project on the Projects page."
            )
        elif submitted:
            self.heading.setText(
                f"Outcomes for {period}: submitted, so read-only until the return is reopened."
            )
        else:
            self.heading.setText(
                f"Outcomes for {period}: {len(entries) - missing} of {len(entries)} actuals "
                "entered (double-click or Enter on a row to enter its actual)."
                + _earlier_missing(rows, period)
            )
        self.enter_button.setEnabled(not self.locked and bool(entries))
        self.clear_button.setEnabled(not self.locked and bool(entries))
        keys = [(r.project, r.code, q.quarter) for r, q in entries]
        wanted = (selected[0].project, selected[0].code, selected[1].quarter) if selected else None
        self.table.selectRow(keys.index(wanted) if wanted in keys else 0)

    def current(self) -> Entry | None:
        row = _selected(self.table, self.model.rows)
        return None if row is None else self.model.rows[row]

    def select(self, project: str, code: str = "") -> None:
        """The measure's row (the project's first with no code)."""
        for row, (measure, _quarter) in enumerate(self.model.rows):
            if measure.project == project and code in ("", measure.code):
                self.table.selectRow(row)
                return

    def enter(self) -> ActualDialog | None:
        entry = self.current()
        if entry is None or self.locked:
            return None
        if entry[1].locked:
            show_error(self, LockedError(_locked(entry)))
            return None
        dialog = ActualDialog(self.workspace, self, entry)
        dialog.open()
        return dialog

    def clear(self) -> None:
        entry = self.current()
        if entry is None or self.locked:
            return
        measure, quarter = entry
        if quarter.locked:
            show_error(self, LockedError(_locked(entry)))
            return
        if quarter.actual is None:
            show_error(self, ValidationError(f"{measure.code} has no actual for {quarter.quarter}"))
            return
        operation = SetOutcomeActual(
            self.workspace.grant,
            quarter.quarter,
            measure.project,
            measure.code,
            None,
            version=quarter.version,
        )
        self.workspace.run(operation, self)


def _earlier_missing(rows: Sequence[OutcomeRow], period: Period) -> str:
    """Quarters before the period still without an actual: they are entered in their own."""
    earlier = [
        f"{row.project}/{row.code} {quarter.quarter}"
        for row in rows
        for quarter in row.quarters
        if quarter.actual is None and quarter.quarter.end < period.start
    ]
    if not earlier:
        return ""
    more = f" and {len(earlier) - 3} more" if len(earlier) > 3 else ""
    return (
        f" Not entered for earlier quarters: {', '.join(earlier[:3])}{more} (choose that "
        "quarter on the left)."
    )


def _locked(entry: Entry) -> str:
    measure, quarter = entry
    return (
        f"{measure.project}/{measure.code} for {quarter.quarter} is reported in a submitted "
        "return: reopen that return on this page first"
    )


class ActualDialog(OperationForm):
    """What one measure achieved in one quarter: a count, or for a percent measure how many
    of how many (41 of 50), with an optional note."""

    title = "Enter actual"

    def __init__(self, workspace: Workspace, parent: QWidget | None, entry: Entry) -> None:
        super().__init__(workspace, parent)
        self.measure, self.quarter = entry
        percent = self.measure.unit == PERCENT
        self.intro.setText(
            f"{self.measure.project} {self.measure.code} {self.measure.title}, "
            f"{self.quarter.quarter}: target {self.quarter.target}."
            + (
                " Give how many of how many (41 of 50 reported improved wellbeing)."
                if percent
                else ""
            )
        )
        shown = self.quarter.actual
        self.line_edit("actual", "Actual", "" if shown is None else str(shown), "e.g. 41")
        if percent:
            out_of = self.quarter.out_of
            self.line_edit("of", "Of", "" if out_of is None else str(out_of), "e.g. 50")
        self.line_edit("note", "Note", self.quarter.note, "optional; never names a service user")

    def operation(self) -> Operation:
        return SetOutcomeActual(
            self.workspace.grant,
            self.quarter.quarter,
            self.measure.project,
            self.measure.code,
            self.text("actual"),
            self.text("of") if "of" in self.fields else None,
            self.text("note"),
            version=self.quarter.version,
        )


# --- Dashboard: results for the money ---------------------------------------------------------


Progress = tuple[ProjectProgress, str]  # a project's progress and its % of plan to date spent


def _progress_columns() -> list[Column[Progress]]:
    return [
        Column("Code", lambda p: p[0].project, tooltip=lambda p: p[0].name),
        Column("Spent\nof budget", lambda p: p[0].percent_of_budget_spent or "no budget", True),
        Column("Spent of\nplan to date", lambda p: p[1] or "none due", True),
        Column(
            "Reached of\ntarget to date",
            lambda p: (
                p[0].percent_of_target_reached
                or ("no measures" if not p[0].measures else "nothing due yet")
            ),
            numeric=True,
            tooltip=lambda p: (
                f"{p[0].measures} outcome measure(s); the mean of their % of target to date"
                if p[0].measures
                else "This project has no outcome measures (add them on the Projects page)"
            ),
        ),
    ]


class ProgressPanel(QWidget):
    """For each project, % of budget spent and % of its planned spend to date spent, beside %
    of outcome target to date reached ("are we getting results for the money"); a project
    without measures says so, never 0%."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outcomeProgress")
        self.model: RowsModel[Progress] = RowsModel(_progress_columns(), self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(
            "<b>Results for the money</b>: % spent of budget and of plan (profile) to date; "
            "% of outcome target to date reached (the mean of the project's measures)"
        )
        title.setWordWrap(True)
        layout.addWidget(title)
        self.table = _table("outcomeProgressTable", "Results for the money", self.model)
        title.setBuddy(self.table)
        layout.addWidget(self.table, 1)
        for column, width in enumerate((45, 62, 78)):
            self.table.setColumnWidth(column, width)

    def show_progress(
        self, progress: Sequence[ProjectProgress], plan_spent: Mapping[str, str]
    ) -> None:
        """``plan_spent``: each project's % of its profile to date spent, by code."""
        self.model.set_rows([(p, plan_spent.get(p.project, "")) for p in progress])
