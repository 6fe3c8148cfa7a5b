"""Outcome measures (issue 15): targets spread and entered by quarter, counts and percents to
date, a missing quarter, targets of 0, the refusals, and undo of every operation. Figures
worked by hand in the comments."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import func, select

from fundtracker.errors import ValidationError
from fundtracker.figures import build_report
from fundtracker.models import Allocation, AuditEvent, OutcomeActual, OutcomeMeasure
from fundtracker.operations import run_operation, undo
from fundtracker.operations.allocations import AddProject, RemoveProject, current_version
from fundtracker.operations.outcomes import (
    AddOutcome,
    RemoveOutcome,
    SetOutcomeActual,
    UpdateOutcome,
    measure_version,
)
from fundtracker.operations.year import StartNextYear
from fundtracker.outcomes import even_targets, parse_percent
from fundtracker.periods import Period
from fundtracker.presenters.outcomes import outcomes_view
from fundtracker.services.grants import grant_spec, import_grant, load_grant
from fundtracker.setup_files import grant_to_toml, read_grant
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
Q1, Q2, Q3 = (Period.parse(f"2025/26-Q{n}") for n in (1, 2, 3))


def _outcome(db: Database, period: Period, project: str, code: str) -> dict[str, object]:
    report = build_report(db, GRANT, period).to_json()
    allocation = next(a for a in report["allocations"] if a["code"] == project)
    outcome: dict[str, object] = next(o for o in allocation["outcomes"] if o["code"] == code)
    return outcome


def _add(db: Database, project: str = "A08", **values: object) -> None:
    run_operation(db, AddOutcome(GRANT, project, values))


def _set(db: Database, quarter: Period, code: str, actual: object, of: object = None) -> None:
    run_operation(db, SetOutcomeActual(GRANT, quarter, "A08", code, actual, of))


def _rows(db: Database, model: type[OutcomeMeasure] | type[OutcomeActual]) -> int:
    """How many measures (or actuals) A08 has: the demo's own are on other projects."""
    query = select(func.count()).select_from(OutcomeMeasure)
    if model is OutcomeActual:
        query = query.join(OutcomeActual, OutcomeActual.measure_id == OutcomeMeasure.id)
    query = query.join(Allocation, Allocation.id == OutcomeMeasure.allocation_id)
    with db.read() as session:
        return int(session.scalar(query.where(Allocation.code == "A08")) or 0)


def test_even_spread_is_whole_units_with_the_remainder_last() -> None:
    # 10 over 4 quarters: 10 // 4 = 2 each, the last takes 10 - 6 = 4.
    assert even_targets("count", 10, 4) == [2, 2, 2, 4]
    assert even_targets("count", 3, 4) == [0, 0, 0, 3]
    # A percent target is the same in every quarter; 82.5% is kept as 825 tenths.
    assert even_targets("percent", parse_percent("82.5%"), 4) == [825] * 4
    assert parse_percent(80) == parse_percent("80%") == 800


def test_a_count_to_date_with_a_missing_quarter(demo_db: Database) -> None:
    _add(demo_db, code="YP", title="Young people supported", unit="count", target=10)
    _set(demo_db, Q1, "YP", 3)
    # As at Q2: target to date 2 + 2 = 4; actual 3 (Q2 not entered); 3 / 4 = 75.0%.
    outcome = _outcome(demo_db, Q2, "A08", "YP")
    assert outcome["target"] == 10 and outcome["target_to_date"] == 4
    assert outcome["actual_to_date"] == 3 and outcome["percent_of_target"] == "75.0"
    assert outcome["missing"] == ["2025/26-Q2"]
    assert outcome["unit"] == "count" and outcome["priority"] is None


def test_quarterly_targets_for_a_count_must_total_the_annual_target(demo_db: Database) -> None:
    with pytest.raises(ValidationError, match="total 9 but the annual target is 10"):
        _add(
            demo_db, code="YP", title="Young people", unit="count", target=10, targets=[1, 2, 3, 3]
        )
    assert _rows(demo_db, OutcomeMeasure) == 0
    _add(demo_db, code="YP", title="Young people", unit="count", target=10, targets=[1, 2, 3, 4])
    _set(demo_db, Q1, "YP", 1)
    _set(demo_db, Q2, "YP", 1)
    _set(demo_db, Q3, "YP", 5)
    # As at Q3: target to date 1 + 2 + 3 = 6; actual 1 + 1 + 5 = 7; 7 / 6 = 116.66.. -> 116.7.
    outcome = _outcome(demo_db, Q3, "A08", "YP")
    assert (outcome["target_to_date"], outcome["actual_to_date"]) == (6, 7)
    assert outcome["percent_of_target"] == "116.7" and outcome["missing"] == []


