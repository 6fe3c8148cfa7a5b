"""Editing a grant in place on the Grants page: its details, and its payments (add, change,
remove, mark received with the day the money arrived).

Each save is one core operation run through the workspace (one undo step, audited); the core
refuses bad input naming the field, and the refusal is shown beside that field here. Nothing
is written while any field is refused.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.models import RETURN_FREQUENCIES, Grant
from fundtracker.money import format_money, money_str
from fundtracker.operations import Operation
from fundtracker.operations.grants import (
    AddPayment,
    EditPayment,
    PaymentValues,
    RemovePayment,
    UpdateGrant,
)
from fundtracker.setup_drafts import Problems
from ui.fields import DateField, Form, Refusal
from ui.undo import ErrorHandler
from ui.workspace import Workspace

FREQUENCY_LABELS = {"quarterly": "Quarterly", "half-yearly": "Half-yearly", "annual": "Annual"}
# The core names fields by their keys; the window shows their labels.
DETAIL_LABELS = {
    "name": "Grant name",
    "funder": "Funder",
    "recipient": "Recipient",
    "award": "Award",
    "start": "Start",
    "end": "End",
    "return frequency": "Return frequency",
    "conditions": "Conditions",
}
PAYMENT_LABELS = {"date": "Payment date", "amount": "Payment amount", "received on": "Received on"}


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def beside_fields(error: FundtrackerError, labels: dict[str, str], fallback: str) -> Problems:
    """A refusal from the core as problems under the labels of the fields it names; anything
    not about one field (a conflict, a lock) goes under ``fallback``."""
    problems = Problems()
    if isinstance(error, ValidationError):
        for item in error.errors:
            problems.add(labels.get(item.field, fallback), item.message)
    else:
        problems.add(fallback, str(error))
    return problems


class GrantDetailsEditor(QGroupBox):
    """The grant's own fields; Save changes writes only the fields that were changed."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__("Edit details")
        self.workspace = workspace
        layout = QVBoxLayout(self)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.name = self.form.add("Grant name", QLineEdit())
        self.funder = self.form.add("Funder", QLineEdit())
        self.recipient = self.form.add("Recipient", QLineEdit())
        self.award = self.form.add("Award", QLineEdit())
        self.start = self.form.add("Start", DateField())
        self.end = self.form.add("End", DateField())
        self.frequency = QComboBox()
        for key in RETURN_FREQUENCIES:
            self.frequency.addItem(FREQUENCY_LABELS[key], key)
        self.form.add("Return frequency", self.frequency)
        self.conditions = self.form.add("Conditions", QPlainTextEdit())
        self.conditions.setMaximumHeight(80)
        self.save_button = QPushButton("Save changes")
        self.save_button.setAccessibleName("Save changes")
        self.save_button.clicked.connect(self.save)
        self.refusal = Refusal("Save changes")
        layout.addWidget(self.save_button)
        layout.addWidget(self.refusal)
        self.grant: Grant | None = None

    def load(self, grant: Grant) -> None:
        self.grant = grant
        self.name.setText(grant.name)
        self.funder.setText(grant.funder)
        self.recipient.setText(grant.recipient)
        self.award.setText(money_str(grant.award))
        self.start.set_date(grant.start_date)
        self.end.set_date(grant.end_date)
        self.frequency.setCurrentIndex(self.frequency.findData(grant.return_frequency))
        self.conditions.setPlainText(grant.conditions)
        self.show_problems(Problems())

    def typed(self) -> dict[str, object]:
        """Every field as typed, by the core's field names."""
        return {
            "name": self.name.text(),
            "funder": self.funder.text(),
            "recipient": self.recipient.text(),
            "award": self.award.text(),
            "start": self.start.text(),
            "end": self.end.text(),
            "return_frequency": self.frequency.currentData(),
            "conditions": self.conditions.toPlainText(),
        }

    def shown(self) -> dict[str, object]:
        """The fields as they were loaded, typed the same way, to see what was changed."""
        grant = self.grant
        assert grant is not None
        return {
            "name": grant.name,
            "funder": grant.funder,
            "recipient": grant.recipient,
            "award": money_str(grant.award),
            "start": _day(grant.start_date),
            "end": _day(grant.end_date),
            "return_frequency": grant.return_frequency,
            "conditions": grant.conditions,
        }

    def save(self) -> bool:
        if self.grant is None:
            return False
        before = self.shown()
        changed = {k: v for k, v in self.typed().items() if v != before[k]}
        if not changed:
            self.show_problems(Problems())
            return False
        operation = UpdateGrant(self.grant.reference, changed, self.grant.version)
        return _run(self.workspace, operation, self, self._refused)

    def _refused(self, error: FundtrackerError) -> None:
        self.show_problems(beside_fields(error, DETAIL_LABELS, "Save changes"))

    def show_problems(self, problems: Problems) -> None:
        self.form.show(problems)
        self.refusal.say(problems.about("Save changes"))


