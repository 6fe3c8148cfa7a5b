"""The year's dialogs (issue 13): record a virement, release a commitment, record a
commitment's invoice, carry a commitment into next year's grant, start next year's grant. Each
is a small form whose OK runs one core operation through ``Workspace.run`` — one undoable step —
and shows a refusal beside the field it names, keeping the form open with nothing changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from fundtracker.dates import parse_date
from fundtracker.errors import FieldError, FundtrackerError, ValidationError
from fundtracker.models import Grant
from fundtracker.money import format_money, parse_money
from fundtracker.operations import Changes, Operation, Together
from fundtracker.operations.commitments import (
    CarryForwardCommitment,
    InvoiceCommitment,
    MatchCommitment,
    ReleaseCommitment,
)
from fundtracker.operations.virements import RecordVirement
from fundtracker.operations.year import MoveLinesToGrant, StartNextYear
from fundtracker.presenters.commitments import later_grants, match_candidates
from fundtracker.services.ledger_view import LedgerRow
from ui.errors import error_text, show_error
from ui.naming import labelled, named
from ui.workspace import Workspace

DATE_HINT = "dd/mm/yyyy"


class OperationForm(QDialog):
    """A form of named fields; OK runs ``operation()`` and closes only when it went ahead."""

    title = ""

    def __init__(self, workspace: Workspace, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.title)
        self.workspace = workspace
        self.fields: dict[str, QWidget] = {}
        self.done_changes: Changes | None = None
        layout = QVBoxLayout(self)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.error = named(QLabel(), "formError")
        self.error.setProperty("class", "fieldError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.run_operation)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def add_field(self, name: str, label: str, widget: QWidget) -> QWidget:
        labelled(widget, label)
        widget.setObjectName(name)
        self.fields[name] = widget
        self.form.addRow(label, widget)
        return widget

    def line_edit(self, name: str, label: str, text: str = "", hint: str = "") -> QLineEdit:
        edit = QLineEdit(text)
        edit.setPlaceholderText(hint)
        edit.textEdited.connect(self._clear_errors)  # a refusal stays only until put right
        self.add_field(name, label, edit)
        return edit

    def text(self, name: str) -> str:
        widget = self.fields[name]
        assert isinstance(widget, QLineEdit)
        return widget.text().strip()

    def operation(self) -> Operation:
        raise NotImplementedError

    def run_operation(self) -> None:
        self._clear_errors()
        try:
            operation = self.operation()
        except FundtrackerError as error:  # the form itself refuses (a bad award)
            self.show_refusal(error)
            return
        changes = self.workspace.run(operation, self, self.show_refusal)
        if changes is not None:
            self.done_changes = changes
            self.accept()

    def _clear_errors(self) -> None:
        self.error.clear()
        for widget in self.fields.values():
            widget.setProperty("invalid", False)
            widget.setToolTip("")
            widget.style().polish(widget)

    def show_refusal(self, error: FundtrackerError) -> None:
        """The refusal below the form, and each field it names marked, its message on it."""
        self.error.setText(error_text(error))
        self.adjustSize()  # room for the message, however long
        if isinstance(error, ValidationError):
            for problem in error.errors:
                widget = self.fields.get(problem.field)
                if widget is not None:
                    widget.setProperty("invalid", True)
                    widget.setToolTip(problem.message)
                    widget.style().polish(widget)


def project_combo(grant: Grant) -> QComboBox:
    combo = QComboBox()
    for allocation in grant.allocations:
        combo.addItem(f"{allocation.code}  {allocation.name}", allocation.code)
    return combo


class VirementDialog(OperationForm):
    """Budget moved between two projects with the OPCC's written approval."""

    title = "Record a virement"

    def __init__(self, workspace: Workspace, parent: QWidget | None, grant: Grant) -> None:
        super().__init__(workspace, parent)
        self.grant_reference = grant.reference
        self.intro.setText(
            "Move budget from one project to another with the OPCC's written approval. Reports "
            "of periods ending on or after the effective date use the new budgets; submitted "
            "returns keep theirs."
        )
        self.add_field("from", "From project", project_combo(grant))
        to = project_combo(grant)
        to.setCurrentIndex(min(1, to.count() - 1))
        self.add_field("to", "To project", to)
        self.line_edit("amount", "Amount", hint="e.g. 600.00")
        self.line_edit("approval", "OPCC approval reference", hint="e.g. OPCC/VIR/2025/07")
        self.line_edit("approved_on", "Approval date", hint=DATE_HINT)
        self.line_edit("effective", "Effective date", hint=DATE_HINT)
        self.line_edit("note", "Note")

    def operation(self) -> Operation:
        typed = ("amount", "approval", "approved_on", "effective", "note")
        values: dict[str, object] = {name: self.text(name) for name in typed}
        for name in ("from", "to"):
            combo = self.fields[name]
            assert isinstance(combo, QComboBox)
            values[name] = combo.currentData()
        return RecordVirement(self.grant_reference, values)


