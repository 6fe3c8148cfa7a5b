"""ChangeSettings: the checks' thresholds as one audited, undoable operation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundtracker.errors import ValidationError
from fundtracker.operations import run_operation, undo
from fundtracker.operations.settings import ChangeSettings
from fundtracker.settings import (
    BEHIND_PROFILE_PERCENT,
    EVIDENCE_THRESHOLD,
    UNDERSPEND_RISK_PERCENT,
    all_settings,
)
from fundtracker.storage import Database


def test_change_and_undo_back_to_the_defaults(db: Database) -> None:
    done = run_operation(
        db, ChangeSettings({UNDERSPEND_RISK_PERCENT: "5", EVIDENCE_THRESHOLD: "£750"})
    )
    stored = all_settings(db)
    assert (
        stored[UNDERSPEND_RISK_PERCENT],
        stored[BEHIND_PROFILE_PERCENT],
        stored[EVIDENCE_THRESHOLD],
    ) == (Decimal("5"), Decimal("75"), Decimal("750.00"))
    undone = undo(db, done)
    assert all_settings(db)[UNDERSPEND_RISK_PERCENT] == Decimal("2")
    assert all_settings(db)[EVIDENCE_THRESHOLD] == Decimal("500.00")
    undo(db, undone, "redo")
    assert all_settings(db)[EVIDENCE_THRESHOLD] == Decimal("750.00")


def test_none_puts_the_default_back(db: Database) -> None:
    run_operation(db, ChangeSettings({BEHIND_PROFILE_PERCENT: "60"}))
    run_operation(db, ChangeSettings({BEHIND_PROFILE_PERCENT: None}))
    assert all_settings(db)[BEHIND_PROFILE_PERCENT] == Decimal("75")


def test_one_bad_value_refuses_all(db: Database) -> None:
    with pytest.raises(ValidationError) as refused:
        run_operation(
            db, ChangeSettings({UNDERSPEND_RISK_PERCENT: "5", EVIDENCE_THRESHOLD: "1.005"})
        )
    assert [e.field for e in refused.value.errors] == [EVIDENCE_THRESHOLD]
    assert all_settings(db)[UNDERSPEND_RISK_PERCENT] == Decimal("2")