class PaymentsEditor(QGroupBox):
    """The grant's instalments: pick one to change, remove or mark received, or add one."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__("Edit payments")
        self.workspace = workspace
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setAccessibleName("Payments to edit")
        self.list.setMaximumHeight(110)
        self.list.currentRowChanged.connect(self._picked)
        layout.addWidget(self.list)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.date = self.form.add("Payment date", DateField())
        self.amount = self.form.add("Payment amount", QLineEdit())
        self.status = QComboBox()
        self.status.addItems(["Expected", "Received"])
        self.form.add("Received or expected", self.status)
        self.received_on = self.form.add("Received on", DateField())
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, slot in [
            ("Add as a new payment", self.add),
            ("Save payment", self.save),
            ("Mark received", self.mark_received),
            ("Remove payment", self.remove),
        ]:
            button = QPushButton(text)
            button.setAccessibleName(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[text] = button
        layout.addLayout(buttons)
        self.refusal = Refusal("Payment")
        layout.addWidget(self.refusal)
        self.grant: Grant | None = None
        self.seen: list[tuple[int, PaymentValues]] = []

    def load(self, grant: Grant) -> None:
        self.grant = grant
        self.seen = [(p.id, PaymentValues.of(p)) for p in grant.payments]
        self.list.blockSignals(True)
        self.list.clear()
        for _id, values in self.seen:
            status = f"received {_day(values.received_on)}" if values.received else "expected"
            self.list.addItem(f"{_day(values.date)}  {format_money(values.amount)}  {status}")
        self.list.blockSignals(False)
        self.list.setCurrentRow(0 if self.seen else -1)
        self._picked(self.list.currentRow())

    def _picked(self, row: int) -> None:
        chosen = self.seen[row][1] if 0 <= row < len(self.seen) else None
        self.date.set_date(chosen.date if chosen else None)
        self.amount.setText(money_str(chosen.amount) if chosen else "")
        self.status.setCurrentIndex(1 if chosen and chosen.received else 0)
        self.received_on.set_date(chosen.received_on if chosen else None)
        for name in ("Save payment", "Mark received", "Remove payment"):
            self.buttons[name].setEnabled(chosen is not None)
        self.show_problems(Problems())

    def _chosen(self) -> tuple[int, PaymentValues] | None:
        row = self.list.currentRow()
        return self.seen[row] if 0 <= row < len(self.seen) else None

    def _received(self) -> bool:
        return self.status.currentText() == "Received" or bool(self.received_on.text().strip())

    def add(self) -> bool:
        assert self.grant is not None
        operation = AddPayment(
            self.grant.reference,
            self.date.text(),
            self.amount.text(),
            self._received(),
            self.received_on.text(),
        )
        return self._run(operation)

    def save(self) -> bool:
        chosen = self._chosen()
        if self.grant is None or chosen is None:
            return False
        payment_id, seen = chosen
        operation = EditPayment(
            self.grant.reference,
            payment_id,
            seen,
            self.date.text(),
            self.amount.text(),
            self._received(),
            self.received_on.text() if self._received() else None,
        )
        return self._run(operation)

    def mark_received(self) -> bool:
        """Received on the day typed in Received on, or today when it is blank."""
        chosen = self._chosen()
        if self.grant is None or chosen is None:
            return False
        payment_id, seen = chosen
        arrived = self.received_on.text() or _day(date.today())
        operation = EditPayment(
            self.grant.reference, payment_id, seen, seen.date, seen.amount, True, arrived
        )
        return self._run(operation)

    def remove(self) -> bool:
        chosen = self._chosen()
        if self.grant is None or chosen is None:
            return False
        payment_id, seen = chosen
        return self._run(RemovePayment(self.grant.reference, payment_id, seen))

    def _run(self, operation: Operation) -> bool:
        return _run(self.workspace, operation, self, self._refused)

    def _refused(self, error: FundtrackerError) -> None:
        self.show_problems(beside_fields(error, PAYMENT_LABELS, "Payment"))

    def show_problems(self, problems: Problems) -> None:
        self.form.show(problems)
        self.refusal.say(problems.about("Payment"))


class GrantEditor(QWidget):
    """Both editors side by side, as the Grants page shows them."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.setObjectName("grantEditor")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.details = GrantDetailsEditor(workspace)
        self.payments = PaymentsEditor(workspace)
        row.addWidget(self.details, 3)
        row.addWidget(self.payments, 2)

    def load(self, grant: Grant) -> None:
        self.details.load(grant)
        self.payments.load(grant)


def _run(
    workspace: Workspace, operation: Operation, parent: QWidget, on_error: ErrorHandler
) -> bool:
    """One undoable step; a refusal goes beside the fields and nothing is written."""
    return workspace.run(operation, parent, on_error) is not None
