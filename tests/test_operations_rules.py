"""Assignment rule operations and the Rules panel's presenter: add, change, move, delete and
apply, each one undoable step that refuses to overwrite a newer change, and the preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from fundtracker.errors import ConflictError, ValidationError
from fundtracker.ledger import rules
from fundtracker.models import AuditEvent, SpendLine
from fundtracker.operations import Kind, run_operation, undo
from fundtracker.operations.rules import (
    AddRule,
    ApplyRulesToUnassigned,
    DeleteRule,
    MoveRule,
    UpdateRule,
)
from fundtracker.presenters.rules import preview, rule_from_line, rule_rows
from fundtracker.services.spend import add_spend, get_spend, update_spend
from fundtracker.storage import Database
from tests.test_spend_split import GRANT, _lock_q1


def _order(db: Database) -> list[tuple[str, str]]:
    """(value, project) of each rule in the order they apply."""
    return [(row.value, row.allocation) for row in rule_rows(db, GRANT)]


def _clear_rules(db: Database) -> None:
    for rule in rules.list_rules(db, GRANT):
        rules.delete_rule(db, rule.id)


def _unassigned(db: Database, supplier: str, net: str, day: str = "2025-05-10") -> int:
    return add_spend(db, GRANT, {"date": day, "net": net, "supplier": supplier}).id


def _add(db: Database, value: str, code: str, field: str = "supplier") -> int:
    done = run_operation(db, AddRule(GRANT, field, "equals", value, code))
    assert isinstance(done.result, int)
    return done.result


def test_add_then_undo_then_redo(demo_db: Database) -> None:
    _clear_rules(demo_db)
    added = run_operation(demo_db, AddRule(GRANT, "supplier", "equals", "Acme", "A01"))
    assert added.kinds == {Kind.RULES} and added.grant == GRANT
    assert _order(demo_db) == [("Acme", "A01")]
    undone = undo(demo_db, added)
    assert _order(demo_db) == []
    undo(demo_db, undone, "redo")
    assert _order(demo_db) == [("Acme", "A01")]
    # The redone rule is the very rule (the same id), so its audit trail reads as one.
    assert rule_rows(demo_db, GRANT)[0].id == added.result


def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_kept(demo_db: Database) -> None:
    _clear_rules(demo_db)
    with pytest.raises(ValidationError, match="value: '\\(' is not a regular expression"):
        run_operation(demo_db, AddRule(GRANT, "supplier", "regex", "(", "A01"))
    with pytest.raises(ValidationError, match="allocation: 'ZZZ' is not a project"):
        run_operation(demo_db, AddRule(GRANT, "supplier", "equals", "Acme", "ZZZ"))
    assert _order(demo_db) == []


def test_update_changes_the_parts_asked_and_undo_puts_them_back(demo_db: Database) -> None:
    _clear_rules(demo_db)
    rule_id = _add(demo_db, "Acme", "A01")
    seen = rule_rows(demo_db, GRANT)[0]
    changed = run_operation(
        demo_db, UpdateRule(rule_id, {"value": "Acme Ltd", "allocation": "A02"}, seen.state)
    )
    assert _order(demo_db) == [("Acme Ltd", "A02")]
    undo(demo_db, changed)
    assert _order(demo_db) == [("Acme", "A01")]


def test_an_update_over_someone_elses_change_is_refused(demo_db: Database) -> None:
    _clear_rules(demo_db)
    rule_id = _add(demo_db, "Acme", "A01")
    seen = rule_rows(demo_db, GRANT)[0]
    rules.update_rule(demo_db, rule_id, {"value": "Theirs"})  # a colleague, meanwhile
    with pytest.raises(ConflictError, match=f"rule {rule_id} was changed by someone else"):
        run_operation(demo_db, UpdateRule(rule_id, {"value": "Mine"}, seen.state))
    assert _order(demo_db) == [("Theirs", "A01")]


def test_move_reorders_and_undo_puts_it_back(demo_db: Database) -> None:
    _clear_rules(demo_db)
    for value in ("one", "two", "three"):
        _add(demo_db, value, "A01")
    third = rule_rows(demo_db, GRANT)[2]
    moved = run_operation(demo_db, MoveRule(third.id, 1, third.state))
    assert [v for v, _ in _order(demo_db)] == ["three", "one", "two"]
    undo(demo_db, moved)
    assert [v for v, _ in _order(demo_db)] == ["one", "two", "three"]
    with pytest.raises(ValidationError, match="to: must be between 1 and 3"):
        run_operation(demo_db, MoveRule(third.id, 4, rule_rows(demo_db, GRANT)[2].state))


def test_delete_and_its_undo_restores_the_rule_in_its_place(demo_db: Database) -> None:
    _clear_rules(demo_db)
    for value in ("one", "two", "three"):
        _add(demo_db, value, "A01")
    second = rule_rows(demo_db, GRANT)[1]
    deleted = run_operation(demo_db, DeleteRule(second.id, second.state))
    assert [v for v, _ in _order(demo_db)] == ["one", "three"]
    undo(demo_db, deleted)
    assert [v for v, _ in _order(demo_db)] == ["one", "two", "three"]
    assert rule_rows(demo_db, GRANT)[1].id == second.id
    with demo_db.read() as session:
        reasons = set(
            session.scalars(select(AuditEvent.reason).where(AuditEvent.entity_id == second.id))
        )
    assert f"undo: Delete rule {second.id}" in reasons


def test_apply_assigns_matching_unassigned_lines_and_undo_unassigns_them(
    demo_db: Database,
) -> None:
    _clear_rules(demo_db)
    acme_1 = _unassigned(demo_db, "Acme", "10.00")
    acme_2 = _unassigned(demo_db, " ACME ", "5.50")  # equals ignores case and spaces
    other = _unassigned(demo_db, "Other", "7.00")
    _add(demo_db, "acme", "A02")
    _add(demo_db, "Acme", "A03")  # the first matching rule wins: A02

    done = run_operation(demo_db, ApplyRulesToUnassigned(GRANT))
    assert done.result.assigned == ((acme_1, "A02"), (acme_2, "A02"))
    assert done.result.summary() == "assigned 2 lines"
    assert [_code(demo_db, i) for i in (acme_1, acme_2, other)] == ["A02", "A02", None]

    undone = undo(demo_db, done)
    assert [_code(demo_db, i) for i in (acme_1, acme_2, other)] == [None, None, None]
    undo(demo_db, undone, "redo")
    assert [_code(demo_db, i) for i in (acme_1, acme_2)] == ["A02", "A02"]


def test_undo_of_apply_refuses_whole_when_a_line_changed_since(demo_db: Database) -> None:
    _clear_rules(demo_db)
    first = _unassigned(demo_db, "Acme", "10.00")
    second = _unassigned(demo_db, "Acme", "20.00")
    _add(demo_db, "Acme", "A02")
    done = run_operation(demo_db, ApplyRulesToUnassigned(GRANT))
    update_spend(demo_db, second, {"notes": "a colleague's note"})
    with pytest.raises(ConflictError):
        undo(demo_db, done)
    assert [_code(demo_db, i) for i in (first, second)] == ["A02", "A02"]


def test_apply_leaves_a_locked_line_alone_and_says_so(demo_db: Database) -> None:
    _clear_rules(demo_db)
    locked = _unassigned(demo_db, "Acme", "10.00", "2025-05-10")  # Q1
    _lock_q1(demo_db)
    open_line = _unassigned(demo_db, "Acme", "20.00", "2025-08-10")  # Q2
    _add(demo_db, "Acme", "A02")
    done = run_operation(demo_db, ApplyRulesToUnassigned(GRANT))
    assert done.result.assigned == ((open_line, "A02"),)
    assert done.result.locked == (locked,)
    assert done.result.summary() == "assigned 1 line; left 1 locked line as they were"
    assert _code(demo_db, locked) is None


def test_preview_lists_the_unassigned_lines_a_rule_would_assign(demo_db: Database) -> None:
    _clear_rules(demo_db)
    a = _unassigned(demo_db, "Kent Fire", "100.00")
    b = _unassigned(demo_db, "kent fire and rescue", "23.45")
    _unassigned(demo_db, "Medway", "9.99")
    shown = preview(demo_db, GRANT, "supplier", "contains", "kent fire")
    assert [line.id for line in shown.lines] == [a, b]
    # 100.00 + 23.45 = 123.45
    assert shown.total == Decimal("123.45")
    assert shown.text == "Would assign 2 unassigned lines, net £123.45."
    bad = preview(demo_db, GRANT, "supplier", "regex", "(")
    assert bad.lines == () and bad.text.startswith("Not a rule yet: value: '(' is not")
    assert preview(demo_db, GRANT, "supplier", "equals", "nobody").text == (
        "No unassigned line would be assigned by this rule."
    )


def test_preview_leaves_out_lines_an_earlier_rule_assigns_first(demo_db: Database) -> None:
    _clear_rules(demo_db)
    fire = _unassigned(demo_db, "Kent Fire", "100.00")
    rescue = _unassigned(demo_db, "Kent Fire and Rescue", "23.45")
    _add(demo_db, "Kent Fire and Rescue", "A02")  # place 1: takes the second line first
    shown = preview(demo_db, GRANT, "supplier", "contains", "kent fire")  # a new rule: place 2
    assert [line.id for line in shown.lines] == [fire]
    assert (shown.total, shown.taken_earlier) == (Decimal("100.00"), 1)
    assert shown.text == (
        "Would assign 1 unassigned line, net £100.00. "
        "1 more line it matches goes to an earlier rule."
    )
    # Edited into the first place, nothing stands before it: both lines are its.
    first = preview(demo_db, GRANT, "supplier", "contains", "kent fire", place=1)
    assert [line.id for line in first.lines] == [fire, rescue] and first.taken_earlier == 0


def test_rule_rows_and_the_rule_made_from_a_line(demo_db: Database) -> None:
    _clear_rules(demo_db)
    _add(demo_db, "Acme", "A01")
    row = rule_rows(demo_db, GRANT)[0]
    assert (row.place, row.text) == (1, "Supplier equals 'Acme' → A01")
    assert row.project.startswith("A01 — ")
    assert rule_from_line(" Acme ", "Paint", "INV1") == ("supplier", "equals", "Acme")
    assert rule_from_line("", "Paint for the bus shelter", "") == (
        "description",
        "contains",
        "Paint for the bus shelter",
    )


def _code(db: Database, line_id: int) -> str | None:
    line: SpendLine = get_spend(db, line_id)
    return line.allocation.code if line.allocation else None