class ReleaseDialog(OperationForm):
    """Cancel a commitment (a purchase order that will not be spent)."""

    title = "Release commitment"

    def __init__(self, workspace: Workspace, parent: QWidget | None, line: LedgerRow) -> None:
        super().__init__(workspace, parent)
        self.line = line
        self.intro.setText(
            f"Release commitment {line.id} ({line.supplier or 'no supplier'}, "
            f"{format_money(line.claimable)}): it stops counting as committed from this date. "
            "A submitted return keeps its figures."
        )
        self.line_edit("on", "Released on", date.today().strftime("%d/%m/%Y"), DATE_HINT)

    def operation(self) -> Operation:
        return ReleaseCommitment(self.line.id, self.line.version, _date("on", self.text("on")))


class InvoiceDialog(OperationForm):
    """A commitment's invoice: a new actual line replacing it, or a line already imported."""

    title = "Record the invoice"

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None,
        line: LedgerRow,
        actual_lines: Sequence[tuple[int, str]],
    ) -> None:
        super().__init__(workspace, parent)
        self.line = line
        self.intro.setText(
            f"Commitment {line.id}: {line.supplier or 'no supplier'}, {line.reference or ''} "
            f"{format_money(line.claimable)}. The commitment is released on the day the invoice "
            "counts, so the money is counted once."
        )
        self.replace = named(QRadioButton("Replace it by the invoice's actual line"), "replace")
        self.match = named(QRadioButton("Match it to a line already recorded"), "match")
        group = QButtonGroup(self)
        for button in (self.replace, self.match):
            group.addButton(button)
        self.replace.setChecked(True)
        self.form.addRow(self.replace)
        self.line_edit("date", "Invoice date", hint=DATE_HINT)
        self.line_edit("net", "Net", str(line.net), "e.g. 1250.00")
        self.line_edit("vat", "VAT", hint="0.00")
        self.line_edit("reference", "Invoice number")
        self.form.addRow(self.match)
        actual = QComboBox()
        for line_id, label in actual_lines:
            actual.addItem(label, line_id)
        self.add_field("actual", "Line", actual)
        self.match.setEnabled(actual.count() > 0)
        self.replace.toggled.connect(self._show_mode)
        self._show_mode()

    def _show_mode(self) -> None:
        replacing = self.replace.isChecked()
        for name in ("date", "net", "vat", "reference"):
            self.fields[name].setEnabled(replacing)
        self.fields["actual"].setEnabled(not replacing)

    def operation(self) -> Operation:
        if self.match.isChecked():
            combo = self.fields["actual"]
            assert isinstance(combo, QComboBox)
            return MatchCommitment(self.line.id, self.line.version, int(combo.currentData()))
        values = {name: self.text(name) for name in ("date", "net", "vat", "reference")}
        return InvoiceCommitment(
            self.line.id, self.line.version, {k: v for k, v in values.items() if v}
        )


class CarryForwardDialog(OperationForm):
    """An open commitment raised again in a later year's grant, so this year can close."""

    title = "Carry commitment forward"

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None,
        line: LedgerRow,
        later_grants: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(workspace, parent)
        self.line = line
        self.intro.setText(
            f"Carry commitment {line.id} ({line.supplier or 'no supplier'}, "
            f"{format_money(line.claimable)}) into a later year's grant: it is raised again "
            "there, committed from that grant's first day. This year's returns keep it as "
            "committed at the year end, and the year can close."
        )
        combo = QComboBox()
        for reference, name in later_grants:
            combo.addItem(f"{reference}  {name}", reference)
        self.add_field("to", "Carry into grant", combo)
        if not later_grants:
            self.error.setText(
                "No later grant yet: start next year's grant first (Returns page, Start next "
                "year's grant…)."
            )
            ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
            ok.setEnabled(False)

    def operation(self) -> Operation:
        combo = self.fields["to"]
        assert isinstance(combo, QComboBox)
        return CarryForwardCommitment(self.line.id, self.line.version, combo.currentData())


