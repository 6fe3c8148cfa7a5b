"""rule update, rule move and rule apply: success and each refusal, read back from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundtracker.ledger import rules
from fundtracker.models import AuditEvent
from fundtracker.services.spend import add_spend, get_spend
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.test_spend_split import GRANT, _lock_q1

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def url(demo_db: Database, database_url: str) -> str:
    for rule in rules.list_rules(demo_db, GRANT):  # start from no rules
        rules.delete_rule(demo_db, rule.id)
    return database_url


def _add(capsys: Capsys, url: str, value: str, code: str = "A01") -> int:
    args = ("--field", "supplier", "--op", "equals", "--value", value, "--allocation", code)
    done = run_cli(capsys, url, "rule", "add", "--grant", GRANT, *args)
    assert done.code == 0, done.err
    return int(done.out)


def _listed(capsys: Capsys, url: str) -> list[tuple[str, str, str, str]]:
    found = run_cli(capsys, url, "rule", "list", "--grant", GRANT, "--format", "json").json()
    return [(r["field"], r["op"], r["value"], r["allocation"]) for r in found]


def test_update_changes_only_the_parts_given(capsys: Capsys, url: str) -> None:
    rule_id = _add(capsys, url, "Acme")
    done = run_cli(capsys, url, "rule", "update", str(rule_id), "--op", "contains",
                   "--allocation", "A02", "--reason", "Acme is A02's supplier")  # fmt: skip
    assert done.code == 0, done.err
    assert done.out.strip() == f"rule {rule_id} updated: supplier contains 'Acme' → A02"
    assert _listed(capsys, url) == [("supplier", "contains", "Acme", "A02")]


def test_update_refusals_change_nothing(capsys: Capsys, url: str, demo_db: Database) -> None:
    rule_id = _add(capsys, url, "Acme")
    nothing = run_cli(capsys, url, "rule", "update", str(rule_id))
    assert nothing.code == 1 and "say what to change" in nothing.err
    regex = run_cli(capsys, url, "rule", "update", str(rule_id), "--op", "regex", "--value", "(")
    assert regex.code == 1 and "value: '(' is not a regular expression" in regex.err
    code = run_cli(capsys, url, "rule", "update", str(rule_id), "--allocation", "ZZ")
    assert code.code == 1 and "allocation: 'ZZ' is not a project" in code.err
    empty = run_cli(capsys, url, "rule", "update", str(rule_id), "--value", "  ")
    assert empty.code == 1 and "value: is required" in empty.err
    missing = run_cli(capsys, url, "rule", "update", "9999", "--value", "x")
    assert missing.code == 1 and "no assignment rule with id 9999" in missing.err
    bad_field = run_cli(capsys, url, "rule", "update", str(rule_id), "--field", "net")
    assert bad_field.code == 2  # argparse: not one of the rule fields
    assert _listed(capsys, url) == [("supplier", "equals", "Acme", "A01")]


def test_move_puts_a_rule_in_place_and_refuses_a_place_out_of_range(
    capsys: Capsys, url: str
) -> None:
    one, two, three = (_add(capsys, url, value) for value in ("one", "two", "three"))
    moved = run_cli(capsys, url, "rule", "move", str(three), "--to", "1")
    assert moved.code == 0 and moved.out.strip() == f"rule {three} moved to place 1"
    assert [value for _, _, value, _ in _listed(capsys, url)] == ["three", "one", "two"]
    far = run_cli(capsys, url, "rule", "move", str(one), "--to", "4")
    assert far.code == 1 and "to: must be between 1 and 3 (got 4)" in far.err
    zero = run_cli(capsys, url, "rule", "move", str(two), "--to", "0")
    assert zero.code == 1 and "must be between 1 and 3" in zero.err
    assert run_cli(capsys, url, "rule", "move", "9999", "--to", "1").code == 1
    assert run_cli(capsys, url, "rule", "move", str(one)).code == 2  # --to is required
    assert [value for _, _, value, _ in _listed(capsys, url)] == ["three", "one", "two"]


def test_apply_assigns_and_prints_the_lines(capsys: Capsys, url: str, demo_db: Database) -> None:
    first = add_spend(demo_db, GRANT, {"date": "2025-08-01", "net": "10", "supplier": "Acme"})
    second = add_spend(demo_db, GRANT, {"date": "2025-08-02", "net": "20", "supplier": "acme"})
    other = add_spend(demo_db, GRANT, {"date": "2025-08-03", "net": "30", "supplier": "Other"})
    _add(capsys, url, "Acme", "A02")
    done = run_cli(capsys, url, "rule", "apply", "--grant", GRANT, "--reason", "tidy up")
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        "assigned 2 lines",
        f"  line {first.id} → A02",
        f"  line {second.id} → A02",
    ]
    codes = [get_spend(demo_db, line.id).allocation for line in (first, second, other)]
    assert [c.code if c else None for c in codes] == ["A02", "A02", None]
    with demo_db.read() as session:
        reasons = set(
            session.scalars(select(AuditEvent.reason).where(AuditEvent.entity_id == first.id))
        )
    assert "tidy up" in reasons
    again = run_cli(capsys, url, "rule", "apply", "--grant", GRANT, "--format", "json")
    assert again.code == 0 and again.json() == {"assigned": [], "locked": []}


def test_apply_json_names_locked_lines_and_refuses_an_unknown_grant(
    capsys: Capsys, url: str, demo_db: Database
) -> None:
    locked = add_spend(demo_db, GRANT, {"date": "2025-05-01", "net": "10", "supplier": "Acme"})
    _lock_q1(demo_db)
    later = add_spend(demo_db, GRANT, {"date": "2025-08-01", "net": "10", "supplier": "Acme"})
    _add(capsys, url, "Acme", "A02")
    done = run_cli(capsys, url, "rule", "apply", "--grant", GRANT, "--format", "json")
    assert done.json() == {"assigned": [{"line": later.id, "allocation": "A02"}],
                           "locked": [locked.id]}  # fmt: skip
    unknown = run_cli(capsys, url, "rule", "apply", "--grant", "NOPE")
    assert unknown.code == 1 and "NOPE" in unknown.err
