"""The Rules panel: a grant's assignment rules (list, add, edit, move up and down, delete), the
editor with its live preview of the unassigned lines a rule would assign, and *Apply rules to
unassigned lines* as one undoable step.

It is a dialog opened from the Spending page (the page where unassigned lines are seen and a
rule can be made from one) and from the Imports page (where rules do their work as a ledger
comes in). What the table shows and what the preview finds live in
fundtracker.presenters.rules; every change is a core operation run through the workspace.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError
from fundtracker.money import format_money
from fundtracker.operations import Operation
from fundtracker.operations.rules import (
    AddRule,
    ApplyResult,
    ApplyRulesToUnassigned,
    DeleteRule,
    MoveRule,
    UpdateRule,
)
from fundtracker.presenters.rules import (
    FIELD_LABELS,
    OPERATOR_LABELS,
    PreviewLine,
    RuleRow,
    preview,
    rule_rows,
)
from fundtracker.services.grants import load_grant
from ui import dialogs
from ui.fields import Form, Refusal
from ui.grant_editor import beside_fields
from ui.models.table import Column, RowsModel
from ui.naming import named
from ui.workspace import PROJECTS, RULES, Workspace

RULE_COLUMNS: list[Column[RuleRow]] = [
    Column("Order", lambda r: str(r.place), numeric=True),
    Column("Field", lambda r: FIELD_LABELS[r.field]),
    Column("Test", lambda r: OPERATOR_LABELS[r.op]),
    Column("Value", lambda r: r.value),
    Column("Project", lambda r: r.project),
]
PREVIEW_COLUMNS: list[Column[PreviewLine]] = [
    Column("Line", lambda p: str(p.id), numeric=True),
    Column("Date", lambda p: f"{p.date:%d/%m/%Y}"),
    Column("Supplier", lambda p: p.supplier),
    Column("Description", lambda p: p.description),
    Column("Net", lambda p: format_money(p.net), numeric=True),
]
LABELS = {"field": "Field", "op": "Test", "value": "Value", "allocation": "Project"}
OVERALL = "Rule"  # where a refusal about no one field (a conflict) is shown


def _table(model: RowsModel[RuleRow] | RowsModel[PreviewLine], name: str) -> QTableView:
    table = named(QTableView(), name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


class RulesDialog(QDialog):
    """The current grant's rules in the order they apply, and what can be done with them."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle("Assignment rules")
        self.resize(820, 460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Rules put an unassigned line on a project when one of its fields matches. They "
            "apply in this order as a ledger is imported; the first that matches wins."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model: RowsModel[RuleRow] = RowsModel(RULE_COLUMNS, self)
        self.table = _table(self.model, "rulesTable")
        self.table.setAccessibleName("Assignment rules")
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        layout.addWidget(self.table, 1)
        layout.addLayout(self._buttons())
        self.result_label = named(QLabel(), "rulesResult")
        layout.addWidget(self.result_label)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        # Bound methods, so Qt drops the connections when the closed dialog is deleted.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        workspace.changed.connect(self._changed)
        workspace.grant_changed.connect(self._grant_changed)
        self.reload()

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add rule…")
        self.edit_button = QPushButton("Edit…")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.delete_button = QPushButton("Delete…")
        self.apply_button = QPushButton("Apply rules to unassigned lines")
        actions = (
            (self.add_button, self.add_rule),
            (self.edit_button, self.edit_selected),
            (self.up_button, lambda: self.move_selected(-1)),
            (self.down_button, lambda: self.move_selected(+1)),
            (self.delete_button, self.delete_selected),
            (self.apply_button, self.apply_rules),
        )
        for button, action in actions:
            button.setAccessibleName(button.text())  # tests and screen readers find it so
            button.clicked.connect(action)
            button.setEnabled(not self.workspace.read_only)
            row.addWidget(button)
            if button is self.delete_button:
                row.addStretch(1)
        return row

    def _grant_changed(self, _grant: str) -> None:
        self.reload()

    def _changed(self, kinds: frozenset[str]) -> None:
        if kinds & {RULES, PROJECTS}:
            self.reload()

    def reload(self) -> None:
        chosen = self.selected()
        grant = self.workspace.grant
        self.model.set_rows(rule_rows(self.workspace.db, grant) if grant else [])
        self.setWindowTitle(f"Assignment rules — {grant}" if grant else "Assignment rules")
        if chosen is not None:
            self.select(chosen.id)

    def selected(self) -> RuleRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row(rows[0]) if rows else None

    def select(self, rule_id: int) -> None:
        for number, row in enumerate(self.model.rows):
            if row.id == rule_id:
                self.table.selectRow(number)

    def add_rule(self) -> RuleEditor:
        editor = RuleEditor(self.workspace, self)
        editor.open()
        return editor

    def edit_selected(self) -> RuleEditor | None:
        row = self.selected()
        if row is None:
            return None
        editor = RuleEditor(self.workspace, self, row)
        editor.open()
        return editor

    def move_selected(self, step: int) -> bool:
        row = self.selected()
        if row is None or not 1 <= row.place + step <= len(self.model.rows):
            return False
        done = self.workspace.run(MoveRule(row.id, row.place + step, row.state), self)
        self.select(row.id)
        return done is not None

    def delete_selected(self) -> bool:
        row = self.selected()
        if row is None:
            return False
        question = f"Delete the rule {row.text}? You can undo this with Ctrl+Z."
        if not dialogs.confirm(self, "Delete rule", question, "Delete"):
            return False
        return self.workspace.run(DeleteRule(row.id, row.state), self) is not None

    def apply_rules(self) -> ApplyResult | None:
        done = self.workspace.run(ApplyRulesToUnassigned(self.workspace.grant), self)
        if done is None:
            return None
        result: ApplyResult = done.result
        self.result_label.setText(f"Applied the rules: {result.summary()}. Ctrl+Z undoes it.")
        return result


class RuleEditor(QDialog):
    """One rule's field, test, value and project, with the lines it would assign as typed.
    Nothing is written until Save; a refusal is shown beside its field."""

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None = None,
        rule: RuleRow | None = None,
        start: tuple[str, str, str, str | None] | None = None,  # (field, op, value, project)
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.rule = rule
        self.setWindowTitle(f"Edit rule {rule.place}" if rule else "New assignment rule")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 480)
        layout = QVBoxLayout(self)
        self.form = Form()
        self.field = self.form.add(LABELS["field"], QComboBox())
        for name, label in FIELD_LABELS.items():
            self.field.addItem(label, name)
        self.op = self.form.add(LABELS["op"], QComboBox())
        for name, label in OPERATOR_LABELS.items():
            self.op.addItem(label, name)
        self.value = self.form.add(LABELS["value"], QLineEdit())
        self.project = self.form.add(LABELS["allocation"], QComboBox())
        for allocation in load_grant(workspace.db, workspace.grant).allocations:
            self.project.addItem(f"{allocation.code} — {allocation.name}", allocation.code)
        layout.addLayout(self.form.layout)
        self.overall = Refusal(OVERALL)  # a refusal about no one field: a conflict, say
        layout.addWidget(self.overall)
        self.preview_text = named(QLabel(), "rulePreviewText")
        self.preview_text.setWordWrap(True)
        layout.addWidget(self.preview_text)
        self.preview_model: RowsModel[PreviewLine] = RowsModel(PREVIEW_COLUMNS, self)
        self.preview_table = _table(self.preview_model, "rulePreview")
        self.preview_table.setAccessibleName("Lines this rule would assign")
        layout.addWidget(self.preview_table, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fill(rule, start)
        self._timer = QTimer(self, singleShot=True, interval=200)
        self._timer.timeout.connect(self.show_preview)
        self.value.textChanged.connect(lambda _text: self._timer.start())
        for combo in (self.field, self.op):
            combo.currentIndexChanged.connect(lambda _i: self.show_preview())
        self.show_preview()

    def _fill(self, rule: RuleRow | None, start: tuple[str, str, str, str | None] | None) -> None:
        if rule is not None:
            start = (rule.field, rule.op, rule.value, rule.allocation)
        if start is None:
            return
        field, op, value, project = start
        self.field.setCurrentIndex(max(self.field.findData(field), 0))
        self.op.setCurrentIndex(max(self.op.findData(op), 0))
        self.value.setText(value)
        if project:
            self.project.setCurrentIndex(max(self.project.findData(project), 0))

    def typed(self) -> dict[str, str]:
        return {
            "field": str(self.field.currentData()),
            "op": str(self.op.currentData()),
            "value": self.value.text(),
            "allocation": str(self.project.currentData() or ""),
        }

    def show_preview(self) -> None:
        typed = self.typed()
        place = self.rule.place if self.rule else None  # a new rule goes after the others
        found = preview(
            self.workspace.db,
            self.workspace.grant,
            typed["field"],
            typed["op"],
            typed["value"],
            place,
        )
        self.preview_text.setText(found.text)
        self.preview_model.set_rows(found.lines)

    def operation(self) -> Operation:
        typed = self.typed()
        if self.rule is None:
            return AddRule(self.workspace.grant, **typed)
        was = {"field": self.rule.field, "op": self.rule.op, "value": self.rule.value,
               "allocation": self.rule.allocation}  # fmt: skip
        changed = {name: value for name, value in typed.items() if value != was[name]}
        return UpdateRule(self.rule.id, changed, self.rule.state)

    def save(self) -> bool:
        self.form.clear()
        self.overall.say("")
        operation = self.operation()
        if isinstance(operation, UpdateRule) and not operation.values:
            self.accept()  # nothing changed: nothing to write
            return True
        if self.workspace.run(operation, self, self._refused) is None:
            return False
        self.accept()
        return True

    def _refused(self, error: FundtrackerError) -> None:
        problems = beside_fields(error, LABELS, OVERALL)
        self.form.show(problems)
        self.overall.say(problems.about(OVERALL))