def test_a_percent_measure_sums_numerators_and_denominators(demo_db: Database) -> None:
    _add(
        demo_db, code="WB", title="Improved wellbeing", unit="percent", target="80%", priority="P1"
    )
    _set(demo_db, Q1, "WB", 41, 50)
    _set(demo_db, Q2, "WB", 288, 350)
    # As at Q2: 100 x (41 + 288) / (50 + 350) = 32900 / 400 = 82.25 -> 82.3 (half up);
    # % of target = 82.3 / 80.0 x 100 = 102.875 -> 102.9.
    outcome = _outcome(demo_db, Q2, "A08", "WB")
    assert outcome["target"] == "80.0" and outcome["target_to_date"] == "80.0"
    assert outcome["actual_to_date"] == "82.3" and outcome["percent_of_target"] == "102.9"
    assert outcome["priority"] == "P1"
    # As at Q1 alone: 41 / 50 = 82.0%; 82.0 / 80.0 = 102.5%.
    assert _outcome(demo_db, Q1, "A08", "WB")["actual_to_date"] == "82.0"
    assert _outcome(demo_db, Q1, "A08", "WB")["percent_of_target"] == "102.5"


def test_no_denominators_and_targets_of_zero_give_null(demo_db: Database) -> None:
    _add(demo_db, code="WB", title="Wellbeing", unit="percent", target="80%")
    _add(demo_db, code="NONE", title="Nothing planned yet", unit="count", target=0)
    _set(demo_db, Q1, "NONE", 2)
    wellbeing, zero = _outcome(demo_db, Q1, "A08", "WB"), _outcome(demo_db, Q1, "A08", "NONE")
    assert wellbeing["actual_to_date"] is None and wellbeing["percent_of_target"] is None
    assert zero["target_to_date"] == 0 and zero["actual_to_date"] == 2
    assert zero["percent_of_target"] is None


def test_actual_refusals_change_nothing(demo_db: Database) -> None:
    _add(demo_db, code="YP", title="Young people", unit="count", target=10)
    _add(demo_db, code="WB", title="Wellbeing", unit="percent", target="80%")
    with pytest.raises(ValidationError, match="only for a percent measure"):
        _set(demo_db, Q1, "YP", 3, 5)
    with pytest.raises(ValidationError, match="required for a percent measure"):
        _set(demo_db, Q1, "WB", 3)
    with pytest.raises(ValidationError, match="51 is more than the 50"):
        _set(demo_db, Q1, "WB", 51, 50)
    with pytest.raises(ValidationError, match="by quarter"):
        _set(demo_db, Period.parse("2025/26-H1"), "YP", 3)
    assert _rows(demo_db, OutcomeActual) == 0


def test_undo_of_each_operation(demo_db: Database) -> None:
    added = run_operation(
        demo_db,
        AddOutcome(GRANT, "A08", {"code": "YP", "title": "YP", "unit": "count", "target": 8}),
    )
    entered = run_operation(demo_db, SetOutcomeActual(GRANT, Q1, "A08", "YP", 3, note="term 1"))
    changed = run_operation(
        demo_db,
        UpdateOutcome(
            GRANT, "A08", "YP", {"target": 12}, measure_version(demo_db, GRANT, "A08", "YP")
        ),
    )
    assert _outcome(demo_db, Q1, "A08", "YP")["target"] == 12
    undo(demo_db, changed)
    assert _outcome(demo_db, Q1, "A08", "YP")["target"] == 8
    undo(demo_db, entered)
    assert _rows(demo_db, OutcomeActual) == 0
    entered = run_operation(demo_db, SetOutcomeActual(GRANT, Q1, "A08", "YP", 3))
    removed = run_operation(
        demo_db, RemoveOutcome(GRANT, "A08", "YP", measure_version(demo_db, GRANT, "A08", "YP"))
    )
    assert (_rows(demo_db, OutcomeMeasure), _rows(demo_db, OutcomeActual)) == (0, 0)
    undo(demo_db, removed)  # the measure and its Q1 actual of 3 come back
    assert _outcome(demo_db, Q1, "A08", "YP")["actual_to_date"] == 3
    undo(demo_db, entered)
    undo(demo_db, added)
    assert _rows(demo_db, OutcomeMeasure) == 0