class NextYearDialog(OperationForm):
    """Start the following financial year's grant from a closed one, optionally moving the
    lines dated in the new year to it in the same step."""

    title = "Start next year's grant"

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None,
        grant: Grant,
        local_plans: Sequence[tuple[str, str]],
        new_year_lines: Sequence[tuple[int, int]],
    ) -> None:
        super().__init__(workspace, parent)
        self.grant_reference = grant.reference
        self.new_year_lines = tuple(new_year_lines)
        start = grant.end_date + timedelta(days=1)
        self.intro.setText(
            f"A grant for {start:%d/%m/%Y} onwards with {grant.reference}'s projects, weights, "
            "profile shapes, rules and conditions. Budgets are today's (after virements), scaled "
            "to the new award when you give one."
        )
        self.line_edit("reference", "New grant reference", hint="e.g. CSF-2026-27")
        self.line_edit("award", "Award", hint=f"same as now: {format_money(grant.award)}")
        local = QComboBox()
        current = grant.local_plan.key if grant.local_plan else None
        local.addItem("keep the current local plan" if current else "none", current)
        for key, name in local_plans:
            if key != current:
                local.addItem(f"{name} ({key})", key)
        self.add_field("local_plan", "Local plan", local)
        count = len(self.new_year_lines)
        self.move_lines = named(
            QCheckBox(f"Move the {count} line(s) dated in the new year to it in the same step"),
            "moveLines",
        )
        self.move_lines.setChecked(count > 0)
        self.move_lines.setEnabled(count > 0)
        self.form.addRow(self.move_lines)

    def operation(self) -> Operation:
        award = self.text("award")
        combo = self.fields["local_plan"]
        assert isinstance(combo, QComboBox)
        start = StartNextYear(
            self.grant_reference,
            self.text("reference"),
            _money("award", award) if award else None,
            combo.currentData(),
        )
        if not (self.move_lines.isChecked() and self.new_year_lines):
            return start
        move = MoveLinesToGrant(self.new_year_lines, self.grant_reference, start.new_reference)
        return Together(start.description, (start, move))


def _date(field: str, text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError(FieldError(field, str(exc))) from None


def _money(field: str, text: str) -> Decimal:
    try:
        return parse_money(text)
    except ValueError as exc:
        raise ValidationError(FieldError(field, str(exc))) from None


class LinePage(Protocol):
    """What the commitment actions need of the Spending page."""

    workspace: Workspace

    def selected_rows(self) -> list[LedgerRow]: ...


def _one_commitment(page: LinePage, parent: QWidget) -> LedgerRow | None:
    rows = page.selected_rows()
    if len(rows) != 1 or rows[0].status != "committed":
        show_error(parent, ValidationError("Select one committed line (a purchase order)."))
        return None
    return rows[0]


def release_selected(page: LinePage, parent: QWidget) -> ReleaseDialog | None:
    """*Release commitment…* on the selected committed line."""
    line = _one_commitment(page, parent)
    if line is None:
        return None
    dialog = ReleaseDialog(page.workspace, parent, line)
    dialog.open()
    return dialog


def invoice_selected(page: LinePage, parent: QWidget) -> InvoiceDialog | None:
    """*Record the invoice…* on the selected committed line."""
    line = _one_commitment(page, parent)
    if line is None:
        return None
    candidates = match_candidates(page.workspace.db, line.id)
    dialog = InvoiceDialog(page.workspace, parent, line, candidates)
    dialog.open()
    return dialog


def carry_forward_selected(page: LinePage, parent: QWidget) -> CarryForwardDialog | None:
    """*Carry forward…* on the selected committed line: into a grant starting after this
    one ends."""
    line = _one_commitment(page, parent)
    if line is None:
        return None
    dialog = CarryForwardDialog(
        page.workspace, parent, line, later_grants(page.workspace.db, page.workspace.grant)
    )
    dialog.open()
    return dialog
