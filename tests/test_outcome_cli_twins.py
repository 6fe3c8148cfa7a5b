"""The command-line twins of the window's Edit outcome… and Clear actual (issue 15):
``outcome update`` changes only the fields given, ``outcome clear`` removes a quarter's actual;
refusals exit 1 with nothing changed."""

from __future__ import annotations

import pytest

from fundtracker.models import OutcomeMeasure
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.helpers import run_cli

GRANT = "CRG-2025-26"


def _measure(db: Database, code: str) -> OutcomeMeasure | None:
    project = next(a for a in load_grant(db, GRANT).allocations if a.code == "A01")
    return next((m for m in project.outcomes if m.code == code), None)


def _q1_actual(db: Database, code: str) -> int | None:
    with db.read() as session:
        measure = _measure(db, code)
        assert measure is not None
        stored = session.get_one(OutcomeMeasure, measure.id)
        return next((a.actual for a in stored.actuals if a.quarter == "2025/26-Q1"), None)


def test_outcome_update_changes_only_the_fields_given(
    demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(demo_db.url)
    update = ("outcome", "update", "--grant", GRANT, "--allocation", "A01", "--outcome", "YP")
    before = _measure(demo_db, "YP")
    assert before is not None and (before.target, before.quarter_targets) == (120, "30,30,30,30")

    # 20 + 30 + 30 + 40 = 120, the annual target: taken.
    assert run_cli(capsys, url, *update, "--targets", "20,30,30,40").code == 0
    changed = _measure(demo_db, "YP")
    assert changed is not None and changed.quarter_targets == "20,30,30,40"
    assert (changed.title, changed.target) == (before.title, 120)  # the rest as it was

    # 20 + 30 + 30 + 30 = 110, not 120: refused naming both, nothing changed.
    result = run_cli(capsys, url, *update, "--targets", "20,30,30,30")
    assert result.code == 1 and "total 110 but the annual target is 120" in result.err
    nothing = run_cli(capsys, url, *update)
    assert nothing.code == 1 and "nothing to change" in nothing.err
    unchanged = _measure(demo_db, "YP")
    assert unchanged is not None and unchanged.quarter_targets == "20,30,30,40"

    # An empty --targets goes back to the even spread; --new-code renames.
    renamed = run_cli(capsys, url, *update, "--targets", "", "--new-code", "YPS")
    assert renamed.code == 0 and "updated (code, targets)" in renamed.out
    assert _measure(demo_db, "YP") is None
    now = _measure(demo_db, "YPS")
    assert now is not None and now.quarter_targets == ""


def test_outcome_clear_removes_a_quarters_actual(
    demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(demo_db.url)
    clear = ("outcome", "clear", "--grant", GRANT, "--period", "2025/26-Q1")
    which = ("--allocation", "A01", "--outcome", "YP")
    assert _q1_actual(demo_db, "YP") is not None  # the demo year entered Q1
    assert run_cli(capsys, url, *clear, *which).code == 0
    assert _q1_actual(demo_db, "YP") is None
    again = run_cli(capsys, url, *clear, *which)
    assert again.code == 1 and "has no actual for 2025/26-Q1; nothing changed" in again.err
