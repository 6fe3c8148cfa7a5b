"""Editing plans in place on the Priorities page: a new plan (typed, or started from a
template), a plan's name and owner, its priorities and sub-priorities (add, retitle, retire),
and a new version of a plan from a date.

Each save is one core operation run through the workspace (one undo step, audited). The core
refuses bad input naming the field; the refusal is shown beside that field here, and nothing
is written while any field is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError
from fundtracker.models import PLAN_KINDS
from fundtracker.operations import Operation, Together
from fundtracker.operations.plans import (
    AddPriority,
    NewPlan,
    NewPlanVersion,
    RetirePriority,
    RetitlePriority,
    UpdatePlan,
)
from fundtracker.presenters.plans import KIND_LABELS, PlanRow, PriorityRow, template_lines
from fundtracker.setup_drafts import Problems, day, plan_key, priorities_from_lines, text
from fundtracker.setup_files import PlanSpec, PrioritySpec
from ui.fields import DateField, Form, Refusal
from ui.grant_editor import beside_fields
from ui.workspace import Workspace

# The core names fields by their keys; the window shows their labels.
NEW_PLAN_LABELS = {
    "key": "Plan name",  # the key is made from the name and first year
    "name": "Plan name",
    "owner": "Owner",
    "kind": "Kind",
    "from": "In effect from",
    "to": "In effect to",
    "code": "Priorities",
    "title": "Priorities",
    "under": "Priorities",
}
PLAN_LABELS = {"name": "Plan name", "owner": "Owner"}
ADD_LABELS = {"code": "New code", "title": "New priority title", "under": "Under"}
RETITLE_LABELS = {"title": "Priority title"}
VERSION_LABELS = {"from": "New version from", "key": "New version from"}
TOP_LEVEL = "(none: a priority of its own)"
TITLE_LIMIT = 300  # the priorities table's title column


def _button(text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(text.rstrip("…"))
    button.clicked.connect(slot)
    return button


def _kinds() -> QComboBox:
    combo = QComboBox()
    for kind in PLAN_KINDS:
        combo.addItem(KIND_LABELS[kind], kind)
    return combo


class NewPlanDialog(QDialog):
    """*New plan…*: name, owner, kind, dates and priorities one a line, blank or from a
    template. *Create plan* makes the plan and its priorities as one step."""

    created = Signal(str)  # the new plan's key

    def __init__(
        self,
        workspace: Workspace,
        templates: list[PlanSpec],
        taken: set[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New plan")
        self.setObjectName("newPlanDialog")
        self.workspace = workspace
        self.templates = templates
        self.taken = taken  # plan keys in use: the new plan's key is made unused
        self.key = ""  # the key of the plan Create plan makes, from its name and first year
        layout = QVBoxLayout(self)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.start_from = self.form.add("Start from", QComboBox())
        self.start_from.addItem("A blank plan")
        for spec in templates:
            self.start_from.addItem(f"Template: {spec.name} ({spec.owner})")
        self.start_from.currentIndexChanged.connect(self._template_chosen)
        self.name = self.form.add("Plan name", QLineEdit())
        self.name.setPlaceholderText("e.g. Safer Tonbridge and Malling 2026–29")
        self.owner = self.form.add("Owner", QLineEdit())
        self.owner.setPlaceholderText("e.g. Tonbridge and Malling CSP")
        self.kind = self.form.add("Kind", _kinds())
        self.kind.setCurrentIndex(self.kind.findData("csp"))
        self.starts = self.form.add("In effect from", DateField())
        self.ends = self.form.add("In effect to", DateField())
        self.priorities = self.form.add("Priorities", QPlainTextEdit())
        self.priorities.setPlaceholderText(
            "One priority a line. Start a line with a space or - for a sub-priority of the one "
            "above, or give codes: P1 Protecting people, then P1.1 Young people."
        )
        self.priorities.setMinimumSize(460, 140)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.create_button = _button("Create plan", self.create_plan)
        self.create_button.setDefault(True)
        buttons.addWidget(self.create_button)
        buttons.addWidget(_button("Cancel", self.reject))
        layout.addLayout(buttons)
        self.refusal = Refusal("Create plan")
        layout.addWidget(self.refusal)

    def _template_chosen(self, index: int) -> None:
        """A template fills every field; the officer can change any of them before Create."""
        if index <= 0:
            return
        spec = self.templates[index - 1]
        self.name.setText(spec.name)
        self.owner.setText(spec.owner)
        self.kind.setCurrentIndex(self.kind.findData(spec.kind))
        self.starts.set_date(spec.effective_from)
        self.ends.set_date(spec.effective_to)
        self.priorities.setPlainText(template_lines(spec))

    def operation(self, problems: Problems) -> Operation | None:
        """The new plan with its priorities as one step, or None with what is wrong."""
        name = text(problems, "Plan name", self.name.text())
        start = day(problems, "In effect from", self.starts.text())
        day(problems, "In effect to", self.ends.text(), required=False)
        kind = self.kind.currentData()
        prefix = "P" if kind == "pcc" else "C"
        priorities = priorities_from_lines(self.priorities.toPlainText(), prefix)
        if not priorities:
            problems.add("Priorities", "type at least one priority, one a line")
        for problem in _line_problems(priorities):
            problems.add("Priorities", problem)
        if problems or start is None:
            return None
        key = self.key = plan_key(name, start, self.taken)
        values = {
            "key": key,
            "name": name,
            "owner": self.owner.text(),
            "kind": kind,
            "effective_from": self.starts.text(),
            "effective_to": self.ends.text(),
        }
        parts: list[Operation] = [NewPlan(values)]
        parts += [AddPriority(key, p.code, p.title, p.parent) for p in priorities]
        return Together(f"New plan {name}", tuple(parts))

    def create_plan(self) -> bool:
        problems = Problems()
        operation = self.operation(problems)
        self.show_problems(problems)
        if operation is None:
            return False
        if self.workspace.run(operation, self, self._refused) is None:
            return False
        self.created.emit(self.key)
        self.accept()
        return True

    def _refused(self, error: FundtrackerError) -> None:
        self.show_problems(beside_fields(error, NEW_PLAN_LABELS, "Create plan"))

    def show_problems(self, problems: Problems) -> None:
        self.form.show(problems)
        self.refusal.say(problems.about("Create plan"))


def _line_problems(priorities: list[PrioritySpec]) -> list[str]:
    """What is wrong with the priorities as typed, each naming its code, so the officer finds
    the line (the core would refuse them too, without saying which line)."""
    problems, above = [], set()
    for priority in priorities:
        if priority.code in above:
            problems.append(f"{priority.code} is on two lines")
        if priority.parent and priority.parent not in above:
            problems.append(f"{priority.code}: no priority {priority.parent} above it")
        if len(priority.title) > TITLE_LIMIT:
            problems.append(
                f"{priority.code}: the title is {len(priority.title)} characters long; "
                f"at most {TITLE_LIMIT}"
            )
        above.add(priority.code)
    return problems


class NewVersionDialog(QDialog):
    """*Start a new version…* of a plan from a date: the old version ends the day before and
    keeps every weight set on it; the new one starts with its priorities in use."""

    def __init__(self, workspace: Workspace, plan: PlanRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"New version of {plan.name}")
        self.setObjectName("newVersionDialog")
        self.workspace = workspace
        self.plan = plan
        layout = QVBoxLayout(self)
        explained = QLabel(
            f"{plan.name} runs {plan.from_text} to {plan.to_text}. From the date below a new "
            "version takes over with the priorities in use now; this version ends the day "
            "before, and projects keep the weights they set on it, so past figures never move."
        )
        explained.setWordWrap(True)
        layout.addWidget(explained)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.starts = self.form.add("New version from", DateField())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button = _button("Start new version", self.start)
        self.start_button.setDefault(True)
        buttons.addWidget(self.start_button)
        buttons.addWidget(_button("Cancel", self.reject))
        layout.addLayout(buttons)
        self.refusal = Refusal("Start new version")
        layout.addWidget(self.refusal)
        self.setMinimumWidth(460)

    def start(self) -> bool:
        problems = Problems()
        day(problems, "New version from", self.starts.text())
        self.show_problems(problems)
        if problems:
            return False
        operation = NewPlanVersion(self.plan.key, self.starts.text(), self.plan.version)
        if self.workspace.run(operation, self, self._refused) is None:
            return False
        self.accept()
        return True

    def _refused(self, error: FundtrackerError) -> None:
        self.show_problems(beside_fields(error, VERSION_LABELS, "Start new version"))

    def show_problems(self, problems: Problems) -> None:
        self.form.show(problems)
        self.refusal.say(problems.about("Start new version"))


class PlanEditor(QWidget):
    """Beside the priority table: the selected plan's name and owner, the selected priority's
    title (or retire it), and a new priority or sub-priority."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.setObjectName("planEditor")
        self.workspace = workspace
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._plan_box())
        column.addWidget(self._selected_box())
        column.addWidget(self._add_box())
        column.addStretch(1)
        self.plan: PlanRow | None = None
        self.priority: PriorityRow | None = None
        self.versions: list[NewVersionDialog] = []
        for box in self.findChildren(QGroupBox):
            box.setEnabled(not workspace.read_only)

    # --- building -----------------------------------------------------------------------

    def _plan_box(self) -> QGroupBox:
        box = QGroupBox("Plan")
        layout = QVBoxLayout(box)
        self.plan_form = Form()
        layout.addLayout(self.plan_form.layout)
        self.plan_name = self.plan_form.add("Plan name", QLineEdit())
        self.owner = self.plan_form.add("Owner", QLineEdit())
        row = QHBoxLayout()
        self.save_plan_button = _button("Save plan", self.save_plan)
        self.version_button = _button("Start a new version…", self.new_version)
        row.addWidget(self.save_plan_button)
        row.addWidget(self.version_button)
        layout.addLayout(row)
        self.plan_refusal = Refusal("Save plan")
        layout.addWidget(self.plan_refusal)
        return box

    def _selected_box(self) -> QGroupBox:
        box = QGroupBox("Selected priority")
        layout = QVBoxLayout(box)
        self.selected_label = QLabel("Pick a priority in the table")
        self.selected_label.setWordWrap(True)
        layout.addWidget(self.selected_label)
        self.selected_form = Form()
        layout.addLayout(self.selected_form.layout)
        self.priority_title = self.selected_form.add("Priority title", QLineEdit())
        row = QHBoxLayout()
        self.retitle_button = _button("Save title", self.retitle)
        self.retire_button = _button("Retire priority", self.retire)
        row.addWidget(self.retitle_button)
        row.addWidget(self.retire_button)
        layout.addLayout(row)
        self.selected_refusal = Refusal("Selected priority")
        layout.addWidget(self.selected_refusal)
        return box

    def _add_box(self) -> QGroupBox:
        box = QGroupBox("Add a priority or sub-priority")
        layout = QVBoxLayout(box)
        self.add_form = Form()
        layout.addLayout(self.add_form.layout)
        self.new_code = self.add_form.add("New code", QLineEdit())
        self.new_code.setPlaceholderText("e.g. P5, or P1.3 under P1")
        self.new_title = self.add_form.add("New priority title", QLineEdit())
        self.under = self.add_form.add("Under", QComboBox())
        self.add_button = _button("Add priority", self.add)
        layout.addWidget(self.add_button)
        self.add_refusal = Refusal("Add priority")
        layout.addWidget(self.add_refusal)
        return box

    # --- showing ------------------------------------------------------------------------

    def load(self, plan: PlanRow | None, priority: PriorityRow | None) -> None:
        """Show the selected plan and priority. Refusals stay while the same plan and priority
        are shown again (a refused change reloads the page to show the current values); they
        are cleared when another is picked."""
        same = (plan and plan.key, priority and priority.code) == (
            self.plan and self.plan.key,
            self.priority and self.priority.code,
        )
        self.plan, self.priority = plan, priority
        self.plan_name.setText(plan.name if plan else "")
        self.owner.setText(plan.owner if plan else "")
        self.under.clear()
        self.under.addItem(TOP_LEVEL, None)
        for code in plan.active_codes if plan else []:
            self.under.addItem(code, code)
        self._show_selected(priority)
        for button in (self.save_plan_button, self.version_button, self.add_button):
            button.setEnabled(plan is not None)
        if not same:
            self.clear_refusals()

    def clear_refusals(self) -> None:
        for form in (self.plan_form, self.selected_form, self.add_form):
            form.clear()
        for refusal in (self.plan_refusal, self.selected_refusal, self.add_refusal):
            refusal.say("")

    def _show_selected(self, priority: PriorityRow | None) -> None:
        if priority is None:
            self.selected_label.setText("Pick a priority in the table")
        else:
            retired = " (retired: keeps its weights, takes no new ones)" if priority.retired else ""
            self.selected_label.setText(f"{priority.code}{retired}")
        self.priority_title.setText(priority.title if priority else "")
        self.retitle_button.setEnabled(priority is not None)
        self.retire_button.setEnabled(priority is not None and not priority.retired)

    # --- editing ------------------------------------------------------------------------

    def save_plan(self) -> bool:
        if self.plan is None:
            return False
        typed = {"name": self.plan_name.text(), "owner": self.owner.text()}
        shown = {"name": self.plan.name, "owner": self.plan.owner}
        changed = {k: v for k, v in typed.items() if v.strip() != shown[k]}
        if not changed:
            return False
        operation = UpdatePlan(self.plan.key, changed, self.plan.version)
        return self._run(operation, self._plan_refused)

    def _plan_refused(self, error: FundtrackerError) -> None:
        problems = beside_fields(error, PLAN_LABELS, "Save plan")
        self.plan_form.show(problems)
        self.plan_refusal.say(problems.about("Save plan"))

    def new_version(self) -> NewVersionDialog | None:
        """Opened window-modal without blocking, so the window (and a test) carries on."""
        if self.plan is None:
            return None
        dialog = NewVersionDialog(self.workspace, self.plan, self)
        self.versions = [dialog]
        dialog.open()
        return dialog

    def retitle(self) -> bool:
        if self.plan is None or self.priority is None:
            return False
        priority = self.priority
        operation = RetitlePriority(
            self.plan.key, priority.code, self.priority_title.text(), priority.title
        )
        return self._run(operation, self._selected_refused)

    def retire(self) -> bool:
        if self.plan is None or self.priority is None:
            return False
        return self._run(RetirePriority(self.plan.key, self.priority.code), self._selected_refused)

    def _selected_refused(self, error: FundtrackerError) -> None:
        problems = beside_fields(error, RETITLE_LABELS, "Selected priority")
        self.selected_form.show(problems)
        self.selected_refusal.say(problems.about("Selected priority"))

    def add(self) -> bool:
        if self.plan is None:
            return False
        code, under = self.new_code.text().strip(), self.under.currentData()
        if under is None and "." in code:  # P1.3 typed with no parent picked: under P1
            under = code.rsplit(".", 1)[0]
        operation = AddPriority(self.plan.key, code, self.new_title.text(), under)
        if not self._run(operation, self._add_refused):
            return False
        self.new_code.clear()
        self.new_title.clear()
        return True

    def _add_refused(self, error: FundtrackerError) -> None:
        problems = beside_fields(error, ADD_LABELS, "Add priority")
        self.add_form.show(problems)
        self.add_refusal.say(problems.about("Add priority"))

    def _run(self, operation: Operation, on_error: Callable[[FundtrackerError], None]) -> bool:
        return self.workspace.run(operation, self, on_error) is not None
