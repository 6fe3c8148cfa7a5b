"""The new-grant assistant (File ▸ New grant…, Ctrl+N, and the welcome page).

Five pages — the offer letter, payments, plans, projects, review — each refusing bad input
beside the field before it lets the officer go on. Nothing is written until *Finish*, which
runs one core operation (``SetUpGrant``): one unit of work, audited, one undo step. *Cancel*
writes nothing. What the typed text means is decided by ``fundtracker.setup_drafts``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.figures import even_spread
from fundtracker.models import PLAN_KINDS, RETURN_FREQUENCIES
from fundtracker.money import ZERO, format_money, from_pence, to_pence
from fundtracker.operations import Changes
from fundtracker.operations.setup import SetUpGrant, preview_findings, preview_period
from fundtracker.periods import quarters_between
from fundtracker.services.grants import list_grants
from fundtracker.services.plans import list_plans, plan_spec
from fundtracker.setup_drafts import (
    FULL,
    Problems,
    against,
    amount,
    day,
    money_total,
    plan_key,
    plan_templates,
    priorities_from_lines,
    text,
    weight,
    weights_total,
    within,
)
from fundtracker.setup_files import (
    AllocationSpec,
    GrantSpec,
    PaymentSpec,
    PlanSpec,
    format_percentage,
)
from ui.accessibility import signal_colour
from ui.fields import DateField, Form, Refusal
from ui.workspace import Workspace

FREQUENCY_LABELS = {"quarterly": "Quarterly", "half-yearly": "Half-yearly", "annual": "Annual"}


@dataclass
class Offer:
    """The offer letter as read from the first page."""

    reference: str
    name: str
    funder: str
    recipient: str
    award: Decimal
    start: date
    end: date
    frequency: str
    conditions: str


def _line(placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    return edit


# --- the offer letter ----------------------------------------------------------------------


class OfferPage(QWizardPage):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.setTitle("The offer letter")
        self.setSubTitle("What the PCC's grant offer letter says. Dates may be typed 01/04/2026.")
        self.form = Form(self)
        self.reference = self.form.add("Reference", _line("e.g. CSF-2026-27"))
        self.name = self.form.add("Grant name", _line("e.g. Community Safety Fund 2026/27"))
        self.funder = self.form.add("Funder", _line("e.g. Kent PCC"))
        self.recipient = self.form.add("Recipient", _line("e.g. Tonbridge and Malling CSP"))
        self.award = self.form.add("Award", _line("e.g. 40,000.00"))
        self.start = self.form.add("Start", DateField())
        self.end = self.form.add("End", DateField())
        self.frequency = QComboBox()
        for key in RETURN_FREQUENCIES:
            self.frequency.addItem(FREQUENCY_LABELS[key], key)
        self.form.add("Return frequency", self.frequency)
        self.conditions = QPlainTextEdit()
        self.conditions.setMaximumHeight(90)
        self.form.add("Conditions", self.conditions)
        self.offer: Offer | None = None

    def read(self) -> tuple[Offer | None, Problems]:
        problems = Problems()
        award = amount(problems, "Award", self.award.text(), positive=True)
        start = day(problems, "Start", self.start.text())
        end = day(problems, "End", self.end.text())
        if start and end and end < start:
            problems.add("End", "is before the start")
        taken = {grant.reference for grant in list_grants(self.workspace.db)}
        if self.reference.text().strip() in taken:
            problems.add("Reference", "another grant already has this reference")
        offer = Offer(
            reference=text(problems, "Reference", self.reference.text(), limit=100),
            name=text(problems, "Grant name", self.name.text()),
            funder=self.funder.text().strip(),
            recipient=self.recipient.text().strip(),
            award=award or ZERO,
            start=start or date.min,
            end=end or date.min,
            frequency=str(self.frequency.currentData()),
            conditions=self.conditions.toPlainText().strip(),
        )
        return (None if problems else offer), problems

    def validatePage(self) -> bool:
        self.offer, problems = self.read()
        self.form.show(problems)
        return self.offer is not None


# --- payments ------------------------------------------------------------------------------


class InstalmentRow(QWidget):
    def __init__(self, number: int, on_change: Callable[[], None]) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.number = number
        self.label = QLabel(f"Instalment {number}")
        self.date = DateField()
        self.date.setAccessibleName(f"Instalment {number} date")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("amount")
        self.amount.setAccessibleName(f"Instalment {number} amount")
        self.amount.textChanged.connect(on_change)
        self.status = QComboBox()
        self.status.addItems(["Expected", "Received"])
        self.status.setAccessibleName(f"Instalment {number} received or expected")
        self.remove = QPushButton("Remove")
        self.remove.setAccessibleName(f"Remove instalment {number}")
        for widget in (self.label, self.date, self.amount, self.status, self.remove):
            row.addWidget(widget)
        self.refusal = Refusal(f"Instalment {number}")

    def read(self, problems: Problems, offer: Offer) -> PaymentSpec:
        label = f"Instalment {self.number}"
        when = day(problems, label, self.date.text())
        within(problems, label, when, offer.start, offer.end)
        value = amount(problems, label, self.amount.text(), positive=True)
        received = self.status.currentText() == "Received"
        return PaymentSpec(when or offer.start, value or ZERO, received)


class PaymentsPage(QWizardPage):
    def __init__(self, offer_page: OfferPage) -> None:
        super().__init__()
        self.offer_page = offer_page
        self.setTitle("Payments")
        self.setSubTitle("The instalments the PCC pays, received or expected on their dates.")
        layout = QVBoxLayout(self)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.add_button = QPushButton("Add instalment")
        self.add_button.setAccessibleName("Add instalment")
        self.add_button.clicked.connect(lambda: self.add_row())
        layout.addWidget(self.add_button)
        self.total = QLabel()
        self.total.setObjectName("paymentsTotal")
        self.total.setAccessibleName("Payments total")
        layout.addWidget(self.total)
        self.refusal = Refusal("Payments")
        layout.addWidget(self.refusal)
        layout.addStretch(1)
        self.rows: list[InstalmentRow] = []
        self.payments: list[PaymentSpec] = []

    def initializePage(self) -> None:
        if not self.rows:
            self.add_row()
        self.update_total()

    def add_row(self) -> InstalmentRow:
        row = InstalmentRow(len(self.rows) + 1, self.update_total)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        self.rows_box.addWidget(row)
        self.rows_box.addWidget(row.refusal)
        self.update_total()
        return row

    def remove_row(self, row: InstalmentRow) -> None:
        texts = [(r.date.text(), r.amount.text(), r.status.currentIndex()) for r in self.rows]
        del texts[self.rows.index(row)]
        for old in self.rows:
            old.refusal.deleteLater()
            old.deleteLater()
        self.rows = []
        for date_text, amount_text, status in texts:
            new = self.add_row()
            new.date.setText(date_text)
            new.amount.setText(amount_text)
            new.status.setCurrentIndex(status)
        self.update_total()

    def award(self) -> Decimal | None:
        offer = self.offer_page.offer
        return offer.award if offer else None

    def update_total(self) -> None:
        total = money_total([row.amount.text() for row in self.rows])
        self.total.setText(against(total, self.award(), "award"))

    def validatePage(self) -> bool:
        offer = self.offer_page.offer
        assert offer is not None  # the first page let the officer on
        problems = Problems()
        self.payments = [row.read(problems, offer) for row in self.rows]
        for row in self.rows:
            row.refusal.say(problems.about(f"Instalment {row.number}"))
        total = sum((p.amount for p in self.payments), ZERO)
        if not problems and total > offer.award:
            problems.add("Payments", f"total {format_money(total)}, more than the award")
        self.refusal.say(problems.about("Payments"))
        return not problems


# --- plans ---------------------------------------------------------------------------------


@dataclass
class PlanChoice:
    spec: PlanSpec
    new: bool  # created by this setup (a template or typed here), not already stored


class PlanChooser(QGroupBox):
    """Pick a stored plan or a template, or type a new plan here."""

    NONE, EXISTING, TEMPLATE, NEW = "none", "existing", "template", "new"

    def __init__(self, title: str, role: str, optional: bool, kind: str) -> None:
        super().__init__(title)
        self.role = role
        layout = QVBoxLayout(self)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.choice = QComboBox()
        self.form.add(f"{role} plan", self.choice)
        self.optional = optional
        self.new_box = QWidget()
        new_form = Form(self.new_box)
        self.new_form = new_form
        self.plan_name = new_form.add("Plan name", _line("e.g. Community Safety Plan 2026–29"))
        self.owner = new_form.add("Owner", _line("e.g. Tonbridge and Malling CSP"))
        self.kind = QComboBox()
        self.kind.addItems(list(PLAN_KINDS))
        self.kind.setCurrentText(kind)
        new_form.add("Kind", self.kind)
        self.plan_from = new_form.add("In effect from", DateField())
        self.plan_to = new_form.add("In effect to", DateField())
        self.priorities = QPlainTextEdit()
        self.priorities.setPlaceholderText(
            "One priority a line. Start a line with a space or - for a sub-priority of the one "
            "above."
        )
        self.priorities.setMinimumHeight(90)
        new_form.add("Priorities", self.priorities)
        layout.addWidget(self.new_box)
        self.choice.currentIndexChanged.connect(self._shown)
        self.stored: list[PlanSpec] = []
        self.templates: list[PlanSpec] = []

    def fill(self, stored: list[PlanSpec], templates: list[PlanSpec]) -> None:
        chosen = self.choice.currentData()
        self.stored = stored
        keys = {spec.key for spec in stored}
        self.templates = [spec for spec in templates if spec.key not in keys]
        self.choice.blockSignals(True)
        self.choice.clear()
        if self.optional:
            self.choice.addItem("(no local plan)", (self.NONE, 0))
        for number, spec in enumerate(self.stored):
            self.choice.addItem(f"{spec.name} ({spec.owner})", (self.EXISTING, number))
        for number, spec in enumerate(self.templates):
            self.choice.addItem(f"Template: {spec.name} ({spec.owner})", (self.TEMPLATE, number))
        self.choice.addItem("A new plan, typed here…", (self.NEW, 0))
        found = self.choice.findData(chosen)
        self.choice.setCurrentIndex(found if found >= 0 else 0)
        self.choice.blockSignals(False)
        self._shown()

    def choose(self, text: str) -> None:
        """Choose the entry whose text starts with ``text`` (for scripts and tests)."""
        for index in range(self.choice.count()):
            if self.choice.itemText(index).startswith(text):
                self.choice.setCurrentIndex(index)
                return
        raise LookupError(text)

    def _shown(self) -> None:
        data = self.choice.currentData()
        self.new_box.setVisible(bool(data) and data[0] == self.NEW)

    def read(self, problems: Problems, taken: set[str], prefix: str) -> PlanChoice | None:
        what, number = self.choice.currentData() or (self.NONE, 0)
        if what == self.EXISTING:
            return PlanChoice(self.stored[number], new=False)
        if what == self.TEMPLATE:
            return PlanChoice(self.templates[number], new=True)
        if what == self.NONE:
            return None
        inner = Problems()
        name = text(inner, "Plan name", self.plan_name.text())
        start = day(inner, "In effect from", self.plan_from.text())
        end = day(inner, "In effect to", self.plan_to.text(), required=False)
        if start and end and end < start:
            inner.add("In effect to", "is before the plan comes into effect")
        priorities = priorities_from_lines(self.priorities.toPlainText(), prefix)
        if not priorities:
            inner.add("Priorities", "type at least one priority, one a line")
        self.new_form.show(inner)
        if inner or start is None:
            problems.errors.extend(inner.errors)
            return None
        spec = PlanSpec(
            plan_key(name, start, taken),
            name,
            self.owner.text().strip(),
            self.kind.currentText(),
            start,
            end,
            priorities,
        )
        return PlanChoice(spec, new=True)


class PlansPage(QWizardPage):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.setTitle("Plans")
        self.setSubTitle(
            "The PCC's plan the grant is aligned to, and the partnership's own plan. Pick one "
            "already here, a template, or type a new one."
        )
        layout = QVBoxLayout(self)
        self.aligned = PlanChooser("Aligned to (the PCC's plan)", "Aligned to", False, "pcc")
        self.local = PlanChooser("Local plan (optional)", "Local", True, "csp")
        layout.addWidget(self.aligned)
        layout.addWidget(self.local)
        self.refusal = Refusal("Plans")
        layout.addWidget(self.refusal)
        layout.addStretch(1)
        self.chosen: list[PlanChoice] = []

    def initializePage(self) -> None:
        stored = [plan_spec(plan) for plan in list_plans(self.workspace.db)]
        templates = plan_templates()
        self.aligned.fill(stored, templates)
        self.local.fill(stored, templates)

    def validatePage(self) -> bool:
        problems = Problems()
        taken = {spec.key for spec in self.aligned.stored}
        aligned = self.aligned.read(problems, taken, "P")
        if aligned is not None:
            taken.add(aligned.spec.key)
        local = self.local.read(problems, taken, "C")
        if problems:
            return False
        if aligned is not None and local is not None and aligned.spec.key == local.spec.key:
            self.refusal.say("Choose two different plans (or no local plan)")
            return False
        self.refusal.say("")
        self.chosen = [c for c in (aligned, local) if c is not None]
        return aligned is not None

    def new_plans(self) -> tuple[PlanSpec, ...]:
        return tuple(choice.spec for choice in self.chosen if choice.new)


# --- projects ------------------------------------------------------------------------------


@dataclass
class ProjectDraft:
    """A project as typed so far; read into an ``AllocationSpec`` when the page is left."""

    code: str = ""
    name: str = ""
    lead: str = ""
    cost_centre: str = ""
    budget: str = ""
    by_quarter: bool = False
    quarters: list[str] = field(default_factory=list)
    weights: dict[tuple[str, str], str] = field(default_factory=dict)  # (plan key, code)

    def title(self) -> str:
        return (
            f"{self.code or 'New project'} — {self.name}"
            if self.name
            else self.code or ("New project")
        )


class WeightsBox(QGroupBox):
    """One plan's weights for the project shown, with a live "must total 100%"."""

    def __init__(self, spec: PlanSpec, on_change: Callable[[], None]) -> None:
        super().__init__(f"Weights: {spec.name}")
        self.spec = spec
        self.form = Form(self)
        self.edits: dict[str, QLineEdit] = {}
        for priority in spec.priorities:
            edit = QLineEdit()
            edit.setPlaceholderText("%")
            edit.textChanged.connect(self.update_total)
            edit.textChanged.connect(on_change)
            self.form.add(f"{priority.code} {priority.title}", edit)
            self.edits[priority.code] = edit
        self.total = QLabel()
        self.total.setAccessibleName(f"Total for {spec.name}")
        self.form.layout.addRow("Total", self.total)
        self.place = f"Weights {spec.name}"
        self.refusal = Refusal(self.place)
        self.form.layout.addRow(self.refusal)
        self.update_total()

    def show(self, problems: Problems) -> None:  # type: ignore[override]
        self.form.show(problems)
        self.refusal.say(problems.about(self.place))

    def label(self, code: str) -> str:
        return next(f"{p.code} {p.title}" for p in self.spec.priorities if p.code == code)

    def update_total(self) -> None:
        total, said = weights_total([edit.text() for edit in self.edits.values()])
        self.total.setText(said)
        good = total == FULL
        self.total.setStyleSheet(f"color: {signal_colour('good' if good else 'error')}")


