"""The new-grant assistant, driven by typing and clicks only, from an empty database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from fundtracker.models import Priority
from fundtracker.services.grants import list_grants, load_grant
from fundtracker.services.plans import list_plans
from fundtracker.storage import Database
from tests.ui.assistant_support import (
    A01_QUARTERS,
    LOCAL_PLAN,
    LOCAL_PRIORITIES,
    OFFER,
    PAYMENTS,
    PROJECTS,
    choose,
    click,
    find,
    finish,
    next_page,
    shot,
    type_in,
)
from ui.assistant import NewGrantAssistant
from ui.fields import Refusal
from ui.workspace import Workspace

D = Decimal


@pytest.fixture
def assistant(qtbot: QtBot, db: Database) -> NewGrantAssistant:
    wizard = NewGrantAssistant(Workspace(db))
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def refusal(root: QWidget, label: str) -> str:
    widget = find(root, f"{label} problem", QLabel)
    assert isinstance(widget, Refusal)
    return widget.message()


def weight_field(root: QWidget, plan: str, code: str) -> QLineEdit:
    box = next(b for b in root.findChildren(QGroupBox) if b.title() == f"Weights: {plan}")
    edits = [e for e in box.findChildren(QLineEdit) if e.accessibleName().startswith(f"{code} ")]
    assert len(edits) == 1
    return edits[0]


def fill_offer(qtbot: QtBot, wizard: NewGrantAssistant, **changes: str) -> None:
    for label, value in {**OFFER, **changes}.items():
        type_in(qtbot, wizard.offer_page, label, value)


def fill_payments(qtbot: QtBot, wizard: NewGrantAssistant) -> None:
    page = wizard.payments_page
    for number, (when, amount, status) in enumerate(PAYMENTS, start=1):
        if number > 1:
            click(qtbot, page, "Add instalment")
        type_in(qtbot, page, f"Instalment {number} date", when)
        type_in(qtbot, page, f"Instalment {number} amount", amount)
        choose(qtbot, page, f"Instalment {number} received or expected", status)


def fill_plans(qtbot: QtBot, wizard: NewGrantAssistant) -> None:
    page = wizard.plans_page
    choose(qtbot, page.aligned, "Aligned to plan", "Template: Cut Crime")
    choose(qtbot, page.local, "Local plan", "A new plan")
    for label, value in LOCAL_PLAN.items():
        type_in(qtbot, page.local, label, value)
    type_in(qtbot, page.local, "Priorities", LOCAL_PRIORITIES)


def fill_projects(qtbot: QtBot, wizard: NewGrantAssistant) -> None:
    page = wizard.projects_page
    for number, (code, name, lead, centre, budget, pcc, local) in enumerate(PROJECTS):
        if number:
            click(qtbot, page, "Add project")
        for label, value in [
            ("Code", code),
            ("Project name", name),
            ("Lead partner", lead),
            ("Cost centre", centre),
            ("Budget", budget),
        ]:
            type_in(qtbot, page, label, value)
        if code == "A01":
            click(qtbot, page, "By quarter")
            for quarter, value in zip(
                ["2026/27-Q1", "2026/27-Q2", "2026/27-Q3", "2026/27-Q4"], A01_QUARTERS, strict=True
            ):
                type_in(qtbot, page, quarter, value)
        for plan, weights in [
            ("Cut Crime, Support Victims, Build Trust", pcc),
            ("Safer Tonbridge", local),
        ]:
            for priority, value in weights.items():
                qtbot.keyClicks(weight_field(page, plan, priority), value)


def test_set_up_a_grant_with_clicks_and_typing_only(
    qtbot: QtBot, assistant: NewGrantAssistant, db: Database
) -> None:
    wizard = assistant
    fill_offer(qtbot, wizard)
    type_in(qtbot, wizard.offer_page, "Conditions", "Spend within the year.")
    shot(wizard, "assistant-1-offer")
    next_page(qtbot, wizard)
    assert wizard.currentPage() is wizard.payments_page
    fill_payments(qtbot, wizard)
    total = find(wizard.payments_page, "Payments total", QLabel)
    assert isinstance(total, QLabel)
    # 30,000.00 + 30,000.00 = 60,000.00: the whole award
    assert total.text() == "Total £60,000.00 of the £60,000.00 award ✓"
    shot(wizard, "assistant-2-payments")
    next_page(qtbot, wizard)
    assert wizard.currentPage() is wizard.plans_page
    fill_plans(qtbot, wizard)
    shot(wizard, "assistant-3-plans")
    next_page(qtbot, wizard)
    assert wizard.currentPage() is wizard.projects_page
    fill_projects(qtbot, wizard)
    allocated = find(wizard.projects_page, "Allocated total", QLabel)
    assert isinstance(allocated, QLabel) and allocated.text().endswith("award ✓")
    wizard.projects_page.list.setCurrentRow(0)
    shot(wizard, "assistant-4-projects")
    next_page(qtbot, wizard)
    assert wizard.currentPage() is wizard.review_page, refusal(wizard.projects_page, "Code")
    summary = find(wizard.review_page, "Summary", QLabel)
    assert isinstance(summary, QLabel) and "£0.00" in summary.text()  # nothing unallocated
    shot(wizard, "assistant-5-review")
    assert list_grants(db) == []  # nothing written before Finish
    finish(qtbot, wizard)

    assert wizard.result_changes is not None
    assert wizard.workspace.undo_stack.count() == 1  # one undo step
    grant = load_grant(db, "CSF-2026-27")
    assert (grant.name, grant.funder, grant.recipient) == (
        "Community Safety Fund 2026/27",
        "Kent PCC",
        "Tonbridge and Malling CSP",
    )
    assert (grant.award, grant.start_date, grant.end_date) == (
        D("60000.00"),
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    assert grant.return_frequency == "quarterly"
    assert grant.conditions == "Spend within the year."
    assert [(p.date, p.amount, p.received) for p in grant.payments] == [
        (date(2026, 5, 15), D("30000.00"), True),
        (date(2026, 11, 16), D("30000.00"), False),
    ]
    assert grant.aligned_plan.key == "kent-pcc-2025"
    assert [p.title for p in grant.aligned_plan.priorities] == [
        "Protecting People",
        "Protecting Places",
        "Protecting Property",
        "Productive Partnerships",
    ]
    local = grant.local_plan
    assert local is not None
    assert (local.name, local.owner, local.kind) == ("Safer Tonbridge", "TMBC CSP", "csp")
    assert (local.effective_from, local.effective_to) == (date(2026, 4, 1), date(2029, 3, 31))
    assert [(p.code, p.title, p.parent_code) for p in local.priorities] == [
        ("C1", "Violence against women and girls", None),
        ("C2", "Anti-social behaviour", None),
        ("C2.1", "Town centre evenings", "C2"),
        ("C3", "Shop theft", None),
        ("C4", "Young people", None),
    ]
    assert len(list_plans(db)) == 2
    stored = {a.code: a for a in grant.allocations}
    assert list(stored) == ["A01", "A02", "A03", "A04", "A05", "A06"]
    for code, name, lead, centre, budget, pcc, local_weights in PROJECTS:
        allocation = stored[code]
        assert (allocation.name, allocation.lead, allocation.cost_centre) == (name, lead, centre)
        assert allocation.budget == D(budget)
        weights = {
            (w.priority.plan.key, w.priority.code): w.basis_points for w in allocation.weights
        }
        expected = {("kent-pcc-2025", c): int(D(v) * 100) for c, v in pcc.items()}
        expected |= {(local.key, c): int(D(v) * 100) for c, v in local_weights.items()}
        assert weights == expected
    # A01 by quarter, 3,000 + 4,000 + 4,000 + 4,000 = 15,000.00; the rest even (no quarters)
    assert [p.amount for p in stored["A01"].profile] == [D(v) for v in A01_QUARTERS]
    assert all(not stored[c].profile for c in ["A02", "A03", "A04", "A05", "A06"])


def test_cancel_writes_nothing(qtbot: QtBot, assistant: NewGrantAssistant, db: Database) -> None:
    fill_offer(qtbot, assistant)
    next_page(qtbot, assistant)
    fill_payments(qtbot, assistant)
    next_page(qtbot, assistant)
    assistant.reject()
    assert list_grants(db) == [] and list_plans(db) == []


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("Award", "1000.005", "fractions of a penny"),
        ("Award", "0", "must be more than £0.00"),
        ("Start", "31/02/2026", "is not a date"),
        ("End", "01/01/2026", "is before the start"),
        ("Reference", "", "is required"),
    ],
)
def test_the_offer_page_refuses_bad_input_beside_the_field(
    qtbot: QtBot, assistant: NewGrantAssistant, label: str, value: str, message: str
) -> None:
    fill_offer(qtbot, assistant, **{label: value})
    next_page(qtbot, assistant)
    assert assistant.currentPage() is assistant.offer_page
    assert message in refusal(assistant.offer_page, label)


def test_an_instalment_outside_the_grant_is_refused_beside_it(
    qtbot: QtBot, assistant: NewGrantAssistant
) -> None:
    fill_offer(qtbot, assistant)
    next_page(qtbot, assistant)
    type_in(qtbot, assistant.payments_page, "Instalment 1 date", "01/04/2027")
    type_in(qtbot, assistant.payments_page, "Instalment 1 amount", "100.001")
    next_page(qtbot, assistant)
    assert assistant.currentPage() is assistant.payments_page
    said = refusal(assistant.payments_page, "Instalment 1")
    assert "01/04/2027 is outside the grant (01/04/2026 to 31/03/2027)" in said
    assert "fractions of a penny" in said
    shot(assistant, "assistant-2-payments-refused")


def _to_projects(qtbot: QtBot, wizard: NewGrantAssistant) -> None:
    fill_offer(qtbot, wizard)
    next_page(qtbot, wizard)
    fill_payments(qtbot, wizard)
    next_page(qtbot, wizard)
    fill_plans(qtbot, wizard)
    next_page(qtbot, wizard)
    assert wizard.currentPage() is wizard.projects_page


def test_projects_refuse_weights_profile_and_duplicate_codes(
    qtbot: QtBot, assistant: NewGrantAssistant, db: Database
) -> None:
    _to_projects(qtbot, assistant)
    page = assistant.projects_page
    pcc = "Cut Crime, Support Victims, Build Trust"
    for label, value in [("Code", "A01"), ("Project name", "One"), ("Budget", "1000")]:
        type_in(qtbot, page, label, value)
    qtbot.keyClicks(weight_field(page, pcc, "P1"), "60")
    qtbot.keyClicks(weight_field(page, pcc, "P2"), "30")
    total = find(page, f"Total for {pcc}", QLabel)
    assert isinstance(total, QLabel)
    assert total.text() == "Total 90% — must total 100%"  # 60 + 30 = 90, live as typed
    qtbot.keyClicks(weight_field(page, "Safer Tonbridge", "C1"), "100")
    click(qtbot, page, "By quarter")
    for quarter in ["2026/27-Q1", "2026/27-Q2", "2026/27-Q3", "2026/27-Q4"]:
        type_in(qtbot, page, quarter, "200")  # 200 × 4 = 800.00, not the 1,000.00 budget
    next_page(qtbot, assistant)
    assert assistant.currentPage() is page
    assert "not the budget of £1,000.00" in refusal(page, "Profile")
    assert (
        refusal(page, f"Weights {pcc}")
        == "The weights for this plan total 90%; they must total 100%"
    )
    shot(assistant, "assistant-4-projects-refused")

    click(qtbot, page, "Spread evenly")  # 250.00 × 4 = 1,000.00
    weight_field(page, pcc, "P2").clear()
    qtbot.keyClicks(weight_field(page, pcc, "P2"), "40")
    click(qtbot, page, "Add project")
    for label, value in [("Code", "A01"), ("Project name", "Two"), ("Budget", "10")]:
        type_in(qtbot, page, label, value)
    qtbot.keyClicks(weight_field(page, pcc, "P4"), "100")
    qtbot.keyClicks(weight_field(page, "Safer Tonbridge", "C2"), "100")
    next_page(qtbot, assistant)
    assert assistant.currentPage() is page
    assert refusal(page, "Code") == "another project already has code A01"
    type_in(qtbot, page, "Code", "A02")
    next_page(qtbot, assistant)
    assert assistant.currentPage() is assistant.review_page
    assert list_grants(db) == []
    finish(qtbot, assistant)
    grant = load_grant(db, "CSF-2026-27")
    assert [p.amount for p in grant.allocations[0].profile] == [D("250.00")] * 4


def test_undo_of_the_setup_removes_the_grant_and_its_new_plans(
    qtbot: QtBot, assistant: NewGrantAssistant, db: Database
) -> None:
    _to_projects(qtbot, assistant)
    page = assistant.projects_page
    for label, value in [("Code", "A01"), ("Project name", "One"), ("Budget", "100")]:
        type_in(qtbot, page, label, value)
    qtbot.keyClicks(weight_field(page, "Cut Crime, Support Victims, Build Trust", "P1"), "100")
    qtbot.keyClicks(weight_field(page, "Safer Tonbridge", "C1"), "100")
    next_page(qtbot, assistant)
    finish(qtbot, assistant)
    assert len(list_grants(db)) == 1
    assistant.workspace.undo_stack.undo()
    assert list_grants(db) == [] and list_plans(db) == []
    with db.read() as session:
        assert session.query(Priority).count() == 0


def test_a_reference_already_used_is_refused_on_the_first_page(
    qtbot: QtBot, assistant: NewGrantAssistant, db: Database
) -> None:
    from fundtracker.operations import run_operation
    from fundtracker.operations.setup import SetUpGrant
    from tests.test_operations_setup import grant, pcc_plan

    taken = grant(reference=OFFER["Reference"], local_plan=None, allocations=[])
    run_operation(db, SetUpGrant((pcc_plan(),), taken))
    fill_offer(qtbot, assistant)
    next_page(qtbot, assistant)
    assert assistant.currentPage() is assistant.offer_page
    assert refusal(assistant.offer_page, "Reference") == "another grant already has this reference"


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen popups
def test_a_date_can_be_picked_from_the_calendar(qtbot: QtBot, assistant: NewGrantAssistant) -> None:
    from PySide6.QtCore import QDate

    start = assistant.offer_page.start
    click(qtbot, assistant.offer_page, "Pick start")
    calendar = start.calendar
    assert calendar is not None and calendar.isVisible()
    assert calendar.accessibleName() == "Start calendar"
    calendar.setSelectedDate(QDate(2026, 4, 1))
    calendar.clicked.emit(QDate(2026, 4, 1))  # the day the officer clicks
    assert start.text() == "01/04/2026" and start.calendar is None


def test_a_new_plan_needs_a_name_dates_and_priorities(
    qtbot: QtBot, assistant: NewGrantAssistant
) -> None:
    fill_offer(qtbot, assistant)
    next_page(qtbot, assistant)
    fill_payments(qtbot, assistant)
    next_page(qtbot, assistant)
    page = assistant.plans_page
    choose(qtbot, page.aligned, "Aligned to plan", "Template: Cut Crime")
    choose(qtbot, page.local, "Local plan", "A new plan")
    type_in(qtbot, page.local, "In effect from", "01/04/2026")
    type_in(qtbot, page.local, "In effect to", "31/03/2026")
    next_page(qtbot, assistant)
    assert assistant.currentPage() is page
    assert refusal(page.local, "Plan name") == "is required"
    assert refusal(page.local, "In effect to") == "is before the plan comes into effect"
    assert refusal(page.local, "Priorities") == "type at least one priority, one a line"
