"""Outcomes in returns (issue 15): the Outcomes sheet read back equals the report, the OPCC's
receiving compares it with the snapshot, a return from before outcomes still verifies, the
submission lock, the checks, and the command line's refusals. The demo year's measures and
actuals are in fundtracker/demo.py; figures worked by hand in the comments."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fundtracker.checks import run_checks
from fundtracker.errors import LockedError
from fundtracker.figures import build_report
from fundtracker.models import OutcomeActual, Submission
from fundtracker.opcc.receiving import verify_workbook
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import AddOutcome, SetOutcomeActual
from fundtracker.periods import Period
from fundtracker.returns import reader, submission
from fundtracker.returns.snapshot import checksum
from fundtracker.returns.snapshot_sheet import CHUNK, SHEET, read_snapshot_sheet
from fundtracker.settings import OUTCOME_BEHIND_PERCENT, set_setting
from fundtracker.storage import Database
from tests.helpers import run_cli

GRANT = "CRG-2025-26"
Q1, Q2, Q3, Q4 = (Period.parse(f"2025/26-Q{n}") for n in (1, 2, 3, 4))
CONTRACT_KEYS = (
    "code", "title", "unit", "priority", "target", "target_to_date", "actual_to_date",
    "percent_of_target",
)  # fmt: skip


def _contract(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: o[key] for key in CONTRACT_KEYS} for o in outcomes]


def _findings(db: Database, code: str, period: Period) -> list[str]:
    return [f.message for f in run_checks(db, GRANT, period) if f.code == code]


def test_the_outcomes_sheet_read_back_equals_the_report(demo_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "q3.xlsx"
    submission.export_return(demo_db, GRANT, Q3, path, prepared_by="Jo", today=date(2026, 1, 20))
    report = build_report(demo_db, GRANT, Q3).to_json()
    book = load_workbook(path)
    sheet = book["Outcomes"]
    assert [c.value for c in sheet[3]] == [
        "Code", "Project", "Outcome", "Unit", "PCC priority", "Annual target", "Target to date",
        "Q1", "Q2", "Q3", "Q4", "Actual to date", "% of target to date", "Note",
    ]  # fmt: skip
    # A01 YP: targets 30 a quarter, so 90 to date; actual 28 + 34 + 31 = 93; 93 / 90 = 103.3%.
    assert [c.value for c in sheet[4]][:13] == [
        "YP", "A01", "Young people attending diversion sessions", "count", "P1", 120, 90,
        28, 34, 31, None, 93, 103.3,
    ]  # fmt: skip
    assert sheet["N4"].value == "Q2: Summer holiday sessions added"
    # A01 CONF: (22 + 27 + 25) / (28 + 34 + 31) = 74 / 93 = 79.57% -> 79.6; 79.6 / 80 -> 99.5.
    assert [c.value for c in sheet[5]][5:13] == [
        80, 80, "22 of 28", "27 of 34", "25 of 31", None, 79.6, 99.5,
    ]  # fmt: skip
    assert sheet["F5"].number_format == '0.0"%"'
    book.close()
    shown = reader.read_return(path)
    for read, figures in zip(shown["allocations"], report["allocations"], strict=True):
        assert _contract(read["outcomes"]) == _contract(figures["outcomes"])
    a03 = next(a for a in report["allocations"] if a["code"] == "A03")
    # A03 VS: 180 spread 45 a quarter, 135 to date; actual 41 + 47 + 44 = 132; 97.8%.
    # A03 SAFE: (35 + 40 + 38) / (41 + 47 + 44) = 113 / 132 = 85.61% -> 85.6; / 85 -> 100.7.
    assert _contract(a03["outcomes"]) == [
        {"code": "VS", "title": "Victims supported at the one-stop shop", "unit": "count",
         "priority": "P1", "target": 180, "target_to_date": 135, "actual_to_date": 132,
         "percent_of_target": "97.8"},
        {"code": "SAFE", "title": "Clients who feel safer after support", "unit": "percent",
         "priority": "P1", "target": "85.0", "target_to_date": "85.0", "actual_to_date": "85.6",
         "percent_of_target": "100.7"},
    ]  # fmt: skip


def test_receiving_compares_outcomes_and_a_return_from_before_them_verifies(
    demo_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "q1.xlsx"
    submission.export_return(
        demo_db, GRANT, Q1, path, prepared_by="Jo", submit=True, today=date(2025, 7, 20)
    )
    assert verify_workbook(path).checksum
    book = load_workbook(path)
    book["Outcomes"]["L4"].value = 40  # A01 YP's actual to date was 28
    book.save(tmp_path / "altered.xlsx")
    with pytest.raises(Exception, match="Outcomes A01 YP Actual to date reads 40"):
        verify_workbook(tmp_path / "altered.xlsx")
    old = tmp_path / "before-outcomes.xlsx"
    _as_before_outcomes(path, old)
    assert verify_workbook(old).checksum
    assert all("outcomes" not in a for a in reader.read_return(old)["allocations"])


def _as_before_outcomes(source: Path, target: Path) -> None:
    """The workbook as Fundtracker wrote it before issue 15: no Outcomes sheet, no outcomes
    in its snapshot, and the checksum of that snapshot in its Summary."""
    book = load_workbook(source)
    document = read_snapshot_sheet(book)
    assert document is not None
    for allocation in document["report"]["allocations"]:
        del allocation["outcomes"]
    del book["Outcomes"]
    snapshot = book[SHEET]
    snapshot.delete_rows(1, snapshot.max_row)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    for row, start in enumerate(range(0, len(text), CHUNK), 1):
        snapshot.cell(row, 1).value = text[start : start + CHUNK]
    for label, value in book["Summary"].iter_rows(min_col=1, max_col=2):
        if label.value == "Checksum":
            value.value = checksum(document)
    book.save(target)


def test_a_submitted_quarter_locks_its_actuals_and_the_measures(demo_db: Database) -> None:
    submission.export_return(
        demo_db, GRANT, Q1, Path(demo_db.folder) / "q1.xlsx", submit=True, today=date(2025, 7, 1)
    )
    with pytest.raises(LockedError, match="the return for 2025/26-Q1"):
        run_operation(demo_db, SetOutcomeActual(GRANT, Q1, "A01", "YP", 99))
    with pytest.raises(LockedError, match="outcome measures"):
        run_operation(
            demo_db,
            AddOutcome(GRANT, "A08", {"code": "N", "title": "N", "unit": "count", "target": 1}),
        )
    run_operation(demo_db, SetOutcomeActual(GRANT, Q4, "A01", "YP", 30))  # Q4 is still open


def test_outcome_missing_fires_for_quarters_gone_without_an_actual(demo_db: Database) -> None:
    # The demo enters Q1 to Q3 for its five measures: quiet as at Q3.
    assert _findings(demo_db, "OUTCOME_MISSING", Q3) == []
    # As at Q4 each of the five lacks Q4.
    missing = _findings(demo_db, "OUTCOME_MISSING", Q4)
    assert len(missing) == 5
    assert missing[0] == (
        "A01 Youth diversion programme: outcome YP (Young people attending diversion sessions) "
        "has no actual entered for 2025/26-Q4; ask the lead partner for the figure and enter "
        "it on the Returns page (Outcomes), or enter 0 if nothing was achieved."
    )


def test_outcome_behind_fires_under_the_setting_and_not_at_it(demo_db: Database) -> None:
    assert _findings(demo_db, "OUTCOME_BEHIND", Q3) == []  # every demo measure is on track
    values = {"code": "R", "title": "Reports written", "unit": "count", "target": 8}
    run_operation(demo_db, AddOutcome(GRANT, "A08", values))
    run_operation(demo_db, SetOutcomeActual(GRANT, Q1, "A08", "R", 1))
    # Q1: target 8 spread 2, 2, 2, 2; 1 of 2 = 50.0%, under 75.
    (behind,) = _findings(demo_db, "OUTCOME_BEHIND", Q1)
    assert "outcome R (Reports written) is at 50.0% of its target to date" in behind
    assert "(1 against 2; threshold 75%)" in behind
    run_operation(demo_db, SetOutcomeActual(GRANT, Q2, "A08", "R", 2))
    # Q2: 1 + 2 = 3 of 2 + 2 = 4: 75.0%, which is not under 75: quiet.
    assert _findings(demo_db, "OUTCOME_BEHIND", Q2) == []
    set_setting(demo_db, OUTCOME_BEHIND_PERCENT, "80")
    assert len(_findings(demo_db, "OUTCOME_BEHIND", Q2)) == 1


def _actuals(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutcomeActual)) or 0)


def test_cli_outcome_commands_and_refusals(
    demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(demo_db.url)
    base = ("--grant", GRANT, "--period", "2025/26-Q4", "--allocation", "A01")
    before = _actuals(demo_db)
    refused = [
        ("--outcome", "YP", "--actual", "30", "--of", "40"),  # --of on a count
        ("--outcome", "CONF", "--actual", "30"),  # no --of on a percent
        ("--outcome", "NOPE", "--actual", "30"),  # no such outcome
        ("--outcome", "YP", "--actual", "-3"),  # not a count
    ]
    messages = []
    for args in refused:
        result = run_cli(capsys, url, "outcome", "set", *base, *args)
        assert result.code == 1, args
        messages.append(result.err)
    assert "of: is only for a percent measure" in messages[0]
    assert "of: is required for a percent measure" in messages[1]
    assert "project A01 has no outcome 'NOPE' (its outcomes: YP, CONF)" in messages[2]
    assert _actuals(demo_db) == before  # nothing changed
    conf_q4 = ("--outcome", "CONF", "--actual", "24", "--of", "30", "--note", "survey")
    result = run_cli(capsys, url, "outcome", "set", *base, *conf_q4)
    assert result.code == 0 and _actuals(demo_db) == before + 1
    add = ("outcome", "add", "--grant", GRANT, "--allocation", "A08", "--code", "R")
    measure = ("--title", "Reports", "--unit", "count", "--target", "10")
    result = run_cli(capsys, url, *add, *measure, "--targets", "1,2,3,3")
    assert result.code == 1 and "total 9 but the annual target is 10" in result.err
    assert run_cli(capsys, url, *add, *measure).code == 0
    listing = ("outcome", "list", "--grant", GRANT, "--period", "2025/26-Q4", "--format", "json")
    listed = run_cli(capsys, url, *listing).json()
    conf = next(r for r in listed if r["code"] == "CONF")
    # (74 + 24) / (93 + 30) = 98 / 123 = 79.67% -> "79.7%".
    assert conf["quarters"]["Q4"] == {"actual": 24, "of": 30, "note": "survey"}
    assert conf["actual_to_date"] == "79.7%"
    assert [r["code"] for r in listed if r["project"] == "A08"] == ["R"]
    remove = ("outcome", "remove", "--grant", GRANT, "--allocation", "A08", "--outcome", "R")
    assert run_cli(capsys, url, *remove).code == 0
    assert not [r for r in run_cli(capsys, url, *listing).json() if r["project"] == "A08"]


def test_submitted_changed_names_an_outcome_changed_under_a_submitted_return(
    demo_db: Database,
) -> None:
    submission.export_return(
        demo_db, GRANT, Q1, Path(demo_db.folder) / "q1.xlsx", submit=True, today=date(2025, 7, 1)
    )
    assert _findings(demo_db, "SUBMITTED_CHANGED", Q1) == []
    with demo_db.unit_of_work("a colleague's direct edit") as session:
        row = session.scalars(
            select(OutcomeActual).where(OutcomeActual.quarter == "2025/26-Q1")
        ).first()
        assert row is not None and (row.measure.code, row.actual) == ("YP", 28)
        row.actual = 30
    (changed,) = _findings(demo_db, "SUBMITTED_CHANGED", Q1)
    assert "project A01 outcome YP actual to date was 28, is now 30" in changed
    # A return submitted before outcomes existed said nothing of them: none has changed.
    with demo_db.unit_of_work("as submitted before issue 15") as session:
        stored = session.scalars(select(Submission)).one()
        document = json.loads(stored.snapshot)
        for allocation in document["report"]["allocations"]:
            del allocation["outcomes"]
        stored.snapshot = json.dumps(document)  # the actual stays 30
    assert _findings(demo_db, "SUBMITTED_CHANGED", Q1) == []