class ProjectsPage(QWizardPage):
    def __init__(self, offer_page: OfferPage, plans_page: PlansPage) -> None:
        super().__init__()
        self.offer_page, self.plans_page = offer_page, plans_page
        self.setTitle("Projects")
        self.setSubTitle(
            "Each project the grant funds: its budget, how it is profiled across the quarters, "
            "and how much of it serves each priority (weights total 100% for each plan)."
        )
        outer = QHBoxLayout(self)
        side = QVBoxLayout()
        self.list = QListWidget()
        self.list.setAccessibleName("Projects")
        self.list.currentRowChanged.connect(self._selected)
        side.addWidget(self.list, 1)
        self.add_button = QPushButton("Add project")
        self.add_button.setAccessibleName("Add project")
        self.add_button.clicked.connect(self.add_project)
        self.remove_button = QPushButton("Remove project")
        self.remove_button.setAccessibleName("Remove project")
        self.remove_button.clicked.connect(self.remove_project)
        side.addWidget(self.add_button)
        side.addWidget(self.remove_button)
        self.allocated = QLabel()
        self.allocated.setAccessibleName("Allocated total")
        self.allocated.setWordWrap(True)
        side.addWidget(self.allocated)
        outer.addLayout(side, 1)
        scroll = QScrollArea()
        scroll.setAccessibleName("The selected project")
        scroll.setWidgetResizable(True)
        self.editor = QWidget()
        scroll.setWidget(self.editor)
        outer.addWidget(scroll, 3)
        column = QVBoxLayout(self.editor)
        # Never squeeze the rows to fit: the scroll area scrolls instead.
        column.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.form = Form()
        column.addLayout(self.form.layout)
        self.code = self.form.add("Code", _line("e.g. A01"))
        self.name = self.form.add("Project name", _line("e.g. Youth diversion programme"))
        self.lead = self.form.add("Lead partner", _line())
        self.cost_centre = self.form.add("Cost centre", _line())
        self.budget = self.form.add("Budget", _line("e.g. 8,000.00"))
        for edit in (self.code, self.name, self.budget):
            edit.textChanged.connect(self._typed)
        profile = QWidget()
        profile_row = QHBoxLayout(profile)
        profile_row.setContentsMargins(0, 0, 0, 0)
        self.even = QRadioButton("Even across the quarters")
        self.even.setAccessibleName("Even across the quarters")
        self.by_quarter = QRadioButton("By quarter")
        self.by_quarter.setAccessibleName("By quarter")
        self.even.setChecked(True)
        group = QButtonGroup(profile)
        group.addButton(self.even)
        group.addButton(self.by_quarter)
        profile_row.addWidget(self.even)
        profile_row.addWidget(self.by_quarter)
        self.spread = QPushButton("Spread evenly")
        self.spread.setAccessibleName("Spread evenly")
        self.spread.clicked.connect(self.spread_evenly)
        profile_row.addWidget(self.spread)
        self.form.add("Profile", profile)
        self.by_quarter.toggled.connect(self._profile_shown)
        self.quarter_box = QWidget()
        self.quarter_form = Form(self.quarter_box)
        column.addWidget(self.quarter_box)
        self.profile_total = QLabel()
        self.profile_total.setAccessibleName("Profile total")
        column.addWidget(self.profile_total)
        self.weights_column = QVBoxLayout()
        column.addLayout(self.weights_column)
        column.addStretch(1)
        self.weight_boxes: list[WeightsBox] = []
        self.quarter_edits: list[QLineEdit] = []
        self.drafts: list[ProjectDraft] = []
        self.shown = -1
        self.allocations: list[AllocationSpec] = []
        self._loading = False

    # building from the earlier pages

    def initializePage(self) -> None:
        offer = self.offer_page.offer
        assert offer is not None
        self._keep_shown()
        self._build_quarters([str(q) for q in quarters_between(offer.start, offer.end)])
        self._build_weights([choice.spec for choice in self.plans_page.chosen])
        if not self.drafts:
            self.add_project()
        else:
            self._show_draft(max(self.shown, 0))
        self.update_allocated()

    def _build_quarters(self, names: list[str]) -> None:
        QWidget().setLayout(self.quarter_form.layout)  # let go of the old rows
        self.quarter_form = Form(self.quarter_box)
        self.quarter_edits = []
        for name in names:
            edit = QLineEdit()
            edit.textChanged.connect(self._typed)
            self.quarter_edits.append(self.quarter_form.add(name, edit))
        self._profile_shown()

    def _build_weights(self, plans: list[PlanSpec]) -> None:
        for box in self.weight_boxes:
            box.deleteLater()
        self.weight_boxes = [WeightsBox(spec, self._typed) for spec in plans]
        for box in self.weight_boxes:
            self.weights_column.addWidget(box)

    # the list of drafts

    def add_project(self) -> None:
        self._keep_shown()
        self.drafts.append(ProjectDraft(quarters=[""] * len(self.quarter_edits)))
        self.list.addItem(self.drafts[-1].title())
        self.list.setCurrentRow(len(self.drafts) - 1)
        self.code.setFocus()

    def remove_project(self) -> None:
        row = self.list.currentRow()
        if row < 0 or len(self.drafts) <= 1:
            return
        self.shown = -1
        del self.drafts[row]
        self.list.takeItem(row)
        self._show_draft(min(row, len(self.drafts) - 1))
        self.update_allocated()

    def _selected(self, row: int) -> None:
        if row == self.shown or row < 0:
            return
        self._keep_shown()
        self._show_draft(row)

    def _keep_shown(self) -> None:
        """Copy the form into the draft it shows."""
        if not 0 <= self.shown < len(self.drafts):
            return
        draft = self.drafts[self.shown]
        draft.code, draft.name = self.code.text(), self.name.text()
        draft.lead, draft.cost_centre = self.lead.text(), self.cost_centre.text()
        draft.budget, draft.by_quarter = self.budget.text(), self.by_quarter.isChecked()
        draft.quarters = [edit.text() for edit in self.quarter_edits]
        for box in self.weight_boxes:
            for code, edit in box.edits.items():
                draft.weights[(box.spec.key, code)] = edit.text()

    def _show_draft(self, row: int) -> None:
        self._loading = True
        draft = self.drafts[row]
        self.shown = row
        self.code.setText(draft.code)
        self.name.setText(draft.name)
        self.lead.setText(draft.lead)
        self.cost_centre.setText(draft.cost_centre)
        self.budget.setText(draft.budget)
        (self.by_quarter if draft.by_quarter else self.even).setChecked(True)
        for number, edit in enumerate(self.quarter_edits):
            edit.setText(draft.quarters[number] if number < len(draft.quarters) else "")
        for box in self.weight_boxes:
            for code, edit in box.edits.items():
                edit.setText(draft.weights.get((box.spec.key, code), ""))
        self.form.clear()
        self.quarter_form.clear()
        for box in self.weight_boxes:
            box.show(Problems())
        self._loading = False
        if self.list.currentRow() != row:
            self.list.setCurrentRow(row)
        self._typed()

    def _typed(self) -> None:
        if self._loading or not 0 <= self.shown < len(self.drafts):
            return
        self._keep_shown()
        item = self.list.item(self.shown)
        if item is not None:
            item.setText(self.drafts[self.shown].title())
        total = money_total([edit.text() for edit in self.quarter_edits])
        budget = money_total([self.budget.text()])
        self.profile_total.setText(against(total, budget, "budget"))
        self.update_allocated()

    def _profile_shown(self) -> None:
        by_quarter = self.by_quarter.isChecked()
        self.quarter_box.setVisible(by_quarter)
        self.profile_total.setVisible(by_quarter)
        self.spread.setEnabled(by_quarter)
        self._typed()

    def spread_evenly(self) -> None:
        """Fill the quarters with the budget spread evenly, the odd pence in the last."""
        budget = money_total([self.budget.text()])
        if budget is None or not self.quarter_edits:
            return
        shares = even_spread(to_pence(budget), len(self.quarter_edits))  # as figures spread it
        for edit, share in zip(self.quarter_edits, shares, strict=True):
            edit.setText(f"{from_pence(share):.2f}")

    def update_allocated(self) -> None:
        offer = self.offer_page.offer
        total = money_total([draft.budget for draft in self.drafts])
        self.allocated.setText(against(total, offer.award if offer else None, "award"))

    # reading

    def validatePage(self) -> bool:
        self._keep_shown()
        offer = self.offer_page.offer
        assert offer is not None
        specs = []
        codes = [draft.code.strip() for draft in self.drafts]
        for row, draft in enumerate(self.drafts):
            problems = Problems()
            spec = self._read(draft, problems)
            if codes.count(draft.code.strip()) > 1 and draft.code.strip():
                problems.add("Code", f"another project already has code {draft.code.strip()}")
            if problems:
                self._show_draft(row)
                self.form.show(problems)
                self.quarter_form.show(problems)
                for box in self.weight_boxes:
                    box.show(problems)
                return False
            specs.append(spec)
        self.allocations = specs
        return True

    def _read(self, draft: ProjectDraft, problems: Problems) -> AllocationSpec:
        budget = amount(problems, "Budget", draft.budget)
        spec = AllocationSpec(
            code=text(problems, "Code", draft.code, limit=40),
            name=text(problems, "Project name", draft.name),
            lead=draft.lead.strip(),
            budget=budget or ZERO,
            cost_centre=draft.cost_centre.strip() or None,
        )
        if draft.by_quarter:
            names = list(self.quarter_form.fields)
            values = [
                amount(problems, name, q) for name, q in zip(names, draft.quarters, strict=False)
            ]
            profile = [v or ZERO for v in values]
            if not problems and budget is not None and sum(profile, ZERO) != budget:
                problems.add(
                    "Profile",
                    f"The quarters total {format_money(sum(profile, ZERO))}, not the budget "
                    f"of {format_money(budget)}; change them or press Spread evenly",
                )
            spec.profile = profile
        for box in self.weight_boxes:
            typed = [draft.weights.get((box.spec.key, code), "") for code in box.edits]
            points = {
                code: weight(problems, box.label(code), value)
                for code, value in zip(box.edits, typed, strict=True)
                if value.strip()
            }
            total = sum(points.values())
            if total != FULL:
                problems.add(
                    box.place,
                    f"The weights for this plan total {format_percentage(total)}%; "
                    "they must total 100%",
                )
            spec.weights[box.spec.key] = points
        return spec


