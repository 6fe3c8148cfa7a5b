"""Nothing audited is removed without a trace: rows a re-imported grant file drops (a payment, a
weight, a profile — deleted by the ORM as orphans) and a removed project's narratives and rules
(which the database would drop by cascade) each have a delete event in the audit log."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from fundtracker.ledger.rules import add_rule
from fundtracker.models import AssignmentRule, AuditEvent, Narrative
from fundtracker.periods import Period
from fundtracker.returns.narratives import set_narrative
from fundtracker.services.grants import grant_spec, import_grant, load_grant
from fundtracker.storage import Database

GRANT = "CRG-2025-26"


def _deletes(db: Database, entity: str) -> list[dict[str, list[object]]]:
    with db.read() as session:
        rows = session.scalars(
            select(AuditEvent.changes).where(
                AuditEvent.action == "delete", AuditEvent.entity == entity
            )
        )
        return [json.loads(row) for row in rows]


def test_a_grant_file_that_drops_rows_leaves_a_delete_event_for_each(demo_db: Database) -> None:
    spec = grant_spec(load_grant(demo_db, GRANT))
    a01 = next(a for a in spec.allocations if a.code == "A01")
    assert a01.profile and len(spec.payments) >= 2
    fewer = replace(
        spec,
        payments=spec.payments[:-1],  # the last tranche
        allocations=[
            replace(a, profile=None, weights={}) if a.code == "A01" else a for a in spec.allocations
        ],
    )
    import_grant(demo_db, fewer, reason="a colleague's file")
    dropped = spec.payments[-1]
    assert any(
        event["amount"][0] == f"{dropped.amount:.2f}" for event in _deletes(demo_db, "payment")
    )
    assert len(_deletes(demo_db, "profile amount")) == len(a01.profile)
    weights = sum(len(w) for w in a01.weights.values())
    assert len(_deletes(demo_db, "weight")) == weights


def test_a_project_dropped_by_a_grant_file_takes_its_narratives_and_rules_audited(
    demo_db: Database,
) -> None:
    spec = grant_spec(load_grant(demo_db, GRANT))
    unspent = "A09"
    new = replace(spec.allocations[0], code=unspent, name="Unspent project", profile=None)
    import_grant(demo_db, replace(spec, allocations=[*spec.allocations, new]))
    set_narrative(demo_db, GRANT, Period.parse("2025/26-Q1"), unspent, {"outputs": "none yet"})
    add_rule(demo_db, GRANT, "supplier", "contains", "Nobody Ltd", unspent)

    import_grant(demo_db, spec)  # the file without A09
    with demo_db.read() as session:
        assert session.scalars(select(Narrative)).all() == []
        assert session.scalars(select(AssignmentRule)).all() == []
    assert [e["outputs"][0] for e in _deletes(demo_db, "narrative")] == ["none yet"]
    assert [e["value"][0] for e in _deletes(demo_db, "assignment rule")] == ["Nobody Ltd"]


def test_a_plan_file_cannot_drop_a_priority_projects_weigh_on(demo_db: Database) -> None:
    """Dropping it would delete the weights on it by database cascade, unaudited, under
    returns already submitted; the file is refused naming it, and nothing changes."""
    from fundtracker.errors import ValidationError
    from fundtracker.models import Weight
    from fundtracker.services.plans import get_plan, import_plan, plan_spec

    with demo_db.read() as session:
        spec = plan_spec(get_plan(session, "kent-pcc-2025"))
        weights = len(session.scalars(select(Weight)).all())
    without_p1 = replace(spec, priorities=[p for p in spec.priorities if p.code != "P1"])
    with pytest.raises(ValidationError, match="priority P1: is missing from the file but"):
        import_plan(demo_db, without_p1)
    with demo_db.read() as session:
        assert len(session.scalars(select(Weight)).all()) == weights
        assert "P1" in {p.code for p in get_plan(session, "kent-pcc-2025").priorities}