def test_presenter_rows_and_progress(demo_db: Database) -> None:
    _add(demo_db, code="YP", title="Young people", unit="count", target=10)
    _add(demo_db, code="WB", title="Wellbeing", unit="percent", target="80%")
    _set(demo_db, Q1, "YP", 3)
    _set(demo_db, Q1, "WB", 40, 50)
    view = outcomes_view(demo_db, GRANT, Q1)
    young, wellbeing = view.rows_of("A08")
    assert [q.target for q in young.quarters] == ["2", "2", "2", "4"]
    assert young.quarters[0].shown == "3" and young.percent_of_target == "150.0%"  # 3 / 2
    assert wellbeing.quarters[0].shown == "40 of 50 (80.0%)"
    assert wellbeing.percent_of_target == "100.0%"  # 80.0 / 80.0
    progress = next(p for p in view.progress if p.project == "A08")
    # The mean of 150.0% and 100.0% is 125.0%.
    assert progress.percent_of_target_reached == "125.0%" and progress.measures == 2


def test_a_project_removed_and_restored_keeps_its_measures_and_actuals(demo_db: Database) -> None:
    run_operation(demo_db, AddProject(GRANT, {"code": "A09", "name": "Street pastors"}))
    run_operation(demo_db, AddOutcome(GRANT, "A09", {"code": "N", "title": "Nights",
                                                     "unit": "count", "target": 40}))  # fmt: skip
    run_operation(demo_db, SetOutcomeActual(GRANT, Q1, "A09", "N", 9, note="from June"))
    version = current_version(demo_db, GRANT, "A09")
    removed = run_operation(demo_db, RemoveProject(GRANT, "A09", version))
    with demo_db.read() as session:
        deleted = session.scalars(
            select(AuditEvent.entity).where(
                AuditEvent.action == "delete", AuditEvent.entity.like("outcome%")
            )
        ).all()
    assert sorted(deleted) == ["outcome actual", "outcome measure"]  # each delete audited
    undo(demo_db, removed)
    # As at Q1: target 40 spread 10 a quarter; 9 of 10 = 90.0%.
    outcome = _outcome(demo_db, Q1, "A09", "N")
    assert (outcome["actual_to_date"], outcome["percent_of_target"]) == (9, "90.0")
    assert outcome["quarters"]["Q1"] == {"actual": 9, "of": None, "note": "from June"}


def test_a_grant_file_sets_measures_and_refuses_bad_ones(demo_db: Database) -> None:
    spec = grant_spec(load_grant(demo_db, GRANT))
    a01 = next(a for a in spec.allocations if a.code == "A01")
    assert [(o.code, o.unit, o.target, o.targets) for o in a01.outcomes] == [
        ("YP", "count", 120, [30, 30, 30, 30]),
        ("CONF", "percent", 800, None),  # 80% in tenths of a percent
    ]
    text = grant_to_toml(spec)
    assert read_grant(tomllib.loads(text)) == spec  # the export reads back the same
    broken = text.replace('target = "80%"', 'target = "80.25%"').replace(
        "    30,\n    30,\n    30,\n    30,\n", "    30,\n    30,\n    30,\n"
    )
    with pytest.raises(ValidationError) as refused:
        read_grant(tomllib.loads(broken))
    assert str(refused.value).splitlines() == [
        "allocation A01: outcome CONF: target '80.25%' is not a percentage such as 80% or "
        "82.5% (one decimal at most)",
        "allocation A01: outcome YP: targets has 3 values, one a quarter: the grant has 4 quarters",
    ]
    # A file without A01's CONF drops it, and its actuals, each audited.
    a01.outcomes = a01.outcomes[:1]
    import_grant(demo_db, spec)
    with demo_db.read() as session:
        gone = session.scalars(
            select(AuditEvent.label).where(
                AuditEvent.action == "delete", AuditEvent.entity == "outcome actual"
            )
        ).all()
    assert sorted(gone) == [f"A01/CONF 2025/26-Q{n}" for n in (1, 2, 3)]


def test_next_years_grant_takes_the_measures_without_their_actuals(demo_db: Database) -> None:
    started = run_operation(demo_db, StartNextYear(GRANT, "CRG-2026-27"))
    spec = grant_spec(load_grant(demo_db, "CRG-2026-27"))
    a01 = next(a for a in spec.allocations if a.code == "A01")
    assert [(o.code, o.target, o.targets) for o in a01.outcomes] == [
        ("YP", 120, [30, 30, 30, 30]),
        ("CONF", 800, None),
    ]
    q1 = Period.parse("2026/27-Q1")
    report = build_report(demo_db, "CRG-2026-27", q1).to_json()
    (yp, _conf) = next(a for a in report["allocations"] if a["code"] == "A01")["outcomes"]
    assert (yp["target_to_date"], yp["actual_to_date"], yp["missing"]) == (30, 0, ["2026/27-Q1"])
    run_operation(demo_db, SetOutcomeActual("CRG-2026-27", q1, "A01", "YP", 12))
    with pytest.raises(ValidationError, match="1 outcome actuals"):
        undo(demo_db, started)  # removing the new grant would take the actual with it