# --- review --------------------------------------------------------------------------------


class ReviewPage(QWizardPage):
    def __init__(self, wizard: NewGrantAssistant) -> None:
        super().__init__()
        self.assistant = wizard
        self.setTitle("Review")
        self.setSubTitle(
            "Check the totals and warnings. Finish writes it all; Cancel writes nothing."
        )
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("reviewSummary")
        self.summary.setAccessibleName("Summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.as_at = QLabel("Warnings the checks would raise")
        layout.addWidget(self.as_at)
        self.warnings = QListWidget()
        self.warnings.setAccessibleName("Warnings the checks would raise")
        self.warnings.setWordWrap(True)
        self.warnings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.warnings, 1)
        self.refusal = Refusal("Finish")
        layout.addWidget(self.refusal)

    def initializePage(self) -> None:
        operation = self.assistant.operation()
        grant = operation.grant
        allocated = sum((a.budget for a in grant.allocations), ZERO)
        paid = sum((p.amount for p in grant.payments), ZERO)
        rows = [
            ("Grant", f"{grant.reference} — {grant.name}"),
            ("Runs", f"{grant.start:%d/%m/%Y} to {grant.end:%d/%m/%Y}"),
            ("Award", format_money(grant.award)),
            ("Payments", f"{format_money(paid)} in {len(grant.payments)} instalments"),
            ("Allocated", f"{format_money(allocated)} to {len(grant.allocations)} projects"),
            ("Unallocated", format_money(grant.award - allocated)),
            ("Plans", ", ".join(self._plan_names(operation))),
        ]
        self.summary.setText(
            "<table>"
            + "".join(
                f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                for k, v in rows
            )
            + "</table>"
        )
        self.warnings.clear()
        self.refusal.say("")
        period = preview_period(grant, date.today())
        self.as_at.setText(f"Warnings the checks would raise as at the end of {period}")
        try:
            findings = preview_findings(self.assistant.workspace.db, operation)
        except FundtrackerError as error:
            self.refusal.say(str(error))
            return
        for finding in findings:
            self.warnings.addItem(f"{finding.severity.title()}: {finding.message}")
        if not findings:
            self.warnings.addItem("None: the checks find nothing to warn about.")

    def _plan_names(self, operation: SetUpGrant) -> list[str]:
        new = {spec.key for spec in operation.plans}
        return [
            f"{choice.spec.name}{' (new)' if choice.spec.key in new else ''}"
            for choice in self.assistant.plans_page.chosen
        ]


# --- the assistant -------------------------------------------------------------------------


class NewGrantAssistant(QWizard):
    """Set up a grant; ``finished_setup`` carries the new grant's reference."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle("New grant")
        self.setObjectName("newGrantAssistant")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.offer_page = OfferPage(workspace)
        self.payments_page = PaymentsPage(self.offer_page)
        self.plans_page = PlansPage(workspace)
        self.projects_page = ProjectsPage(self.offer_page, self.plans_page)
        self.review_page = ReviewPage(self)
        for page in (
            self.offer_page,
            self.payments_page,
            self.plans_page,
            self.projects_page,
            self.review_page,
        ):
            self.addPage(page)
        self.resize(900, 680)
        self.result_changes: Changes | None = None

    def operation(self) -> SetUpGrant:
        offer = self.offer_page.offer
        assert offer is not None
        chosen = self.plans_page.chosen
        spec = GrantSpec(
            reference=offer.reference,
            name=offer.name,
            funder=offer.funder,
            recipient=offer.recipient,
            award=offer.award,
            start=offer.start,
            end=offer.end,
            return_frequency=offer.frequency,
            aligned_plan=chosen[0].spec.key,
            local_plan=chosen[1].spec.key if len(chosen) > 1 else None,
            conditions=offer.conditions,
            payments=list(self.payments_page.payments),
            allocations=list(self.projects_page.allocations),
        )
        return SetUpGrant(self.plans_page.new_plans(), spec)

    def accept(self) -> None:
        """Finish: write everything as one step; a refusal keeps the assistant open."""
        changes = self.workspace.run(self.operation(), self, self._refused)
        if changes is None:
            return
        self.result_changes = changes
        super().accept()

    def _refused(self, error: FundtrackerError) -> None:
        if isinstance(error, ValidationError):
            self.review_page.refusal.say("\n".join(str(e) for e in error.errors))
        else:
            self.review_page.refusal.say(str(error))
